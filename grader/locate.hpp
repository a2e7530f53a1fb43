// Where the grader's data lives, relative to its own executable, so the build tree and an
// installed tree work alike: <prefix>/bin/grader, <prefix>/share/ipcgrade/{labs,reference},
// <prefix>/libexec/ipcgrade/<lab>/. IPCGRADE_HOME (a share/ipcgrade-like folder) and
// IPCGRADE_LIBEXEC override.
#pragma once

#include <filesystem>

#include "harness/core/error.hpp"

namespace ipcg {

struct GraderPaths {
  std::filesystem::path labs_root;
  std::filesystem::path reference_root;
  std::filesystem::path tools_root;
};

Result<GraderPaths> locate_paths();

}  // namespace ipcg
