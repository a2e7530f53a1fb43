// The Sandbox's work folder on the host: made private (0711) under $TMPDIR or /tmp, named with
// the grader's pid, emptied at the end without following anything the box may have planted in it
// (or, when the grader was killed first, by the next grader's sweep).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
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

namespace {

std::filesystem::path parent_of(const std::filesystem::path& requested) {
  if (!requested.empty()) return requested;
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

// The pid in "ipcgrade-<pid>-XXXXXX" (make_work_dir's names), or 0 for any other name.
pid_t owner_of(std::string_view name) {
  constexpr std::string_view prefix = "ipcgrade-";
  if (!name.starts_with(prefix)) return 0;
  name.remove_prefix(prefix.size());
  long long pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  const std::string_view rest(end, static_cast<std::size_t>(name.data() + name.size() - end));
  if (ec != std::errc() || pid <= 0 || rest.size() != 7 || rest[0] != '-') return 0;
  return static_cast<pid_t>(pid);
}

}  // namespace

Result<std::filesystem::path> make_work_dir(const std::filesystem::path& requested) {
  // The grader's pid in the name: a grader killed before its Sandbox ended (scancel, a time
  // limit, SIGKILL) leaves the folder, and the next grader on this host removes it.
  std::string templ = (parent_of(requested) / ("ipcgrade-" + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (!::mkdtemp(templ.data())) return sys_fail("mkdtemp in " + parent_of(requested).string());
  // 0711: a slot uid may reach what it is given inside, but may not list or create here.
  if (::chmod(templ.c_str(), 0711) != 0) return sys_fail("chmod " + templ);
  return std::filesystem::path(templ);
}

int sweep_dead_graders_work_dirs(const std::filesystem::path& requested) {
  UniqueFd parent(::open(parent_of(requested).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) return 0;
  int removed = 0;
  for (const std::string& name : list_names(parent.get())) {
    const pid_t owner = owner_of(name);
    // Only a grader that is gone: its pid answers no signal (a reused pid keeps the folder until
    // that process is gone too), and only our own folders, never followed through a symlink.
    struct stat st {};
    if (owner <= 0 || (::kill(owner, 0) == 0 || errno != ESRCH)) continue;
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != ::geteuid())
      continue;
    remove_entry(parent.get(), name.c_str());
    ++removed;
  }
  return removed;
}

bool valid_dir_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace ipcg::internal
