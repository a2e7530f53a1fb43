// Grades every subfolder of a folder, in parallel slots, resumably, into an output folder:
// results.jsonl, gradebook.csv and reports/<submission>.txt (docs/grading-a-class.md).
//
//   BatchOptions options{.folder = "subs", .out = "grades", .jobs = 2};
//   options.grade_template.grader_version = grader_version();
//   TerminalProgress progress(std::cout, isatty(1));
//   IPCG_TRY(BatchSummary s, run_batch(lab, options, progress));
//
// One submission's failed build, crash, timeout or even grader Error never stops the batch: an
// Error becomes an error row. The worker threads live until the queue is empty, because a
// sandbox's keeper gets a parent-death signal when the thread that spawned it ends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "batch/progress.hpp"
#include "batch/results_log.hpp"
#include "batch/shard.hpp"
#include "harness/runner/runner.hpp"
#include "report/text_report.hpp"

namespace ipcg {

using GradeFn = std::function<Result<LabResult>(const LabSpec&, const GradeOptions&)>;

struct BatchOptions {
  std::filesystem::path folder;  // one subfolder per submission
  std::filesystem::path out = "grades";
  int jobs = 1;
  Shard shard;
  std::optional<std::uint64_t> seed;  // unset: the seed of earlier rows, else fallback_seed
  std::uint64_t fallback_seed = 0;
  GradeOptions grade_template;        // allow_namespaces, tools_root, grader_version
  TextOptions text;                   // reports/<submission>.txt: language and the lab's strings in it
  GradeFn grade_fn = grade;           // the seam unit tests replace
};

struct BatchSummary {
  std::uint64_t seed = 0;
  int graded = 0;
  int skipped = 0;  // already in results.jsonl
  int errors = 0;   // grader Errors (rows with "error")
};

// Subfolder names, sorted; hidden folders (".git") are not submissions.
Result<std::vector<std::string>> list_submissions(const std::filesystem::path& folder);

// The names of this shard that results.jsonl does not already hold a grade for.
std::vector<std::string> pending_submissions(const std::vector<std::string>& names, const Shard& shard,
                                             const std::vector<ResultRow>& rows, std::string_view spec_hash,
                                             std::string_view grader_version);

Result<BatchSummary> run_batch(const LabSpec& lab, const BatchOptions& options, ProgressSink& progress);

}  // namespace ipcg
