// ipcg-keeper: pid 1 of a sandbox cell (or, in reduced isolation, a child subreaper). The grader
// clones a child into the cell's new namespaces, builds its root there (sandbox_child.cpp), and
// execs this small static program, so that a cell's lifetime costs no copy of the grader's
// address space (a fork would, and every page the grader then wrote would fault and flush TLBs).
//
// The keeper forks each role on request (a SpawnRequest on the control socket), answers with a
// pidfd, reaps every process of the cell and reports the wait statuses of those it spawned; on
// "close" it kills the cell, reaps it to the last process and lists what it left behind; on
// "list" it lists the IPC objects and FIFOs that exist in the cell now, killing nothing.
//
// Built as a static program, against musl where it is installed (an exec of a static glibc
// program cost 0.75 ms more than a static musl one on our 2-vCPU VM: glibc's start-up runs
// dozens of CPUID instructions, each a trap to the hypervisor), with C and kernel headers only:
// no C++ library, no exceptions, no allocation. Not meant to be run by hand: its command line
// is in keeper_protocol.hpp.
#include <fcntl.h>
#include <linux/mqueue.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "keeper_protocol.hpp"

namespace ipcg::internal {
namespace {

// What the command line and the filter file said.
struct Keeper {
  bool namespaces = false;
  pid_t grader_pid = 0;
  int control_fd = -1;
  int report_fd = -1;
  int filters_fd = -1;
  sock_fprog filters[kFilterCount] = {};
};

// One spawned process's setup, as views into the keeper's buffers (built per request).
struct TargetPlan {
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* const* exec_paths = nullptr;
  size_t n_exec_paths = 0;
  const char* cwd = "/";
  const ResourceLimit* limits = nullptr;
  size_t n_limits = 0;
  const int* parent_fds = nullptr;  // received descriptors, mapped onto child_fds
  const int* child_fds = nullptr;
  size_t n_fds = 0;
  const int* keep = nullptr;  // child_fds, sorted
  int max_child_fd = 2;
  bool change_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  gid_t real_gid = 0;
  const sock_fprog* filter = nullptr;
  int report_fd = -1;
  pid_t keeper = 0;
};

// --- start-up ----------------------------------------------------------------------------------

bool parse_int(const char* text, int& out) {
  long value = 0;
  if (!text || !*text) return false;
  for (const char* c = text; *c; ++c) {
    if (*c < '0' || *c > '9' || value > 1 << 30) return false;
    value = value * 10 + (*c - '0');
  }
  out = static_cast<int>(value);
  return true;
}

sock_filter g_programs[kFilterCount][kMaxFilterInstructions];

bool read_exact(int fd, void* buf, size_t len, off_t offset) {
  auto* at = static_cast<char*>(buf);
  while (len > 0) {
    const ssize_t n = ::pread(fd, at, len, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    len -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

// The programs the grader compiled (libseccomp, once per Sandbox), from the sealed memfd.
void read_filters(Keeper& k) {
  FilterFileHeader header;
  if (!read_exact(k.filters_fd, &header, sizeof header, 0) || header.magic != kFilterFileMagic)
    report_failure(k.report_fd, Step::read_filters, EINVAL);
  off_t offset = sizeof header;
  for (int i = 0; i < kFilterCount; ++i) {
    const uint32_t n = header.lengths[i];
    if (n == 0 || n > kMaxFilterInstructions) report_failure(k.report_fd, Step::read_filters, EINVAL);
    if (!read_exact(k.filters_fd, g_programs[i], n * sizeof(sock_filter), offset))
      report_failure(k.report_fd, Step::read_filters, EIO);
    offset += static_cast<off_t>(n * sizeof(sock_filter));
    k.filters[i] = sock_fprog{static_cast<unsigned short>(n), g_programs[i]};
  }
  ::close(k.filters_fd);
}

// Every signal is blocked (the grader blocked them before clone and the mask survives exec):
// SIGCHLD is read from a signalfd, and a student's kill(getppid(), ...) stays pending forever
// instead of killing the keeper (only SIGKILL/SIGSTOP get through, and as pid 1 not even those
// from inside the namespace).
int keeper_signals(const Keeper& k) {
  sigset_t all;
  sigfillset(&all);
  check(::sigprocmask(SIG_BLOCK, &all, nullptr) == 0, k.report_fd, Step::keeper_signals);
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, SIGHUP);
  const int fd = ::signalfd(-1, &wanted, SFD_CLOEXEC);
  check(fd >= 0, k.report_fd, Step::keeper_signals);
  return fd;
}

// --- messages to the grader --------------------------------------------------------------------

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
    ::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
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
void keeper_kill_all(const Keeper& k) {
  static pid_t children[1024];
  for (;;) {
    if (k.namespaces) {
      ::kill(-1, SIGKILL);
    } else {
      const size_t n = own_children(children, 1024);
      for (size_t i = 0; i < n; ++i) ::kill(children[i], SIGKILL);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, __WALL);
    if (pid < 0 && errno == ECHILD) return;
    if (pid > 0) report_reaped(k.control_fd, pid, status);
  }
}

// --- listings: the IPC objects and FIFOs of the cell's IPC namespace and tmpfs mounts ---------
// At close (leftover messages, after everything is killed) and on request while the cell runs
// (listed messages: nothing is killed or changed). Only looked at, never opened, except a POSIX
// queue, opened read-only for its message count.

struct Listing {
  int32_t message_kind;  // KeeperMessage::leftover or ::listed
  int budget;            // how many more objects may be sent
};

void send_object(const Keeper& k, Listing& l, LeftoverKind kind, const char* text, size_t len, uid_t uid,
                 int64_t messages = -1) {
  if (l.budget <= 0) return;
  --l.budget;
  KeeperMessage msg;
  msg.kind = l.message_kind;
  msg.status = static_cast<int32_t>(kind);
  msg.uid = uid;
  msg.messages = messages;
  if (len >= sizeof msg.text) len = sizeof msg.text - 1;
  ::memcpy(msg.text, text, len);
  send_message(k.control_fd, msg);
}

// /proc/sysvipc/{msg,sem,shm} as the cell sees it: a header line, then one line per object;
// the grader parses the line (leaks.cpp), the keeper only skips the header.
void list_sysv(const Keeper& k, const char* path, LeftoverKind kind, Listing& l) {
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
    if (!header) send_object(k, l, kind, buf + start, i - start, 0);
    header = false;
    start = i + 1;
  }
}

// The messages waiting in a POSIX queue: a file of the mqueue mount opened read-only is a queue
// descriptor, and mq_getsetattr reads its attributes (nothing is received). -1 if it fails.
int64_t queue_messages(int dir, const char* name) {
  const int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return -1;
  struct mq_attr attr {};
  const long ok = ::syscall(SYS_mq_getsetattr, fd, nullptr, &attr);
  ::close(fd);
  return ok == 0 ? static_cast<int64_t>(attr.mq_curmsgs) : -1;
}

// Entries of a folder the cell could write (its /dev/shm, /dev/mqueue, /tmp), through
// getdents64. `only_fifos` keeps named pipes only.
void list_folder(const Keeper& k, const char* path, LeftoverKind kind, bool only_fifos, Listing& l) {
  const int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir < 0) return;
  alignas(8) char buf[8192];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct Dirent64 {
        uint64_t ino;
        int64_t off;
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
      const int64_t messages = kind == LeftoverKind::posix_mq ? queue_messages(dir, name) : -1;
      send_object(k, l, kind, line, len, st.st_uid, messages);
    }
  }
  ::close(dir);
}

// Reduced: nothing is private to the cell, so nothing is listed here; the grader looks at the
// host by owner instead.
void keeper_list_objects(const Keeper& k, int32_t message_kind) {
  if (!k.namespaces) return;
  Listing l{message_kind, kMaxLeftovers};
  list_sysv(k, "/proc/sysvipc/msg", LeftoverKind::sysv_msg, l);
  list_sysv(k, "/proc/sysvipc/sem", LeftoverKind::sysv_sem, l);
  list_sysv(k, "/proc/sysvipc/shm", LeftoverKind::sysv_shm, l);
  list_folder(k, "/dev/shm", LeftoverKind::posix_shm, false, l);
  list_folder(k, "/dev/mqueue", LeftoverKind::posix_mq, false, l);
  list_folder(k, "/tmp", LeftoverKind::fifo, true, l);
}

// Our parent died (PR_SET_PDEATHSIG), not a student's kill(getppid(), SIGHUP): the kernel
// sends it on behalf of the grader, whose pid a namespace's pid 1 sees as 0.
bool is_parent_death(const Keeper& k, const signalfd_siginfo& info) {
  return static_cast<int>(info.ssi_signo) == SIGHUP &&
         (info.ssi_pid == 0 || static_cast<pid_t>(info.ssi_pid) == k.grader_pid);
}

// As pid 1, exiting makes the kernel kill and reap the whole namespace; as a subreaper the
// keeper has to do that itself.
[[noreturn]] void keeper_finish(const Keeper& k) {
  if (!k.namespaces) keeper_kill_all(k);
  ::_exit(0);
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
    copies[i] = ::fcntl(t.parent_fds[i], F_DUPFD_CLOEXEC, base);
    check(copies[i] >= 0, report, Step::map_fds);
  }
  for (size_t i = 0; i < t.n_fds; ++i) check(::dup3(copies[i], t.child_fds[i], 0) >= 0, report, Step::map_fds);
  close_all_except(t.keep, t.n_fds, report);
  return report;
}

void target_limits(const TargetPlan& t, int report) {
  for (size_t i = 0; i < t.n_limits; ++i) {
    const rlimit value{t.limits[i].soft, t.limits[i].hard};
    check(::setrlimit(t.limits[i].resource, &value) == 0, report, Step::rlimit);
  }
}

// Raw syscalls: glibc's setresuid would run its all-threads protocol.
void target_identity(const TargetPlan& t, int report) {
  if (!t.change_ids) return;
  // Supplementary groups first: keeping root's group 0 was a real judge's hole.
  check(::syscall(SYS_setgroups, 0, nullptr) == 0, report, Step::setgroups);
  check(::syscall(SYS_setresgid, t.real_gid, t.gid, t.gid) == 0, report, Step::setgid);
  check(::syscall(SYS_setresuid, t.uid, t.uid, t.uid) == 0, report, Step::setuid);
}

[[noreturn]] void target_exec(const TargetPlan& t, int report) {
  int error = ENOENT;
  for (size_t i = 0; i < t.n_exec_paths; ++i) {
    ::execve(t.exec_paths[i], t.argv, t.envp);
    // Like execvp: a candidate that is missing or not permitted does not end the search.
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) report_failure(report, Step::exec, errno);
    if (error == ENOENT || errno == EACCES) error = errno;
  }
  report_failure(report, Step::exec, error);
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
  if (t.filter) check(::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, t.filter, 0, 0) == 0, report, Step::seccomp);
  target_exec(t, report);
}

int target_entry(void* arg) { target_main(*static_cast<const TargetPlan*>(arg)); }

// --- requests ----------------------------------------------------------------------------------

// Where a spawn request is unpacked; static so the keeper allocates nothing.
struct SpawnBuffers {
  alignas(8) char request[kMaxRequestBytes];
  char* argv[kMaxArgs + 1];
  char* envp[kMaxArgs + 1];
  const char* paths[kMaxExecPaths];
  int child_fds[kMaxFdMappings];
  int keep[kMaxFdMappings];
  int received[kMaxFdMappings];
  // The vfork-style child runs on this stack while the keeper waits.
  alignas(16) char stack[256 * 1024];
};
SpawnBuffers g_spawn;

void answer_failure(const Keeper& k, const StepFailure& failure) {
  KeeperMessage msg;
  msg.kind = KeeperMessage::spawned;
  msg.pid = -1;
  msg.failure = failure;
  send_message(k.control_fd, msg);
}

void answer_failure(const Keeper& k, Step step, int error) {
  answer_failure(k, StepFailure{static_cast<int32_t>(step), error, -1});
}

// Splits n NUL-terminated strings off [*at, end) into out; false if they run past the end.
bool take_strings(char*& at, const char* end, int32_t n, char** out) {
  for (int32_t i = 0; i < n; ++i) {
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
void keeper_spawn(const Keeper& k, size_t length, size_t n_received, pid_t self) {
  SpawnRequest req;
  ::memcpy(&req, g_spawn.request, sizeof req);
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
    answer_failure(k, Step::map_fds, EINVAL);
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
    g_spawn.child_fds[i] = req.child_fds[i];
    g_spawn.keep[i] = req.child_fds[i];
    if (req.child_fds[i] > max_child) max_child = req.child_fds[i];
  }
  // Insertion sort: at most 64 entries.
  for (size_t i = 1; i < n_received; ++i)
    for (size_t j = i; j > 0 && g_spawn.keep[j - 1] > g_spawn.keep[j]; --j) {
      const int tmp = g_spawn.keep[j];
      g_spawn.keep[j] = g_spawn.keep[j - 1];
      g_spawn.keep[j - 1] = tmp;
    }
  t.parent_fds = g_spawn.received;
  t.child_fds = g_spawn.child_fds;
  t.n_fds = n_received;
  t.keep = g_spawn.keep;
  t.max_child_fd = max_child;
  t.change_ids = req.change_ids != 0;
  t.uid = req.uid;
  t.gid = req.gid;
  t.real_gid = req.real_gid;
  const auto filter = static_cast<int>(req.filter);
  t.filter = filter >= 0 && filter < kFilterCount ? &k.filters[filter] : nullptr;
  t.keeper = self;

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    answer_failure(k, Step::fork_target, errno);
    return;
  }
  t.report_fd = report[1];
  int pidfd = -1;
  const pid_t pid = ::clone(target_entry, g_spawn.stack + sizeof g_spawn.stack,
                            CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &t, &pidfd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    answer_failure(k, Step::fork_target, errno);
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
    answer_failure(k, failure);
    return;  // the child exits 127; reap_ready collects it
  }
  g_targets.add(pid);
  KeeperMessage msg;
  msg.kind = KeeperMessage::spawned;
  msg.pid = pid;
  send_message(k.control_fd, msg, pidfd);
  ::close(pidfd);
}

// One message from the grader: a spawn request (with descriptors) or "close".
// Returns false when the grader has gone.
bool keeper_request(const Keeper& k, pid_t self) {
  iovec iov{g_spawn.request, sizeof g_spawn.request};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdMappings)];
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(k.control_fd, &hdr, MSG_CMSG_CLOEXEC);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t n_received = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && n_received < kMaxFdMappings; ++i)
      ::memcpy(&g_spawn.received[n_received++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  Request kind{};
  if (static_cast<size_t>(n) >= sizeof kind) ::memcpy(&kind, g_spawn.request, sizeof kind);
  if (kind == Request::spawn && static_cast<size_t>(n) >= sizeof(SpawnRequest) && !(hdr.msg_flags & MSG_TRUNC)) {
    keeper_spawn(k, static_cast<size_t>(n), n_received, self);
  } else if (kind == Request::close) {
    keeper_kill_all(k);
    keeper_list_objects(k, KeeperMessage::leftover);
    KeeperMessage msg;
    msg.kind = KeeperMessage::closed;
    send_message(k.control_fd, msg);
  } else if (kind == Request::list) {
    keeper_list_objects(k, KeeperMessage::listed);
    KeeperMessage msg;
    msg.kind = KeeperMessage::listed_end;
    send_message(k.control_fd, msg);
  } else {
    answer_failure(k, Step::map_fds, EINVAL);
  }
  for (size_t i = 0; i < n_received; ++i) ::close(g_spawn.received[i]);
  return true;
}

[[noreturn]] void keeper_loop(const Keeper& k, int signal_fd, pid_t self) {
  for (;;) {
    pollfd fds[2] = {{k.control_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) == sizeof info && is_parent_death(k, info)) keeper_finish(k);
      reap_ready(k.control_fd);
    }
    if (fds[0].revents) {
      if (!keeper_request(k, self)) keeper_finish(k);
      reap_ready(k.control_fd);
    }
  }
}

}  // namespace
}  // namespace ipcg::internal

int main(int argc, char** argv) {
  using namespace ipcg::internal;
  Keeper k;
  const bool args_ok = argc == kKeeperArgc && parse_int(argv[1], k.control_fd) &&
                       parse_int(argv[2], k.report_fd) && parse_int(argv[3], k.filters_fd) &&
                       parse_int(argv[5], k.grader_pid);
  if (!args_ok) {
    static const char usage[] =
        "ipcg-keeper: part of ipcgrade's sandbox, started by the grader; not meant to be run by hand\n";
    [[maybe_unused]] ssize_t n = ::write(2, usage, sizeof usage - 1);
    // A report fd we could parse still hears why.
    if (argc > 2 && parse_int(argv[2], k.report_fd)) report_failure(k.report_fd, Step::keeper_arguments, EINVAL);
    return 2;
  }
  k.namespaces = ::strcmp(argv[4], "full") == 0;
  // An exec through a descriptor names the process after the descriptor's number.
  ::prctl(PR_SET_NAME, kKeeperName);
  const int signal_fd = keeper_signals(k);
  read_filters(k);
  if (!k.namespaces) check(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, k.report_fd, Step::keeper_subreaper);
  // Not dumpable: a cell process of the keeper's own uid (a user namespace without role uids)
  // may then neither read its memory nor open its descriptors through /proc/1.
  ::prctl(PR_SET_DUMPABLE, 0);
  ::close(k.report_fd);  // EOF: the cell is ready
  keeper_loop(k, signal_fd, static_cast<pid_t>(::syscall(SYS_getpid)));
}
