// What the grader hands every keeper: the ipcg-keeper executable and the compiled filters.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "sandbox_internal.hpp"

namespace ipcg::internal {

Result<UniqueFd> open_keeper_executable() {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(self.parent_path().parent_path() / "libexec" / "ipcgrade" / kKeeperName);
#ifdef IPCG_KEEPER_BUILD_PATH
  candidates.emplace_back(IPCG_KEEPER_BUILD_PATH);
#endif
  std::string tried;
  for (const auto& path : candidates) {
    UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    struct stat st {};
    // It runs as the grader's user (root, as a rule): only a file that user or root owns and
    // nobody else may write will do.
    const bool trusted = fd && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
                         (st.st_uid == 0 || st.st_uid == ::geteuid()) && (st.st_mode & 022) == 0;
    if (trusted && ::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0) return fd;
    tried += (tried.empty() ? "" : ", ") + path.string() + (fd && !trusted ? " (writable by others: refused)" : "");
  }
  return fail(Errc::system, std::string("the sandbox keeper executable (") + kKeeperName +
                                ") is missing; looked in: " + tried + " (build the ipcg-keeper target)");
}

Result<UniqueFd> make_filter_file(const SeccompFilter* const (&filters)[kFilterCount]) {
  UniqueFd fd(::memfd_create("ipcgrade-filters", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return sys_fail("memfd_create for the syscall filters");
  FilterFileHeader header;
  std::vector<char> bytes(sizeof header);
  for (int i = 0; i < kFilterCount; ++i) {
    const auto& program = filters[i]->program();
    if (program.empty() || program.size() > kMaxFilterInstructions)
      return fail(Errc::internal, "a syscall filter of " + std::to_string(program.size()) + " instructions");
    header.lengths[i] = static_cast<std::uint32_t>(program.size());
    const auto* at = reinterpret_cast<const char*>(program.data());
    bytes.insert(bytes.end(), at, at + program.size() * sizeof(sock_filter));
  }
  std::memcpy(bytes.data(), &header, sizeof header);
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_fail("write the syscall filters");
    done += static_cast<size_t>(n);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
    return sys_fail("seal the syscall filters");
  return fd;
}

}  // namespace ipcg::internal
