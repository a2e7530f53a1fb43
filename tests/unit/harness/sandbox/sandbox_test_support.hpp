// Shared by the sandbox test files (test_sandbox.cpp, test_seccomp.cpp, test_execution.cpp,
// test_cell.cpp), defined in test_sandbox.cpp. The helper programs are the test binary
// re-exec'ed with --helper=NAME.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/sandbox/sandbox.hpp"

namespace ipcg_test {
using namespace ipcg;

enum class Mode { full, reduced };
struct ProcId {
  pid_t pid;
  std::uint64_t start;  // start time: with the pid, names one process even across pid reuse
};

std::string self_exe();
// argv that re-execs this binary as helper `name` (see run_helper).
std::vector<std::string> helper(const std::string& name, std::vector<std::string> args = {});
std::optional<ProcId> proc_id(pid_t pid);
bool still_exists(const ProcId& id);
std::string status_line(pid_t pid, const std::string& key);
std::string mode_name(const ::testing::TestParamInfo<Mode>& info);
Result<Sandbox> make_box(Mode mode, std::vector<std::string> sets = {});
std::string read_all(int fd);
// Reads one line, blocking: the synchronisation point with a helper that announces itself.
std::string read_line(int fd);
// Waits (at most 10 s) for the process to exit; its exit code, or -1 if it did not exit.
int exit_code_of(SandboxedProcess& proc);

}  // namespace ipcg_test
