// What the cloned child does before it execs the keeper (keeper/keeper.cpp): join the cell's
// cgroups, and in full isolation build the box's root in the new mount namespace, bring
// loopback up and set the hostname. The child shares the grader's memory (CLONE_VM|CLONE_VFORK,
// the calling thread waits until the exec): it only reads the plan and writes its own stack, and
// makes async-signal-safe calls only (another grader thread may hold malloc's lock).
// Each step either succeeds or sends {step, errno} on the report pipe and exits 127.
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>  // the ST_* flags of statfs::f_flags
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>

#include "sandbox_internal.hpp"

namespace ipcg::internal {
namespace {

// --- before the keeper's exec -----------------------------------------------------------------

// As pid 1 the keeper dies with a plain SIGKILL (the kernel then kills the namespace). As a
// subreaper it gets SIGHUP instead, through its signalfd, and kills the tree before it exits.
int keeper_death_signal(const KeeperPlan& p) { return p.namespaces ? SIGKILL : SIGHUP; }

void keeper_guard_parent(const KeeperPlan& p) {
  check(::prctl(PR_SET_PDEATHSIG, keeper_death_signal(p)) == 0, p.report_fd, Step::keeper_parent_death);
  // The grader may have died before prctl took effect. (As pid 1 the parent is invisible: 0.)
  if (!p.namespaces && ::getppid() != p.grader_pid) ::_exit(1);
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

// check() for a mount step: the failure also names the step's index.
void check_step(bool ok, int report_fd, Step step, size_t index) {
  if (!ok) report_failure(report_fd, step, errno, static_cast<std::int32_t>(index));
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

// The flags of the host mount a bind comes from that a remount must repeat: in a user
// namespace the kernel locks them (EPERM on a remount that would clear one). As root, keeping
// them changes nothing that matters: they only take rights away.
unsigned long kept_flags(int source_fd) {
  struct statfs fs {};
  if (::fstatfs(source_fd, &fs) != 0) return 0;
  unsigned long flags = 0;
  if (fs.f_flags & ST_NOSUID) flags |= MS_NOSUID;
  if (fs.f_flags & ST_NODEV) flags |= MS_NODEV;
  if (fs.f_flags & ST_NOEXEC) flags |= MS_NOEXEC;
  if (fs.f_flags & ST_RDONLY) flags |= MS_RDONLY;
  if (fs.f_flags & ST_NOATIME) flags |= MS_NOATIME;
  if (fs.f_flags & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (fs.f_flags & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// A bind through the source's descriptor, then a remount: MS_BIND ignores the other flags.
void bind_step(const KeeperPlan& p, const MountStep& m, int source_fd, size_t i) {
  char source[32];
  fd_path(source, source_fd);
  const unsigned long flags = remount_flags(m.kind) | kept_flags(source_fd);
  check_step(::mount(source, m.target, nullptr, MS_BIND, nullptr) == 0, p.report_fd, Step::bind, i);
  ::close(source_fd);
  check_step(::mount(nullptr, m.target, nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) == 0,
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
// so no path of the host stays reachable from the cell. /proc is mounted before: in a user
// namespace the kernel mounts a proc only while the host's is still there to compare with.
void enter_root(const KeeperPlan& p) {
  const int r = p.report_fd;
  check(::chdir(kStageRoot) == 0, r, Step::pivot_root);
  // hidepid=2: a process sees only its own uid's entries in /proc (the keeper's are root's).
  check(::mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") == 0, r,
        Step::mount_proc);
  check(::syscall(SYS_pivot_root, ".", ".") == 0, r, Step::pivot_root);
  check(::umount2(".", MNT_DETACH) == 0, r, Step::pivot_root);
  check(::chdir("/") == 0, r, Step::pivot_root);
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

// Writes one of the plan's id maps (or "deny") into /proc/self/<file>.
void write_self(const KeeperPlan& p, const char* path, const char* text, size_t length) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  check(fd >= 0 && ::write(fd, text, length) == static_cast<ssize_t>(length), p.report_fd, Step::map_ids);
  ::close(fd);
}

// Several ids (newuidmap): the grader maps them from outside. It needs our pid as it sees it,
// which /proc/self of its (still mounted) proc gives; getpid() says 1 in our new PID namespace.
void keeper_await_parent_maps(const KeeperPlan& p) {
  char pid[24];
  const ssize_t n = ::readlink("/proc/self", pid, sizeof pid - 1);
  check(n > 0, p.report_fd, Step::map_ids);
  pid[n] = '\n';
  check(::write(p.map_ready_fd, pid, static_cast<size_t>(n) + 1) == n + 1, p.report_fd, Step::map_ids);
  ::close(p.map_ready_fd);
  char go = 0;
  errno = EPERM;  // EOF: the grader could not map us (its error says why)
  check(::read(p.map_go_fd, &go, 1) == 1 && go == 'm', p.report_fd, Step::map_ids);
  ::close(p.map_go_fd);
}

// Not root: our uid and gid become kCellUid inside (the only ids an unprivileged user may map).
// setgroups must be denied before the gid map; nobody in the cell needs it.
void keeper_user_namespace(const KeeperPlan& p) {
  if (p.map_ready_fd >= 0) {
    keeper_await_parent_maps(p);
    return;
  }
  write_self(p, "/proc/self/uid_map", p.uid_map.data(), p.uid_map.size());
  write_self(p, "/proc/self/setgroups", "deny", 4);
  write_self(p, "/proc/self/gid_map", p.gid_map.data(), p.gid_map.size());
}

void keeper_namespaces(const KeeperPlan& p) {
  if (p.user_namespace) keeper_user_namespace(p);
  keeper_mounts(p);
  keeper_loopback(p);
  check(::sethostname("ipcgrade", 8) == 0, p.report_fd, Step::hostname);
}

// The descriptors the keeper keeps lose CLOEXEC here, in the child's own descriptor table.
void keep_across_exec(const KeeperPlan& p) {
  for (int fd : {p.control_fd, p.report_fd, p.filters_fd})
    check(::fcntl(fd, F_SETFD, 0) == 0, p.report_fd, Step::keep_descriptors);
}

int keeper_child(void* arg) {
  const KeeperPlan& p = *static_cast<const KeeperPlan*>(arg);
  keeper_guard_parent(p);
  close_all_except(p.keeper_keep.data(), p.keeper_keep.size(), -1);
  keeper_join_cgroups(p);
  if (p.namespaces) keeper_namespaces(p);
  keep_across_exec(p);
  static char* const no_environment[] = {nullptr};
  ::syscall(SYS_execveat, p.keeper_exe_fd, "", p.keeper_argv, no_environment, AT_EMPTY_PATH);
  report_failure(p.report_fd, Step::exec_keeper, errno);
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

pid_t clone_vfork(int (*fn)(void*), void* arg, unsigned long extra_flags, int* pidfd) {
  // The child runs on this stack while the calling thread waits (CLONE_VFORK).
  constexpr size_t kStackBytes = 128 * 1024;
  std::unique_ptr<char[]> stack(new char[kStackBytes]);
  // Blocked in the child from its first instruction: a grader handler must not run on the
  // shared memory. (The keeper keeps them blocked and reads SIGCHLD from a signalfd.)
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | static_cast<int>(extra_flags) | (pidfd ? CLONE_PIDFD : 0);
  const pid_t pid = ::clone(fn, stack.get() + kStackBytes, flags, arg, pidfd);
  const int error = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = error;
  return pid;
}

pid_t clone_keeper(const KeeperPlan& plan, unsigned long namespace_flags, int* pidfd) {
  return clone_vfork(keeper_child, const_cast<KeeperPlan*>(&plan), namespace_flags, pidfd);
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
      "install the seccomp filter", "exec", "exec the sandbox keeper (ipcg-keeper)",
      "start the keeper (its arguments)", "read the syscall filters",
      "keep the keeper's descriptors across exec", "map the user namespace's ids",
  };
  const auto i = static_cast<size_t>(step);
  return i < std::size(names) ? names[i] : "unknown step";
}

}  // namespace ipcg::internal
