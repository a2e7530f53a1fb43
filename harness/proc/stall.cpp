// StallDetector and the wait classification it judges by (see stall.hpp).
#include "harness/proc/stall.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>

#include "harness/core/unique_fd.hpp"
#include "harness/proc/proc_parse.hpp"

namespace ipcg {
namespace {

std::optional<std::string> read_small(int dir, const char* name) {
  UniqueFd fd(::openat(dir, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// A syscall argument that is a C int (poll's and epoll_wait's timeout): the register may hold it
// sign-extended or not.
int int_arg(const ProcessLook& p, std::size_t i) {
  return i < p.syscall_args.size() ? static_cast<int>(static_cast<std::uint32_t>(p.syscall_args[i])) : 0;
}
unsigned long arg(const ProcessLook& p, std::size_t i) { return i < p.syscall_args.size() ? p.syscall_args[i] : 0; }

// Indefinite unless `timeout` (a pointer or a value meaning "a timeout was given").
WaitKind unless_timed(bool timeout) { return timeout ? WaitKind::timed : WaitKind::indefinite; }

WaitKind by_syscall(const ProcessLook& p) {
  switch (*p.syscall) {
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
      return WaitKind::timed;
    case SYS_futex: {
      const int op = static_cast<int>(arg(p, 1)) & FUTEX_CMD_MASK;
      const bool waits = op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET || op == FUTEX_LOCK_PI ||
                         op == FUTEX_WAIT_REQUEUE_PI || op == 13 /* FUTEX_LOCK_PI2 */;
      return waits ? unless_timed(arg(p, 3) != 0) : WaitKind::busy;
    }
    case SYS_futex_waitv: return unless_timed(arg(p, 3) != 0);
    case SYS_semtimedop: return unless_timed(arg(p, 3) != 0);
    case SYS_mq_timedsend:
    case SYS_mq_timedreceive: return unless_timed(arg(p, 4) != 0);
    case SYS_poll: return unless_timed(int_arg(p, 2) >= 0);
    case SYS_ppoll: return unless_timed(arg(p, 2) != 0);
    case SYS_select:
    case SYS_pselect6: return unless_timed(arg(p, 4) != 0);
    case SYS_epoll_wait:
    case SYS_epoll_pwait: return unless_timed(int_arg(p, 3) >= 0);
    case SYS_epoll_pwait2: return unless_timed(arg(p, 3) != 0);
    case SYS_rt_sigtimedwait: return unless_timed(arg(p, 2) != 0);
    case SYS_recvmmsg: return unless_timed(arg(p, 4) != 0);
    case SYS_fcntl: {
      const int cmd = static_cast<int>(arg(p, 1));
      return cmd == F_SETLKW || cmd == F_OFD_SETLKW ? WaitKind::indefinite : WaitKind::busy;
    }
    case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64: case SYS_pwrite64:
    case SYS_preadv: case SYS_pwritev: case SYS_preadv2: case SYS_pwritev2:
    case SYS_recvfrom: case SYS_sendto: case SYS_recvmsg: case SYS_sendmsg: case SYS_sendmmsg:
    case SYS_splice: case SYS_tee: case SYS_vmsplice: case SYS_sendfile:
    case SYS_wait4: case SYS_waitid: case SYS_pause: case SYS_rt_sigsuspend:
    case SYS_open: case SYS_openat: case SYS_openat2:
    case SYS_msgrcv: case SYS_msgsnd: case SYS_semop:
    case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_flock:
      return WaitKind::indefinite;
    default:
      return WaitKind::busy;  // not known to block for good: never judged hung
  }
}

bool is_read_call(long nr) {
  return nr == SYS_read || nr == SYS_readv || nr == SYS_pread64 || nr == SYS_preadv || nr == SYS_preadv2 ||
         nr == SYS_recvfrom || nr == SYS_recvmsg || nr == SYS_recvmmsg;
}
bool is_write_call(long nr) {
  return nr == SYS_write || nr == SYS_writev || nr == SYS_pwrite64 || nr == SYS_pwritev || nr == SYS_pwritev2 ||
         nr == SYS_sendto || nr == SYS_sendmsg || nr == SYS_sendmmsg;
}
bool is_multiplex_call(long nr) {
  return nr == SYS_poll || nr == SYS_ppoll || nr == SYS_select || nr == SYS_pselect6 || nr == SYS_epoll_wait ||
         nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2;
}

// Whether `outside` could end a wait on `fd` of this process: it can write what a reader waits
// for (it holds a write end of the pipe it reads), read what a writer cannot get rid of, or use
// the other side of a socket.
bool outside_can_wake(const FdInfo& fd, const HeldObjects& outside, bool reading) {
  switch (fd.kind) {
    case FdKind::pipe:
      return reading ? outside.pipe_write_ends.count(fd.inode) > 0 : outside.pipe_read_ends.count(fd.inode) > 0;
    case FdKind::fifo: return outside.fifos.count({fd.device, fd.inode}) > 0;
    case FdKind::socket: return outside.sockets.count(fd.inode) > 0;
    default: return false;
  }
}

}  // namespace

std::string_view to_string(WaitKind k) {
  switch (k) {
    case WaitKind::busy: return "busy";
    case WaitKind::indefinite: return "waiting indefinitely";
    case WaitKind::timed: return "waiting with a timeout";
    case WaitKind::stopped: return "stopped";
    case WaitKind::ended: return "ended";
  }
  return "busy";
}

ProcessLook look_of(const ProcessSnapshot& s) {
  return {.pid = s.pid,
          .state = s.state,
          .cpu_ticks = s.utime_ticks + s.stime_ticks,
          .switches = s.voluntary_switches + s.involuntary_switches,
          .syscall = s.syscall,
          .syscall_args = s.syscall_args,
          .catches_alarm = (s.signals.caught & SignalMasks::bit(SIGALRM)) != 0,
          .has_posix_timers = false};
}

std::vector<ProcessLook> look_at(const std::vector<pid_t>& pids) {
  std::vector<ProcessLook> out;
  for (pid_t pid : pids) {
    // One open /proc/PID for every read: a pid reused meanwhile fails the reads instead.
    UniqueFd dir(::open(("/proc/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) continue;
    const auto stat_text = read_small(dir.get(), "stat");
    if (!stat_text) continue;
    const auto stat = proc_internal::parse_stat(*stat_text);
    if (!stat) continue;
    ProcessLook p{.pid = pid, .state = stat->state, .cpu_ticks = stat->utime + stat->stime};
    if (p.state != 'Z' && p.state != 'X') {
      if (const auto status = read_small(dir.get(), "status")) {
        const auto f = proc_internal::parse_status(*status);
        p.switches = f.voluntary + f.involuntary;
        p.catches_alarm = (f.signals.caught & SignalMasks::bit(SIGALRM)) != 0;
      }
      if (const auto syscall = read_small(dir.get(), "syscall")) {
        auto f = proc_internal::parse_syscall(*syscall);
        p.syscall = f.number;
        p.syscall_args = std::move(f.args);
      }
      const auto timers = read_small(dir.get(), "timers");
      p.has_posix_timers = timers && !timers->empty();
    }
    out.push_back(std::move(p));
  }
  return out;
}

WaitKind wait_kind(const ProcessLook& p) {
  if (p.state == 'Z' || p.state == 'X') return WaitKind::ended;
  if (p.state == 'T' || p.state == 't') return WaitKind::stopped;
  // R runs; D is an uninterruptible kernel wait (disk, a page fault): neither is judged.
  if ((p.state != 'S' && p.state != 'I') || !p.syscall) return WaitKind::busy;
  const WaitKind kind = by_syscall(p);
  // An alarm or a POSIX timer may be armed to interrupt the wait: /proc does not show alarm()'s
  // timer, so a process that catches SIGALRM or owns a timer is taken as waiting with a timeout.
  if (kind == WaitKind::indefinite && (p.catches_alarm || p.has_posix_timers)) return WaitKind::timed;
  return kind;
}

bool StallDetector::observe(const std::vector<ProcessLook>& tree, Clock::time_point now) {
  last_look_ = now;
  std::map<pid_t, Progress> progress;
  bool all_waiting = true;
  for (const ProcessLook& p : tree) {
    const WaitKind kind = wait_kind(p);
    if (kind == WaitKind::ended) continue;
    all_waiting = all_waiting && kind == WaitKind::indefinite;
    progress[p.pid] = {p.state, p.cpu_ticks, p.switches, p.syscall.value_or(-1)};
  }
  all_waiting = all_waiting && !progress.empty();
  if (!all_waiting || progress != last_) {
    last_ = std::move(progress);
    stalled_since_ = all_waiting ? std::optional(now) : std::nullopt;
    stalled_for_ = std::chrono::milliseconds{0};
    return false;
  }
  if (!stalled_since_) stalled_since_ = now;
  stalled_for_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - *stalled_since_);
  return stalled_for_ >= options_.grace;
}

HeldObjects held_objects(const ProcessSnapshot& s) {
  HeldObjects held;
  for (const FdInfo& fd : s.fds) {
    if (fd.kind == FdKind::pipe) {
      if (fd.end == PipeEnd::write || fd.end == PipeEnd::read_write) held.pipe_write_ends.insert(fd.inode);
      if (fd.end == PipeEnd::read || fd.end == PipeEnd::read_write) held.pipe_read_ends.insert(fd.inode);
    } else if (fd.kind == FdKind::fifo) {
      held.fifos.insert({fd.device, fd.inode});
    } else if (fd.kind == FdKind::socket) {
      held.sockets.insert(fd.inode);
    }
  }
  return held;
}

HeldObjects grader_held_objects() {
  const ProcInspector inspector;
  auto self = inspector.snapshot(::getpid());
  return self ? held_objects(*self) : HeldObjects{};
}

std::vector<pid_t> waiting_on(const std::vector<ProcessSnapshot>& tree, const HeldObjects& outside) {
  std::vector<pid_t> out;
  for (const ProcessSnapshot& s : tree) {
    if (!s.syscall) continue;
    const long nr = *s.syscall;
    bool wakeable = false;
    if (is_read_call(nr) || is_write_call(nr)) {
      const FdInfo* fd = s.syscall_args.empty() ? nullptr : s.fd(static_cast<int>(s.syscall_args[0]));
      wakeable = fd && outside_can_wake(*fd, outside, is_read_call(nr));
    } else if (is_multiplex_call(nr)) {
      // Which descriptors it polls is in its memory; any it could be reading from will do. (Its
      // stdout, whose read end the grader drains, is no reason: a poll for POLLOUT on it ends.)
      wakeable = std::any_of(s.fds.begin(), s.fds.end(), [&](const FdInfo& fd) {
        return (fd.kind == FdKind::pipe && fd.end != PipeEnd::write && outside.pipe_write_ends.count(fd.inode)) ||
               (fd.kind == FdKind::fifo && outside.fifos.count({fd.device, fd.inode})) ||
               (fd.kind == FdKind::socket && outside.sockets.count(fd.inode));
      });
    } else if (proc_internal::path_argument(nr) && s.syscall_path_inode != 0) {
      wakeable = outside.fifos.count({s.syscall_path_device, s.syscall_path_inode}) > 0;
    }
    if (wakeable) out.push_back(s.pid);
  }
  return out;
}

bool cell_hung(StallDetector& stall, const std::vector<pid_t>& pids, StallDetector::Clock::time_point now,
               std::vector<ProcessSnapshot>* confirmed) {
  if (!stall.observe(look_at(pids), now)) return false;
  const ProcInspector inspector;
  std::vector<ProcessSnapshot> snapshots = inspector.snapshot_all(pids);
  if (!waiting_on(snapshots, grader_held_objects()).empty()) {
    stall.reset();
    return false;
  }
  if (confirmed) *confirmed = std::move(snapshots);
  return true;
}

}  // namespace ipcg
