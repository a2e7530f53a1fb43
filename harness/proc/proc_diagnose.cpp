// The words of a hang report: where each process of a hung tree sits, and who keeps it there
// (holders of the other end of the pipe or FIFO it waits on, the children it waits for, cycles
// of such waits). Pure logic over snapshots: tested with hand-made ones as well as real ones.
//
// Blocking is classified by syscall number, never by wchan: wchan names change across kernels
// (pipe_read before 6.x, anon_pipe_read on 6.18), so wchan is only shown as extra information.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "harness/proc/proc_inspector.hpp"

namespace ipcg {
namespace {

// What the arguments of a blocking syscall mean, and which way data must move for it to return.
enum class Arg { none, fd, wait, msq, sem, path };
enum class Flow { none, in, out };
struct Shape {
  Arg arg = Arg::none;
  Flow flow = Flow::none;
};

Shape shape_of(long nr) {
  switch (nr) {
    case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv: case SYS_preadv2:
    case SYS_recvfrom: case SYS_recvmsg: case SYS_mq_timedreceive:
      return {Arg::fd, Flow::in};
    case SYS_write: case SYS_writev: case SYS_pwrite64: case SYS_pwritev: case SYS_pwritev2:
    case SYS_sendto: case SYS_sendmsg: case SYS_mq_timedsend:
      return {Arg::fd, Flow::out};
    case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_flock: case SYS_fcntl:
    case SYS_epoll_pwait: case SYS_fsync:
      return {Arg::fd, Flow::none};
    case SYS_openat: return {Arg::path, Flow::none};
#ifdef SYS_open
    case SYS_open: return {Arg::path, Flow::none};
#endif
    case SYS_wait4: case SYS_waitid: return {Arg::wait, Flow::none};
    case SYS_msgrcv: case SYS_msgsnd: return {Arg::msq, Flow::none};
    case SYS_semop: case SYS_semtimedop: return {Arg::sem, Flow::none};
#ifdef SYS_epoll_wait  // x86_64 only; the generic table (arm64) has just epoll_pwait
    case SYS_epoll_wait: return {Arg::fd, Flow::none};
#endif
  }
  return {};
}

// What a blocking call whose arguments we do not decode usually means in an IPC lab.
std::string_view hint_of(long nr) {
  switch (nr) {
    case SYS_futex: return " (a mutex, condition variable, sem_wait or thread join)";
    case SYS_nanosleep: case SYS_clock_nanosleep: return " (sleeping)";
    case SYS_rt_sigsuspend: case SYS_rt_sigtimedwait: return " (waiting for a signal)";
    case SYS_ppoll: case SYS_pselect6: case SYS_epoll_pwait: return " (waiting on several descriptors)";
#ifdef SYS_pause
    case SYS_pause: return " (waiting for a signal)";
    case SYS_poll: case SYS_select: return " (waiting on several descriptors)";
#endif
  }
  return "";
}

// Integer arguments (fds, pids) live in the low 32 bits of the register.
int int_arg(const ProcessSnapshot& p, std::size_t i) {
  return i < p.syscall_args.size() ? static_cast<int>(static_cast<std::uint32_t>(p.syscall_args[i])) : -1;
}

bool is_blocked(const ProcessSnapshot& p) { return (p.state == 'S' || p.state == 'D') && p.syscall; }

// Which processes a wait4/waitid is waiting for.
struct WaitTarget {
  enum Kind { any, child, group, pidfd } kind = any;
  int id = 0;
};

std::optional<WaitTarget> wait_target(const ProcessSnapshot& p) {
  if (!is_blocked(p) || shape_of(*p.syscall).arg != Arg::wait) return std::nullopt;
  const int a0 = int_arg(p, 0), a1 = int_arg(p, 1);
  constexpr int kPidfd = 3;  // P_PIDFD (linux 5.4), not in every libc's <sys/wait.h>
  if (*p.syscall == SYS_wait4) {
    if (a0 == -1) return WaitTarget{};
    if (a0 > 0) return WaitTarget{WaitTarget::child, a0};
    return WaitTarget{WaitTarget::group, a0 == 0 ? p.pgid : -a0};
  }
  if (a0 == P_PID) return WaitTarget{WaitTarget::child, a1};
  if (a0 == P_PGID) return WaitTarget{WaitTarget::group, a1 == 0 ? p.pgid : a1};
  if (a0 == kPidfd) return WaitTarget{WaitTarget::pidfd, a1};
  return WaitTarget{};
}

std::string object_name(const FdInfo& f) { return f.kind == FdKind::fifo ? "FIFO " + f.target : f.target; }

std::string end_words(const FdInfo& f) {
  const char* end = f.end == PipeEnd::read    ? "read end"
                    : f.end == PipeEnd::write ? "write end"
                    : f.end == PipeEnd::read_write ? "opened read-write" : nullptr;
  if (f.kind == FdKind::fifo) return end ? std::string(" (FIFO, ") + end + ")" : " (FIFO)";
  return end ? std::string(" (") + end + ")" : "";
}

std::string fd_words(const ProcessSnapshot& p, int n) {
  const FdInfo* f = p.fd(n);
  if (!f) return "fd " + std::to_string(n) + " (not open)";
  return "fd " + std::to_string(n) + " = " + f->target + end_words(*f);
}

// "(fd 4)" or "(fds 4, 7)".
std::string fds_words(const std::vector<int>& fds) {
  std::string s = fds.size() == 1 ? "(fd " : "(fds ";
  for (std::size_t i = 0; i < fds.size(); ++i) s += (i ? ", " : "") + std::to_string(fds[i]);
  return s + ")";
}

std::string family_words(int family) {
  switch (family) {
    case AF_UNIX: return "AF_UNIX";
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
  }
  return "family " + std::to_string(family);
}

// " (AF_UNIX stream, peer pid 43; 212992 bytes sent and not yet read by the peer, send buffer
// 212992; 0 bytes unread here)" for a process blocked on a socket whose state was read.
std::string socket_words(const ProcessSnapshot& p) {
  if (!p.waiting_socket) return "";
  const SocketState& s = *p.waiting_socket;
  std::string w = " (" + family_words(s.family) + (s.type == SOCK_STREAM ? " stream" : "");
  if (s.peer_pid > 0) w += ", peer pid " + std::to_string(s.peer_pid);
  else if (!s.peer.empty()) w += ", peer " + s.peer;
  if (s.unsent >= 0)
    w += "; " + std::to_string(s.unsent) + (s.family == AF_UNIX ? " bytes sent and not yet read by the peer"
                                                                 : " bytes sent and not yet acknowledged");
  if (s.send_buffer >= 0) w += ", send buffer " + std::to_string(s.send_buffer);
  if (s.unread >= 0) w += "; " + std::to_string(s.unread) + " bytes unread here";
  return w + ")";
}

std::string wchan_words(const ProcessSnapshot& p) {
  return p.wchan.empty() || p.wchan == "0" ? "" : " [wchan " + p.wchan + "]";
}

struct Holder {
  const ProcessSnapshot* proc;
  std::vector<int> fds;
};

class Diagnosis {
 public:
  explicit Diagnosis(const std::vector<ProcessSnapshot>& procs) : procs_(procs) {
    for (const auto& p : procs) by_pid_[p.pid] = &p;
  }

  HangReport run() {
    HangReport report;
    for (const auto& p : procs_) report.processes.push_back({p, describe(p)});
    for (const auto& p : procs_) explain(p);
    report_cycles();
    report.findings = std::move(findings_);
    return report;
  }

 private:
  // "pid 412 (cat)", or "pid 412" for a process not in the set.
  std::string who(pid_t pid) const {
    const auto it = by_pid_.find(pid);
    return "pid " + std::to_string(pid) + (it == by_pid_.end() ? "" : " (" + it->second->comm + ")");
  }

  std::string describe(const ProcessSnapshot& p) const {
    const std::string w = who(p.pid);
    switch (p.state) {
      case 'Z': return w + " is a zombie: its parent " + who(p.ppid) + " has not waited for it";
      case 'T': return w + " is stopped (SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU): it runs again only on SIGCONT";
      case 't': return w + " is stopped by a tracer";
      case 'R': return w + " is running, not blocked: computing or busy-waiting";
      case 'S': case 'D': return describe_sleep(p);
    }
    return w + " is in state " + p.state;
  }

  std::string describe_sleep(const ProcessSnapshot& p) const {
    const bool d = p.state == 'D';
    if (!p.syscall) return who(p.pid) + (d ? " is in uninterruptible sleep" : " is sleeping") + wchan_words(p);
    const long nr = *p.syscall;
    return who(p.pid) + (d ? " blocked uninterruptibly in " : " blocked in ") + syscall_name(nr) +
           arg_words(p) + std::string(hint_of(nr)) + wchan_words(p);
  }

  std::string arg_words(const ProcessSnapshot& p) const {
    if (p.syscall_args.empty()) return "";
    switch (shape_of(*p.syscall).arg) {
      case Arg::fd: return mq_words(p).value_or(" on " + fd_words(p, int_arg(p, 0)) + socket_words(p));
      case Arg::wait: return wait_words(host_target(p));
      case Arg::msq: return msq_words(p);
      case Arg::path: return open_words(p);
      case Arg::sem: return " on SysV semaphore set id " + std::to_string(int_arg(p, 0));
      case Arg::none: break;
    }
    return "";
  }

  // The end a blocked open of a FIFO asks for (read or write), or none for another open.
  static PipeEnd open_end(const ProcessSnapshot& p) {
    const size_t flags_at = *p.syscall == SYS_openat ? 2 : 1;
    if (p.syscall_args.size() <= flags_at) return PipeEnd::none;
    switch (p.syscall_args[flags_at] & O_ACCMODE) {
      case O_RDONLY: return PipeEnd::read;
      case O_WRONLY: return PipeEnd::write;
    }
    return PipeEnd::none;
  }

  // The FIFO a blocked open names, as an FdInfo to match holders against; nullopt when its path
  // could not be looked up.
  static std::optional<FdInfo> opened_fifo(const ProcessSnapshot& p) {
    if (p.syscall_path_inode == 0) return std::nullopt;
    FdInfo f;
    f.kind = FdKind::fifo;
    f.target = p.syscall_path;
    f.inode = p.syscall_path_inode;
    f.device = p.syscall_path_device;
    return f;
  }

  // An open that blocks is an open of a FIFO: it returns once some process has the other end
  // open. Whether one has is read from the snapshots' descriptors (by device and inode).
  std::string open_words(const ProcessSnapshot& p) const {
    const std::string fifo = p.syscall_path.empty() ? std::string("a FIFO (path unreadable)") : "FIFO " + p.syscall_path;
    const PipeEnd end = open_end(p);
    if (end == PipeEnd::none) return p.syscall_path.empty() || p.syscall_args.empty() ? "" : " of " + p.syscall_path;
    const bool reading = end == PipeEnd::read;
    const std::string waits = reading ? "it waits until some process opens it for writing"
                                      : "it waits until some process opens it for reading";
    std::string none_yet;
    if (const auto f = opened_fifo(p); f && holders(*f, reading ? PipeEnd::write : PipeEnd::read).empty())
      none_yet = reading ? "no writer has opened it; " : "no reader has opened it; ";
    return " of " + fifo + (reading ? " for reading: " : " for writing: ") + none_yet + waits;
  }

  static std::string messages_words(std::int64_t n) {
    return std::to_string(n) + (n == 1 ? " message" : " messages");
  }

  // "; the queue holds 2 messages", from the count read with the snapshot (if it was).
  static std::string holds_words(const ProcessSnapshot& p) {
    if (!p.waiting_messages) return "";
    if (*p.waiting_messages == 0) return "; the queue is empty";
    return "; the queue holds " + messages_words(*p.waiting_messages);
  }

  // msgrcv(msqid, msgp, msgsz, msgtyp, msgflg) waits for a message of the type it asks for;
  // msgsnd(msqid, ...) for room in a full queue.
  static std::string msq_words(const ProcessSnapshot& p) {
    const std::string queue = " on SysV message queue id " + std::to_string(int_arg(p, 0));
    if (*p.syscall == SYS_msgsnd) return queue + " (the queue is full: it waits for room)" + holds_words(p);
    if (p.syscall_args.size() < 4) return queue + holds_words(p);
    const long type = static_cast<long>(p.syscall_args[3]);
    if (type == 0) return queue + " for any message (msgtyp 0)" + holds_words(p);
    if (type > 0) return queue + " for a message of mtype " + std::to_string(type) + holds_words(p);
    return queue + " for the lowest mtype up to " + std::to_string(-type) + " (msgtyp " + std::to_string(type) + ")" +
           holds_words(p);
  }

  // mq_timedreceive and mq_timedsend take a message queue descriptor, which /proc shows as the
  // queue's name ("/jobs"); the snapshot may have read how many messages it holds.
  static std::optional<std::string> mq_words(const ProcessSnapshot& p) {
    const bool receive = *p.syscall == SYS_mq_timedreceive;
    if (!receive && *p.syscall != SYS_mq_timedsend) return std::nullopt;
    const int n = int_arg(p, 0);
    const FdInfo* f = p.fd(n);
    if (!f) return " on POSIX message queue fd " + std::to_string(n) + " (not open)" + mq_wait_words(p, receive);
    std::string count;
    if (p.waiting_messages) {
      count = ", " + (p.waiting_queue_limit && !receive ? std::to_string(*p.waiting_messages) + " of " +
                                                              messages_words(*p.waiting_queue_limit)
                                                        : messages_words(*p.waiting_messages));
    }
    return " on POSIX message queue " + f->target + " (fd " + std::to_string(n) + count + ")" + mq_wait_words(p, receive);
  }

  // Why it waits. A count that says otherwise (a message in the queue of a blocked receiver)
  // means the queue changed while it was observed: said as such, not as a wait.
  static std::string mq_wait_words(const ProcessSnapshot& p, bool receive) {
    if (receive && p.waiting_messages && *p.waiting_messages > 0)
      return ": a message arrived as it was observed, it is about to receive it";
    if (!receive && p.waiting_messages && p.waiting_queue_limit && *p.waiting_messages < *p.waiting_queue_limit)
      return ": room was made as it was observed, it is about to send";
    return receive ? ": the queue is empty, it waits for a message" : ": the queue is full, it waits for room";
  }

  // wait4's pid and pgid arguments are in the waiter's pid namespace: translate them to the
  // host ids the snapshots use, through the NSpid/NSpgid of the processes we know.
  WaitTarget host_target(const ProcessSnapshot& waiter) const {
    WaitTarget t = *wait_target(waiter);
    if (waiter.ns_pid == waiter.pid || waiter.ns_pid == 0) return t;
    for (const auto& c : procs_) {
      if (t.kind == WaitTarget::child && c.ppid == waiter.pid && c.ns_pid == t.id) return {t.kind, c.pid};
      if (t.kind == WaitTarget::group && c.ns_pgid == t.id && t.id != waiter.pgid) return {t.kind, c.pgid};
    }
    return t;
  }

  std::string wait_words(const WaitTarget& t) const {
    switch (t.kind) {
      case WaitTarget::any: return " for any child";
      case WaitTarget::child: return " for child " + who(t.id);
      case WaitTarget::group: return " for any child in process group " + std::to_string(t.id);
      case WaitTarget::pidfd: return " for the child behind pidfd " + std::to_string(t.id);
    }
    return "";
  }

  void explain(const ProcessSnapshot& p) {
    if (!is_blocked(p)) return;
    const Shape shape = shape_of(*p.syscall);
    if (shape.arg == Arg::wait) return explain_child_wait(p);
    if (shape.arg == Arg::path) return explain_open(p);
    if (shape.arg != Arg::fd || shape.flow == Flow::none) return;
    const FdInfo* fd = p.fd(int_arg(p, 0));
    if (fd && (fd->kind == FdKind::pipe || fd->kind == FdKind::fifo)) {
      if (shape.flow == Flow::in) explain_reader(p, *fd);
      else explain_writer(p, *fd);
    }
    if (p.waiting_socket) explain_socket(p, shape.flow);
  }

  // The process at the other end of p's socket, among these: by SO_PEERCRED (AF_UNIX), or by
  // address, one's local being the other's peer (TCP).
  const ProcessSnapshot* socket_peer(const ProcessSnapshot& p) const {
    const SocketState& s = *p.waiting_socket;
    if (s.peer_pid > 0) {
      const auto it = by_pid_.find(s.peer_pid);
      if (it != by_pid_.end()) return it->second;
    }
    if (s.family == AF_UNIX || s.peer.empty()) return nullptr;
    for (const auto& q : procs_)
      if (&q != &p && q.waiting_socket && q.waiting_socket->local == s.peer && q.waiting_socket->peer == s.local) return &q;
    return nullptr;
  }

  static bool blocked_sending(const ProcessSnapshot& p) {
    return is_blocked(p) && p.waiting_socket && shape_of(*p.syscall).flow == Flow::out;
  }

  // A sender on a stream socket waits for room: the peer must read. Two processes each blocked
  // sending to the other is a duplex deadlock: neither reads, so neither buffer ever drains.
  void explain_socket(const ProcessSnapshot& p, Flow flow) {
    const SocketState& s = *p.waiting_socket;
    const std::string sock = "socket:[" + std::to_string(s.inode) + "]";
    const ProcessSnapshot* peer = socket_peer(p);
    if (flow == Flow::out) {
      std::string full = s.unsent >= 0 ? std::to_string(s.unsent) + " bytes wait in its send queue" : "its send queue is full";
      if (!peer) {
        findings_.push_back(who(p.pid) + " is blocked sending on " + sock + ": " + full +
                            " for a peer that does not read" + (s.peer_pid > 0 ? " (" + who(s.peer_pid) + ")" : ""));
        return;
      }
      add_edge(p.pid, peer->pid, who(p.pid) + " sends on " + sock + " and waits for " + who(peer->pid) + " to read (" + full + ")");
      if (blocked_sending(*peer) && socket_peer(*peer) == &p) {
        if (p.pid < peer->pid) {
          const SocketState& o = *peer->waiting_socket;
          findings_.push_back("duplex deadlock: " + who(p.pid) + " and " + who(peer->pid) +
                              " are both blocked in send/write on full socket buffers and neither reads (" +
                              std::to_string(s.unsent) + " and " + std::to_string(o.unsent) +
                              " bytes queued; " + std::to_string(s.unread) + " and " + std::to_string(o.unread) +
                              " bytes unread): one side must go on reading while its writes wait (poll for POLLIN "
                              "and POLLOUT, non-blocking sends)");
        }
      } else {
        findings_.push_back(who(p.pid) + " is blocked sending on " + sock + " (" + full + "): " + who(peer->pid) +
                            ", at the other end, does not read it");
      }
      return;
    }
    if (flow == Flow::in && peer) {
      findings_.push_back(who(p.pid) + " waits for data on " + sock + " (" +
                          (s.unread >= 0 ? std::to_string(s.unread) : std::string("?")) + " bytes unread) from " +
                          who(peer->pid) + ", which has not sent it");
      add_edge(p.pid, peer->pid, who(p.pid) + " waits for data from " + who(peer->pid) + " on " + sock);
    }
  }

  // A blocked open of a FIFO whose other end some process here has open: it saw the open after
  // the opener was observed (the open returns as soon as it runs). Who, and on which fds.
  void explain_open(const ProcessSnapshot& p) {
    const PipeEnd end = open_end(p);
    const auto f = opened_fifo(p);
    if (end == PipeEnd::none || !f) return;
    const PipeEnd other = end == PipeEnd::read ? PipeEnd::write : PipeEnd::read;
    for (const Holder& h : holders(*f, other))
      findings_.push_back(who(h.proc->pid) + " has " + object_name(*f) + " open for " +
                          (other == PipeEnd::write ? "writing " : "reading ") + fds_words(h.fds) + ": the open in " +
                          who(p.pid) + " returns as soon as it runs");
  }

  // Every process holding `of`'s pipe or FIFO open with access `want` (or read-write). A FIFO is
  // the same one only on the same device too (two cells' /tmp mounts reuse inode numbers).
  std::vector<Holder> holders(const FdInfo& of, PipeEnd want) const {
    std::vector<Holder> out;
    for (const auto& p : procs_) {
      Holder h{&p, {}};
      for (const FdInfo& f : p.fds)
        if (f.kind == of.kind && f.inode == of.inode && (of.device == 0 || f.device == of.device) &&
            (f.end == want || f.end == PipeEnd::read_write))
          h.fds.push_back(f.fd);
      if (!h.fds.empty()) out.push_back(std::move(h));
    }
    return out;
  }

  // A read on a pipe returns 0 only once EVERY write end is closed: each holder keeps it waiting.
  void explain_reader(const ProcessSnapshot& r, const FdInfo& fd) {
    const std::string obj = object_name(fd);
    const auto hs = holders(fd, PipeEnd::write);
    if (hs.empty())
      findings_.push_back("no process here holds the write end of " + obj + " that " + who(r.pid) +
                          " reads: its writer is outside these processes");
    for (const Holder& h : hs) {
      if (h.proc == &r) {
        findings_.push_back(who(r.pid) + " holds the write end of its own input " + obj + " " +
                            fds_words(h.fds) + ": the reader never sees EOF");
        continue;
      }
      findings_.push_back(who(h.proc->pid) + " holds the write end of " + obj + " open " + fds_words(h.fds) +
                          ": the reader pid " + std::to_string(r.pid) + " never sees EOF");
      add_edge(r.pid, h.proc->pid, who(r.pid) + " reads " + obj + " whose write end " + who(h.proc->pid) + " holds");
    }
  }

  // A writer blocked on a full pipe gets SIGPIPE only once every read end is closed.
  void explain_writer(const ProcessSnapshot& w, const FdInfo& fd) {
    const std::string obj = object_name(fd);
    const auto hs = holders(fd, PipeEnd::read);
    if (hs.empty())
      findings_.push_back("no process here holds the read end of " + obj + " that " + who(w.pid) +
                          " writes: its reader is outside these processes");
    std::vector<pid_t> others;
    for (const Holder& h : hs) {
      if (h.proc == &w) {
        findings_.push_back(who(w.pid) + " keeps the read end of its own output " + obj + " open " +
                            fds_words(h.fds) + " but does not read it: it never gets SIGPIPE");
        continue;
      }
      others.push_back(h.proc->pid);
      findings_.push_back(who(h.proc->pid) + " keeps the read end of " + obj + " open " + fds_words(h.fds) +
                          " but nobody reads it: the writer pid " + std::to_string(w.pid) +
                          " never gets SIGPIPE");
    }
    // Any one reader would free the writer: it depends on a single process only if there is one.
    if (others.size() == 1)
      add_edge(w.pid, others[0], who(w.pid) + " writes to the full " + obj + " that only " + who(others[0]) + " can read");
  }

  void explain_child_wait(const ProcessSnapshot& p) {
    const WaitTarget t = host_target(p);
    std::vector<pid_t> alive;
    for (const auto& c : procs_)
      if (c.ppid == p.pid && c.state != 'Z' && awaited(t, c)) alive.push_back(c.pid);
    if (alive.empty()) {
      findings_.push_back(who(p.pid) + " waits for a child, but no such live child is among these processes");
    } else if (alive.size() == 1) {
      findings_.push_back(who(p.pid) + " waits for its child " + who(alive[0]) + ", which has not exited");
      add_edge(p.pid, alive[0], who(p.pid) + " waits for its child " + who(alive[0]));
    } else {
      std::string list;
      for (pid_t c : alive) list += (list.empty() ? "" : ", ") + who(c);
      findings_.push_back(who(p.pid) + " waits for a child to exit, and none has: " + list);
    }
  }

  static bool awaited(const WaitTarget& t, const ProcessSnapshot& c) {
    if (t.kind == WaitTarget::child) return c.pid == t.id;
    if (t.kind == WaitTarget::group) return c.pgid == t.id;
    return true;  // any child; a pidfd does not say which one without reading its fdinfo
  }

  void add_edge(pid_t from, pid_t to, std::string label) {
    edges_[from].emplace_back(to, std::move(label));
  }

  // One cycle per group of processes that wait on each other, starting from the lowest pid.
  void report_cycles() {
    std::set<pid_t> covered;
    for (const auto& [pid, proc] : by_pid_) {
      if (covered.count(pid)) continue;
      const auto cycle = cycle_through(pid);
      if (cycle.empty()) continue;
      std::string words;
      for (std::size_t i = 0; i < cycle.size(); ++i) {
        words += (i ? "; " : "") + label(cycle[i], cycle[(i + 1) % cycle.size()]);
        covered.insert(cycle[i]);
      }
      findings_.push_back("deadlock cycle: " + words + ": none of them can go on");
    }
  }

  // The shortest cycle of wait edges through start (breadth first), or empty.
  std::vector<pid_t> cycle_through(pid_t start) const {
    std::map<pid_t, pid_t> came_from;
    std::deque<pid_t> queue{start};
    while (!queue.empty()) {
      const pid_t u = queue.front();
      queue.pop_front();
      const auto it = edges_.find(u);
      if (it == edges_.end()) continue;
      for (const auto& [v, _] : it->second) {
        if (v == start) return path_to(start, u, came_from);
        if (came_from.emplace(v, u).second) queue.push_back(v);
      }
    }
    return {};
  }

  static std::vector<pid_t> path_to(pid_t start, pid_t last, const std::map<pid_t, pid_t>& came_from) {
    std::vector<pid_t> path{last};
    while (path.back() != start) path.push_back(came_from.at(path.back()));
    return {path.rbegin(), path.rend()};
  }

  std::string label(pid_t from, pid_t to) const {
    for (const auto& [v, text] : edges_.at(from))
      if (v == to) return text;
    return who(from) + " waits for " + who(to);
  }

  const std::vector<ProcessSnapshot>& procs_;
  std::map<pid_t, const ProcessSnapshot*> by_pid_;
  std::map<pid_t, std::vector<std::pair<pid_t, std::string>>> edges_;
  std::vector<std::string> findings_;
};

}  // namespace

HangReport ProcInspector::diagnose_hang(const std::vector<ProcessSnapshot>& processes) const {
  return Diagnosis(processes).run();
}

std::string HangReport::summary() const {
  std::string out;
  for (const auto& p : processes) out += (out.empty() ? "" : "\n") + p.description;
  for (const auto& f : findings) out += (out.empty() ? "" : "\n") + f;
  return out;
}

}  // namespace ipcg
