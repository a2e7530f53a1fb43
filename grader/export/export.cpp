#include "export/export.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "export/csv.hpp"
#include "export/writers.hpp"

namespace ipcg::lms {
namespace {

using internal::Line;
using internal::Sheet;

constexpr std::pair<std::string_view, Target> kTargets[] = {
    {"canvas", Target::canvas}, {"moodle", Target::moodle}, {"blackboard", Target::blackboard}, {"csv", Target::csv}};

// Roster order first, so the file reads like the class list; then what the roster lacks.
std::vector<Line> join(const std::vector<GradeRow>& rows, const std::optional<Roster>& roster) {
  std::map<std::string, const GradeRow*> by_id;
  for (const auto& row : rows) by_id[row.id] = &row;
  std::vector<Line> lines;
  if (roster) {
    for (const auto& student : roster->students) {
      auto it = by_id.find(student.id);
      lines.push_back({student, it == by_id.end() ? nullptr : it->second, true});
      if (it != by_id.end()) by_id.erase(it);
    }
  }
  for (const auto& [id, row] : by_id) lines.push_back({Student{.id = id, .name = id}, row, false});
  return lines;
}

void warn_about_gaps(const Sheet& sheet, std::vector<std::string>& warnings) {
  std::vector<std::string> no_result, failed, unlisted;
  for (const auto& line : sheet.lines) {
    if (!line.grade) no_result.push_back(line.who.id);
    else if (!line.grade->error.empty()) failed.push_back(line.who.id);
    if (!line.in_roster && sheet.has_roster) unlisted.push_back(line.who.id);
  }
  if (!no_result.empty())
    warnings.push_back(fmt::format("{} student(s) of the roster have no result (their cell is left empty, not 0): {}",
                                   no_result.size(), internal::name_list(no_result)));
  if (!failed.empty())
    warnings.push_back(fmt::format("{} submission(s) could not be graded (error rows of results.jsonl; cell left "
                                   "empty, not 0): {}",
                                   failed.size(), internal::name_list(failed)));
  if (!unlisted.empty())
    warnings.push_back(fmt::format("{} result(s) have no row in the roster (exported under the submission name "
                                   "only, which the LMS may not match): {}",
                                   unlisted.size(), internal::name_list(unlisted)));
}

// The max_score every graded row shares; a warning when they differ (a folder resumed across an edit).
std::string common_max(const std::vector<GradeRow>& rows, std::vector<std::string>& warnings) {
  std::map<std::string, int> counts;
  for (const auto& row : rows)
    if (row.error.empty() && !row.max_score.empty()) ++counts[row.max_score];
  if (counts.empty()) return "";
  auto most = std::max_element(counts.begin(), counts.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  if (counts.size() > 1)
    warnings.push_back(fmt::format("the results do not share one max_score (graded under different lab.toml?): "
                                   "the column's total uses {}",
                                   most->first));
  return most->first;
}

Result<void> check_options(const ExportOptions& options) {
  if (options.feedback && options.to == Target::canvas)
    return fail(Errc::usage,
                "--feedback: Canvas's gradebook import has no comment column (its custom columns, such as Notes, "
                "are seen by teachers only); export without --feedback and post the reports as submission comments");
  if (options.feedback && options.to == Target::blackboard)
    return fail(Errc::usage,
                "--feedback: Blackboard's Grade Center upload, as documented, takes the Username column and grade "
                "columns only; export without --feedback and give feedback in Grade Details");
  if (!options.column.empty() && options.to == Target::moodle)
    return fail(Errc::usage,
                "--column: the Moodle grading worksheet's grade column must be named `Grade` (the upload finds it "
                "by that name); the assignment is the one whose page you upload the worksheet to");
  return {};
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

std::optional<Target> parse_target(std::string_view name) {
  for (const auto& [text, target] : kTargets)
    if (text == name) return target;
  return std::nullopt;
}

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& entry : kTargets) names.emplace_back(entry.first);
  return names;
}

std::string shorten_report(std::string_view report, std::size_t limit, std::string_view full_report,
                           std::string (*encode)(std::string_view)) {
  if (code_points(encode(report)) <= limit) return encode(report);
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at < report.size();) {
    const auto end = report.find('\n', at);
    const auto stop = end == std::string_view::npos ? report.size() : end + 1;
    lines.push_back(report.substr(at, stop - at));
    at = stop;
  }
  std::string kept, best;
  for (std::size_t k = 0; k <= lines.size(); ++k) {
    const std::string marker = fmt::format("[... {} more line(s) cut here to fit the LMS; the full report is {}]\n",
                                           lines.size() - k, full_report);
    const std::string candidate = encode(kept + marker);
    if (code_points(candidate) > limit) break;
    best = candidate;
    if (k < lines.size()) kept += lines[k];
  }
  return best;  // "" only when even the marker alone does not fit
}

Result<Exported> export_grades(const std::vector<GradeRow>& rows, const std::optional<Roster>& roster,
                               const ExportOptions& options) {
  IPCG_CHECK(check_options(options));
  Exported out;
  Sheet sheet{.lines = join(rows, roster), .has_roster = roster.has_value(),
              .column = options.column.empty() ? options.lab : options.column, .options = &options,
              .warnings = &out.warnings, .rows = &out.rows};
  sheet.max_score = common_max(rows, out.warnings);
  warn_about_gaps(sheet, out.warnings);
  for (const auto& line : sheet.lines)
    if (csv::looks_like_formula(line.who.id))
      out.warnings.push_back("id '" + line.who.id + "' starts like a spreadsheet formula; written unchanged (the LMS "
                             "matches on it): open the file as text, not in a spreadsheet");
  Result<std::string> text = [&]() -> Result<std::string> {
    switch (options.to) {
      case Target::canvas: return internal::write_canvas(sheet);
      case Target::moodle: return internal::write_moodle(sheet);
      case Target::blackboard: return internal::write_blackboard(sheet);
      case Target::csv: break;
    }
    return internal::write_plain(sheet);
  }();
  if (!text) return tl::unexpected(text.error());
  out.text = std::move(*text);
  return out;
}

namespace internal {

std::string name_list(const std::vector<std::string>& ids) {
  std::string text;
  const std::size_t shown = std::min<std::size_t>(ids.size(), 20);
  for (std::size_t k = 0; k < shown; ++k) text += (k ? ", " : "") + ids[k];
  if (ids.size() > shown) text += fmt::format(" and {} more", ids.size() - shown);
  return text;
}

}  // namespace internal
}  // namespace ipcg::lms
