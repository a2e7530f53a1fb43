// Autolab's autograder output (docs/report-format.md, "Autolab"):
//
//   write_autolab_report(result, std::cout, {});
//
// A human summary (the text report, no colour) and then, as the last line, the JSON Autolab
// reads: {"scores": {"<test>": <score>, ...}, "scoreboard": [<total>, <test score>, ...]}.
// Student text in the summary is indented, so the last line is always the grader's.
#pragma once

#include "harness/core/result.hpp"

#include <ostream>
#include <string>

namespace ipcg {

struct AutolabOptions {
  bool verbose = false;              // captured output of every test in the summary
  bool show_hidden_details = false;  // message/evidence/output of hidden tests
};

void write_autolab_report(const LabResult& result, std::ostream& os,
                          const AutolabOptions& options = {});

// The last line alone, without its newline.
std::string autolab_scores_line(const LabResult& result);

}  // namespace ipcg
