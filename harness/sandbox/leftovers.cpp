// sweep_dead_graders_leftovers: the sweeps Sandbox::create runs, for `grader cleanup`.
#include "harness/sandbox/leftovers.hpp"

#include "cgroup.hpp"
#include "sandbox_internal.hpp"

namespace ipcg {

SweptLeftovers sweep_dead_graders_leftovers(const std::filesystem::path& work_parent) {
  SweptLeftovers swept;
  // rmdir refuses a cgroup that still holds a process: such a one waits for the next sweep.
  swept.cgroups = internal::sweep_dead_graders_cgroups();
  swept.work_folders = internal::sweep_dead_graders_work_dirs(work_parent);
  return swept;
}

}  // namespace ipcg
