// What runs after clone: the keeper (pid 1 of the new namespaces, or a child subreaper) and the
// target's setup up to execve. Only async-signal-safe calls here: the grader may have other
// threads, and one of them may have held malloc's or stdio's lock at the moment of clone.
// Each step either succeeds or sends {step, errno} on the report pipe and exits 127.
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "sandbox_internal.hpp"

namespace ipcg::internal {
namespace {

[[noreturn]] void report_and_exit(int report_fd, Step step, int error) {
  const StepFailure failure{static_cast<std::int32_t>(step), error};
  // One record smaller than PIPE_BUF: written whole or not at all.
  [[maybe_unused]] ssize_t n = ::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

// For calls returning -1 and setting errno.
void check(bool ok, int report_fd, Step step) {
  if (!ok) report_and_exit(report_fd, step, errno);
}

void close_range_or_loop(unsigned first, unsigned last) {
  if (first > last) return;
  if (::close_range(first, last, 0) == 0 || errno != ENOSYS) return;
  // Kernels before 5.9: close one by one up to the descriptor limit.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const unsigned end = lim.rlim_cur < last ? static_cast<unsigned>(lim.rlim_cur) : last;
  for (unsigned fd = first; fd <= end && fd < lim.rlim_cur; ++fd) ::close(static_cast<int>(fd));
}

// Closes every descriptor not in keep[0..n) (sorted, distinct) nor equal to `extra` (which is
// larger than all of keep, or -1).
void close_all_except(const int* keep, size_t n, int extra) {
  unsigned next = 0;
  for (size_t i = 0; i <= n; ++i) {
    const int fd = i < n ? keep[i] : extra;
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > next) close_range_or_loop(next, static_cast<unsigned>(fd) - 1);
    next = static_cast<unsigned>(fd) + 1;
  }
  close_range_or_loop(next, ~0U);
}

// --- the keeper ------------------------------------------------------------------------------

// As pid 1 the keeper dies with a plain SIGKILL (the kernel then kills the namespace). As a
// subreaper it gets SIGHUP instead, through its signalfd, and kills the tree before it exits.
int keeper_death_signal(const ChildPlan& p) { return p.namespaces ? SIGKILL : SIGHUP; }

void keeper_guard_parent(const ChildPlan& p) {
  check(::prctl(PR_SET_PDEATHSIG, keeper_death_signal(p)) == 0, p.report_fd, Step::keeper_parent_death);
  // The grader may have died before prctl took effect. (As pid 1 the parent is invisible: 0.)
  if (!p.namespaces && ::getppid() != p.grader_pid) ::_exit(1);
}

// Every signal is blocked: SIGCHLD is read from a signalfd, and a student's kill(getppid(), ...)
// stays pending forever instead of killing the keeper (only SIGKILL/SIGSTOP get through, and as
// pid 1 not even those from inside the namespace).
int keeper_signals(const ChildPlan& p) {
  sigset_t all;
  sigfillset(&all);
  check(::sigprocmask(SIG_BLOCK, &all, nullptr) == 0, p.report_fd, Step::keeper_signals);
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, SIGHUP);
  const int fd = ::signalfd(-1, &wanted, SFD_CLOEXEC);
  check(fd >= 0, p.report_fd, Step::keeper_signals);
  return fd;
}

// "/proc/self/fd/N" without snprintf (not async-signal-safe).
void fd_path(char (&buf)[32], int fd) {
  char digits[12];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + fd % 10); while ((fd /= 10) > 0);
  std::memcpy(buf, "/proc/self/fd/", 14);
  for (int i = 0; i < n; ++i) buf[14 + i] = digits[n - 1 - i];
  buf[14 + n] = '\0';
}

[[noreturn]] void report_step(int report_fd, Step step, int error, size_t index) {
  const StepFailure failure{static_cast<std::int32_t>(step), error, static_cast<std::int32_t>(index)};
  [[maybe_unused]] ssize_t n = ::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

void check_step(bool ok, int report_fd, Step step, size_t index) {
  if (!ok) report_step(report_fd, step, errno, index);
}

// Every bind source is opened before the staging tmpfs covers kStageRoot (the work folder and
// the helpers usually live under /tmp). Opened here, not in the grader: a bind from a mount of
// another namespace is refused (EINVAL). The work folder is the box's: no symlink is followed.
void open_sources(const ChildPlan& p, int* fds) {
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    const MountStep& m = p.mounts[i];
    fds[i] = -1;
    if (!m.needs_source_fd()) continue;
    const int nofollow = m.kind == MountStep::bind_work ? O_NOFOLLOW | O_DIRECTORY : 0;
    fds[i] = ::open(m.source, O_PATH | O_CLOEXEC | nofollow);
    check_step(fds[i] >= 0, p.report_fd, Step::open_source, i);
  }
}

unsigned long remount_flags(MountStep::Kind kind) {
  switch (kind) {
    case MountStep::bind_readonly: return MS_RDONLY | MS_NOSUID | MS_NODEV;
    case MountStep::bind_device: return MS_NOSUID | MS_NOEXEC;
    default: return MS_NOSUID | MS_NODEV;
  }
}

// A bind through the source's descriptor, then a remount: MS_BIND ignores the other flags.
void bind_step(const ChildPlan& p, const MountStep& m, int source_fd, size_t i) {
  char source[32];
  fd_path(source, source_fd);
  check_step(::mount(source, m.target, nullptr, MS_BIND, nullptr) == 0, p.report_fd, Step::bind, i);
  ::close(source_fd);
  check_step(::mount(nullptr, m.target, nullptr, MS_REMOUNT | MS_BIND | remount_flags(m.kind), nullptr) == 0,
             p.report_fd, Step::remount_bind, i);
}

void run_step(const ChildPlan& p, const MountStep& m, int source_fd, size_t i) {
  const int r = p.report_fd;
  switch (m.kind) {
    case MountStep::make_dir:
      check_step(::mkdir(m.target, 0755) == 0 || errno == EEXIST, r, Step::make_dir, i);
      return;
    case MountStep::make_file: {
      const int fd = ::open(m.target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      check_step(fd >= 0, r, Step::make_file, i);
      ::close(fd);
      return;
    }
    case MountStep::make_symlink:
      check_step(::symlink(m.source, m.target) == 0, r, Step::make_symlink, i);
      return;
    case MountStep::tmpfs:
      check_step(::mount("tmpfs", m.target, "tmpfs", MS_NOSUID | MS_NODEV, m.source) == 0, r, Step::mount_tmpfs, i);
      return;
    case MountStep::mqueue:
      check_step(::mount("mqueue", m.target, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0, r,
                 Step::mount_mqueue, i);
      return;
    default:
      bind_step(p, m, source_fd, i);
  }
}

// pivot_root(".", "."): the old root ends up stacked on the new one and is detached at once,
// so no path of the host stays reachable from the cell.
void enter_root(const ChildPlan& p) {
  const int r = p.report_fd;
  check(::chdir(kStageRoot) == 0, r, Step::pivot_root);
  check(::syscall(SYS_pivot_root, ".", ".") == 0, r, Step::pivot_root);
  check(::umount2(".", MNT_DETACH) == 0, r, Step::pivot_root);
  check(::chdir("/") == 0, r, Step::pivot_root);
  // hidepid=2: a process sees only its own uid's entries in /proc (the keeper's are root's).
  check(::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") == 0, r,
        Step::mount_proc);
  check(::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0, r,
        Step::remount_root);
}

// The box's file system: a new root on a small tmpfs, assembled from the plan (sandbox_root.cpp).
void keeper_mounts(const ChildPlan& p) {
  const int r = p.report_fd;
  check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, r, Step::mount_private);
  int sources[kMaxMountSteps];
  open_sources(p, sources);
  // Root-owned and read-only once built: the box writes only to /tmp, /dev/shm and its folder.
  check(::mount("tmpfs", kStageRoot, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=1024,mode=0755") == 0, r,
        Step::mount_root);
  for (size_t i = 0; i < p.mounts.size(); ++i) run_step(p, p.mounts[i], sources[i], i);
  enter_root(p);
}

// A new network namespace starts with lo down: 127.0.0.1 would give ENETUNREACH.
void keeper_loopback(const ChildPlan& p) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  check(s >= 0, p.report_fd, Step::loopback_up);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  check(::ioctl(s, SIOCGIFFLAGS, &ifr) == 0, p.report_fd, Step::loopback_up);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  check(::ioctl(s, SIOCSIFFLAGS, &ifr) == 0, p.report_fd, Step::loopback_up);
  ::close(s);
}

// "0" moves the writer itself (v1 and v2 alike), before anything of the tree exists: every
// process forked from here on is born inside the limits.
void keeper_join_cgroups(const ChildPlan& p) {
  for (int fd : p.cgroup_procs) {
    check(::write(fd, "0", 1) == 1, p.report_fd, Step::join_cgroup);
    ::close(fd);
  }
}

void keeper_namespaces(const ChildPlan& p) {
  keeper_mounts(p);
  keeper_loopback(p);
  check(::sethostname("ipcgrade", 8) == 0, p.report_fd, Step::hostname);
}

void send_message(int fd, KeeperMessage::Kind kind, int value) {
  const KeeperMessage msg{kind, value};
  while (::send(fd, &msg, sizeof msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// Reaps every child that has ended; reports the target's status once.
void reap_ready(int control_fd, pid_t target) {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == target) send_message(control_fd, KeeperMessage::exited, status);
  }
}

// Parses "/proc/thread-self/children" ("12 15 ") into pids; returns how many.
size_t own_children(pid_t* pids, size_t max) {
  const int fd = ::open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[8192];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  size_t count = 0;
  pid_t value = 0;
  for (ssize_t i = 0; i < n && count < max; ++i) {
    if (buf[i] >= '0' && buf[i] <= '9') {
      value = value * 10 + (buf[i] - '0');
    } else if (value > 0) {
      pids[count++] = value;
      value = 0;
    }
  }
  return count;
}

// Kills the tree layer by layer: SIGKILL every child, reap, and go on with the orphans that
// re-parented here, until no child is left. Only our own unreaped children are signalled, so no
// pid can have been reused.
[[noreturn]] void keeper_sweep() {
  pid_t children[1024];
  for (;;) {
    const size_t n = own_children(children, 1024);
    if (n == 0 && ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD) ::_exit(0);
    for (size_t i = 0; i < n; ++i) ::kill(children[i], SIGKILL);
    while (::waitpid(-1, nullptr, 0) < 0 && errno == EINTR) {
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

// As pid 1, exiting makes the kernel kill and reap the whole namespace; as a subreaper the
// keeper has to do that itself.
[[noreturn]] void keeper_finish(const ChildPlan& p) {
  if (p.namespaces) ::_exit(0);
  keeper_sweep();
}

// Our parent died (PR_SET_PDEATHSIG), not a student's kill(getppid(), SIGHUP): the kernel
// sends it on behalf of the grader, whose pid a namespace's pid 1 sees as 0.
bool is_parent_death(const ChildPlan& p, const signalfd_siginfo& info) {
  return static_cast<int>(info.ssi_signo) == SIGHUP &&
         (info.ssi_pid == 0 || static_cast<pid_t>(info.ssi_pid) == p.grader_pid);
}

// Nothing is reaped before the grader's ack says it holds a pidfd of the target: until then
// the target's pid cannot be reused, even if it has already exited.
[[noreturn]] void keeper_loop(const ChildPlan& p, int signal_fd, pid_t target) {
  bool acked = false;
  for (;;) {
    pollfd fds[2] = {{p.control_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) == sizeof info && is_parent_death(p, info)) keeper_finish(p);
      if (acked) reap_ready(p.control_fd, target);
    }
    if (fds[0].revents) {
      char byte = 0;
      const ssize_t n = ::read(p.control_fd, &byte, 1);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) keeper_finish(p);
      if (n == 1 && byte == kAck && !acked) {
        acked = true;
        reap_ready(p.control_fd, target);
      }
    }
  }
}

// --- the target ------------------------------------------------------------------------------

void target_guard_parent(const ChildPlan& p, pid_t keeper) {
  check(::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, p.report_fd, Step::target_parent_death);
  if (::getppid() != keeper) ::_exit(1);
}

// The grader ignores SIGPIPE, and SIG_IGN survives exec: a student's writer must still get
// SIGPIPE. The keeper's blocked mask must not be inherited either.
void target_signals(const ChildPlan& p) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // EINVAL for some: fine
  sigset_t none;
  sigemptyset(&none);
  check(::sigprocmask(SIG_SETMASK, &none, nullptr) == 0, p.report_fd, Step::target_signals);
}

// Two phases so that no mapping clobbers another's source: first copy every source above all
// targets, then dup3 each copy onto its target (which also clears CLOEXEC), then close the rest.
// Returns the report fd, moved above the targets.
int target_map_fds(const ChildPlan& p) {
  const int base = p.max_child_fd + 1;
  int report = ::fcntl(p.report_fd, F_DUPFD_CLOEXEC, base);
  check(report >= 0, p.report_fd, Step::map_fds);
  int copies[kMaxFdMappings];
  for (size_t i = 0; i < p.fds.size(); ++i) {
    copies[i] = ::fcntl(p.fds[i].parent_fd, F_DUPFD_CLOEXEC, base);
    check(copies[i] >= 0, report, Step::map_fds);
  }
  for (size_t i = 0; i < p.fds.size(); ++i)
    check(::dup3(copies[i], p.fds[i].child_fd, 0) >= 0, report, Step::map_fds);
  close_all_except(p.target_keep.data(), p.target_keep.size(), report);
  return report;
}

void target_limits(const ChildPlan& p, int report) {
  for (const ResourceLimit& l : p.limits) {
    const rlimit value{l.soft, l.hard};
    check(::setrlimit(l.resource, &value) == 0, report, Step::rlimit);
  }
}

void target_identity(const ChildPlan& p, int report) {
  if (!p.change_ids) return;
  // Supplementary groups first: keeping root's group 0 was a real judge's hole.
  check(::setgroups(0, nullptr) == 0, report, Step::setgroups);
  check(::setresgid(p.gid, p.gid, p.gid) == 0, report, Step::setgid);
  check(::setresuid(p.uid, p.uid, p.uid) == 0, report, Step::setuid);
}

[[noreturn]] void target_exec(const ChildPlan& p, int report) {
  int error = ENOENT;
  for (const char* path : p.exec_paths) {
    ::execve(path, p.argv.data(), p.envp.data());
    // Like execvp: a candidate that is missing or not permitted does not end the search.
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) report_and_exit(report, Step::exec, errno);
    if (error == ENOENT || errno == EACCES) error = errno;
  }
  report_and_exit(report, Step::exec, error);
}

// The checklist, in order; seccomp last so that none of the setup calls needs to be allowed.
[[noreturn]] void target_main(const ChildPlan& p, pid_t keeper) {
  target_guard_parent(p, keeper);
  target_signals(p);
  const int report = target_map_fds(p);
  check(::chdir(p.cwd) == 0, report, Step::chdir);
  check(::setsid() >= 0, report, Step::setsid);
  target_limits(p, report);
  target_identity(p, report);
  check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, report, Step::no_new_privs);
  // A credential change clears the parent-death signal: set it again.
  if (p.change_ids) target_guard_parent(p, keeper);
  if (p.filter) {
    const int rc = p.filter->install();
    if (rc != 0) report_and_exit(report, Step::seccomp, -rc);
  }
  target_exec(p, report);
}

}  // namespace

pid_t raw_clone(unsigned long flags, int* pidfd) {
  clone_args args{};
  args.flags = flags | (pidfd ? CLONE_PIDFD : 0);
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  long rc = ::syscall(SYS_clone3, &args, sizeof args);
  if (rc < 0 && errno == ENOSYS) {
    // Docker's default profile answers clone3 with ENOSYS. clone's first three arguments
    // (flags, stack, parent_tid) are in this order on x86_64 and arm64.
    rc = ::syscall(SYS_clone, args.flags | SIGCHLD, nullptr, pidfd, nullptr, 0);
  }
  return static_cast<pid_t>(rc);
}

void keeper_main(const ChildPlan& p) {
  keeper_guard_parent(p);
  ::prctl(PR_SET_NAME, "ipcg-keeper");  // in ps and /proc/PID/comm, instead of the grader's name
  close_all_except(p.keeper_keep.data(), p.keeper_keep.size(), -1);
  const int signal_fd = keeper_signals(p);
  keeper_join_cgroups(p);
  if (p.namespaces) keeper_namespaces(p);
  else check(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, p.report_fd, Step::keeper_subreaper);

  const pid_t self = static_cast<pid_t>(::syscall(SYS_getpid));
  const pid_t target = raw_clone(0, nullptr);
  check(target >= 0, p.report_fd, Step::fork_target);
  if (target == 0) target_main(p, self);

  // The target's copies are now the only ones: its stdin sees EOF when the grader closes.
  for (const FdMapping& m : p.fds) ::close(m.parent_fd);
  ::close(p.report_fd);
  send_message(p.control_fd, KeeperMessage::forked, target);
  keeper_loop(p, signal_fd, target);
}

std::string_view to_string(Step step) {
  static constexpr std::string_view names[] = {
      "set the keeper's parent-death signal", "close inherited descriptors",
      "block signals in the keeper", "become a child subreaper", "join the cgroups",
      "make mounts private", "open a bind source", "mount the root tmpfs", "create a folder",
      "create a file to bind on", "create a symlink", "bind mount", "remount a bind",
      "mount a tmpfs", "mount mqueue", "pivot_root", "mount /proc", "remount / read-only",
      "bring loopback up", "set the hostname", "fork the target",
      "set the target's parent-death signal", "reset signals", "map descriptors", "chdir",
      "setsid", "setrlimit", "setgroups", "setresgid", "setresuid", "set no_new_privs",
      "install the seccomp filter", "exec",
  };
  const auto i = static_cast<size_t>(step);
  return i < std::size(names) ? names[i] : "unknown step";
}

}  // namespace ipcg::internal
