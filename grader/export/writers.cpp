// The four formats. Sources for each (docs/grading-a-class.md, "Grades out", says more):
// - Canvas: canvas-lms app/models/gradebook_importer.rb: a header whose first cells hold
//   "Student" and "ID" and whose student columns end with "Section"; a student is found by ID,
//   then SIS User ID / SIS Login ID, then by name; a column "Title (id)" updates that assignment,
//   any other title creates one; a row starting "Points Possible" sets the points; a blank cell
//   changes nothing.
// - Moodle: mod/assign/feedback/offline/importgradeslib.php: the upload needs the columns
//   "Identifier" ("Participant N"), "Grade" and "Last modified (grade)"; an empty grade is
//   skipped; "Feedback comments" is the comments plugin's column.
// - Blackboard: the Grade Center's "Work Offline > Upload": Username identifies the student, a
//   column "Name [Total Pts: N Score] |id" updates column id, one without "|id" is created; every
//   field of a comma-delimited file quoted.
#include <cctype>

#include <fmt/format.h>

#include "export/csv.hpp"
#include "export/feedback_cell.hpp"
#include "export/writers.hpp"

namespace ipcg::lms::internal {
namespace {

constexpr const char* kEnd = "\r\n";

std::string row(const std::vector<std::string>& cells, bool always_quote = false) {
  std::string text;
  for (std::size_t k = 0; k < cells.size(); ++k) text += (k ? "," : "") + csv::cell(cells[k], always_quote);
  return text + kEnd;
}

std::string plain(std::string_view text) { return csv::inert(text); }

std::string html_pre(std::string_view text) {
  std::string html = "<pre>";
  for (char c : text) {
    switch (c) {
      case '&': html += "&amp;"; break;
      case '<': html += "&lt;"; break;
      case '>': html += "&gt;"; break;
      default: html += c;
    }
  }
  return html + "</pre>";
}

// " (12345)" or " |12345" at the end of a column name: the LMS's id of an existing column.
bool ends_with_id(const std::string& column, char open, char close) {
  std::size_t end = column.size();
  if (close) {
    if (end == 0 || column[end - 1] != close) return false;
    --end;
  }
  std::size_t start = end;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(column[start - 1]))) --start;
  return start < end && start >= 2 && column[start - 1] == open && column[start - 2] == ' ';
}

}  // namespace

std::string feedback_cell(const Line& line, const Sheet& sheet, std::string (*encode)(std::string_view)) {
  if (!sheet.options->feedback || !line.grade || !line.grade->error.empty()) return "";
  const std::size_t limit = sheet.options->feedback_limit ? sheet.options->feedback_limit : kSpreadsheetCellLimit;
  return shorten_report(line.grade->report, limit, line.grade->report_path, encode);
}

Result<std::string> write_canvas(const Sheet& sheet) {
  std::string text = row({"Student", "ID", "SIS User ID", "SIS Login ID", "Section", sheet.column});
  // Points Possible only for a column Canvas will create: an existing assignment keeps its own.
  if (!ends_with_id(sheet.column, '(', ')')) text += row({"Points Possible", "", "", "", "", sheet.max_score});
  std::vector<std::string> unmatched;
  for (const auto& line : sheet.lines) {
    const Student& s = line.who;
    if (s.lms_id.empty() && s.sis_user_id.empty() && s.login.empty()) unmatched.push_back(s.id);
    text += row({csv::inert(s.name), s.lms_id, s.sis_user_id, s.login, csv::inert(s.section), line.score()});
    ++*sheet.rows;
  }
  if (!unmatched.empty())
    sheet.warnings->push_back(fmt::format(
        "{} row(s) have no Canvas ID, SIS User ID or SIS Login ID{}: Canvas can match them only by the Student "
        "name: {}",
        unmatched.size(), sheet.has_roster ? "" : " (no --roster: the Student column holds the submission name)",
        name_list(unmatched)));
  return text;
}

Result<std::string> write_moodle(const Sheet& sheet) {
  std::vector<std::string> header = {"Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                                     "Last modified (grade)"};
  if (sheet.options->feedback) header.push_back("Feedback comments");
  std::string text = row(header);
  std::vector<std::string> unmatched;
  for (const auto& line : sheet.lines) {
    const Student& s = line.who;
    if (s.lms_id.empty()) unmatched.push_back(s.id);
    std::vector<std::string> cells = {s.lms_id.empty() ? "" : "Participant " + s.lms_id, csv::inert(s.name), s.email,
                                      line.score(), sheet.max_score,
                                      line.score().empty() ? "" : sheet.options->exported_at};
    if (sheet.options->feedback) cells.push_back(feedback_cell(line, sheet, html_pre));
    text += row(cells);
    ++*sheet.rows;
  }
  if (!unmatched.empty())
    sheet.warnings->push_back(fmt::format(
        "{} row(s) have no Moodle participant number (roster lms_id{}): the worksheet upload skips them; the "
        "gradebook import (Grades > Import > CSV file) can match them by Email address: {}",
        unmatched.size(), sheet.has_roster ? "" : "; no --roster given", name_list(unmatched)));
  return text;
}

Result<std::string> write_blackboard(const Sheet& sheet) {
  std::string column = sheet.column;
  const auto bar = column.rfind(" |");
  std::string id_part;
  if (ends_with_id(column, '|', 0)) {
    id_part = column.substr(bar);
    column.erase(bar);
  }
  std::string text = row({"Username", fmt::format("{} [Total Pts: {} Score]{}", column, sheet.max_score, id_part)}, true);
  std::vector<std::string> skipped;
  for (const auto& line : sheet.lines) {
    // A row without a username makes the whole upload fail: leave it out, and say so.
    const std::string username = sheet.has_roster && line.in_roster ? line.who.login : line.who.id;
    if (username.empty()) {
      skipped.push_back(line.who.id);
      continue;
    }
    text += row({username, line.score()}, true);
    ++*sheet.rows;
  }
  if (!sheet.has_roster)
    sheet.warnings->push_back("no --roster: the Username column holds the submission names; Blackboard matches "
                              "only rows whose submission name is the student's username");
  if (!skipped.empty())
    sheet.warnings->push_back(fmt::format("{} student(s) have no login in the roster and are left out (Blackboard "
                                          "refuses an upload with a row without Username): {}",
                                          skipped.size(), name_list(skipped)));
  return text;
}

Result<std::string> write_plain(const Sheet& sheet) {
  std::vector<std::string> header = {"id", "name", "score", "max_score"};
  if (sheet.options->feedback) header.push_back("feedback");
  std::string text = row(header);
  for (const auto& line : sheet.lines) {
    std::vector<std::string> cells = {line.who.id, csv::inert(line.who.name), line.score(),
                                      line.grade ? line.grade->max_score : ""};
    if (sheet.options->feedback) cells.push_back(feedback_cell(line, sheet, plain));
    text += row(cells);
    ++*sheet.rows;
  }
  return text;
}

}  // namespace ipcg::lms::internal
