#include "report/gradescope_report.hpp"

#include "report/feedback.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;  // fields in the order docs/report-format.md lists them

constexpr std::array<GradescopeVisibility, 4> kVisibilities = {
    GradescopeVisibility::hidden, GradescopeVisibility::after_due_date,
    GradescopeVisibility::after_published, GradescopeVisibility::visible};

// Gradescope shows only passed/failed, so a test that did not pass says its real status first.
std::string test_output(const TestResult& t, const GradescopeOptions& options) {
  const bool passed = t.status == Status::passed;
  if (details_withheld(t, options.show_hidden_details)) {
    if (passed) return shows_output(t, options.verbose) ? std::string(kWithheldNote) : "";
    return verdict_line(t) + '\n' + std::string(kWithheldNote);
  }
  std::string out = passed ? "" : verdict_line(t);
  const std::string details = test_feedback(t, {.message = !passed, .evidence = !passed,
                                                .output = shows_output(t, options.verbose)});
  if (!out.empty() && !details.empty()) out += '\n';
  return out + details;
}

// The status Gradescope shows, and tags to filter by: the property and our real status.
Json test_json(const TestResult& t, std::size_t number, const GradescopeOptions& options) {
  Json tags = Json::array();
  if (!t.property.empty()) tags.push_back(t.property);
  tags.push_back(to_string(t.status));
  const bool hidden = t.visibility == Visibility::hidden;
  return {{"name", t.name},
          {"number", std::to_string(number)},
          {"score", t.score},
          {"max_score", t.max_score},
          {"status", t.status == Status::passed ? "passed" : "failed"},
          {"output", test_output(t, options)},
          {"tags", tags},
          {"visibility",
           to_string(hidden ? options.hidden_test_visibility : GradescopeVisibility::visible)}};
}

Json leaderboard_json(const std::vector<LeaderboardEntry>& entries) {
  Json board = Json::array();
  for (const LeaderboardEntry& e : entries) {
    Json entry = {{"name", e.name}};
    std::visit([&entry](const auto& value) { entry["value"] = value; }, e.value);
    if (!e.order.empty()) entry["order"] = e.order;
    board.push_back(entry);
  }
  return board;
}

}  // namespace

std::string_view to_string(GradescopeVisibility v) {
  switch (v) {
    case GradescopeVisibility::hidden: return "hidden";
    case GradescopeVisibility::after_due_date: return "after_due_date";
    case GradescopeVisibility::after_published: return "after_published";
    case GradescopeVisibility::visible: return "visible";
  }
  return "hidden";
}

std::optional<GradescopeVisibility> parse_gradescope_visibility(std::string_view text) {
  for (GradescopeVisibility v : kVisibilities)
    if (to_string(v) == text) return v;
  return std::nullopt;
}

std::string gradescope_report(const LabResult& r, const GradescopeOptions& options) {
  Json tests = Json::array();
  for (std::size_t i = 0; i < r.tests.size(); ++i)
    tests.push_back(test_json(r.tests[i], i + 1, options));
  // Gradescope's example gives whole seconds; rounding up never shows a run as taking 0 s.
  const auto seconds = static_cast<std::int64_t>(std::ceil(std::max(0.0, r.duration_seconds)));
  Json doc = {{"score", r.score},
              {"execution_time", seconds},
              {"output", run_overview(r, options.verbose)},
              {"output_format", "text"},
              {"visibility", to_string(options.visibility)},
              {"stdout_visibility", to_string(options.stdout_visibility)},
              {"tests", tests}};
  if (!options.leaderboard.empty()) doc["leaderboard"] = leaderboard_json(options.leaderboard);
  return doc.dump(options.indent, ' ', false, Json::error_handler_t::replace);
}

void write_gradescope_report(const LabResult& result, std::ostream& os,
                             const GradescopeOptions& options) {
  os << gradescope_report(result, options) << '\n';
}

}  // namespace ipcg
