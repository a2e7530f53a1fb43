// Similar submissions of one lab, found with sim_c (Debian's similarity-tester) after the code
// every student received (skeleton, lab headers) is taken out: `grader similarity`.
//
//   SimilarityInput in{.submissions_dir = "subs", .names = {"alice", "bob"}, .sources = {"pipeline.c"},
//                      .handout_files = {"labs/lab1-pipe/skeleton/pipeline.c"}};
//   IPCG_TRY(auto sim_c, find_sim_c(getenv("PATH")));
//   IPCG_TRY(SimilarityReport r, compare_submissions(in, {.sim_c = sim_c, .jobs = 2}));
//   IPCG_CHECK(write_similarity_site(r, "similarity/"));   // pairs.csv, index.html, pair-N.html
//   std::cout << similarity_table(r, 20);
//
// It flags, it does not judge: a flagged pair is a reason to look at two programs side by side.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::similarity {

struct SimilarityInput {
  std::filesystem::path submissions_dir;  // one folder per submission
  std::vector<std::string> names;         // the submission folders compared
  std::vector<std::string> sources;       // the file names a submission holds (lab.toml [build] sources)
  std::vector<std::filesystem::path> handout_files;  // code every student received
};

struct SimilarityOptions {
  std::filesystem::path sim_c;  // find_sim_c()
  int threshold = 50;           // a pair is flagged when either holds this % of the other's text
  int jobs = 1;                 // sim_c processes at once
  int min_run = 24;             // tokens: shorter shared runs are ignored (sim_c's -r)
  int handout_run = 12;         // tokens: a run this long found in the handout is the handout's
  int common_limit = 10;        // code this many submissions hold is taken out too (0: never)
  int min_shared = 100;         // tokens: a flagged pair shares at least this much (1% of 33 tokens is noise)
  std::chrono::milliseconds time_limit{600'000};  // per sim_c run
  std::size_t output_cap = std::size_t{256} << 20;  // bytes per sim_c run
  std::size_t max_file_bytes = std::size_t{1} << 20;  // a longer source is read up to this
  std::filesystem::path temp_root;  // "" : TMPDIR or /tmp
};

// One submission's sources as compared: the files of `sources` in order, one after the other
// ("document" lines are 1-based over all of them).
struct SourceFile {
  std::string name;
  std::vector<std::string> lines;
  std::string note;  // "missing", "not a regular file", "cut at 1048576 bytes"; "" when read whole
};
struct SubmissionText {
  std::string name;
  std::vector<SourceFile> files;
  std::vector<bool> handout;  // per document line (index 0 = line 1): taken out as handout code
  std::vector<bool> common;   // per document line: taken out, held by common_limit submissions or more
  int tokens = 0;             // sim_c's count of what is left
  int line_count() const { return static_cast<int>(handout.size()); }
};

// A run of `tokens` tokens: document lines of the left submission and of the right one.
struct SharedRun {
  int left_first = 0, left_last = 0, right_first = 0, right_last = 0, tokens = 0;
};

struct PairResult {
  int a = 0, b = 0;                 // indexes into SimilarityReport::submissions
  int percent_a_in_b = 0;           // % of a's tokens (handout removed) found in b, as sim_c -p
  int percent_b_in_a = 0;
  long shared_a_in_b = 0, shared_b_in_a = 0;  // tokens
  SharedRun longest;                // left = a
  std::vector<SharedRun> runs;      // the direction with the larger share; left = a
  bool flagged = false;
  int top() const { return std::max(percent_a_in_b, percent_b_in_a); }
};

struct SimilarityReport {
  std::vector<SubmissionText> submissions;
  std::vector<PairResult> pairs;  // every pair, most similar first
  int threshold = 0, min_run = 0, handout_run = 0, common_limit = 0, min_shared = 0;
  int sim_runs = 0;               // sim_c processes run
  int flagged() const;
};

// sim_c in PATH, or a usage error naming the package to install.
Result<std::filesystem::path> find_sim_c(const std::string& path_env);

Result<SimilarityReport> compare_submissions(const SimilarityInput& input, const SimilarityOptions& options);

// "pipeline.c:12-40" (a document line range in its file's own numbers).
std::string describe_lines(const SubmissionText& s, int first, int last);

}  // namespace ipcg::similarity
