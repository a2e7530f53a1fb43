// The machine report: one JSON document, schema in docs/report-format.md.
//
//   std::cout << json_report(result, {.show_hidden_details = false}) << '\n';
//
// The document is valid UTF-8 even if a student printed invalid bytes (they become U+FFFD);
// control characters are JSON-escaped, so a consumer rendering them must still escape them.
#pragma once

#include "harness/core/result.hpp"
#include "report/exit_code.hpp"  // every caller of a writer also needs the exit code

#include <string>

namespace ipcg {

inline constexpr int kJsonSchemaVersion = 1;

struct JsonOptions {
  bool show_hidden_details = false;  // TAs: message/evidence/output of hidden tests
  int indent = 2;                    // -1: the whole document on one line
};

std::string json_report(const LabResult& result, const JsonOptions& options = {});

}  // namespace ipcg
