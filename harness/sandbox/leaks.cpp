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

// Columns of /proc/sysvipc/{msg,sem,shm}:
//   msg: key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime
//   sem: key semid perms nsems uid gid cuid cgid otime ctime
//   shm: key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
size_t uid_column(LeftoverKind kind) { return kind == LeftoverKind::sysv_sem ? 4 : 7; }
constexpr size_t kMsgQnumColumn = 4;
// The pid columns: a queue's last sender and receiver (5, 6), a segment's creator and last user (4, 5).
std::pair<size_t, size_t> pid_columns(LeftoverKind kind) {
  return kind == LeftoverKind::sysv_msg ? std::pair<size_t, size_t>{5, 6} : std::pair<size_t, size_t>{4, 5};
}

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

// `only_fifos` keeps named pipes only (nothing is opened: an open of a FIFO could block or
// count as its other end).
void list_folder(const std::string& dir, LeftoverKind kind, const std::set<uid_t>& owners, std::vector<Leftover>& out,
                 bool only_fifos = false) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !owners.count(st.st_uid)) continue;
    if (only_fifos && !S_ISFIFO(st.st_mode)) continue;
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
    l.key = static_cast<key_t>(to_long(f[0]));
    l.sysv_id = static_cast<int>(to_long(f[1]));
    l.owner = static_cast<uid_t>(to_long(f[uid_column(kind)]));
    if (kind == LeftoverKind::sysv_msg) l.messages = to_long(f[kMsgQnumColumn]);
    if (kind != LeftoverKind::sysv_sem)
      for (size_t column : {pid_columns(kind).first, pid_columns(kind).second})
        if (const long pid = to_long(f[column]); pid > 0) l.pids.push_back(static_cast<pid_t>(pid));
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

std::vector<Leftover> host_fifos(const std::set<uid_t>& owners) {
  std::vector<Leftover> out;
  list_folder("/tmp", LeftoverKind::fifo, owners, out, true);
  return out;
}

std::int64_t host_queue_messages(const Leftover& queue) {
  const std::string prefix = "/dev/mqueue";
  if (queue.kind != LeftoverKind::posix_mq || queue.text.rfind(prefix + "/", 0) != 0) return -1;
  // O_NONBLOCK: an open never blocks anyway, but the descriptor is ours for a moment only.
  const mqd_t q = ::mq_open(queue.text.substr(prefix.size()).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (q == static_cast<mqd_t>(-1)) return -1;
  mq_attr attr{};
  const bool ok = ::mq_getattr(q, &attr) == 0;
  ::mq_close(q);
  return ok ? static_cast<std::int64_t>(attr.mq_curmsgs) : -1;
}

std::optional<IpcObject> to_ipc_object(const Leftover& l) {
  IpcObject o;
  switch (l.kind) {
    case LeftoverKind::sysv_msg: o.kind = IpcObject::Kind::sysv_msg; break;
    case LeftoverKind::sysv_sem: o.kind = IpcObject::Kind::sysv_sem; break;
    case LeftoverKind::sysv_shm: o.kind = IpcObject::Kind::sysv_shm; break;
    case LeftoverKind::posix_mq: o.kind = IpcObject::Kind::posix_mq; break;
    case LeftoverKind::posix_shm: o.kind = IpcObject::Kind::posix_shm; break;
    case LeftoverKind::fifo: o.kind = IpcObject::Kind::fifo; break;
    case LeftoverKind::file: return std::nullopt;
  }
  if (is_sysv(l.kind)) {
    o.key = l.key;
    o.id = l.sysv_id;
  } else if (l.kind == LeftoverKind::fifo) {
    o.name = l.text;
  } else {  // "/dev/mqueue/jobs", "/dev/shm/ring": the name mq_open and shm_open take is "/jobs"
    const auto slash = l.text.rfind('/');
    o.name = slash == std::string::npos ? "/" + l.text : l.text.substr(slash);
  }
  o.owner = l.owner;
  o.messages = l.kind == LeftoverKind::sysv_msg || l.kind == LeftoverKind::posix_mq ? l.messages : -1;
  o.description = describe(l);
  return o;
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
