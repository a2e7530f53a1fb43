// results.jsonl: one graded submission per line, the resumable record of a batch.
//
//   IPCG_TRY(ResultsLog log, ResultsLog::open(out / "results.jsonl"));  // locks, drops a cut-off tail
//   if (already_graded(row, lab.spec_hash, version)) skip...
//   IPCG_CHECK(log.append(result_line(result, "alice")));                 // one write + fsync
//   IPCG_CHECK(log.compact());   // latest line per submission, sorted by name
//
// A line is the JSON report (report/json_report.hpp, one line) with "submission" set to the
// subfolder name, or, when the grader itself failed, {"submission", "error", "lab", "spec_hash",
// "grader_version"}. A kill can cut the last line short: it is detected (no newline, or not JSON)
// and ignored, and open() truncates it away before anything is appended.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/core/result.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg {

struct ResultRow {
  std::string submission;
  std::string line;  // the line as written, without its newline
  nlohmann::ordered_json doc;

  bool is_error() const;  // the grader could not grade it (no score)
  std::string field(const char* key) const;  // a string field, or "" when absent
};

// One line of results.jsonl; Errc::config when it is not a JSON object with a "submission".
Result<ResultRow> parse_row(std::string_view line);

struct ParsedResults {
  std::vector<ResultRow> rows;  // the latest line of each submission, sorted by name
  std::size_t complete_bytes = 0;  // the text up to the last newline
  int ignored_lines = 0;        // cut off or not JSON
};
ParsedResults parse_results(std::string_view text);

// The lines a batch writes (no trailing newline).
std::string result_line(const LabResult& result, const std::string& submission);
std::string error_line(const std::string& submission, const std::string& message, const std::string& lab,
                       const std::string& spec_hash, const std::string& grader_version);

// Resume: a row counts as done when it has a grade from the same lab.toml and grader version.
bool already_graded(const ResultRow& row, std::string_view spec_hash, std::string_view grader_version);

// Rows sorted by submission name, the later of two rows for one submission winning.
std::vector<ResultRow> latest_rows(std::vector<ResultRow> rows);

// Writes text to path through a temporary file and rename, so readers never see half of it.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view text);

// Reads a whole file; a missing file reads as empty.
Result<std::string> read_text_file(const std::filesystem::path& path);

class ResultsLog {
 public:
  // Creates the file if needed and takes an exclusive lock (a second batch on the same folder is
  // Errc::usage); truncates a cut-off last line.
  static Result<ResultsLog> open(const std::filesystem::path& path);

  const std::vector<ResultRow>& rows() const { return rows_; }
  int ignored_lines() const { return ignored_lines_; }
  Result<void> append(const std::string& line);
  // Rewrites the file as rows() (latest per submission, sorted by name).
  Result<void> compact();

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  std::vector<ResultRow> rows_;
  int ignored_lines_ = 0;
};

}  // namespace ipcg
