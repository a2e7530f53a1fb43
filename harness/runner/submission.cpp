#include "submission.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "harness/core/unique_fd.hpp"

namespace ipcg {
namespace {

Result<std::string> read_all(int fd, std::uintmax_t cap) {
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_fail("read");
    if (r == 0) return data;
    data.append(buf, static_cast<size_t>(r));
    if (data.size() > cap) return fail(Errc::io, "larger than " + std::to_string(cap) + " bytes");
  }
}

Result<void> write_file(const std::filesystem::path& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_fail("create " + path.string());
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd.get(), data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return sys_fail("write " + path.string());
    done += static_cast<size_t>(w);
  }
  return {};
}

// Opens dir/name for reading; names the student's problem in words when it is one.
Result<UniqueFd> open_submitted(int dir_fd, const std::string& name, std::string& problem) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) problem = name + ": not found in the submission";
    else if (errno == ELOOP) problem = name + ": is a symbolic link; submit the file itself";
    else problem = name + ": cannot be read (" + std::strerror(errno) + ")";
    return UniqueFd();
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail("fstat " + name);
  if (!S_ISREG(st.st_mode)) problem = name + ": is not a regular file";
  return fd;
}

}  // namespace

Result<void> copy_sources(const std::filesystem::path& from_dir, const std::vector<std::string>& names,
                          const std::filesystem::path& to_dir, std::vector<std::string>& problems) {
  UniqueFd dir(::open(from_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail(Errc::usage, "submission folder " + from_dir.string() + ": " + std::strerror(errno));
  for (const auto& name : names) {
    std::string problem;
    IPCG_TRY(UniqueFd fd, open_submitted(dir.get(), name, problem));
    if (!problem.empty()) {
      problems.push_back(problem);
      continue;
    }
    auto data = read_all(fd.get(), kMaxSourceBytes);
    if (!data) {
      problems.push_back(name + ": " + data.error().message);
      continue;
    }
    IPCG_CHECK(write_file(to_dir / name, *data));
  }
  return {};
}

Result<void> copy_trusted_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return fail(Errc::io, "cannot read " + from.string());
  std::ostringstream data;
  data << in.rdbuf();
  return write_file(to, data.str());
}

}  // namespace ipcg
