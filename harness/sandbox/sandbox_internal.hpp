// Private to harness_sandbox: the plan a child follows after clone, the messages of the spawn
// protocol, and /proc helpers. Nothing here is public API.
//
// The process tree of one cell, in both isolation levels:
//
//   grader ── keeper ── target ── (the student's children...)
//                    └─ target ── ...
//
// The keeper (the ipcg-keeper executable, keeper/keeper.cpp) is pid 1 of new namespaces (full)
// or a child subreaper (reduced): either way every orphan of the tree re-parents to it, so "the
// tree" is exactly the keeper's descendants. It reaps them all, reports the targets' wait
// statuses to the grader, and lives until the grader closes the control socket or kills it.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <filesystem>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/sandbox/sandbox.hpp"
#include "harness/seccomp/seccomp_filter.hpp"
#include "cgroup.hpp"
#include "keeper_protocol.hpp"
#include "pidfd.hpp"
#include "role_ids.hpp"

namespace ipcg::internal {

// What this process may do to isolate a cell: the whole difference between root's cells and an
// unprivileged user's (isolation.cpp decides it once per Sandbox). Everything else, the root
// plan, rlimits, filters and the keeper, is the same for both.
struct CellPowers {
  bool namespaces = false;      // IPC, PID, mount, network and UTS namespaces per cell
  // Not root: those namespaces sit in a new user namespace that maps only our own uid and gid
  // (to kCellUid), so /dev nodes are bound from the host (mknod needs the host's root) and a
  // bind keeps the flags the host's mount has (the kernel locks them).
  bool user_namespace = false;
  bool role_uids = false;       // roles run as uids of their own (root: the slot's)
  // Not root, role uids: the subordinate ids newuidmap maps into each cell's user namespace
  // (role_ids.hpp). Roles then have the same uids inside as root's first slot.
  std::optional<RoleIdMap> mapped_ids;
};

// The uid and gid every process of a cell has inside a user namespace of its own (what our
// uid and gid map to). Not 0: no process of the cell but the set-up child before its exec ever
// holds a capability, and the first slot's uid is what a student process sees as root does.
constexpr uid_t kCellUid = 61000;

// "<inside> <outside> 1\n": a uid_map or gid_map line that maps one id.
inline std::string one_id_map(unsigned inside, unsigned outside) {
  return std::to_string(inside) + " " + std::to_string(outside) + " 1\n";
}

struct Isolation {
  IsolationInfo info;
  CellPowers powers;
};
Isolation decide_isolation(bool allow_namespaces);

// What a cell owns besides its keeper: cgroups, and in reduced mode the IPC objects that existed
// before it opened (cgroup.cpp, leaks.cpp).
struct CellExtras {
  std::optional<CellCgroup> cgroup;
  std::string cgroup_note;
  // Reduced mode: the owners whose new IPC objects are the cell's, and what they owned before.
  std::set<uid_t> owners;
  std::set<std::string> before;
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
    dev_tmpfs,      // a small tmpfs that allows device nodes (for /dev), options in source
    dev_node,       // a character device node at target, numbers in rdev, mode 0666
  };
  Kind kind = make_dir;
  const char* target = nullptr;
  const char* source = nullptr;
  std::uint64_t rdev = 0;
  bool needs_source_fd() const { return kind == bind_readonly || kind == bind_device || kind == bind_work; }
};
// Where the new root is assembled before pivot_root: a path every host has, hidden only inside
// the keeper's mount namespace. Bind sources are opened before it is covered.
constexpr const char* kStageRoot = "/tmp";
// The most mount steps one box may have (the keeper keeps their source fds in a stack array).
constexpr size_t kMaxMountSteps = 192;

// "mount /proc", "exec", ...: what a StepFailure names, in words.
std::string_view to_string(Step step);

// What the cloned child needs to set the cell up and exec the keeper, computed before clone.
// The child shares the grader's memory and runs only async-signal-safe calls: it only reads this.
struct KeeperPlan {
  bool namespaces = false;
  // namespaces inside a new user namespace: the child writes these maps for itself first
  // ("<inside> <outside> 1\n", made by the grader: the child may not allocate).
  bool user_namespace = false;
  std::string uid_map, gid_map;
  // Mapped by the grader instead (newuidmap: several ids): the child sends its pid on
  // map_ready_fd and waits for a byte on map_go_fd (ParentMapping), and leaves setgroups allowed.
  int map_ready_fd = -1, map_go_fd = -1;
  pid_t grader_pid = 0;
  int control_fd = -1;     // the keeper's end of the control socket
  int report_fd = -1;      // write end of the CLOEXEC report pipe (a StepFailure, or EOF when ready)
  int filters_fd = -1;     // the sealed memfd holding the syscall filters (keeper_protocol.hpp)
  int keeper_exe_fd = -1;  // the ipcg-keeper executable, opened O_PATH
  char* const* keeper_argv = nullptr;  // its command line (keeper_protocol.hpp); no environment
  std::vector<MountStep> mounts;        // full: the box's root, in order
  std::vector<int> cgroup_procs;        // open cgroup.procs files the child joins first
  std::vector<int> keeper_keep;         // sorted: every fd the child keeps
};

// A host file or folder the box sees at another path (SandboxConfig::readonly_paths).
struct PathMapping {
  std::filesystem::path host;  // absolute and normal; a symlink the caller named stays as named
  std::filesystem::path box;
};
// Where host_path is in the box, if it is one of the mapped paths or inside one of them.
std::optional<std::filesystem::path> map_to_box(const std::vector<PathMapping>& mappings,
                                                const std::filesystem::path& host_path);

// Where SandboxConfig::readonly_paths appear in the box: the n-th folder at <root>/<n>, the n-th
// file at <root>/<n>/<its name>. Fixed paths, so what the box sees never depends on where the
// checkout or the build folder is (a host path under /tmp would show in the box's /tmp).
constexpr const char* kReadonlyRoot = "/run/ipcgrade/ro";

// The box's root in full isolation (sandbox_root.cpp), computed once per Sandbox. It owns the
// strings its steps point into (a deque: moving it keeps them where they are).
class RootPlan {
 public:
  // etc_dir: a host folder holding the box's /etc (stage_etc), bound read-only in one step.
  // make_device_nodes: /dev nodes by mknod (root), else bound from the host's /dev.
  static Result<RootPlan> build(const std::filesystem::path& work_dir, const std::filesystem::path& etc_dir,
                                const std::vector<std::filesystem::path>& readonly_paths, bool make_device_nodes);
  // Copies the few /etc entries a box needs (not shadow, not the host's configuration) into dir.
  static Result<void> stage_etc(const std::filesystem::path& dir);
  const std::vector<MountStep>& steps() const { return steps_; }
  // Where each read-only path the caller gave is in the box (as named, and resolved).
  const std::vector<PathMapping>& readonly_mappings() const { return mappings_; }

 private:
  const char* keep(std::string s);
  void add(MountStep::Kind kind, const std::string& path, const std::string& source = {});
  void make_parents(const std::string& path);
  bool covered(const std::string& path) const;  // already inside a bound folder
  void system_entry(const std::string& path);
  void readonly_entry(const std::filesystem::path& path, size_t index);
  void dev_tree(bool make_device_nodes);

  std::deque<std::string> strings_;
  std::vector<MountStep> steps_;
  std::vector<std::string> bound_;  // box paths bound so far (their insides are read-only)
  std::set<std::string> made_;      // box paths created so far
  std::vector<PathMapping> mappings_;
};

// Clones a child into namespace_flags' new namespaces (CLONE_VM|CLONE_VFORK: no copy of the
// grader's memory; the calling thread waits until the child has exec'd the keeper or failed).
// *pidfd receives its pidfd.
pid_t clone_keeper(const KeeperPlan& plan, unsigned long namespace_flags, int* pidfd);
// The same for any child that only makes raw system calls on its own stack before it execs or
// _exits: fn(arg) runs CLONE_VM|CLONE_VFORK|extra_flags with every signal blocked.
pid_t clone_vfork(int (*fn)(void*), void* arg, unsigned long extra_flags, int* pidfd);

// clone3 (or clone where a container's seccomp hides clone3) with fork semantics: the child
// continues on a copy of the stack. *pidfd receives a pidfd when pidfd != nullptr.
pid_t raw_clone(unsigned long flags, int* pidfd);

// The ipcg-keeper executable, opened O_PATH|O_CLOEXEC: next to the running program's folder
// (<bin>/../libexec/ipcgrade/, the build tree and the install tree alike), else where this
// build put it; only a regular file owned by root or our user and writable by nobody else.
Result<UniqueFd> open_keeper_executable();
// A sealed memfd with the compiled filters, in the layout of keeper_protocol.hpp.
Result<UniqueFd> make_filter_file(const SeccompFilter* const (&filters)[kFilterCount]);

// Who the cell's processes run as, and where the work folder is inside (from the Sandbox).
struct CellIdentity {
  std::string box_dir;
  std::vector<PathMapping> readonly;  // full isolation: argv[0] under one of these is exec'd in the box
  bool change_ids = false;  // root: roles take the slot's uids
  uid_t student_uid = 0, reference_uid = 0;
  gid_t student_gid = 0, reference_gid = 0;
  // The real gid roles run with when it differs from their gid (kMappedObserverGid: keeps them
  // non-dumpable, so the grader can read their /proc); none: the role's gid.
  std::optional<gid_t> real_gid;
  // What RLIMIT_NPROC counts for the cell's processes (the kernel counts per uid, and in a user
  // namespace per uid of that namespace), and so what a role's allowance becomes.
  enum class ProcessCount {
    user_wide,      // the caller's uid on the host (reduced, not root): its tasks now + the keeper
    per_role,       // a slot uid per role (root): the role's processes alone
    cell_wide,      // one uid in the cell's user namespace: both roles and the keeper
  };
  ProcessCount process_count = ProcessCount::user_wide;
};

}  // namespace ipcg::internal

namespace ipcg {

// The grader's side of a cell (sandbox_cell.cpp): the keeper, the control socket, and what the
// keeper reported. Shared by the Cell and its processes; the last owner closes the cell.
struct Cell::Core {
  internal::CellIdentity identity;
  std::string tag;                // Cell::tag()
  bool namespaces = false;
  pid_t keeper = -1;
  UniqueFd keeper_pidfd;
  bool keeper_reaped = false;
  UniqueFd control;
  std::map<pid_t, int> statuses;  // wait statuses of spawned processes, by pid in the cell
  std::vector<internal::KeeperMessage> leftovers;  // answers to close (Request::close)
  bool closed_seen = false;
  std::vector<internal::KeeperMessage> listing;    // answers to Request::list, apart from leftovers
  bool listing_done = false;
  std::vector<uid_t> slot_uids;   // reduced mode as root: every process of these uids dies
  // Reduced mode: every process seen in the cell (pid -> start time), to find it again if the
  // keeper was killed and it re-parented to the grader (a subreaper too).
  std::map<pid_t, std::uint64_t> seen;
  std::unique_ptr<internal::CellExtras> extras;  // cgroups and the leftover baseline
  std::optional<CellReport> report;

  enum class Pump { message, timeout, gone };
  // Waits up to timeout_ms (-1: forever) for one keeper message and files it; a `spawned`
  // answer is handed to the caller (with its pidfd) instead.
  Pump pump(int timeout_ms, internal::KeeperMessage* spawned = nullptr, UniqueFd* pidfd = nullptr);
  CellReport close();
  // Cell::ipc_objects: the keeper's listing (full), or the host's objects attributed to this cell.
  Result<std::vector<IpcObject>> ipc_objects();
  ~Core();
};

}  // namespace ipcg

namespace ipcg::internal {

// Clones the keeper and waits until it is ready (or says which setup step failed).
// parent_maps: the cell's ids are mapped by the grader (newuidmap) while the child waits.
Result<std::shared_ptr<Cell::Core>> start_cell(KeeperPlan& plan, CellIdentity identity,
                                               std::vector<uid_t> slot_uids, std::unique_ptr<CellExtras> extras,
                                               const RoleIdMap* parent_maps = nullptr);
// Sends an encoded spawn request (SpawnRequest + strings) with its descriptors and waits for the
// answer.
Result<SandboxedProcess> spawn_in(const std::shared_ptr<Cell::Core>& core, const std::vector<char>& request,
                                  const std::vector<int>& fds, const std::string& program, bool owns_cell);

// The handle of a process the keeper spawned (sandbox_process.cpp).
SandboxedProcess make_process(const std::shared_ptr<Cell::Core>& core, pid_t cell_pid, UniqueFd pidfd,
                              const std::string& program, bool owns_cell);

// The spawn request the keeper unpacks (spawn_request.cpp): a SpawnRequest, then cwd, argv, env
// and the exec candidates, NUL-terminated. Fails on a malformed spec or one too big to send.
Result<std::vector<char>> encode_spawn_request(const CellIdentity& id, const SpawnSpec& spec);

// --- the work folder and folders the box could write (work_dir.cpp) -----------------------------
// A new private folder (0711) under requested, or $TMPDIR, or /tmp: ipcgrade-<pid>-XXXXXX.
Result<std::filesystem::path> make_work_dir(const std::filesystem::path& requested);
// Removes the work folders there of graders that are gone (killed before their Sandbox ended);
// returns how many.
int sweep_dead_graders_work_dirs(const std::filesystem::path& requested);
// A single folder name: not empty, ".", ".." or holding a '/'.
bool valid_dir_name(const std::string& name);
// The names in a folder, through a copy of its descriptor.
std::vector<std::string> list_names(int dir_fd);
// Removes name under dir_fd without following symlinks (a folder is emptied through its
// descriptor), and everything under a folder.
void remove_entry(int dir_fd, const char* name, int depth = 0);
void remove_children(int dir_fd, int depth = 0);

// --- /proc, for the tree walk ---------------------------------------------------------------
struct ProcStat {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot: with the pid, names a process uniquely
};
std::optional<ProcStat> read_proc_stat(pid_t pid);
// SIGKILL through a pidfd, after checking the pid still names the process we listed: between
// the listing and the kill it may have been reaped and the pid reused. Returns the pidfd.
UniqueFd kill_verified(const ProcStat& listed);
// Children of every thread of pid (from /proc/PID/task/TID/children).
std::vector<pid_t> proc_children(pid_t pid);
// Tasks (threads) of uid on the host: what RLIMIT_NPROC counts.
int count_user_tasks(uid_t uid);

}  // namespace ipcg::internal
