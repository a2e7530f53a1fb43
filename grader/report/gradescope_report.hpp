// Gradescope's results.json (docs/report-format.md, "Gradescope"):
//
//   write_gradescope_report(result, results_json_stream,
//                           {.hidden_test_visibility = GradescopeVisibility::after_published});
//
// Gradescope knows only passed and failed: every status but passed is "failed", and the real
// status is a tag. Hidden tests get hidden_test_visibility and, unless show_hidden_details,
// no message, evidence or output (the same contract as the text and JSON reports).
#pragma once

#include "harness/core/result.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ipcg {

// Who sees a result, and when (Gradescope's four values).
enum class GradescopeVisibility { hidden, after_due_date, after_published, visible };
std::string_view to_string(GradescopeVisibility v);
std::optional<GradescopeVisibility> parse_gradescope_visibility(std::string_view text);

// One column of the assignment's leaderboard, e.g. {"Throughput (msg/s)", 18250.0, "desc"}.
struct LeaderboardEntry {
  std::string name;
  std::variant<double, std::string> value;
  std::string order;  // "asc", "desc" or "" (Gradescope's default, descending)
};

struct GradescopeOptions {
  bool verbose = false;              // captured output of passed tests too, build warnings
  bool show_hidden_details = false;  // message/evidence/output of hidden tests
  GradescopeVisibility visibility = GradescopeVisibility::visible;          // the whole result
  GradescopeVisibility stdout_visibility = GradescopeVisibility::hidden;    // run_autograder's log
  GradescopeVisibility hidden_test_visibility = GradescopeVisibility::after_published;
  std::vector<LeaderboardEntry> leaderboard{};  // written only when not empty
  int indent = 2;                             // -1: one line
};

// The document, without a final newline.
std::string gradescope_report(const LabResult& result, const GradescopeOptions& options = {});

// gradescope_report and a newline.
void write_gradescope_report(const LabResult& result, std::ostream& os,
                             const GradescopeOptions& options = {});

}  // namespace ipcg
