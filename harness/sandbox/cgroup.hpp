// Private to harness_sandbox: one cell's cgroups, which limit the memory and the number of
// processes of a whole process tree and can kill all of it.
//
//   IPCG_TRY(auto made, CellCgroup::create(unique_cgroup_name(), {32u << 20, 64}));
//   if (!made.cgroup) note("no cgroup: " + made.why_not);        // rlimits only
//   IPCG_TRY(auto procs, made.cgroup->open_procs_files());       // the keeper writes "0" into each
//   ...
//   made.cgroup->kill_all(); bool oom = made.cgroup->oom_killed();
//
// Where: under the grader's own cgroup of each hierarchy (/proc/self/cgroup), never above it.
// Which: for memory and pids, cgroup v2 when our v2 cgroup offers the controller (we enable it in
// our cgroup.subtree_control if needed), else the v1 hierarchy that has it. A writable v2 tree is
// also used without controllers, for cgroup.kill and cgroup.events (hybrid hosts such as Debian
// 12 in its v1 mode). No memory and no pids controller usable: no cgroup, and why.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg::internal {

struct CgroupLimits {
  std::uint64_t memory_bytes = 0;  // 0: no limit (usage and OOM kills are still counted)
  std::int64_t pids = 0;           // 0: no limit
};

struct CgroupCreation;

class CellCgroup {
 public:
  // Creates the cgroup `name` (a single path component) in each hierarchy and sets the limits.
  // An error only for unexpected failures (the name exists, a limit is refused); an environment
  // without usable cgroups gives a CgroupCreation without cgroup.
  static Result<CgroupCreation> create(const std::string& name, const CgroupLimits& limits);

  CellCgroup(CellCgroup&&) noexcept = default;
  CellCgroup& operator=(CellCgroup&& other) noexcept;
  CellCgroup(const CellCgroup&) = delete;
  CellCgroup& operator=(const CellCgroup&) = delete;
  // destroy(), errors ignored.
  ~CellCgroup();

  // Which limits are enforced (a host may offer only one of the controllers).
  bool limits_memory() const;
  bool limits_pids() const;
  // The cgroup folders, for diagnostics.
  std::vector<std::string> paths() const;

  // cgroup.procs of each folder, O_WRONLY|O_CLOEXEC: a process joins by writing "0" into each
  // (async-signal-safe, so the keeper can do it after clone). The kernel checks the opener's
  // credentials, so the writer may have dropped privileges or entered a user namespace.
  Result<std::vector<UniqueFd>> open_procs_files() const;

  // Whether the kernel's OOM killer killed a process of the cell (memory.oom_control or
  // memory.events "oom_kill"). False without a memory controller.
  bool oom_killed() const;
  // The highest memory usage in bytes (memory.max_usage_in_bytes / memory.peak), 0 if unknown.
  std::uint64_t memory_peak() const;
  // No living process in the cell. Exited processes leave their cgroup before they are reaped.
  bool empty() const;
  // Waits until empty() (cgroup.events or the members' pidfds), at most `timeout`.
  bool wait_empty(std::chrono::milliseconds timeout) const;
  // SIGKILLs every process of the cell (cgroup.kill where there is one, then pidfds of the
  // listed members, round after round) and waits until empty (bounded). True when empty.
  bool kill_all();
  // kill_all() if needed, then removes every folder. Idempotent.
  Result<void> destroy();

 private:
  struct Folder {
    std::string path;  // absolute, for messages
    std::string name;
    UniqueFd parent;   // our own cgroup's folder in that hierarchy
    UniqueFd dir;
    bool v2 = false;
    bool memory = false;
    bool pids = false;
    bool kill_file = false;  // v2 cgroup.kill
  };
  CellCgroup() = default;
  Result<std::vector<pid_t>> members() const;

  std::vector<Folder> folders_;
};

// What create() made: a cgroup, or none and why (not root, read-only, no controller...).
struct CgroupCreation {
  std::optional<CellCgroup> cgroup;
  std::string why_not;
};

// "ipcgrade-<pid>-<counter>": unique among the cells of this process and of other graders.
std::string unique_cgroup_name();

// Removes the empty ipcgrade-<pid>-* cgroups of graders that are gone (killed before they
// could remove their own). Returns how many.
int sweep_dead_graders_cgroups();

// One line for diagnostics: "cgroup memory v1 at /sys/fs/cgroup/memory/..., pids ..." or
// "no cgroups: <why>". Probes once (see above: may enable controllers in our v2 cgroup).
std::string describe_cgroup_support();

}  // namespace ipcg::internal
