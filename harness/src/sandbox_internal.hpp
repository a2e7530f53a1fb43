// Private to harness_sandbox: the plan a child follows after clone, the messages of the spawn
// protocol, and /proc helpers. Nothing here is public API.
//
// The process tree of one spawn, in both isolation levels:
//
//   grader ── keeper ── target ── (the student's children...)
//
// The keeper is pid 1 of new namespaces (full) or a child subreaper (reduced): either way every
// orphan of the tree re-parents to it, so "the tree" is exactly the keeper's descendants. It reaps
// them all, reports the target's wait status to the grader, and lives until the grader closes the
// control socket or kills it.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/sandbox.hpp"
#include "harness/seccomp_filter.hpp"

namespace ipcg::internal {

// The step a child was at when it failed, sent to the grader over the report pipe.
enum class Step : std::int32_t {
  keeper_parent_death, keeper_close_fds, keeper_signals, keeper_subreaper, join_cgroup,
  mount_private, open_source, mount_root, make_dir, make_file, make_symlink, bind, remount_bind,
  mount_tmpfs, mount_mqueue, pivot_root, mount_proc, remount_root, loopback_up, hostname, fork_target,
  target_parent_death, target_signals, map_fds, chdir, setsid, rlimit, setgroups, setgid,
  setuid, no_new_privs, seccomp, exec,
};
std::string_view to_string(Step step);

struct StepFailure {
  std::int32_t step = 0;
  std::int32_t error = 0;   // errno
  std::int32_t detail = -1; // the index of the MountStep that failed, if any
};

// One action building the box's root, run by the keeper in a new mount namespace. Targets are
// under the staging mount (kStageRoot) that becomes "/" by pivot_root.
struct MountStep {
  enum Kind : std::int32_t {
    make_dir,       // mkdir target 0755
    make_file,      // an empty file to bind a file on
    make_symlink,   // target -> source (the link's text)
    bind_readonly,  // source (host path) on target, read-only, nosuid, nodev
    bind_device,    // source (a /dev node) on target, nosuid, noexec
    bind_work,      // the work folder (source, opened O_NOFOLLOW) on target, nosuid, nodev
    tmpfs,          // a tmpfs on target with options source
    mqueue,         // an mqueue mount of the cell's IPC namespace on target
  };
  Kind kind = make_dir;
  const char* target = nullptr;
  const char* source = nullptr;
  bool needs_source_fd() const { return kind == bind_readonly || kind == bind_device || kind == bind_work; }
};
// Where the new root is assembled before pivot_root: a path every host has, hidden only inside
// the keeper's mount namespace. Bind sources are opened before it is covered.
constexpr const char* kStageRoot = "/tmp";
// The most mount steps one box may have (the keeper keeps their source fds in a stack array).
constexpr size_t kMaxMountSteps = 192;

// Keeper -> grader over the control socket (SOCK_SEQPACKET keeps messages whole).
struct KeeperMessage {
  // leak: one line of /proc/sysvipc/<value: 0 msg, 1 sem, 2 shm> as the cell sees it;
  // leaks_done: the last answer to kListLeaks.
  enum Kind : std::int32_t { forked = 1, exited = 2, leak = 3, leaks_done = 4 };
  std::int32_t kind = 0;
  std::int32_t value = 0;  // forked: target pid in the keeper's namespace; exited: wait status
  char text[240] = {};     // leak: the line, NUL-terminated
};
// Grader -> keeper: "I hold a pidfd of the target; you may start reaping."
constexpr char kAck = 'a';
// Grader -> keeper (full isolation): "kill everything but yourself, reap it, then send me the
// SysV objects of the cell". The IPC namespace dies with the keeper: this is the last look.
constexpr char kListLeaks = 'l';
// The most SysV objects of each kind the keeper reports.
constexpr int kMaxLeakLines = 32;

// The most descriptors one spawn may map (the child copies them through a stack array).
constexpr size_t kMaxFdMappings = 64;

struct ResourceLimit {
  int resource;
  rlim_t soft;
  rlim_t hard;
};

// Everything the keeper and the target need, computed before clone. After clone only
// async-signal-safe calls are allowed (another grader thread may hold malloc's lock), so the
// children only read this.
struct ChildPlan {
  bool namespaces = false;
  pid_t grader_pid = 0;
  int control_fd = -1;  // the keeper's end of the control socket
  int report_fd = -1;   // write end of the CLOEXEC report pipe (StepFailure records)
  std::vector<MountStep> mounts;        // full: the box's root, in order
  std::vector<int> cgroup_procs;        // open cgroup.procs files the keeper joins before forking
  std::vector<int> keeper_keep;         // sorted: every fd the keeper needs until the fork
  std::vector<char*> argv;              // null-terminated
  std::vector<char*> envp;              // null-terminated
  std::vector<const char*> exec_paths;  // execve candidates, in order (a PATH search, done here)
  const char* cwd = "/";
  std::vector<ResourceLimit> limits;
  std::vector<FdMapping> fds;
  std::vector<int> target_keep;  // sorted child fds of `fds`
  int max_child_fd = 2;
  bool change_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const SeccompFilter* filter = nullptr;
};

// The box's root in full isolation (sandbox_root.cpp), computed once per Sandbox. It owns the
// strings its steps point into (a deque: moving it keeps them where they are).
class RootPlan {
 public:
  static Result<RootPlan> build(const std::filesystem::path& work_dir,
                                const std::vector<std::filesystem::path>& readonly_paths);
  const std::vector<MountStep>& steps() const { return steps_; }

 private:
  const char* keep(std::string s);
  void add(MountStep::Kind kind, const std::string& path, const std::string& source = {});
  void make_parents(const std::string& path);
  bool covered(const std::string& path) const;  // already inside a bound folder
  void system_entry(const std::string& path);
  void readonly_entry(const std::string& path);
  void dev_tree();

  std::deque<std::string> strings_;
  std::vector<MountStep> steps_;
  std::vector<std::string> bound_;  // box paths bound so far (their insides are read-only)
  std::set<std::string> made_;      // box paths created so far
};

// The first function of the cloned keeper; never returns.
[[noreturn]] void keeper_main(const ChildPlan& plan);

// clone3 (or clone where a container's seccomp hides clone3) with fork semantics: the child
// continues on a copy of the stack. *pidfd receives a pidfd when pidfd != nullptr.
pid_t raw_clone(unsigned long flags, int* pidfd);

// pidfds through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" and cannot be used
// from C++. Both return -1/errno like the libc calls.
inline int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
inline int pidfd_kill(int pidfd) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0));
}

// Clones the keeper, runs the spawn protocol and returns the handle of the running target.
Result<SandboxedProcess> launch(ChildPlan& plan);

// --- /proc, for the tree walk ---------------------------------------------------------------
struct ProcStat {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot: with the pid, names a process uniquely
};
std::optional<ProcStat> read_proc_stat(pid_t pid);
// Children of every thread of pid (from /proc/PID/task/TID/children).
std::vector<pid_t> proc_children(pid_t pid);
// Tasks (threads) of uid on the host: what RLIMIT_NPROC counts.
int count_user_tasks(uid_t uid);

}  // namespace ipcg::internal
