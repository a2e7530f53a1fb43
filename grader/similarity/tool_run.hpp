// Runs a trusted tool (sim_c) over untrusted files: argv without a shell, a working folder, a
// wall-time limit and a cap on what it may print. The child is killed and reaped on every path.
//
//   ToolRun run{.argv = {"/usr/bin/sim_c", "-n", "a.c", "b.c"}, .cwd = work, .time_limit = 60s};
//   IPCG_TRY(std::string out, run_tool(run));   // its stdout; Errc::io when it fails or overruns
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::similarity {

struct ToolRun {
  std::vector<std::string> argv;  // argv[0] is the program's path
  std::filesystem::path cwd;      // "" keeps ours
  std::chrono::milliseconds time_limit{600'000};
  std::size_t output_cap = std::size_t{256} << 20;  // bytes of stdout; stderr keeps its first 4 KiB
};

// The tool's stdout when it exits 0. A non-zero exit, a signal, the time limit or the output cap
// is an Errc::io error naming the tool and quoting the start of its stderr.
Result<std::string> run_tool(const ToolRun& run);

// `name` found in the folders of PATH (or `path` itself when it holds a '/'), else "".
std::filesystem::path find_program(const std::string& name, const std::string& path_env);

}  // namespace ipcg::similarity
