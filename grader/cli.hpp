// The grader's command line, as a function tests can call:
//
//   int code = ipcg::run_cli({"grader", "run", "lab1", "--format", "json"}, std::cout, std::cerr);
//
// Exit codes (docs/report-format.md): 0 every test passed, 1 some test did not, 2 usage or
// configuration error, 3 internal error of the grader.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace ipcg {

inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 3;

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ipcg
