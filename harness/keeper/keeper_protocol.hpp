// What the grader and the keeper executable (keeper/keeper.cpp) say to each other: the keeper's
// command line, the file holding the syscall filters, the setup steps a failure names, and the
// messages of the control socket. Shared by both sides, so only C and kernel headers here: the
// keeper is a small static program built against musl where available (harness/CMakeLists.txt),
// without the C++ library.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

namespace ipcg::internal {

// The keeper's command line, built by the grader before clone:
//   ipcg-keeper <control fd> <report fd> <filters fd> <full|reduced> <grader pid>
// control: its end of the SOCK_SEQPACKET control socket; report: the write end of a pipe that
// gets a StepFailure or EOF when the keeper is ready; filters: the filter file below.
constexpr int kKeeperArgc = 6;
constexpr const char* kKeeperName = "ipcg-keeper";

// The filter file (a sealed memfd, written once per Sandbox): a FilterFileHeader, then the
// programs one after the other, in FilterIndex order.
enum class FilterIndex : int32_t { lab = 0, build = 1, none = 2 };
constexpr int kFilterCount = 2;
constexpr uint32_t kFilterFileMagic = 0x69706366;  // "ipcf"
struct FilterFileHeader {
  uint32_t magic = kFilterFileMagic;
  uint32_t lengths[kFilterCount] = {};  // instructions of each program
};
// BPF_MAXINSNS: the kernel accepts no longer classic program.
constexpr uint32_t kMaxFilterInstructions = 4096;

// The step a process was at when it failed, sent to the grader over a report pipe.
enum class Step : int32_t {
  keeper_parent_death, keeper_close_fds, keeper_signals, keeper_subreaper, join_cgroup,
  mount_private, open_source, mount_root, make_dir, make_file, make_symlink, bind, remount_bind,
  mount_tmpfs, mount_mqueue, pivot_root, mount_proc, remount_root, loopback_up, hostname, fork_target,
  target_parent_death, target_signals, map_fds, chdir, setsid, rlimit, setgroups, setgid,
  setuid, no_new_privs, seccomp, exec, exec_keeper, keeper_arguments, read_filters, keep_descriptors, map_ids,
};

struct StepFailure {
  int32_t step = 0;
  int32_t error = 0;   // errno
  int32_t detail = -1; // the index of the MountStep that failed, if any
};

// --- the control socket (SOCK_SEQPACKET: messages stay whole) --------------------------------

// Grader -> keeper. A spawn request is a SpawnRequest followed by its strings (cwd, argv, env,
// exec candidates, each NUL-terminated), with the descriptors to map in SCM_RIGHTS, in order.
// close: kill everything, then list what is left (leftover messages, then closed). list: the
// same listing while the cell runs, killing nothing (listed messages, then listed_end); only a
// keeper with namespaces of its own answers with objects (reduced: the grader looks at the host).
enum class Request : int32_t { spawn = 1, close = 2, list = 3 };
constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr size_t kMaxArgs = 512;        // argv + env entries of one spawn, each
constexpr size_t kMaxExecPaths = 32;
constexpr size_t kMaxLimits = 8;
// The most descriptors one spawn may map (the child copies them through a stack array).
constexpr size_t kMaxFdMappings = 64;

struct ResourceLimit {
  int resource;
  rlim_t soft;
  rlim_t hard;
};

struct SpawnRequest {
  Request kind = Request::spawn;
  FilterIndex filter = FilterIndex::lab;
  int32_t change_ids = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t real_gid = 0;  // the real gid beside gid (effective and saved); differs to keep it non-dumpable
  int32_t n_limits = 0;
  ResourceLimit limits[kMaxLimits] = {};
  int32_t n_fds = 0;
  int32_t child_fds[kMaxFdMappings] = {};
  int32_t argc = 0, envc = 0, n_paths = 0;
  int32_t strings_bytes = 0;
};

// Keeper -> grader.
struct KeeperMessage {
  // spawned: the answer to a spawn request (pid > 0 with a pidfd in SCM_RIGHTS, or the failed
  // step); exited: a spawned process's wait status; leftover: one thing the cell left;
  // closed: the last answer to Request::close; listed: one object that exists now, in answer to
  // Request::list; listed_end: the last answer to it. Listed and leftover objects are kept apart
  // by the grader: a listing never shows up among the leftovers of close.
  enum Kind : int32_t { spawned = 1, exited = 2, leftover = 3, closed = 4, listed = 5, listed_end = 6 };
  int32_t kind = 0;
  int32_t pid = 0;     // spawned/exited: the pid in the keeper's namespace
  int32_t status = 0;  // exited: the wait status; leftover/listed: its LeftoverKind
  StepFailure failure;      // spawned with pid <= 0: why
  uint32_t uid = 0;    // leftover/listed: its owner
  // leftover/listed POSIX queue: the messages in it (mq_curmsgs), -1 if unknown or not a POSIX
  // queue. A SysV queue's count is in its line (qnum).
  int64_t messages = -1;
  char text[224] = {};      // leftover/listed: a /proc/sysvipc line or a name, NUL-terminated
};
// What a leftover line describes (KeeperMessage::status).
enum class LeftoverKind : int32_t { sysv_msg, sysv_sem, sysv_shm, posix_shm, posix_mq, fifo, file };
// The most leftovers (or listed objects) of all kinds the keeper reports at once.
constexpr int kMaxLeftovers = 64;

// --- shared by the cloned child and the keeper: async-signal-safe only ------------------------

// How a set-up step fails, in the cloned child and in the keeper alike: {step, errno, detail}
// on the report pipe (one record smaller than PIPE_BUF: written whole or not at all), exit 127.
[[noreturn]] inline void report_failure(int report_fd, Step step, int error, int32_t detail = -1) {
  const StepFailure failure{static_cast<int32_t>(step), error, detail};
  [[maybe_unused]] ssize_t n = ::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

// For calls returning -1 and setting errno.
inline void check(bool ok, int report_fd, Step step) {
  if (!ok) report_failure(report_fd, step, errno);
}

inline void close_range_or_loop(unsigned first, unsigned last) {
  if (first > last) return;
  if (::syscall(SYS_close_range, first, last, 0) == 0 || errno != ENOSYS) return;
  // Kernels before 5.9: close one by one up to the descriptor limit.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const unsigned end = lim.rlim_cur < last ? static_cast<unsigned>(lim.rlim_cur) : last;
  for (unsigned fd = first; fd <= end && fd < lim.rlim_cur; ++fd) ::close(static_cast<int>(fd));
}

// Closes every descriptor not in keep[0..n) (sorted, distinct) nor equal to `extra` (which is
// larger than all of keep, or -1).
inline void close_all_except(const int* keep, size_t n, int extra) {
  unsigned next = 0;
  for (size_t i = 0; i <= n; ++i) {
    const int fd = i < n ? keep[i] : extra;
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > next) close_range_or_loop(next, static_cast<unsigned>(fd) - 1);
    next = static_cast<unsigned>(fd) + 1;
  }
  close_range_or_loop(next, ~0U);
}

}  // namespace ipcg::internal
