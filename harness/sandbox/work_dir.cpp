// The Sandbox's work folder on the host: made private (0711) under $TMPDIR or /tmp, emptied at
// the end without following anything the box may have planted in it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sandbox_internal.hpp"

namespace ipcg::internal {

constexpr int kMaxRemoveDepth = 256;

// The names in a folder, through a copy of its descriptor. The copy shares the descriptor's
// position: rewound first, so that a second listing through the same descriptor sees every name.
std::vector<std::string> list_names(int dir_fd) {
  std::vector<std::string> names;
  const int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (!dir) {
    if (copy >= 0) ::close(copy);
    return names;
  }
  ::rewinddir(dir);
  while (dirent* entry = ::readdir(dir)) {
    const std::string_view n = entry->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(dir);
  return names;
}


// Removes name under dir_fd without following symlinks: a symlink or file is unlinked, a
// folder is opened O_NOFOLLOW|O_DIRECTORY and emptied through its descriptor.
void remove_entry(int dir_fd, const char* name, int depth) {
  if (::unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR || depth > kMaxRemoveDepth) return;
  UniqueFd path_fd(::openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!path_fd) return;
  // The sandboxed code may have left a folder unreadable or unwritable: make it ours to empty.
  const std::string magic = "/proc/self/fd/" + std::to_string(path_fd.get());
  ::chmod(magic.c_str(), 0700);
  UniqueFd fd(::openat(path_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) remove_children(fd.get(), depth + 1);
  ::unlinkat(dir_fd, name, AT_REMOVEDIR);
}

void remove_children(int dir_fd, int depth) {
  for (const std::string& name : list_names(dir_fd)) remove_entry(dir_fd, name.c_str(), depth);
}

Result<std::filesystem::path> make_work_dir(const std::filesystem::path& requested) {
  std::filesystem::path parent = requested;
  if (parent.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    parent = tmpdir && *tmpdir ? tmpdir : "/tmp";
  }
  std::string templ = (parent / "ipcgrade-XXXXXX").string();
  if (!::mkdtemp(templ.data())) return sys_fail("mkdtemp in " + parent.string());
  // 0711: a slot uid may reach what it is given inside, but may not list or create here.
  if (::chmod(templ.c_str(), 0711) != 0) return sys_fail("chmod " + templ);
  return std::filesystem::path(templ);
}

bool valid_dir_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace ipcg::internal
