// The grader's exit status for a graded run, a documented contract (docs/report-format.md):
//
//   write_text_report(result, std::cout, options);
//   return exit_code_for(result);       // 0: everything passed, 1: something did not
//
// The CLI (grader/cli.hpp) names the codes (kExitPassed, kExitFailed) and adds the two for runs
// that produced no grade: 2 for usage/configuration errors, 3 for internal errors.
#pragma once

#include "harness/core/result.hpp"

namespace ipcg {

// 0 when result.all_passed() (built, every test passed or was skipped), 1 otherwise.
int exit_code_for(const LabResult& result);

}  // namespace ipcg
