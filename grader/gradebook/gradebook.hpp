// The class's gradebook from a batch's results.jsonl: read it, then summarize it for the page.
//
//   IPCG_TRY(gradebook::Gradebook book, gradebook::read_results(out_dir / "results.jsonl"));
//   gradebook::Summary s = gradebook::summarize(book);
//   std::cout << s.graded << " graded, mean " << s.mean << "/" << s.max_score << '\n';
//
// Works from results.jsonl alone (format in docs/report-format.md, "Gradebook page"): statuses
// stay the JSON strings ("passed", "timeout", ...), nothing of the harness is needed.
#pragma once

#include <array>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::gradebook {

// One test of one graded submission.
struct TestCell {
  std::string name;
  std::string property;
  std::string status;  // the JSON report's status value
  double score = 0;
  double max_score = 0;
};

struct Submission {
  std::string name;  // the "submission" field: the submission's folder name
  double score = 0;
  double max_score = 0;
  bool built = true;
  std::vector<TestCell> tests;  // in lab order
};

// A submission the grader could not grade at all, or a line of results.jsonl it could not read.
struct GraderError {
  std::string submission;
  std::string message;
};

struct Gradebook {
  std::string lab;  // from the first line; lines of another lab are listed as errors
  std::string title;
  std::string grader_version;
  std::vector<Submission> submissions;  // graded ones, in file order
  std::vector<GraderError> errors;
};

// Reads every line; a line that is not a report becomes a GraderError naming its line number.
// A submission that appears twice (a resumed batch) keeps its last line. Fails only when the
// file cannot be opened.
Result<Gradebook> read_results(const std::filesystem::path& results_jsonl);
Gradebook parse_results(std::istream& in);

// One test across the class.
struct TestRate {
  std::string name;
  std::string property;
  double max_score = 0;
  int passed = 0;
  int total = 0;  // graded submissions that have this test
  double pass_rate() const { return total == 0 ? 0.0 : static_cast<double>(passed) / total; }
};

// How many graded submissions had at least one test end this way.
struct OutcomeCounts {
  int timeout = 0;
  int hung = 0;  // every process blocked, ended before the wall limit
  int crashed = 0;
  int build_failed = 0;
  int killed_by_filter = 0;
  int error = 0;
};

inline constexpr int kHistogramBins = 10;  // each 10% of max_score wide; the last includes 100%

struct Summary {
  int submissions = 0;  // graded + grader errors
  int graded = 0;
  double max_score = 0;  // the largest max_score among graded submissions
  double mean = 0;       // points, over graded submissions
  double median = 0;
  std::array<int, kHistogramBins> histogram{};
  std::vector<TestRate> tests;  // most failed first; ties keep lab order
  OutcomeCounts outcomes;
};

Summary summarize(const Gradebook& book);

// The histogram bin of a score: floor(10 * score / max_score), clamped to 0..9.
int histogram_bin(double score, double max_score);

// The last `grader diff --apply` of an output folder, from its regrade.json (format in
// docs/grading-a-class.md, "Regrading"), for the page's "Last regrade" section.
struct RegradeNote {
  struct Change {
    std::string submission;
    double old_score = 0, new_score = 0;
    std::string reason;
  };
  std::string when, archive;
  std::string old_spec_hash, new_spec_hash, old_grader_version, new_grader_version;
  int up = 0, down = 0, equal = 0;
  std::vector<Change> changed;  // as the file lists them: the largest change first
};

// std::nullopt when the file does not exist; Errc::config naming the file when it is not JSON.
Result<std::optional<RegradeNote>> read_regrade_note(const std::filesystem::path& regrade_json);

}  // namespace ipcg::gradebook
