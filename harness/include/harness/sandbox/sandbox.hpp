// The sandbox: every process that runs student code (the compiler included) starts here.
//
//   IPCG_TRY(auto box, Sandbox::create({.syscall_sets = lab.syscall_sets}));
//   box.isolation();                       // full (root), user namespace without role uids, or reduced, with the reason
//   IPCG_TRY(auto cell, box.open_cell({.limits = test.limits}));   // one per test
//   SpawnSpec spec{.argv = {box.to_box(bin).string(), "arg"}, .limits = test.limits};
//   spec.fds = {{stdin_read.get(), 0}, {stdout_write.get(), 1}, {stderr_write.get(), 2}};
//   IPCG_TRY(auto proc, cell.spawn(spec)); // SandboxedProcess: kills its tree when destroyed
//   CellReport left = cell.close();        // everything killed; IPC objects it left, OOM kills
//
// A cell is a keeper process ("ipcg-keeper") that every process of one test descends from.
// Full isolation (root, namespaces allowed): the keeper is pid 1 of new IPC, PID, mount, network
// and UTS namespaces, whose root is a new read-only tmpfs (pivot_root) holding: read-only binds
// of /usr and the /lib*, /bin, /sbin links or folders, a minimal /etc,
// SandboxConfig::readonly_paths under /run/ipcgrade/ro; fresh size- and inode-capped tmpfs /tmp and /dev/shm; an mqueue
// mount; /proc of the cell's pid namespace with hidepid=2; a /dev of null, zero, full, random,
// urandom, tty; the work folder at /tmp/box; loopback up; hostname "ipcgrade". The cell joins
// memory and pids cgroups made from CellOptions::limits where ours may have children (root, or a
// delegated subtree).
// Not root, where the kernel allows unprivileged user namespaces: the same cell inside a new user
// namespace that maps only our uid and gid (to 61000), so every role runs as that one uid
// (IsolationLevel::user_namespace_without_role_uids; the reason says what that costs).
// Reduced (namespaces refused, or not wanted): the same minus namespaces, mounts (and minus the
// uid change when not root); the keeper is then a child subreaper, so orphans still re-parent to
// it. isolation() says why. Never a silent downgrade.
//
// The keeper forks each spawned process (vfork-style: no page-table copy), which then gets
// setsid, rlimits, its role's uid/gid (student and reference roles differ, so a student process
// cannot signal, trace or read a reference one; setgroups(0)), no_new_privs and the seccomp
// filter, loaded last, right before execve with a clean environment. The keeper reaps
// everything and reports each spawned process's wait status.
//
// Sandbox::spawn is a one-process cell: the process owns its keeper (builds use it).
// The keeper dies with the grader (PR_SET_PDEATHSIG, which follows the *thread* that made the
// cell: the Sandbox's preparing thread, which lives as long as the Sandbox, or the caller's
// thread for Sandbox::spawn and cold cells: keep that thread alive while the cell lives). Destroy cells and processes before their
// Sandbox (the Sandbox deletes the work folder).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/spec/lab_spec.hpp"
#include "harness/core/result.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg {

struct SandboxConfig {
  std::vector<std::string> syscall_sets;  // named sets allowed beyond the baseline (lab.toml)
  // The policy of build steps (SpawnSpec::build: the compiler), whatever the lab's sets are.
  std::vector<std::string> build_syscall_sets = {"compiler"};
  bool allow_namespaces = true;           // false forces reduced isolation (tests, --reduced)
  // open_cell() hands out a cell prepared in the background (by a thread of the Sandbox) while
  // the previous one was in use, and starts preparing the next. false: every cell is made on
  // demand (benchmarks of the cold path).
  bool prepare_cells = true;
  std::filesystem::path work_parent;      // where the per-run work folder is made (default: $TMPDIR or /tmp)
  // Full isolation: host files or folders the box may read (the lab's tools, a test's helper
  // binary), bound read-only at fixed places: the n-th folder at /run/ipcgrade/ro/<n>, the n-th
  // file at /run/ipcgrade/ro/<n>/<its name>, so the box's view never depends on where the
  // checkout or build folder is. to_box() says where a path is; a SpawnSpec's argv[0] given as a
  // host path under one of them is run from there. Missing ones are skipped. Nothing else of the
  // host is visible beyond the system folders (/usr, /lib*, /bin, /sbin) and a minimal /etc.
  std::vector<std::filesystem::path> readonly_paths;
};

// Maps a descriptor the grader holds onto a descriptor number in the child.
struct FdMapping {
  int parent_fd;
  int child_fd;
};

// Who a process runs as. Student and reference roles get different uids (when root); a build
// step (the compiler, as either uid) is filtered by SandboxConfig::build_syscall_sets instead of
// the lab's sets.
enum class Role { student, reference, build, reference_build };

struct SpawnSpec {
  // argv[0]: a path inside the box, a host path under SandboxConfig::readonly_paths (run from
  // where the box sees it), or a name looked up in PATH.
  std::vector<std::string> argv;
  std::vector<std::string> env;   // "K=V"; a minimal PATH/HOME/LANG is added when absent
  std::filesystem::path cwd;      // inside the box; default: the box work folder
  Limits limits;                  // rlimits of 0 mean none; wall and output_bytes are run()'s
  std::vector<FdMapping> fds;     // everything else is closed before exec (at most 64)
  Role role = Role::student;
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
  // SIGKILL the process's tree and wait until it is gone. In a one-process cell (Sandbox::spawn)
  // that is the whole cell; in a shared cell, the target, its descendants and the orphans of
  // its session (a process that left the session with setsid dies when the cell closes).
  void kill_tree();

  struct Impl;
  explicit SandboxedProcess(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// What a closed cell leaves for the report.
struct CellReport {
  // IPC objects and FIFOs the cell's processes left, one line each ("SysV message queue (key
  // 0x00001234, owner uid 61000)", "POSIX shared memory /dev/shm/ring"). Full isolation looks
  // inside the cell before its namespaces go; reduced mode sweeps what the slot uids (or, not
  // root, this user) created while the cell was open, and removes it from the host.
  std::vector<std::string> leftovers;
  bool oom_killed = false;             // the cell's memory cgroup killed a process
  std::uint64_t memory_peak_bytes = 0; // 0 when no memory cgroup
  std::string cgroup;                  // "" when none: "cgroup v1 memory+pids", or why not
};

// One IPC object or FIFO that exists in a cell now (Cell::ipc_objects).
struct IpcObject {
  enum class Kind { sysv_msg, sysv_sem, sysv_shm, posix_mq, posix_shm, fifo };
  Kind kind = Kind::fifo;
  std::string name;            // POSIX: "/jobs" (as mq_open names it); FIFO: its path; SysV: ""
  key_t key = 0;               // SysV only
  int id = -1;                 // SysV only
  uid_t owner = 0;
  // Message queues: messages waiting now (SysV qnum, POSIX mq_curmsgs); -1 when not a queue or
  // not readable (reduced mode, unprivileged, a queue the user may not open). Never bytes.
  std::int64_t messages = -1;
  std::string description;     // in CellReport::leftovers' words
};

struct CellOptions {
  Limits limits;  // memory_bytes and processes become the cell's cgroup limits (root only)
};

// Where processes can be spawned: a Sandbox (each process its own cell) or a Cell.
class Launcher {
 public:
  virtual ~Launcher() = default;
  virtual Result<SandboxedProcess> spawn(const SpawnSpec& spec) = 0;
  // Every live process that shares the place `spawned` runs in: a cell's processes, whoever
  // spawned them; for a process in a cell of its own, its tree. What a hang is judged over.
  virtual std::vector<pid_t> processes_beside(const SandboxedProcess& spawned) const { return spawned.processes(); }
};

class Cell : public Launcher {
 public:
  Cell(Cell&&) noexcept;
  Cell& operator=(Cell&&) noexcept;
  ~Cell() override;  // close() unless done

  Result<SandboxedProcess> spawn(const SpawnSpec& spec) override;
  // Kills every process of the cell, lists what it left, removes its cgroups. Idempotent.
  CellReport close();
  // Unique among the cells of every grader running on this host now ("<grader pid>-<serial>"):
  // what the names of the test's IPC objects are made from (harness/core/ipc_names.hpp).
  const std::string& tag() const;
  // The IPC objects and FIFOs (in /tmp) that exist in the cell now, while its processes run: what
  // a check asks ("was the queue unlinked", "which FIFOs exist") instead of reading a report.
  // Nothing is killed, received or opened for data (a POSIX queue is opened read-only for its
  // count). Full isolation: the cell's own namespaces, asked through its keeper (at most 64
  // objects). Reduced: the host's objects owned by the cell's uids, minus what existed before
  // the cell opened (unprivileged), minus what another open cell of this grader made (its
  // IpcNames prefix in the name, or a SysV object's last sender, receiver or creator among that
  // cell's processes). Unprivileged on a host without /dev/mqueue, POSIX queues are not seen.
  // Filter by the test's IpcNames prefix to see only this test's. Fails once the cell is closed.
  Result<std::vector<IpcObject>> ipc_objects();
  // Every live process of the cell now (host pids): whatever spawned it, and its descendants.
  // Empty once the cell is closed.
  std::vector<pid_t> processes() const;
  std::vector<pid_t> processes_beside(const SandboxedProcess&) const override { return processes(); }

  struct Core;
  explicit Cell(std::shared_ptr<Core> core);

 private:
  std::shared_ptr<Core> core_;
};

class Sandbox : public Launcher {
 public:
  static Result<Sandbox> create(const SandboxConfig& config);
  Sandbox(Sandbox&&) noexcept;
  Sandbox& operator=(Sandbox&&) noexcept;
  ~Sandbox() override;  // removes the work folder (without following symlinks), frees the slot

  const IsolationInfo& isolation() const;
  const std::filesystem::path& host_work_dir() const;  // the grader's view of the work folder
  const std::filesystem::path& box_work_dir() const;   // the same folder as the sandbox sees it
  // A path under host_work_dir() or SandboxConfig::readonly_paths as seen inside the box; other
  // paths (and every path in reduced isolation, where the box sees the host) are unchanged.
  std::filesystem::path to_box(const std::filesystem::path& host_path) const;
  // Creates a folder under the work folder that `owner`'s uid may write (0700, owned by that uid
  // as root; a plain 0755 folder otherwise). An existing one is reused.
  Result<std::filesystem::path> make_writable_dir(const std::string& name, Role owner = Role::student);
  // After a build: the folder and what was written in it become root's and read-only for the box
  // (no more files on the host's disk); in a reference folder, programs are execute-only and the
  // rest readable only by the reference uid's group, so no student process can read or replace
  // the reference. Where roles share one uid (no slot uids), a reference folder keeps only its
  // programs. Symlinks and special files left in it are removed. Nothing is followed.
  Result<void> seal_dir(const std::string& name, Role owner);
  // Whether a sealed reference folder is still as it was sealed (every entry's inode and change
  // time, which no process can set back): nullopt, or what changed. Where roles share one uid a
  // submission can replace the reference's programs; this is how the grader sees that it did.
  std::optional<std::string> seal_broken(const std::string& name);

  // A cell for one test: every process the test spawns runs inside it.
  Result<Cell> open_cell(const CellOptions& options = {});
  // A process in a cell of its own, which it owns.
  Result<SandboxedProcess> spawn(const SpawnSpec& spec) override;

  struct Impl;

 private:
  explicit Sandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Probes what this host allows (root? namespaces? user namespaces?) without changing anything.
IsolationInfo detect_isolation(bool allow_namespaces = true);

}  // namespace ipcg
