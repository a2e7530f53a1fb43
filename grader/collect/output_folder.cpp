#include "collect/output_folder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>

#include "harness/core/unique_fd.hpp"

namespace ipcg::collect {
namespace {

namespace fs = std::filesystem;

// The temporary folder, removed unless it was renamed into place.
class TempFolder {
 public:
  explicit TempFolder(fs::path path) : path_(std::move(path)) {}
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);  // does not follow symlinks
    }
  }
  const fs::path& path() const { return path_; }
  void keep() { path_.clear(); }

 private:
  fs::path path_;
};

Result<void> write_all(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_fail("write " + what);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<UniqueFd> open_folder_at(int parent, const std::string& name, const std::string& what) {
  UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail("open " + what);
  return fd;
}

Result<void> write_file_at(int folder, const OutputFile& file, const std::string& what) {
  UniqueFd fd(::openat(folder, file.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_fail("create " + what);
  return write_all(fd.get(), file.bytes, what);
}

Result<void> fill(int root, const fs::path& temp, const std::vector<std::string>& folders,
                  const std::vector<OutputFile>& files) {
  std::map<std::string, UniqueFd> open_folders;
  for (const auto& name : folders) {
    if (::mkdirat(root, name.c_str(), 0755) != 0) return sys_fail("create folder " + (temp / name).string());
    IPCG_TRY(open_folders[name], open_folder_at(root, name, (temp / name).string()));
  }
  for (const auto& file : files) {
    const int at = file.folder.empty() ? root : open_folders.at(file.folder).get();
    IPCG_CHECK(write_file_at(at, file, (temp / file.folder / file.name).string()));
  }
  if (::fchmod(root, 0755) != 0) return sys_fail("chmod " + temp.string());
  if (::syncfs(root) != 0) return sys_fail("sync " + temp.string());
  return {};
}

}  // namespace

Result<void> check_output_folder(const fs::path& dir) {
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return sys_fail("stat " + dir.string());
  }
  if (S_ISLNK(st.st_mode)) return fail(Errc::usage, "--out " + dir.string() + " is a symbolic link: give a real folder");
  if (!S_ISDIR(st.st_mode)) return fail(Errc::usage, "--out " + dir.string() + " exists and is not a folder");
  std::error_code ec;
  if (!fs::is_empty(dir, ec))
    return fail(Errc::usage, "--out " + dir.string() + " is not empty: collect writes only into an empty or new folder");
  return {};
}

Result<void> write_output_folder(const fs::path& dir, const std::vector<std::string>& folders,
                                 const std::vector<OutputFile>& files) {
  IPCG_CHECK(check_output_folder(dir));
  const fs::path absolute = fs::absolute(dir).lexically_normal();
  const fs::path name = absolute.has_filename() ? absolute.filename() : absolute.parent_path().filename();
  const fs::path parent = (absolute.has_filename() ? absolute : absolute.parent_path()).parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return fail(Errc::io, "create " + parent.string() + ": " + ec.message());
  std::string pattern = (parent / ("." + name.string() + ".collect-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) return sys_fail("create a temporary folder in " + parent.string());
  TempFolder temp(pattern);
  UniqueFd root(::open(temp.path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return sys_fail("open " + temp.path().string());
  IPCG_CHECK(fill(root.get(), temp.path(), folders, files));
  // rename() replaces an empty folder and fails on one something was put in meanwhile.
  if (::rename(temp.path().c_str(), (parent / name).c_str()) != 0)
    return sys_fail("rename " + temp.path().string() + " to " + (parent / name).string());
  temp.keep();
  return {};
}

}  // namespace ipcg::collect
