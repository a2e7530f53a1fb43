// A batch's grades in the import format of a learning-management system (`grader export`,
// docs/grading-a-class.md "Grades out"): Canvas's gradebook CSV, Moodle's offline grading
// worksheet, Blackboard's Grade Center upload, or a plain CSV.
//
//   std::vector<lms::GradeRow> rows = ...;             // one per results.jsonl row, scores as gradebook.csv writes them
//   IPCG_TRY(lms::Roster roster, lms::read_roster("roster.csv"));
//   IPCG_TRY(lms::Exported out, lms::export_grades(rows, roster, {.to = lms::Target::canvas, .column = "Lab 1 (12345)"}));
//   write(out.text); for (auto& w : out.warnings) warn(w);
//
// Sees only these rows and the roster: nothing of the harness. A roster student without a
// result gets an empty cell (an LMS leaves an empty cell alone), never a zero, and a warning.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "export/roster.hpp"
#include "harness/core/error.hpp"

namespace ipcg::lms {

enum class Target { canvas, moodle, blackboard, csv };
std::optional<Target> parse_target(std::string_view name);
std::vector<std::string> target_names();

// One graded submission, as gradebook.csv has it.
struct GradeRow {
  std::string id;         // the submission folder's name
  std::string score;      // gradebook.csv's text ("95", "12.5"); "" for an error row
  std::string max_score;
  std::string error;      // why the grader could not grade it; "" when graded
  std::string report;     // the text report (reports/<id>.txt), read for --feedback only
  std::string report_path;  // where the full report is, named when the feedback is cut
};

struct ExportOptions {
  Target to = Target::csv;
  std::string column;    // the grade column's header; "" takes `lab`
  std::string lab;       // "lab1"
  bool feedback = false;
  std::size_t feedback_limit = 0;  // characters per feedback cell; 0: the format's own
  std::string exported_at;         // UTC, "2026-12-06 02:31:00 UTC": Moodle's "Last modified (grade)"
};

// The largest feedback cell: a spreadsheet cell holds at most 32 767 characters (Excel), and the
// Moodle worksheet and the plain CSV are opened in one.
inline constexpr std::size_t kSpreadsheetCellLimit = 32767;

struct Exported {
  std::string text;                   // the file, CRLF line ends, UTF-8
  std::vector<std::string> warnings;  // each names the students concerned
  int rows = 0;                       // student rows written
};

// Errc::usage for an option the target cannot honour (--feedback for Canvas or Blackboard,
// --column for Moodle).
Result<Exported> export_grades(const std::vector<GradeRow>& rows, const std::optional<Roster>& roster,
                               const ExportOptions& options);

// The report cut on a line boundary so that encode(kept + marker) holds at most `limit` characters
// (code points); the marker says how many lines were cut and where the full report is.
std::string shorten_report(std::string_view report, std::size_t limit, std::string_view full_report,
                           std::string (*encode)(std::string_view));

}  // namespace ipcg::lms
