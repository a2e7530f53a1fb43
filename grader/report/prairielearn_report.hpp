// PrairieLearn's external-grader results.json (docs/report-format.md, "PrairieLearn"):
//
//   write_prairielearn_report(result, os, {});   // at most kPrairieLearnMaxBytes
//
// A submission that did not build is not gradable: gradable is false and format_errors holds
// the compiler's output, so PrairieLearn shows it and does not count the attempt as graded.
// Outputs too large for PrairieLearn's 1 MB limit are cut, largest first, with a mark.
#pragma once

#include "harness/core/result.hpp"

#include <cstddef>
#include <ostream>
#include <string>

namespace ipcg {

// PrairieLearn rejects results over 1 MB; 10^6 bytes is under it however a MB is counted.
inline constexpr std::size_t kPrairieLearnMaxBytes = 1'000'000;

struct PrairieLearnOptions {
  bool verbose = false;              // captured output of passed tests too, build warnings
  bool show_hidden_details = false;  // message/evidence/output of hidden tests
  std::size_t max_bytes = kPrairieLearnMaxBytes;  // the whole document, final newline included
  int indent = 2;                                 // -1: one line
};

// The document, without a final newline: at most options.max_bytes - 1 bytes whenever outputs
// and messages are what makes it large (names and numbers are never cut).
std::string prairielearn_report(const LabResult& result, const PrairieLearnOptions& options = {});

// prairielearn_report and a newline.
void write_prairielearn_report(const LabResult& result, std::ostream& os,
                               const PrairieLearnOptions& options = {});

}  // namespace ipcg
