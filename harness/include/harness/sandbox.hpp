// The sandbox: every process that runs student code (the compiler included) starts here.
//
//   IPCG_TRY(auto box, Sandbox::create({.syscall_sets = lab.syscall_sets}));
//   box.isolation();                       // full (root + namespaces) or reduced, with the reason
//   SpawnSpec spec{.argv = {box.to_box(bin).string(), "arg"}, .limits = test.limits};
//   spec.fds = {{stdin_read.get(), 0}, {stdout_write.get(), 1}, {stderr_write.get(), 2}};
//   IPCG_TRY(auto proc, box.spawn(spec));  // SandboxedProcess: kills and reaps its tree when destroyed
//
// Full isolation (root, namespaces allowed): a pid-1 init in new IPC, PID, mount, network and UTS
// namespaces, whose root is a new read-only tmpfs (pivot_root) holding: read-only binds of /usr
// and the /lib*, /bin, /sbin links or folders, a minimal /etc, SandboxConfig::readonly_paths;
// fresh size- and inode-capped tmpfs /tmp and /dev/shm; an mqueue mount; /proc of the cell's pid
// namespace with hidepid=2; a /dev of null, zero, full, random, urandom, tty; the work folder at
// /tmp/box; loopback up; hostname "ipcgrade". When root, each spawn also gets a memory+pids
// cgroup (v2 when its controllers are enabled, else v1) from Limits. The
// target then gets setsid, rlimits, a slot uid/gid (setgroups(0)), no_new_privs and the seccomp
// filter, loaded last, right before execve with a clean environment.
// Reduced (not root, or namespaces refused): the same minus namespaces and mounts (and minus the
// uid change when not root); the init is then a child subreaper instead of pid 1, so orphans of
// the tree still re-parent to it and kill_tree sweeps its descendants. isolation() says why.
// Never a silent downgrade.
//
// In both levels the tree is grader -> init ("ipcg-keeper") -> target -> ...; the init reaps
// everything, reports the target's wait status, and dies with the grader (PR_SET_PDEATHSIG, which
// follows the *thread* that called spawn: keep that thread alive while the process runs).
// Destroy every SandboxedProcess before its Sandbox (the Sandbox deletes the work folder).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/error.hpp"
#include "harness/lab_spec.hpp"
#include "harness/result.hpp"
#include "harness/unique_fd.hpp"

namespace ipcg {

struct SandboxConfig {
  std::vector<std::string> syscall_sets;  // named sets allowed beyond the baseline (lab.toml)
  // The policy of build steps (SpawnSpec::build: the compiler), whatever the lab's sets are.
  std::vector<std::string> build_syscall_sets = {"compiler"};
  bool allow_namespaces = true;           // false forces reduced isolation (tests, --reduced)
  std::filesystem::path work_parent;      // where the per-run work folder is made (default: $TMPDIR or /tmp)
  // Full isolation: host files or folders the box may read, bound read-only at the same path
  // (the lab's tools, a test's helper binary). Missing ones are skipped. Nothing else of the
  // host is visible beyond the system folders (/usr, /lib*, /bin, /sbin) and a minimal /etc.
  std::vector<std::filesystem::path> readonly_paths;
};

// Maps a descriptor the grader holds onto a descriptor number in the child.
struct FdMapping {
  int parent_fd;
  int child_fd;
};

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0]: path inside the box, or a name looked up in PATH
  std::vector<std::string> env;   // "K=V"; a minimal PATH/HOME/LANG is added when absent
  std::filesystem::path cwd;      // inside the box; default: the box work folder
  Limits limits;                  // rlimits of 0 mean none; wall and output_bytes are run()'s
  std::vector<FdMapping> fds;     // everything else is closed before exec (at most 64)
  bool build = false;             // a build step: filtered by build_syscall_sets, not the lab's sets
};

class SandboxedProcess {
 public:
  SandboxedProcess(SandboxedProcess&&) noexcept;
  SandboxedProcess& operator=(SandboxedProcess&&) noexcept;
  ~SandboxedProcess();  // kill_tree() + reap

  pid_t pid() const;            // host pid of the target process (for /proc)
  int exit_fd() const;          // a pidfd of the target: readable when the target has exited
  // After exit_fd() is readable: the target's wait status (as from waitpid). Idempotent.
  std::optional<int> wait_status();
  // Live processes of this tree (target and every descendant, setsid'd ones and orphans
  // included), as host pids. Used by the inspector; empty once everything is gone. Zombies not
  // yet reaped by a student process are included (they are evidence); the init's are not.
  std::vector<pid_t> processes() const;
  // SIGKILL the whole tree (the pid namespace, or a sweep of the init's descendants) and reap it.
  // Then lists what the tree left (leaks()) and removes its cgroup.
  void kill_tree();
  // After kill_tree(): whether the memory cgroup's OOM killer killed a process of the tree.
  bool oom_killed() const;
  // After kill_tree(): IPC objects and FIFOs the tree left, one line each ("SysV message queue
  // (key 0x00001234)", "/dev/shm/ring"). Full isolation looks inside the cell before its IPC
  // namespace goes; reduced sweeps what the sandbox uid created during the run and removes it.
  const std::vector<std::string>& leaks() const;

  struct Impl;
  explicit SandboxedProcess(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

class Sandbox {
 public:
  static Result<Sandbox> create(const SandboxConfig& config);
  Sandbox(Sandbox&&) noexcept;
  Sandbox& operator=(Sandbox&&) noexcept;
  ~Sandbox();  // removes the work folder (without following symlinks), frees the slot

  const IsolationInfo& isolation() const;
  const std::filesystem::path& host_work_dir() const;  // the grader's view of the work folder
  const std::filesystem::path& box_work_dir() const;   // the same folder as the sandbox sees it
  // A path under host_work_dir() as seen inside the box; other paths are returned unchanged.
  std::filesystem::path to_box(const std::filesystem::path& host_path) const;
  // Creates a folder under the work folder that the sandboxed uid may write (0755, owned by the
  // slot uid as root; a plain 0755 folder otherwise). An existing one is reused.
  Result<std::filesystem::path> make_writable_dir(const std::string& name);

  Result<SandboxedProcess> spawn(const SpawnSpec& spec);

  struct Impl;

 private:
  explicit Sandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Probes what this host allows (root? namespaces?) without changing anything.
IsolationInfo detect_isolation(bool allow_namespaces = true);

}  // namespace ipcg
