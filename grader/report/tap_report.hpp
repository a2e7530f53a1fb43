// TAP version 14 (docs/report-format.md, "TAP"), for prove, tappy and CI TAP consumers:
//
//   write_tap_report(result, std::cout, {});
//
//   TAP version 14
//   1..9
//   ok 1 - pipeline_two_stages
//   not ok 2 - pipe_ends_closed
//     ---
//     status: "failed"
//     message: "child pid 412 still holds the write end of the pipe"
//     ...
//   ok 8 - duplex_large_messages # SKIP not selected by --only
//
// Every diagnostic value is a double-quoted (JSON) string on one line, so nothing a student
// prints can end the YAML block or start a test line; comments start every other line.
#pragma once

#include "harness/core/result.hpp"

#include <ostream>

namespace ipcg {

struct TapOptions {
  bool verbose = false;              // captured output of passed tests too, build warnings
  bool show_hidden_details = false;  // message/evidence/output of hidden tests
};

void write_tap_report(const LabResult& result, std::ostream& os, const TapOptions& options = {});

}  // namespace ipcg
