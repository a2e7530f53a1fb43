// What a regrade changes, before it is applied: two batches' results.jsonl rows compared
// submission by submission (pure: no files).
//
//   RegradeDiff diff = diff_results(old_rows, new_rows);   // rows as parse_results() gives them
//   std::cout << regrade_text(diff);                         // the table `grader diff` prints
//   std::string json = regrade_json(diff).dump(2);           // `--format json`, regrade.json's core
//
// A submission is "changed" when its score differs; each change says which tests changed status
// or points and why: the lab.toml (spec_hash) differs, the grader (grader_version) differs, or
// neither did (a flaky test?). Rows present on one side only, and error rows, are listed apart.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "batch/results_log.hpp"

namespace ipcg {

struct TestChange {
  std::string name;
  std::string old_status, new_status;  // "absent" when the test is missing on that side
  double old_score = 0, new_score = 0, old_max = 0, new_max = 0;
};

struct ScoreChange {
  std::string submission;
  double old_score = 0, new_score = 0, old_max = 0, new_max = 0;
  bool spec_changed = false, grader_changed = false;
  std::vector<TestChange> tests;  // in the new row's lab order, then tests only the old row had
  double delta() const { return new_score - old_score; }
  std::string reason() const;  // "spec changed", "grader changed", "spec and grader changed", or the flaky note
};

// A submission graded on one side only.
struct OneSided {
  std::string submission;
  double score = 0, max_score = 0;
};

// A submission with an error row on either side: never counted up, down or equal.
struct ErrorPair {
  std::string submission;
  std::string old_status, new_status;  // "error: <message>", a "score/max", or "absent"
};

// What a side was graded under: the value every row agrees on, "mixed", or "" without rows.
struct GradedUnder {
  std::string spec_hash, grader_version;
};

struct RegradeDiff {
  std::vector<ScoreChange> changed;  // the largest |change| first; ties by name
  int up = 0, down = 0, equal = 0;
  std::vector<OneSided> added, dropped;  // in the new results only / the old results only, by name
  std::vector<ErrorPair> errors;         // by name
  GradedUnder old_origin, new_origin;
};

RegradeDiff diff_results(const std::vector<ResultRow>& old_rows, const std::vector<ResultRow>& new_rows);

// The JSON shape documented in docs/grading-a-class.md ("Regrading").
nlohmann::ordered_json regrade_json(const RegradeDiff& diff);

// The readable table: a totals line, the changed submissions with their tests, then the rest.
std::string regrade_text(const RegradeDiff& diff);

}  // namespace ipcg
