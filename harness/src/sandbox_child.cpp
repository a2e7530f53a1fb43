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
int keeper_death_signal(const KeeperPlan& p) { return p.namespaces ? SIGKILL : SIGHUP; }

void keeper_guard_parent(const KeeperPlan& p) {
  check(::prctl(PR_SET_PDEATHSIG, keeper_death_signal(p)) == 0, p.report_fd, Step::keeper_parent_death);
  // The grader may have died before prctl took effect. (As pid 1 the parent is invisible: 0.)
  if (!p.namespaces && ::getppid() != p.grader_pid) ::_exit(1);
}

// Every signal is blocked: SIGCHLD is read from a signalfd, and a student's kill(getppid(), ...)
// stays pending forever instead of killing the keeper (only SIGKILL/SIGSTOP get through, and as
// pid 1 not even those from inside the namespace).
int keeper_signals(const KeeperPlan& p) {
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
void open_sources(const KeeperPlan& p, int* fds) {
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
void bind_step(const KeeperPlan& p, const MountStep& m, int source_fd, size_t i) {
  char source[32];
  fd_path(source, source_fd);
  check_step(::mount(source, m.target, nullptr, MS_BIND, nullptr) == 0, p.report_fd, Step::bind, i);
  ::close(source_fd);
  check_step(::mount(nullptr, m.target, nullptr, MS_REMOUNT | MS_BIND | remount_flags(m.kind), nullptr) == 0,
             p.report_fd, Step::remount_bind, i);
}

void run_step(const KeeperPlan& p, const MountStep& m, int source_fd, size_t i) {
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
    case MountStep::dev_tmpfs:
      check_step(::mount("tmpfs", m.target, "tmpfs", MS_NOSUID | MS_NOEXEC, m.source) == 0, r, Step::mount_tmpfs, i);
      return;
    case MountStep::dev_node:
      // chmod after mknod: the keeper's umask would take bits off.
      check_step(::mknod(m.target, S_IFCHR | 0666, static_cast<dev_t>(m.rdev)) == 0 && ::chmod(m.target, 0666) == 0,
                 r, Step::make_file, i);
      return;
    default:
      bind_step(p, m, source_fd, i);
  }
}

// pivot_root(".", "."): the old root ends up stacked on the new one and is detached at once,
// so no path of the host stays reachable from the cell.
void enter_root(const KeeperPlan& p) {
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
void keeper_mounts(const KeeperPlan& p) {
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
void keeper_loopback(const KeeperPlan& p) {
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
void keeper_join_cgroups(const KeeperPlan& p) {
  for (int fd : p.cgroup_procs) {
    check(::write(fd, "0", 1) == 1, p.report_fd, Step::join_cgroup);
    ::close(fd);
  }
}

void keeper_namespaces(const KeeperPlan& p) {
  keeper_mounts(p);
  keeper_loopback(p);
  check(::sethostname("ipcgrade", 8) == 0, p.report_fd, Step::hostname);
}

void send_message(int fd, const KeeperMessage& msg, int pass_fd = -1) {
  iovec iov{const_cast<KeeperMessage*>(&msg), sizeof msg};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (pass_fd >= 0) {
    hdr.msg_control = control;
    hdr.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&hdr);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  while (::sendmsg(fd, &hdr, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// The processes spawned on request, still running: their wait statuses go to the grader.
struct Targets {
  static constexpr size_t kMax = 1024;
  pid_t pids[kMax] = {};
  size_t count = 0;
  void add(pid_t pid) {
    if (count < kMax) pids[count++] = pid;
  }
  bool remove(pid_t pid) {
    for (size_t i = 0; i < count; ++i)
      if (pids[i] == pid) {
        pids[i] = pids[--count];
        return true;
      }
    return false;
  }
};
Targets g_targets;

// A child was reaped: if the grader spawned it, it hears its wait status.
void report_reaped(int control_fd, pid_t pid, int status) {
  if (!g_targets.remove(pid)) return;
  KeeperMessage msg;
  msg.kind = KeeperMessage::exited;
  msg.pid = pid;
  msg.status = status;
  send_message(control_fd, msg);
}

// Reaps every child that has ended.
void reap_ready(int control_fd) {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG | __WALL);
    if (pid <= 0) return;
    report_reaped(control_fd, pid, status);
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

// Kills every process of the cell but the keeper and reaps it all. As pid 1, kill(-1) reaches
// every other process of the namespace at once (under the tasklist lock: no fork slips past).
// As a subreaper: layer by layer, SIGKILL every child, reap, and go on with the orphans that
// re-parented here, until no child is left. Only our own unreaped children are signalled, so no
// pid can have been reused.
void keeper_kill_all(const KeeperPlan& p) {
  pid_t children[1024];
  for (;;) {
    if (p.namespaces) {
      ::kill(-1, SIGKILL);
    } else {
      const size_t n = own_children(children, 1024);
      for (size_t i = 0; i < n; ++i) ::kill(children[i], SIGKILL);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, __WALL);
    if (pid < 0 && errno == ECHILD) return;
    if (pid > 0) report_reaped(p.control_fd, pid, status);
  }
}

// --- leftovers: what the cell's processes left in its IPC namespace and tmpfs mounts ----------

void send_leftover(const KeeperPlan& p, LeftoverKind kind, const char* text, size_t len, uid_t uid, int& budget) {
  if (budget <= 0) return;
  --budget;
  KeeperMessage msg;
  msg.kind = KeeperMessage::leftover;
  msg.status = static_cast<std::int32_t>(kind);
  msg.uid = uid;
  if (len >= sizeof msg.text) len = sizeof msg.text - 1;
  std::memcpy(msg.text, text, len);
  send_message(p.control_fd, msg);
}

// /proc/sysvipc/{msg,sem,shm} as the cell sees it: a header line, then one line per object,
// whose uid column (the owner) is the 8th for msg, 5th for sem, 8th for shm... the grader parses
// the line; the keeper only skips the header.
void list_sysv(const KeeperPlan& p, const char* path, LeftoverKind kind, int& budget) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  static char buf[64 * 1024];
  size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf + used, sizeof buf - 1 - used);
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  size_t start = 0;
  bool header = true;
  for (size_t i = 0; i < used; ++i) {
    if (buf[i] != '\n') continue;
    if (!header) send_leftover(p, kind, buf + start, i - start, 0, budget);
    header = false;
    start = i + 1;
  }
}

// Entries of a folder the cell could write (its /dev/shm, /dev/mqueue, /tmp), through
// getdents64 (opendir allocates). `only_fifos` keeps named pipes only.
void list_folder(const KeeperPlan& p, const char* path, LeftoverKind kind, bool only_fifos, int& budget) {
  const int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir < 0) return;
  alignas(8) char buf[8192];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct Dirent64 {
        std::uint64_t ino;
        std::int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const auto* e = reinterpret_cast<const Dirent64*>(buf + off);
      off += e->reclen;
      const char* name = e->name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      struct stat st {};
      if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (only_fifos && !S_ISFIFO(st.st_mode)) continue;
      // "<folder>/<name>": the grader prints it as it is.
      char line[200];
      size_t len = 0;
      for (const char* c = path; *c && len < sizeof line - 2; ++c) line[len++] = *c;
      line[len++] = '/';
      for (const char* c = name; *c && len < sizeof line - 1; ++c) line[len++] = *c;
      send_leftover(p, kind, line, len, st.st_uid, budget);
    }
  }
  ::close(dir);
}

void keeper_list_leftovers(const KeeperPlan& p) {
  if (!p.namespaces) return;  // reduced: nothing is private to the cell; the grader sweeps by uid
  int budget = kMaxLeftovers;
  list_sysv(p, "/proc/sysvipc/msg", LeftoverKind::sysv_msg, budget);
  list_sysv(p, "/proc/sysvipc/sem", LeftoverKind::sysv_sem, budget);
  list_sysv(p, "/proc/sysvipc/shm", LeftoverKind::sysv_shm, budget);
  list_folder(p, "/dev/shm", LeftoverKind::posix_shm, false, budget);
  list_folder(p, "/dev/mqueue", LeftoverKind::posix_mq, false, budget);
  list_folder(p, "/tmp", LeftoverKind::fifo, true, budget);
}

// Our parent died (PR_SET_PDEATHSIG), not a student's kill(getppid(), SIGHUP): the kernel
// sends it on behalf of the grader, whose pid a namespace's pid 1 sees as 0.
bool is_parent_death(const KeeperPlan& p, const signalfd_siginfo& info) {
  return static_cast<int>(info.ssi_signo) == SIGHUP &&
         (info.ssi_pid == 0 || static_cast<pid_t>(info.ssi_pid) == p.grader_pid);
}

// As pid 1, exiting makes the kernel kill and reap the whole namespace; as a subreaper the
// keeper has to do that itself.
[[noreturn]] void keeper_finish(const KeeperPlan& p) {
  if (!p.namespaces) keeper_kill_all(p);
  ::_exit(0);
}

[[noreturn]] void target_main(const TargetPlan& t);

int target_entry(void* arg) { target_main(*static_cast<const TargetPlan*>(arg)); }

// Where a spawn request is unpacked; static so the keeper allocates nothing.
struct SpawnBuffers {
  alignas(8) char request[kMaxRequestBytes];
  char* argv[kMaxArgs + 1];
  char* envp[kMaxArgs + 1];
  const char* paths[kMaxExecPaths];
  FdMapping fds[kMaxFdMappings];
  int keep[kMaxFdMappings];
  int received[kMaxFdMappings];
  // The vfork-style child runs on this stack while the keeper waits.
  alignas(16) char stack[256 * 1024];
};
SpawnBuffers g_spawn;

void answer_failure(const KeeperPlan& p, const StepFailure& failure) {
  KeeperMessage msg;
  msg.kind = KeeperMessage::spawned;
  msg.pid = -1;
  msg.failure = failure;
  send_message(p.control_fd, msg);
}

void answer_failure(const KeeperPlan& p, Step step, int error) {
  answer_failure(p, StepFailure{static_cast<std::int32_t>(step), error, -1});
}

// Splits n NUL-terminated strings off [*at, end) into out; false if they run past the end.
bool take_strings(char*& at, const char* end, std::int32_t n, char** out) {
  for (std::int32_t i = 0; i < n; ++i) {
    out[i] = at;
    while (at < end && *at) ++at;
    if (at >= end) return false;
    ++at;
  }
  out[n] = nullptr;
  return true;
}

// Unpacks a spawn request into g_spawn, forks the process (CLONE_VM|CLONE_VFORK: the keeper
// waits until it has exec'd or failed), and answers with its pid and a pidfd.
void keeper_spawn(const KeeperPlan& p, size_t length, const int* received, size_t n_received, pid_t self) {
  SpawnRequest req;
  std::memcpy(&req, g_spawn.request, sizeof req);
  const char* end = g_spawn.request + length;
  char* at = g_spawn.request + sizeof req;
  char* cwd[2];
  const bool ok = req.argc > 0 && static_cast<size_t>(req.argc) <= kMaxArgs && req.envc >= 0 &&
                  static_cast<size_t>(req.envc) <= kMaxArgs && req.n_paths > 0 &&
                  static_cast<size_t>(req.n_paths) < kMaxExecPaths && req.n_limits >= 0 &&
                  static_cast<size_t>(req.n_limits) <= kMaxLimits &&
                  static_cast<size_t>(req.n_fds) == n_received && take_strings(at, end, 1, cwd) &&
                  take_strings(at, end, req.argc, g_spawn.argv) && take_strings(at, end, req.envc, g_spawn.envp) &&
                  take_strings(at, end, req.n_paths, const_cast<char**>(g_spawn.paths));
  if (!ok) {
    answer_failure(p, Step::map_fds, EINVAL);
    return;
  }
  TargetPlan t;
  t.argv = g_spawn.argv;
  t.envp = g_spawn.envp;
  t.exec_paths = g_spawn.paths;
  t.n_exec_paths = static_cast<size_t>(req.n_paths);
  t.cwd = cwd[0];
  t.limits = req.limits;
  t.n_limits = static_cast<size_t>(req.n_limits);
  int max_child = 2;
  for (size_t i = 0; i < n_received; ++i) {
    g_spawn.fds[i] = {received[i], req.child_fds[i]};
    g_spawn.keep[i] = req.child_fds[i];
    if (req.child_fds[i] > max_child) max_child = req.child_fds[i];
  }
  // Insertion sort: at most 64, and std::sort may allocate nothing but is not promised safe here.
  for (size_t i = 1; i < n_received; ++i)
    for (size_t j = i; j > 0 && g_spawn.keep[j - 1] > g_spawn.keep[j]; --j) {
      const int tmp = g_spawn.keep[j];
      g_spawn.keep[j] = g_spawn.keep[j - 1];
      g_spawn.keep[j - 1] = tmp;
    }
  t.fds = g_spawn.fds;
  t.n_fds = n_received;
  t.keep = g_spawn.keep;
  t.n_keep = n_received;
  t.max_child_fd = max_child;
  t.change_ids = req.change_ids != 0;
  t.uid = req.uid;
  t.gid = req.gid;
  const auto filter = static_cast<int>(req.filter);
  t.filter = filter >= 0 && filter < kFilterCount ? p.filters[filter] : nullptr;
  t.keeper = self;

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    answer_failure(p, Step::fork_target, errno);
    return;
  }
  t.report_fd = report[1];
  int pidfd = -1;
  const pid_t pid = ::clone(target_entry, g_spawn.stack + sizeof g_spawn.stack,
                            CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &t, &pidfd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    answer_failure(p, Step::fork_target, errno);
    return;
  }
  // The child has exec'd (its copy of report[1] closed) or failed (a record is waiting).
  StepFailure failure;
  ssize_t n;
  while ((n = ::read(report[0], &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    ::close(pidfd);
    answer_failure(p, failure);
    return;  // the child exits 127; reap_ready collects it
  }
  g_targets.add(pid);
  KeeperMessage msg;
  msg.kind = KeeperMessage::spawned;
  msg.pid = pid;
  send_message(p.control_fd, msg, pidfd);
  ::close(pidfd);
}

// One message from the grader: a spawn request (with descriptors) or "close".
// Returns false when the grader has gone.
bool keeper_request(const KeeperPlan& p, pid_t self) {
  iovec iov{g_spawn.request, sizeof g_spawn.request};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdMappings)];
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(p.control_fd, &hdr, MSG_CMSG_CLOEXEC);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t n_received = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && n_received < kMaxFdMappings; ++i)
      std::memcpy(&g_spawn.received[n_received++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  Request kind{};
  if (static_cast<size_t>(n) >= sizeof kind) std::memcpy(&kind, g_spawn.request, sizeof kind);
  if (kind == Request::spawn && static_cast<size_t>(n) >= sizeof(SpawnRequest) && !(hdr.msg_flags & MSG_TRUNC)) {
    keeper_spawn(p, static_cast<size_t>(n), g_spawn.received, n_received, self);
  } else if (kind == Request::close) {
    keeper_kill_all(p);
    keeper_list_leftovers(p);
    KeeperMessage msg;
    msg.kind = KeeperMessage::closed;
    send_message(p.control_fd, msg);
  } else {
    answer_failure(p, Step::map_fds, EINVAL);
  }
  for (size_t i = 0; i < n_received; ++i) ::close(g_spawn.received[i]);
  return true;
}

[[noreturn]] void keeper_loop(const KeeperPlan& p, int signal_fd, pid_t self) {
  for (;;) {
    pollfd fds[2] = {{p.control_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) == sizeof info && is_parent_death(p, info)) keeper_finish(p);
      reap_ready(p.control_fd);
    }
    if (fds[0].revents) {
      if (!keeper_request(p, self)) keeper_finish(p);
      reap_ready(p.control_fd);
    }
  }
}

// --- the target ------------------------------------------------------------------------------
// It runs on the keeper's memory (CLONE_VM) until execve: it writes nothing but its own stack.

void target_guard_parent(const TargetPlan& t) {
  check(::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, t.report_fd, Step::target_parent_death);
  if (::getppid() != t.keeper) ::_exit(1);
}

// The grader ignores SIGPIPE, and SIG_IGN survives exec: a student's writer must still get
// SIGPIPE. The keeper's blocked mask must not be inherited either.
void target_signals(const TargetPlan& t) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // EINVAL for some: fine
  sigset_t none;
  sigemptyset(&none);
  check(::sigprocmask(SIG_SETMASK, &none, nullptr) == 0, t.report_fd, Step::target_signals);
}

// Two phases so that no mapping clobbers another's source: first copy every source above all
// targets, then dup3 each copy onto its target (which also clears CLOEXEC), then close the rest.
// Returns the report fd, moved above the targets.
int target_map_fds(const TargetPlan& t) {
  const int base = t.max_child_fd + 1;
  int report = ::fcntl(t.report_fd, F_DUPFD_CLOEXEC, base);
  check(report >= 0, t.report_fd, Step::map_fds);
  int copies[kMaxFdMappings];
  for (size_t i = 0; i < t.n_fds; ++i) {
    copies[i] = ::fcntl(t.fds[i].parent_fd, F_DUPFD_CLOEXEC, base);
    check(copies[i] >= 0, report, Step::map_fds);
  }
  for (size_t i = 0; i < t.n_fds; ++i) check(::dup3(copies[i], t.fds[i].child_fd, 0) >= 0, report, Step::map_fds);
  close_all_except(t.keep, t.n_keep, report);
  return report;
}

void target_limits(const TargetPlan& t, int report) {
  for (size_t i = 0; i < t.n_limits; ++i) {
    const rlimit value{t.limits[i].soft, t.limits[i].hard};
    check(::setrlimit(t.limits[i].resource, &value) == 0, report, Step::rlimit);
  }
}

// Raw syscalls: glibc's setresuid would run its all-threads protocol on the thread list the
// keeper inherited from the grader.
void target_identity(const TargetPlan& t, int report) {
  if (!t.change_ids) return;
  // Supplementary groups first: keeping root's group 0 was a real judge's hole.
  check(::syscall(SYS_setgroups, 0, nullptr) == 0, report, Step::setgroups);
  check(::syscall(SYS_setresgid, t.gid, t.gid, t.gid) == 0, report, Step::setgid);
  check(::syscall(SYS_setresuid, t.uid, t.uid, t.uid) == 0, report, Step::setuid);
}

[[noreturn]] void target_exec(const TargetPlan& t, int report) {
  int error = ENOENT;
  for (size_t i = 0; i < t.n_exec_paths; ++i) {
    ::execve(t.exec_paths[i], t.argv, t.envp);
    // Like execvp: a candidate that is missing or not permitted does not end the search.
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) report_and_exit(report, Step::exec, errno);
    if (error == ENOENT || errno == EACCES) error = errno;
  }
  report_and_exit(report, Step::exec, error);
}

// The checklist, in order; seccomp last so that none of the setup calls needs to be allowed.
[[noreturn]] void target_main(const TargetPlan& t) {
  target_guard_parent(t);
  target_signals(t);
  const int report = target_map_fds(t);
  check(::chdir(t.cwd) == 0, report, Step::chdir);
  check(::setsid() >= 0, report, Step::setsid);
  target_limits(t, report);
  target_identity(t, report);
  check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, report, Step::no_new_privs);
  // A credential change clears the parent-death signal: set it again.
  if (t.change_ids) {
    check(::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, report, Step::target_parent_death);
    if (::getppid() != t.keeper) ::_exit(1);
  }
  if (t.filter) {
    const int rc = t.filter->install();
    if (rc != 0) report_and_exit(report, Step::seccomp, -rc);
  }
  target_exec(t, report);
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

void keeper_main(const KeeperPlan& p) {
  keeper_guard_parent(p);
  ::prctl(PR_SET_NAME, "ipcg-keeper");  // in ps and /proc/PID/comm, instead of the grader's name
  close_all_except(p.keeper_keep.data(), p.keeper_keep.size(), -1);
  const int signal_fd = keeper_signals(p);
  keeper_join_cgroups(p);
  if (p.namespaces) keeper_namespaces(p);
  else check(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, p.report_fd, Step::keeper_subreaper);
  ::close(p.report_fd);  // EOF: the cell is ready
  keeper_loop(p, signal_fd, static_cast<pid_t>(::syscall(SYS_getpid)));
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
