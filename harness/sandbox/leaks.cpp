#include "leaks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace ipcg::internal {
namespace {

std::vector<std::string> fields_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// The owner's column in /proc/sysvipc/{msg,sem,shm} (after key, id, perms).
size_t uid_column(LeftoverKind kind) { return kind == LeftoverKind::sysv_sem ? 4 : 7; }

bool is_sysv(LeftoverKind kind) {
  return kind == LeftoverKind::sysv_msg || kind == LeftoverKind::sysv_sem || kind == LeftoverKind::sysv_shm;
}

long to_long(const std::string& s) {
  try {
    return std::stol(s);
  } catch (const std::exception&) {
    return -1;
  }
}

void list_sysv(const char* path, LeftoverKind kind, const std::set<uid_t>& owners, std::vector<Leftover>& out) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    Leftover l = parse_leftover(kind, line, 0);
    if (l.sysv_id >= 0 && owners.count(l.owner)) out.push_back(std::move(l));
  }
}

void list_folder(const std::string& dir, LeftoverKind kind, const std::set<uid_t>& owners, std::vector<Leftover>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !owners.count(st.st_uid)) continue;
    out.push_back({kind, dir + "/" + name, st.st_uid, -1});
  }
  ::closedir(d);
}

constexpr long kMqueueMagic = 0x19800202;

bool is_mqueue_mount(const char* path) {
  struct statfs st {};
  return ::statfs(path, &st) == 0 && st.f_type == kMqueueMagic;
}

// Where the host does not mount mqueue at /dev/mqueue, a child looks at a private mount of it
// (root, in a mount namespace of its own) and writes "uid name" lines. After fork in a threaded
// grader: raw calls only. Without the privilege, POSIX queues go unlisted.
std::string list_mqueue_privately() {
  char dir[] = "/tmp/ipcgrade-mq-XXXXXX";
  if (!::mkdtemp(dir)) return {};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::rmdir(dir);
    return {};
  }
  const pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("mqueue", dir, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      ::_exit(1);
    const int d = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    alignas(8) char buf[8192];
    for (long n; d >= 0 && (n = ::syscall(SYS_getdents64, d, buf, sizeof buf)) > 0;) {
      for (long off = 0; off < n;) {
        const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
        off += e->d_reclen;
        if (e->d_name[0] == '.') continue;
        struct stat st {};
        if (::fstatat(d, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        char line[320];
        const int len = std::snprintf(line, sizeof line, "%u %s\n", st.st_uid, e->d_name);
        if (len > 0 && ::write(fds[1], line, static_cast<size_t>(len)) < 0) ::_exit(2);
      }
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (child > 0) ::waitpid(child, nullptr, 0);
  ::rmdir(dir);
  return out;
}

void list_mqueue(const std::set<uid_t>& owners, std::vector<Leftover>& out) {
  if (is_mqueue_mount("/dev/mqueue")) {
    list_folder("/dev/mqueue", LeftoverKind::posix_mq, owners, out);
    return;
  }
  if (::geteuid() != 0) return;
  std::istringstream lines(list_mqueue_privately());
  uid_t uid;
  std::string name;
  while (lines >> uid >> name)
    if (owners.count(uid)) out.push_back({LeftoverKind::posix_mq, "/dev/mqueue/" + name, uid, -1});
}

}  // namespace

Leftover parse_leftover(LeftoverKind kind, const std::string& text, uid_t uid) {
  Leftover l{kind, text, uid, -1};
  if (!is_sysv(kind)) return l;
  const auto f = fields_of(text);
  if (f.size() > uid_column(kind)) {
    l.sysv_id = static_cast<int>(to_long(f[1]));
    l.owner = static_cast<uid_t>(to_long(f[uid_column(kind)]));
  }
  return l;
}

std::string describe(const Leftover& l) {
  if (is_sysv(l.kind)) {
    const auto f = fields_of(l.text);
    const char* what = l.kind == LeftoverKind::sysv_msg   ? "SysV message queue"
                       : l.kind == LeftoverKind::sysv_sem ? "SysV semaphore set"
                                                          : "SysV shared memory segment";
    if (f.size() < 2) return what;
    const long key = to_long(f[0]);
    const std::string key_text = key == 0 ? "IPC_PRIVATE" : fmt::format("0x{:08x}", static_cast<unsigned>(key));
    return fmt::format("{} (key {}, id {})", what, key_text, f[1]);
  }
  switch (l.kind) {
    case LeftoverKind::posix_shm: return "POSIX shared memory " + l.text;
    case LeftoverKind::posix_mq: return "POSIX message queue " + l.text;
    case LeftoverKind::file: return "file " + l.text;
    default: return "FIFO " + l.text;
  }
}

std::vector<Leftover> host_ipc_objects(const std::set<uid_t>& owners) {
  std::vector<Leftover> out;
  list_sysv("/proc/sysvipc/msg", LeftoverKind::sysv_msg, owners, out);
  list_sysv("/proc/sysvipc/sem", LeftoverKind::sysv_sem, owners, out);
  list_sysv("/proc/sysvipc/shm", LeftoverKind::sysv_shm, owners, out);
  list_folder("/dev/shm", LeftoverKind::posix_shm, owners, out);
  list_mqueue(owners, out);
  return out;
}

std::vector<Leftover> host_temp_files(const std::set<uid_t>& owners) {
  std::vector<Leftover> out;
  for (const char* dir : {"/tmp", "/var/tmp"}) {
    std::vector<Leftover> found;
    list_folder(dir, LeftoverKind::file, owners, found);
    for (Leftover& l : found) {
      struct stat st {};
      if (::lstat(l.text.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) l.kind = LeftoverKind::fifo;
      out.push_back(std::move(l));
    }
  }
  return out;
}

std::string identity_of(const Leftover& l) {
  return std::to_string(static_cast<int>(l.kind)) + ":" + (l.sysv_id >= 0 ? std::to_string(l.sysv_id) : l.text);
}

void remove_from_host(const Leftover& l) {
  switch (l.kind) {
    case LeftoverKind::sysv_msg: ::msgctl(l.sysv_id, IPC_RMID, nullptr); return;
    case LeftoverKind::sysv_sem: ::semctl(l.sysv_id, 0, IPC_RMID); return;
    case LeftoverKind::sysv_shm: ::shmctl(l.sysv_id, IPC_RMID, nullptr); return;
    case LeftoverKind::posix_mq:  // by name: works whether or not the host mounts mqueue
      ::mq_unlink(l.text.substr(std::string("/dev/mqueue").size()).c_str());
      return;
    default: {
      // A name in a flat folder, removed through the folder's descriptor: nothing is followed.
      const auto slash = l.text.rfind('/');
      const std::string dir = l.text.substr(0, slash == 0 ? 1 : slash), name = l.text.substr(slash + 1);
      const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return;
      remove_entry(fd, name.c_str());
      ::close(fd);
      return;
    }
  }
}

}  // namespace ipcg::internal
