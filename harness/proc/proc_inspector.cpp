// Reading /proc: one process at a time, tolerant of processes and descriptors that vanish while
// we look. Parsing lives in proc_parse.cpp, the words of a hang report in proc_diagnose.cpp.
#include "harness/proc/proc_inspector.hpp"

#include <dirent.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "harness/core/unique_fd.hpp"
#include "harness/proc/proc_parse.hpp"

namespace ipcg {
namespace {

namespace pi = proc_internal;

// errno as a value: the helpers below must tell "gone" (ENOENT, ESRCH) from "not allowed".
template <class T>
using Sys = tl::expected<T, int>;

bool is_gone(int err) { return err == ENOENT || err == ESRCH; }

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// A whole /proc file relative to a directory fd. /proc files report size 0, so we read until
// a short read: seq_file and cmdline reads fill the buffer unless the content has ended, and
// skipping the read that would return 0 saves a syscall per file (a snapshot is syscall-bound).
Sys<std::string> read_at(int dirfd, const char* name) {
  UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return tl::unexpected(errno);
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(errno);
    out.append(buf, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < sizeof buf) return out;
  }
}

Sys<std::string> readlink_at(int dirfd, const char* name) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return tl::unexpected(errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

tl::unexpected<Error> gone(pid_t pid, int err) {
  return fail(Errc::system, "pid " + std::to_string(pid) + " is gone: " + std::strerror(err));
}

Result<void> read_stat(int dir, ProcessSnapshot& s) {
  auto text = read_at(dir, "stat");
  if (!text) return gone(s.pid, text.error());
  auto f = pi::parse_stat(*text);
  if (!f) return fail(Errc::internal, "pid " + std::to_string(s.pid) + ": unparsable stat: " + *text);
  s.comm = std::move(f->comm);
  s.state = f->state;
  s.ppid = f->ppid, s.pgid = f->pgid, s.sid = f->sid;
  s.utime_ticks = f->utime, s.stime_ticks = f->stime;
  return {};
}

// Best effort: each of these may be refused (another user's process) or already gone; the
// snapshot keeps its defaults for what it could not read.
void read_status(int dir, ProcessSnapshot& s) {
  auto text = read_at(dir, "status");
  if (!text) return;
  const auto f = pi::parse_status(*text);
  s.uid = f.uid;
  s.ns_pid = f.ns_pid ? f.ns_pid : s.pid;
  s.ns_pgid = f.ns_pgid ? f.ns_pgid : s.pgid;
  s.voluntary_switches = f.voluntary, s.involuntary_switches = f.involuntary;
  s.signals = f.signals;
}

void read_identity(int dir, ProcessSnapshot& s) {
  if (auto exe = readlink_at(dir, "exe")) s.exe = std::move(*exe);
  if (auto cmd = read_at(dir, "cmdline")) s.cmdline = pi::parse_cmdline(*cmd);
}

// The path argument of a blocked open or openat, from the process's memory (an open of a FIFO
// waits there for the other end). Empty when the call takes no path or it is unreadable.
std::string read_syscall_path(int dir, const ProcessSnapshot& s) {
  if (!s.syscall || (s.state != 'S' && s.state != 'D')) return "";
  const std::optional<size_t> arg = pi::path_argument(*s.syscall);
  if (!arg || *arg >= s.syscall_args.size()) return "";
  UniqueFd mem(::openat(dir, "mem", O_RDONLY | O_CLOEXEC));
  if (!mem) return "";
  char buf[4096];
  const ssize_t n = ::pread(mem.get(), buf, sizeof buf, static_cast<off_t>(s.syscall_args[*arg]));
  if (n <= 0) return "";
  const size_t end = std::string_view(buf, static_cast<size_t>(n)).find('\0');
  return end == std::string_view::npos ? "" : std::string(buf, end);
}

bool is_sleeping_in(const ProcessSnapshot& s, std::initializer_list<long> calls) {
  if (!s.syscall || (s.state != 'S' && s.state != 'D')) return false;
  return std::find(calls.begin(), calls.end(), *s.syscall) != calls.end();
}

// The FIFO a blocked open names, looked up (stat, which never opens it) as the process sees the
// path: through /proc/PID/root, cwd or the dirfd, so a cell's own /tmp is the one searched.
void read_path_identity(int dir, ProcessSnapshot& s) {
  const auto rel = pi::proc_relative_path(*s.syscall, s.syscall_args, s.syscall_path);
  struct stat st {};
  if (!rel || ::fstatat(dir, rel->c_str(), &st, 0) != 0 || !S_ISFIFO(st.st_mode)) return;
  s.syscall_path_device = st.st_dev;
  s.syscall_path_inode = st.st_ino;
}

// A POSIX queue descriptor reopened through /proc/PID/fd/N is a descriptor of the same queue:
// mq_getattr reads its count without receiving anything. The descriptor is pinned with O_PATH
// and checked to be on an mqueue mount first: another thread of the process may have put
// something else on fd N meanwhile, and opening a FIFO for reading would count as its reader.
void read_posix_queue(int dir, ProcessSnapshot& s) {
  if (s.syscall_args.empty()) return;
  const std::string link = "fd/" + std::to_string(static_cast<int>(static_cast<std::uint32_t>(s.syscall_args[0])));
  UniqueFd pinned(::openat(dir, link.c_str(), O_PATH | O_CLOEXEC));
  struct statfs fs {};
  constexpr long kMqueueMagic = 0x19800202;
  if (!pinned || ::fstatfs(pinned.get(), &fs) != 0 || fs.f_type != kMqueueMagic) return;
  const std::string self = "/proc/self/fd/" + std::to_string(pinned.get());
  UniqueFd q(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  mq_attr attr{};
  if (!q || ::mq_getattr(q.get(), &attr) != 0) return;
  s.waiting_messages = attr.mq_curmsgs;
  s.waiting_queue_limit = attr.mq_maxmsg;
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// /proc/sysvipc/msg shows the reader's IPC namespace: read it directly when the process shares
// ours, else from a short-lived thread that joined the process's namespace (setns of an IPC
// namespace is allowed to one thread of a multithreaded process; it needs CAP_SYS_ADMIN over
// that namespace, which the grader has as root, the only case where cells have namespaces).
Sys<std::string> read_sysvipc_msg(int dir, const std::filesystem::path& proc_root) {
  struct stat theirs {}, ours {};
  if (::fstatat(dir, "ns/ipc", &theirs, 0) != 0) return tl::unexpected(errno);
  if (::stat("/proc/thread-self/ns/ipc", &ours) == 0 && same_file(theirs, ours))
    return read_at(AT_FDCWD, (proc_root / "sysvipc/msg").c_str());
  UniqueFd ns(::openat(dir, "ns/ipc", O_RDONLY | O_CLOEXEC));
  if (!ns) return tl::unexpected(errno);
  Sys<std::string> text = tl::unexpected(EPERM);
  std::thread reader([&] {
    if (::setns(ns.get(), CLONE_NEWIPC) == 0) text = read_at(AT_FDCWD, "/proc/sysvipc/msg");
    else text = tl::unexpected(errno);
  });
  reader.join();
  return text;
}

void read_sysv_queue(int dir, const std::filesystem::path& proc_root, ProcessSnapshot& s) {
  if (s.syscall_args.empty()) return;
  const auto text = read_sysvipc_msg(dir, proc_root);
  if (!text) return;
  const int id = static_cast<int>(static_cast<std::uint32_t>(s.syscall_args[0]));
  if (const auto q = pi::parse_sysvipc_msg(*text, id)) s.waiting_messages = q->messages;
}

std::string address_words(const sockaddr_storage& a, socklen_t len) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_UNIX) {
    const auto& un = reinterpret_cast<const sockaddr_un&>(a);
    const size_t path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (path_len == 0) return "";
    if (un.sun_path[0] == '\0') return "@" + std::string(un.sun_path + 1, strnlen(un.sun_path + 1, path_len - 1));
    return std::string(un.sun_path, strnlen(un.sun_path, path_len));
  }
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in.sin_port));
  }
  if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6.sin6_port));
  }
  return "";
}

// A socket cannot be reopened through /proc/PID/fd/N: its descriptor is duplicated into the
// grader (pidfd_getfd, Linux 5.6; root, or ptrace rights over the process) and asked. Nothing is
// read or written on it, and closing the duplicate leaves the process's socket as it was.
void read_socket(int dir, ProcessSnapshot& s) {
  if (s.syscall_args.empty()) return;
  const int target = static_cast<int>(static_cast<std::uint32_t>(s.syscall_args[0]));
  const auto link = readlink_at(dir, ("fd/" + std::to_string(target)).c_str());
  if (!link || !link->starts_with("socket:[")) return;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, s.pid, 0)));
  if (!pidfd) return;
  UniqueFd sock(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), target, 0)));
  if (!sock) return;
  SocketState st;
  st.inode = std::strtoull(link->c_str() + 8, nullptr, 10);
  socklen_t len = sizeof(int);
  ::getsockopt(sock.get(), SOL_SOCKET, SO_DOMAIN, &st.family, &len);
  len = sizeof(int);
  ::getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &st.type, &len);
  len = sizeof(int);
  ::getsockopt(sock.get(), SOL_SOCKET, SO_SNDBUF, &st.send_buffer, &len);
  len = sizeof(int);
  ::getsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &st.receive_buffer, &len);
  if (::ioctl(sock.get(), SIOCINQ, &st.unread) != 0) st.unread = -1;
  if (::ioctl(sock.get(), SIOCOUTQ, &st.unsent) != 0) st.unsent = -1;
  if (st.family == AF_UNIX) {
    ucred cred{};
    len = sizeof cred;
    if (::getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) st.peer_pid = cred.pid;
  }
  sockaddr_storage a{};
  len = sizeof a;
  if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0) st.local = address_words(a, len);
  a = {};
  len = sizeof a;
  if (::getpeername(sock.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0) st.peer = address_words(a, len);
  s.waiting_socket = std::move(st);
}

// What the object a blocked call waits on holds now: facts for the hang report.
void read_waited_object(int dir, const std::filesystem::path& proc_root, ProcessSnapshot& s) {
  if (!s.syscall_path.empty()) read_path_identity(dir, s);
  // Sockets only through the real /proc: a test's fake /proc root has no descriptors to duplicate.
  if (proc_root == "/proc" &&
      is_sleeping_in(s, {SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg}))
    read_socket(dir, s);
  if (is_sleeping_in(s, {SYS_mq_timedreceive, SYS_mq_timedsend})) read_posix_queue(dir, s);
  if (is_sleeping_in(s, {SYS_msgrcv, SYS_msgsnd})) read_sysv_queue(dir, proc_root, s);
}

void read_blocking(int dir, const std::filesystem::path& proc_root, ProcessSnapshot& s) {
  if (auto w = read_at(dir, "wchan")) s.wchan = std::move(*w);
  // Needs ptrace-read access to the process; without it the syscall stays unknown.
  if (auto text = read_at(dir, "syscall")) {
    auto f = pi::parse_syscall(*text);
    s.syscall = f.number;
    s.syscall_args = std::move(f.args);
  }
  s.syscall_path = read_syscall_path(dir, s);
  read_waited_object(dir, proc_root, s);
}

// Kind, inode and pipe end. False when the descriptor was closed while we looked.
bool classify(int fd_dir, const char* name, FdInfo& info) {
  info.kind = pi::classify_fd(info.target, 0);
  if (info.kind == FdKind::pipe || info.kind == FdKind::socket) {
    info.inode = pi::bracket_number(info.target, info.kind == FdKind::pipe ? "pipe:[" : "socket:[")
                     .value_or(0);
  } else if (info.kind != FdKind::anon) {  // anon inodes mostly share one inode: no use stat'ing
    // stat through the magic link: the open file itself, even if its path was unlinked.
    struct stat st {};
    if (::fstatat(fd_dir, name, &st, 0) != 0) return !is_gone(errno);
    info.inode = st.st_ino;
    info.device = st.st_dev;
    info.kind = pi::classify_fd(info.target, st.st_mode);
  }
  if (info.kind == FdKind::pipe || info.kind == FdKind::fifo) info.end = pi::end_from_flags(info.flags);
  return true;
}

// One descriptor, or nullopt when it was closed between the directory listing and now.
std::optional<FdInfo> read_fd(int fd_dir, int info_dir, int n) {
  const std::string name = std::to_string(n);
  FdInfo info;
  info.fd = n;
  auto target = readlink_at(fd_dir, name.c_str());
  auto fdinfo = read_at(info_dir, name.c_str());
  if (!target || !fdinfo) return std::nullopt;
  info.target = std::move(*target);
  info.flags = pi::parse_fdinfo_flags(*fdinfo).value_or(0);
  info.cloexec = (info.flags & O_CLOEXEC) != 0;
  if (!classify(fd_dir, name.c_str(), info)) return std::nullopt;
  return info;
}

// A /proc directory entry named by a number (a pid, an fd); nullopt for "self", "." and such.
std::optional<int> decimal(const char* name) {
  char* end = nullptr;
  const long n = std::strtol(name, &end, 10);
  if (end == name || *end != '\0' || n < 0) return std::nullopt;
  return static_cast<int>(n);
}

// Every descriptor of the process. Fails only when the process itself is gone.
Result<std::vector<FdInfo>> read_fds(int dir, pid_t pid) {
  UniqueFd fd_dir(::openat(dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir && is_gone(errno)) return gone(pid, errno);
  UniqueFd info_dir(::openat(dir, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!info_dir && is_gone(errno)) return gone(pid, errno);
  if (!fd_dir || !info_dir) return std::vector<FdInfo>{};  // not allowed to look: no fds known
  DirPtr listing(::fdopendir(fd_dir.get()));
  if (!listing) return is_gone(errno) ? gone(pid, errno) : sys_fail("fdopendir");
  fd_dir.release();  // the DIR owns it now
  std::vector<FdInfo> fds;
  errno = 0;
  while (const dirent* e = ::readdir(listing.get())) {
    if (auto n = decimal(e->d_name))
      if (auto info = read_fd(::dirfd(listing.get()), info_dir.get(), *n)) fds.push_back(std::move(*info));
    errno = 0;
  }
  // The listing of a process that exits meanwhile ends with ENOENT: a partial list would lie.
  if (is_gone(errno)) return gone(pid, errno);
  std::sort(fds.begin(), fds.end(), [](const FdInfo& a, const FdInfo& b) { return a.fd < b.fd; });
  return fds;
}

}  // namespace

const FdInfo* ProcessSnapshot::fd(int n) const {
  const auto it = std::find_if(fds.begin(), fds.end(), [n](const FdInfo& f) { return f.fd == n; });
  return it == fds.end() ? nullptr : &*it;
}

ProcInspector::ProcInspector(std::filesystem::path proc_root) : root_(std::move(proc_root)) {}

Result<ProcessSnapshot> ProcInspector::snapshot(pid_t pid) const {
  // Everything is read relative to one open /proc/PID: if the process dies and its pid is reused
  // meanwhile, reads through the old directory fail instead of describing a stranger.
  const auto path = root_ / std::to_string(pid);
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return is_gone(errno) ? gone(pid, errno) : sys_fail("open " + path.string());
  ProcessSnapshot s;
  s.pid = pid;
  IPCG_CHECK(read_stat(dir.get(), s));
  read_status(dir.get(), s);
  if (s.state == 'Z' || s.state == 'X') return s;  // no exe, cmdline, fds: all released
  read_identity(dir.get(), s);
  read_blocking(dir.get(), root_, s);
  IPCG_TRY(s.fds, read_fds(dir.get(), pid));
  return s;
}

std::vector<ProcessSnapshot> ProcInspector::snapshot_all(const std::vector<pid_t>& pids) const {
  std::vector<ProcessSnapshot> out;
  out.reserve(pids.size());
  for (pid_t pid : pids)
    if (auto s = snapshot(pid)) out.push_back(std::move(*s));
  return out;
}

std::vector<pid_t> ProcInspector::descendants(pid_t root, const ProcessTable& table) const {
  // One pass over the table builds the child lists; the walk then touches no more data.
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  for (pid_t pid : table.all_pids())
    if (auto parent = table.parent_of(pid)) children[*parent].push_back(pid);
  std::vector<pid_t> out;
  std::unordered_set<pid_t> seen{root};
  std::deque<pid_t> queue{root};
  while (!queue.empty()) {
    const pid_t pid = queue.front();
    queue.pop_front();
    out.push_back(pid);
    auto& kids = children[pid];
    std::sort(kids.begin(), kids.end());
    // `seen` guards against a loop in the data (a pid reused between two reads of the table).
    for (pid_t kid : kids)
      if (seen.insert(kid).second) queue.push_back(kid);
  }
  return out;
}

std::vector<pid_t> ProcInspector::descendants(pid_t root) const {
  return descendants(root, ProcfsProcessTable(root_));
}

ProcfsProcessTable::ProcfsProcessTable(std::filesystem::path proc_root) : root_(std::move(proc_root)) {}

std::vector<pid_t> ProcfsProcessTable::all_pids() const {
  std::vector<pid_t> pids;
  DirPtr listing(::opendir(root_.c_str()));
  if (!listing) return pids;
  while (const dirent* e = ::readdir(listing.get()))
    if (auto n = decimal(e->d_name)) pids.push_back(static_cast<pid_t>(*n));
  return pids;
}

std::optional<pid_t> ProcfsProcessTable::parent_of(pid_t pid) const {
  auto text = read_at(AT_FDCWD, (root_ / std::to_string(pid) / "stat").c_str());
  if (!text) return std::nullopt;
  auto f = pi::parse_stat(*text);
  if (!f) return std::nullopt;
  return f->ppid;
}

}  // namespace ipcg
