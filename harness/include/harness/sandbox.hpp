// The sandbox: every process that runs student code (the compiler included) starts here.
//
//   IPCG_TRY(auto box, Sandbox::create({.syscall_sets = lab.syscall_sets}));
//   box.isolation();                       // full (root + namespaces) or reduced, with the reason
//   SpawnSpec spec{.argv = {box.to_box(bin).string(), "arg"}, .limits = test.limits};
//   spec.fds = {{stdin_read.get(), 0}, {stdout_write.get(), 1}, {stderr_write.get(), 2}};
//   IPCG_TRY(auto proc, box.spawn(spec));  // SandboxedProcess: kills and reaps its tree when destroyed
//
// Full isolation (root, namespaces allowed): a pid-1 init in new IPC, PID, mount, network and UTS
// namespaces; private tmpfs on /tmp and /dev/shm, an mqueue mount, its own /proc; the work folder
// bind-mounted at /tmp/box; loopback up. The target then gets rlimits, setsid, a slot uid/gid
// (setgroups(0)), no_new_privs and the seccomp filter, loaded last, right before execve.
// Reduced (not root, or namespaces refused): rlimits, setsid, seccomp, process-group kill and a
// child-subreaper sweep; isolation() says why. Never a silent downgrade.
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
  bool allow_namespaces = true;           // false forces reduced isolation (tests, --reduced)
  std::filesystem::path work_parent;      // where the per-run work folder is made (default: $TMPDIR or /tmp)
};

// Maps a descriptor the grader holds onto a descriptor number in the child.
struct FdMapping {
  int parent_fd;
  int child_fd;
};

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0]: path of the program as seen inside the box
  std::vector<std::string> env;   // "K=V"; a minimal PATH/HOME/LANG is added when absent
  std::filesystem::path cwd;      // inside the box; default: the box work folder
  Limits limits;
  std::vector<FdMapping> fds;     // everything else is closed before exec
};

class SandboxedProcess {
 public:
  SandboxedProcess(SandboxedProcess&&) noexcept;
  SandboxedProcess& operator=(SandboxedProcess&&) noexcept;
  ~SandboxedProcess();  // kill_tree() + reap

  pid_t pid() const;            // host pid of the target process (for /proc)
  int exit_fd() const;          // becomes readable when the target has exited
  // After exit_fd() is readable: the target's wait status (as from waitpid). Idempotent.
  std::optional<int> wait_status();
  // Live processes of this tree (target and every descendant, setsid'd ones and orphans
  // included), as host pids. Used by the inspector; empty once everything is gone.
  std::vector<pid_t> processes() const;
  // SIGKILL the whole tree (pid namespace, or process group + orphan sweep) and reap it.
  void kill_tree();

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
  // Creates a folder under the work folder that the sandboxed uid may write (0755/owned by slot uid).
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
