// The human report, laid out like GoogleTest's output (docs/report-format.md has the layout):
//
//   write_text_report(result, std::cout, {.color = isatty(1), .verbose = false,
//                                         .show_hidden_details = false});
//
//   [==========] lab1 — Anonymous pipes (anonymous pipe)
//   [  FAILED  ] pipe_ends_closed (0/10 pts) — unused pipe ends closed
//       pid 412 still holds fd 4 (pipe:[31337], write end)
//   [==========] 120/160 points, 14/16 tests passed
//
// Every string that may come from a student is sanitized and indented, so lines at column 0
// (and every "[" tag) come only from the grader.
#pragma once

#include "harness/core/result.hpp"
#include "report/exit_code.hpp"  // every caller of a writer also needs the exit code

#include <ostream>

namespace ipcg {

struct TextOptions {
  bool color = false;                // ANSI colours on the tags (green/red/yellow)
  bool verbose = false;              // captured output, build warnings and test durations
  bool show_hidden_details = false;  // TAs: message/evidence/output of hidden tests
};

void write_text_report(const LabResult& result, std::ostream& os,
                       const TextOptions& options = {});

// The 12-column tag for a status: "[  PASSED  ]", "[ KILLED   ]", ...
std::string_view text_tag(Status status);

}  // namespace ipcg
