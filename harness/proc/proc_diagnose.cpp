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

#include <algorithm>
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

// What a holder of the end a blocked process waits on is to that wait. A link is blocked itself
// and holds the end where it must (stdin, stdout, stderr) or may still use it; the chain goes on
// through it. The others keep the end for nothing: closing it lets the wait finish.
enum class Role {
  link,            // blocked itself; waits for something else first
  running,         // not blocked (running or stopped): it may still read or write
  own_end,         // the waiting process itself holds the end it waits on
  waits_children,  // blocked in wait4/waitid holding the end beyond its stdio: it uses it no more
  waits_signal,    // blocked in pause/sigsuspend holding the end beyond its stdio
  unused_end,      // a pipeline stage (stdin and stdout pipes) holding another pipe's end
};

bool is_culprit(Role r) { return r != Role::link && r != Role::running; }

// Which culprit of one wait the root cause names first: the parent that passed its copies on to
// the others, then the rest, the waiting process's own copy last.
int rank(Role r) {
  switch (r) {
    case Role::waits_children: return 0;
    case Role::waits_signal: return 1;
    case Role::unused_end: return 2;
    default: return 3;
  }
}

bool stdio_only(const std::vector<int>& fds) {
  return std::all_of(fds.begin(), fds.end(), [](int fd) { return fd <= 2; });
}

std::string_view stdio_name(int fd) { return fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr"; }

// A stage of a pipeline: blocked reading its stdin, both stdin and stdout pipe (or FIFO) ends. It
// reads one and writes the other; any other pipe end it holds it has no use for.
bool is_stage(const ProcessSnapshot& p) {
  if (!is_blocked(p) || shape_of(*p.syscall).flow != Flow::in || p.syscall_args.empty() || int_arg(p, 0) != 0)
    return false;
  const auto piped = [&](int n, PipeEnd end) {
    const FdInfo* f = p.fd(n);
    return f && (f->kind == FdKind::pipe || f->kind == FdKind::fifo) && f->end == end;
  };
  return piped(0, PipeEnd::read) && piped(1, PipeEnd::write);
}

bool waits_for_signal(long nr) {
#ifdef SYS_pause
  if (nr == SYS_pause) return true;
#endif
  return nr == SYS_rt_sigsuspend || nr == SYS_rt_sigtimedwait;
}

// A holder that keeps the end the waiter needs closed (a culprit) for a reason worth naming.
struct Culprit {
  const ProcessSnapshot* waiter;  // the blocked reader or writer
  const FdInfo* object;           // the waiter's fd on the pipe or FIFO
  const ProcessSnapshot* holder;
  std::vector<int> fds;           // the holder's fds on the other end
  Role role;
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
    find_root_cause(report);
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
          if (!duplex_) duplex_ = std::make_pair(&p, peer);
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

  // What holder h is to the wait of `waiter` on an end it holds at fds.
  Role role_of(const ProcessSnapshot& h, const std::vector<int>& fds, const ProcessSnapshot& waiter) const {
    if (&h == &waiter) return Role::own_end;
    if (!is_blocked(h)) return Role::running;
    if (stdio_only(fds)) return Role::link;  // given to it as its stdio: it must hold it while it lives
    if (shape_of(*h.syscall).arg == Arg::wait) return Role::waits_children;
    if (waits_for_signal(*h.syscall)) return Role::waits_signal;
    if (is_stage(h)) return Role::unused_end;
    return Role::link;
  }

  // A holder that holds the end only as its stdio and is blocked (or running) is not blamed: it
  // will close the end when it exits. The chain goes on through it.
  static bool named_as_link(Role role, const Holder& h) {
    return (role == Role::link || role == Role::running) && stdio_only(h.fds);
  }

  static std::string stdio_words(const std::vector<int>& fds) {
    std::string s;
    for (std::size_t i = 0; i < fds.size(); ++i) s += (i ? " and " : "") + std::string(stdio_name(fds[i]));
    return s;
  }

  // "<waits> that pid H writes to as its stdout, and pid H is blocked itself": a holder that is a
  // link of the chain, named without blaming the end it must hold. `does` is what H does with it.
  std::string link_words(const std::string& waits, const Holder& h, Role role, const std::string& does) const {
    const std::string holder = who(h.proc->pid);
    return waits + " that " + holder + " " + (does == "write" ? "writes to" : "reads") + " as its " + stdio_words(h.fds) +
           ", and " + holder + (role == Role::running ? " is not blocked: it may still " + does : " is blocked itself");
  }

  // A read on a pipe returns 0 only once EVERY write end is closed: each holder keeps it waiting.
  void explain_reader(const ProcessSnapshot& r, const FdInfo& fd) {
    const std::string obj = object_name(fd);
    const auto hs = holders(fd, PipeEnd::write);
    if (hs.empty())
      findings_.push_back("no process here holds the write end of " + obj + " that " + who(r.pid) +
                          " reads: its writer is outside these processes");
    for (const Holder& h : hs) {
      const Role role = role_of(*h.proc, h.fds, r);
      if (is_culprit(role)) culprits_.push_back({&r, &fd, h.proc, h.fds, role});
      if (role == Role::own_end) {
        findings_.push_back(who(r.pid) + " holds the write end of its own input " + obj + " " +
                            fds_words(h.fds) + ": the reader never sees EOF");
        continue;
      }
      if (named_as_link(role, h))
        findings_.push_back(link_words(who(r.pid) + " reads " + obj, h, role, "write"));
      else
        findings_.push_back(who(h.proc->pid) + " holds the write end of " + obj + " open " + fds_words(h.fds) +
                            ": the reader pid " + std::to_string(r.pid) + " never sees EOF");
      add_edge(r.pid, h.proc->pid, who(r.pid) + " reads " + obj + " whose write end " + who(h.proc->pid) + " holds");
    }
  }

  // A writer blocked on a full pipe gets SIGPIPE only once every read end is closed. Any reader
  // that may still read frees it: the holders are culprits only when none may.
  void explain_writer(const ProcessSnapshot& w, const FdInfo& fd) {
    const std::string obj = object_name(fd);
    const auto hs = holders(fd, PipeEnd::read);
    if (hs.empty())
      findings_.push_back("no process here holds the read end of " + obj + " that " + who(w.pid) +
                          " writes: its reader is outside these processes");
    std::vector<pid_t> others;
    bool may_read = false;
    for (const Holder& h : hs) may_read = may_read || !is_culprit(role_of(*h.proc, h.fds, w));
    for (const Holder& h : hs) {
      const Role role = role_of(*h.proc, h.fds, w);
      if (is_culprit(role) && !may_read) culprits_.push_back({&w, &fd, h.proc, h.fds, role});
      if (role == Role::own_end) {
        findings_.push_back(who(w.pid) + " keeps the read end of its own output " + obj + " open " +
                            fds_words(h.fds) + " but does not read it: it never gets SIGPIPE");
        continue;
      }
      others.push_back(h.proc->pid);
      if (named_as_link(role, h))
        findings_.push_back(link_words(who(w.pid) + " writes to the full " + obj, h, role, "read"));
      else
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
      cycles_.push_back(cycle);
    }
  }

  // The processes in the order the chain reaches them: from each blocked process that nothing
  // waits for (the test's top process, waiting for its children) along the wait-for edges, then
  // the rest (cycles have no such start) in snapshot order.
  std::vector<pid_t> chain_order() const {
    std::map<pid_t, int> waited_on;
    for (const auto& [_, out] : edges_)
      for (const auto& [to, label] : out) ++waited_on[to];
    std::vector<pid_t> order;
    std::set<pid_t> seen;
    const auto visit_from = [&](pid_t start) {
      std::deque<pid_t> queue{start};
      while (!queue.empty()) {
        const pid_t u = queue.front();
        queue.pop_front();
        if (!seen.insert(u).second) continue;
        order.push_back(u);
        if (const auto it = edges_.find(u); it != edges_.end())
          for (const auto& [v, label] : it->second) queue.push_back(v);
      }
    };
    for (const auto& p : procs_)
      if (is_blocked(p) && waited_on[p.pid] == 0) visit_from(p.pid);
    for (const auto& p : procs_) visit_from(p.pid);
    return order;
  }

  // The first wait along the chain that has culprits, and its culprits, the one to name first
  // at the front.
  std::vector<const Culprit*> first_culprits() const {
    for (pid_t pid : chain_order()) {
      std::vector<const Culprit*> found;
      for (const Culprit& c : culprits_)
        if (c.waiter->pid == pid) found.push_back(&c);
      std::stable_sort(found.begin(), found.end(),
                       [](const Culprit* a, const Culprit* b) { return rank(a->role) < rank(b->role); });
      if (!found.empty()) return found;
    }
    return {};
  }

  static bool waits_to_read(const ProcessSnapshot& p) { return is_blocked(p) && shape_of(*p.syscall).flow == Flow::in; }

  static std::string fd_list(const std::vector<int>& fds) {
    std::string s = fds.size() == 1 ? "fd " : "fds ";
    for (std::size_t i = 0; i < fds.size(); ++i) s += (i == 0 ? "" : i + 1 == fds.size() ? " and " : ", ") + std::to_string(fds[i]);
    return s;
  }

  // "pid 15195 (stage) keeps fd 5 open, the write end of its own input pipe:[639161]: its read
  // on fd 0 can never see EOF".
  std::string culprit_words(const Culprit& c) const {
    const bool reading = waits_to_read(*c.waiter);
    const std::string obj = object_name(*c.object);
    const std::string end = reading ? "the write end" : "the read end";
    const std::string call = (reading ? "read on fd " : "write on fd ") + std::to_string(int_arg(*c.waiter, 0));
    const std::string never = reading ? " can never see EOF" : " can never finish nor fail with SIGPIPE";
    if (c.role == Role::own_end) {
      if (reading && c.object->end != PipeEnd::read_write && !std::none_of(c.fds.begin(), c.fds.end(), [](int fd) { return fd <= 2; }))
        return who(c.holder->pid) + " writes its " + stdio_words(c.fds) + " into its own input " + obj + " " +
               fds_words(c.fds) + ": one pipe used both ways, so its " + call + never;
      return who(c.holder->pid) + " keeps " + fd_list(c.fds) + " open, " + end + " of its own " +
             (reading ? "input " : "output ") + obj + (c.object->end == PipeEnd::read_write ? " (opened read-write)" : "") +
             ": its " + call + never;
    }
    const std::string why = c.role == Role::waits_children ? ", while it waits for its children"
                            : c.role == Role::waits_signal ? ", while it waits for a signal"
                                                           : ", an end it has no use for: a pipeline stage reads its stdin and writes its stdout";
    const bool child = c.waiter->ppid == c.holder->pid;
    return who(c.holder->pid) + " keeps " + fd_list(c.fds) + " open, " + end + " of " + obj + " that " +
           (child ? "its child " : "") + who(c.waiter->pid) + (reading ? " reads" : " writes to") + why + ": the " +
           call + never;
  }

  // The same cause without pids, fds or inodes.
  static std::string culprit_kind(const Culprit& c) {
    const bool reading = waits_to_read(*c.waiter);
    const std::string kind = c.object->kind == FdKind::fifo ? "FIFO" : "pipe";
    const std::string end = reading ? "the write end" : "the read end";
    switch (c.role) {
      case Role::own_end:
        if (reading && c.object->end != PipeEnd::read_write && !std::none_of(c.fds.begin(), c.fds.end(), [](int fd) { return fd <= 2; }))
          return "a process's input and output are the same " + kind + " (one " + kind + " used both ways)";
        return "a process keeps " + end + " of its own " + (reading ? "input " : "output ") + kind + " open";
      case Role::waits_children: return "a parent keeps " + end + " of a " + kind + " open while it waits for its children";
      case Role::waits_signal: return "a process keeps " + end + " of a " + kind + " open while it waits for a signal";
      case Role::unused_end: return "a pipeline stage keeps " + end + " of another stage's " + kind + " open";
      default: return "";
    }
  }

  void find_root_cause(HangReport& report) const {
    if (const auto found = first_culprits(); !found.empty()) {
      report.root_cause = culprit_words(*found[0]);
      report.cause_kind = culprit_kind(*found[0]);
      // The other copies of the same end: all of them must close for the wait to finish.
      std::string also;
      for (std::size_t i = 1; i < found.size() && i <= 3; ++i)
        also += (i == 1 ? "" : ", ") + who(found[i]->holder->pid) + " (" + fd_list(found[i]->fds) + ")";
      if (found.size() > 4) also += " and " + std::to_string(found.size() - 4) + " more";
      if (!also.empty()) report.root_cause += "; other copies of it: " + also;
      return;
    }
    if (duplex_) {
      const auto [a, b] = *duplex_;
      report.root_cause = who(a->pid) + " and " + who(b->pid) + " each block sending to the other (socket:[" +
                          std::to_string(a->waiting_socket->inode) + "] and socket:[" +
                          std::to_string(b->waiting_socket->inode) + "]) and neither reads: a duplex deadlock";
      report.cause_kind = "two processes each send to the other and neither reads (a duplex deadlock)";
      return;
    }
    if (cycles_.empty()) return;
    const auto& cycle = cycles_.front();
    std::string words;
    for (std::size_t i = 0; i < cycle.size(); ++i) words += (i ? "; " : "") + label(cycle[i], cycle[(i + 1) % cycle.size()]);
    const bool readers = cycle.size() == 2 && std::all_of(cycle.begin(), cycle.end(), [&](pid_t pid) {
      return waits_to_read(*by_pid_.at(pid));
    });
    if (readers) {
      report.root_cause = who(cycle[0]) + " and " + who(cycle[1]) + " each wait to read what the other has not written: " + words;
      report.cause_kind = "two processes each wait to read what the other has not written (a deadlock)";
    } else {
      report.root_cause = "the processes wait for each other in a cycle: " + words;
      report.cause_kind = "processes wait for each other in a cycle (a deadlock)";
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
  std::vector<Culprit> culprits_;
  std::vector<std::vector<pid_t>> cycles_;
  std::optional<std::pair<const ProcessSnapshot*, const ProcessSnapshot*>> duplex_;
};

}  // namespace

HangReport ProcInspector::diagnose_hang(const std::vector<ProcessSnapshot>& processes) const {
  return Diagnosis(processes).run();
}

std::string HangReport::summary() const {
  std::string out = root_cause;
  for (const auto& p : processes) out += (out.empty() ? "" : "\n") + p.description;
  for (const auto& f : findings) out += (out.empty() ? "" : "\n") + f;
  return out;
}

}  // namespace ipcg
