// What graders that are gone left on this host, and its removal: a grader killed outright
// (SIGKILL, a batch system's time limit) cannot remove its work folders or its cells' cgroups.
// Every Sandbox::create sweeps them; `grader cleanup` does it on demand, and a grader stopped by
// SIGINT, SIGTERM or SIGHUP starts `grader cleanup --after <its pid>` as it goes.
//
//   SweptLeftovers swept = sweep_dead_graders_leftovers();   // $TMPDIR or /tmp, and the cgroups
#pragma once

#include <filesystem>

namespace ipcg {

struct SweptLeftovers {
  int work_folders = 0;  // ipcgrade-<pid>-XXXXXX folders of graders whose pid is gone, own uid only
  int cgroups = 0;       // empty ipcgrade-<pid>-N cgroups of graders that are gone
};

// Only what belongs to graders whose pid answers no signal (a reused pid keeps its leftovers
// until that process is gone too), only our own uid's folders, never followed through a symlink.
// `work_parent`: where the work folders are made (default: $TMPDIR, else /tmp).
SweptLeftovers sweep_dead_graders_leftovers(const std::filesystem::path& work_parent = {});

}  // namespace ipcg
