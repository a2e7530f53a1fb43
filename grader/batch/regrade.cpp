#include "batch/regrade.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;

// Scores are sums of lab.toml points: equal up to rounding noise.
bool same_score(double a, double b) { return std::fabs(a - b) < 1e-9; }

double score_field(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string score_text(double score, double max) { return fmt::format("{}/{}", score, max); }

struct TestOutcome {
  std::string status = "absent";
  double score = 0, max = 0;
};

// The tests of a row by name, and their names in the row's (lab) order.
std::vector<std::pair<std::string, TestOutcome>> tests_of(const ResultRow& row) {
  std::vector<std::pair<std::string, TestOutcome>> cells;
  for (const auto& test : row.doc.value("tests", Json::array()))
    cells.emplace_back(test.value("name", std::string()),
                       TestOutcome{test.value("status", std::string("error")), score_field(test, "score"), score_field(test, "max_score")});
  return cells;
}

std::vector<TestChange> test_changes(const ResultRow& old_row, const ResultRow& new_row) {
  const auto old_tests = tests_of(old_row), new_tests = tests_of(new_row);
  std::map<std::string, TestOutcome> old_by_name(old_tests.begin(), old_tests.end());
  std::vector<std::pair<std::string, TestOutcome>> order = new_tests;
  for (const auto& [name, cell] : old_tests)
    if (std::none_of(new_tests.begin(), new_tests.end(), [&](const auto& t) { return t.first == name; }))
      order.emplace_back(name, TestOutcome{});
  std::vector<TestChange> changes;
  for (const auto& [name, now] : order) {
    const TestOutcome before = old_by_name.count(name) ? old_by_name[name] : TestOutcome{};
    if (before.status == now.status && same_score(before.score, now.score) && same_score(before.max, now.max)) continue;
    changes.push_back({name, before.status, now.status, before.score, now.score, before.max, now.max});
  }
  return changes;
}

ScoreChange score_change(const ResultRow& old_row, const ResultRow& new_row) {
  ScoreChange change{old_row.submission, score_field(old_row.doc, "score"), score_field(new_row.doc, "score"),
                     score_field(old_row.doc, "max_score"), score_field(new_row.doc, "max_score")};
  change.spec_changed = old_row.field("spec_hash") != new_row.field("spec_hash");
  change.grader_changed = old_row.field("grader_version") != new_row.field("grader_version");
  change.tests = test_changes(old_row, new_row);
  return change;
}

std::string side_status(const ResultRow* row) {
  if (!row) return "absent";
  if (row->is_error()) return "error: " + row->field("error");
  return score_text(score_field(row->doc, "score"), score_field(row->doc, "max_score"));
}

OneSided one_sided(const ResultRow& row) {
  return {row.submission, score_field(row.doc, "score"), score_field(row.doc, "max_score")};
}

GradedUnder origin_of(const std::vector<ResultRow>& rows) {
  GradedUnder origin;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto spec = rows[i].field("spec_hash"), version = rows[i].field("grader_version");
    origin.spec_hash = i == 0 || origin.spec_hash == spec ? spec : "mixed";
    origin.grader_version = i == 0 || origin.grader_version == version ? version : "mixed";
  }
  return origin;
}

// One submission's pair of rows (either may be missing, not both) into the diff.
void compare(const ResultRow* old_row, const ResultRow* new_row, RegradeDiff& diff) {
  if ((old_row && old_row->is_error()) || (new_row && new_row->is_error())) {
    const auto& name = old_row ? old_row->submission : new_row->submission;
    diff.errors.push_back({name, side_status(old_row), side_status(new_row)});
  } else if (!old_row) {
    diff.added.push_back(one_sided(*new_row));
  } else if (!new_row) {
    diff.dropped.push_back(one_sided(*old_row));
  } else if (auto change = score_change(*old_row, *new_row); same_score(change.old_score, change.new_score)) {
    ++diff.equal;
  } else {
    ++(change.delta() > 0 ? diff.up : diff.down);
    diff.changed.push_back(std::move(change));
  }
}

Json test_json(const TestChange& t) {
  return {{"name", t.name},           {"old_status", t.old_status}, {"new_status", t.new_status},
          {"old_score", t.old_score}, {"new_score", t.new_score},   {"old_max_score", t.old_max},
          {"new_max_score", t.new_max}};
}

Json change_json(const ScoreChange& c) {
  Json tests = Json::array();
  for (const auto& t : c.tests) tests.push_back(test_json(t));
  return {{"submission", c.submission}, {"old_score", c.old_score}, {"new_score", c.new_score},
          {"old_max_score", c.old_max}, {"new_max_score", c.new_max}, {"change", c.delta()},
          {"reason", c.reason()},       {"tests", tests}};
}

Json one_sided_json(const std::vector<OneSided>& rows) {
  Json out = Json::array();
  for (const auto& r : rows) out.push_back({{"submission", r.submission}, {"score", r.score}, {"max_score", r.max_score}});
  return out;
}

std::string changed_table(const std::vector<ScoreChange>& changed) {
  std::size_t width = 10;
  for (const auto& c : changed) width = std::max(width, c.submission.size());
  std::string text = fmt::format("{:<{}}  {:>9}  {:>9}  {:>7}  why\n", "submission", width, "old", "new", "change");
  for (const auto& c : changed) {
    text += fmt::format("{:<{}}  {:>9}  {:>9}  {:>+7}  {}\n", c.submission, width, score_text(c.old_score, c.old_max),
                        score_text(c.new_score, c.new_max), c.delta(), c.reason());
    for (const auto& t : c.tests)
      text += fmt::format("    {}: {} {} -> {} {}\n", t.name, t.old_status, score_text(t.old_score, t.old_max),
                          t.new_status, score_text(t.new_score, t.new_max));
  }
  return text;
}

std::string one_sided_text(const char* title, const std::vector<OneSided>& rows) {
  std::string text = fmt::format("{} ({}):\n", title, rows.size());
  for (const auto& r : rows) text += fmt::format("  {}  {}\n", r.submission, score_text(r.score, r.max_score));
  return text;
}

}  // namespace

std::string ScoreChange::reason() const {
  if (spec_changed && grader_changed) return "spec and grader changed";
  if (spec_changed) return "spec changed";
  if (grader_changed) return "grader changed";
  return "same spec and grader: a flaky test?";
}

RegradeDiff diff_results(const std::vector<ResultRow>& old_rows, const std::vector<ResultRow>& new_rows) {
  std::map<std::string, std::pair<const ResultRow*, const ResultRow*>> pairs;  // by name
  for (const auto& row : old_rows) pairs[row.submission].first = &row;
  for (const auto& row : new_rows) pairs[row.submission].second = &row;
  RegradeDiff diff;
  for (const auto& [name, pair] : pairs) compare(pair.first, pair.second, diff);
  // Stable: equal changes keep the map's name order.
  std::stable_sort(diff.changed.begin(), diff.changed.end(),
                   [](const auto& a, const auto& b) { return std::fabs(a.delta()) > std::fabs(b.delta()); });
  diff.old_origin = origin_of(old_rows);
  diff.new_origin = origin_of(new_rows);
  return diff;
}

Json regrade_json(const RegradeDiff& diff) {
  Json changed = Json::array(), errors = Json::array();
  for (const auto& c : diff.changed) changed.push_back(change_json(c));
  for (const auto& e : diff.errors)
    errors.push_back({{"submission", e.submission}, {"old", e.old_status}, {"new", e.new_status}});
  return {{"old", {{"spec_hash", diff.old_origin.spec_hash}, {"grader_version", diff.old_origin.grader_version}}},
          {"new", {{"spec_hash", diff.new_origin.spec_hash}, {"grader_version", diff.new_origin.grader_version}}},
          {"up", diff.up},
          {"down", diff.down},
          {"equal", diff.equal},
          {"changed", changed},
          {"added", one_sided_json(diff.added)},
          {"dropped", one_sided_json(diff.dropped)},
          {"errors", errors}};
}

std::string regrade_text(const RegradeDiff& diff) {
  std::string text = fmt::format(
      "{} changed ({} up, {} down), {} equal; {} new, {} dropped, {} with errors\n"
      "old: spec_hash {}, grader {}\nnew: spec_hash {}, grader {}\n",
      diff.changed.size(), diff.up, diff.down, diff.equal, diff.added.size(), diff.dropped.size(), diff.errors.size(),
      diff.old_origin.spec_hash, diff.old_origin.grader_version, diff.new_origin.spec_hash,
      diff.new_origin.grader_version);
  if (!diff.changed.empty()) text += "\n" + changed_table(diff.changed);
  if (!diff.added.empty()) text += "\n" + one_sided_text("new, not in the old results", diff.added);
  if (!diff.dropped.empty()) text += "\n" + one_sided_text("dropped, not in the new results", diff.dropped);
  if (!diff.errors.empty()) {
    text += fmt::format("\nerror rows ({}):\n", diff.errors.size());
    for (const auto& e : diff.errors) text += fmt::format("  {}  old: {}  new: {}\n", e.submission, e.old_status, e.new_status);
  }
  return text;
}

}  // namespace ipcg
