#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <ostream>

#include "batch/gradebook.hpp"
#include "batch/regrade_apply.hpp"
#include "cli.hpp"
#include "commands/command.hpp"
#include "export/export.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

struct ExportArgs {
  std::string out_dir;
  std::string to;
  std::string roster;
  std::string column;
  bool feedback = false;
  std::string out;  // "": <out-dir>/<to>-grades.csv
};

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm));
}

// results.jsonl's rows as gradebook.csv has them (same number text), with the reports for --feedback.
Result<std::vector<lms::GradeRow>> grade_rows(const fs::path& out_dir, bool feedback, std::string& lab,
                                              std::vector<std::string>& warnings) {
  IPCG_TRY(std::vector<ResultRow> rows, read_output_rows(out_dir));
  std::vector<lms::GradeRow> grades;
  std::vector<std::string> no_report;
  for (const auto& row : rows) {
    if (lab.empty()) lab = row.field("lab");
    lms::GradeRow grade{.id = row.submission};
    if (row.is_error()) {
      grade.error = row.field("error");
      if (grade.error.empty()) grade.error = "error";
    } else {
      grade.score = gradebook_number(row.doc, "score");
      grade.max_score = gradebook_number(row.doc, "max_score");
    }
    if (feedback && grade.error.empty()) {
      grade.report_path = "reports/" + row.submission + ".txt";
      IPCG_TRY(grade.report, read_text_file(out_dir / grade.report_path));
      if (grade.report.empty()) no_report.push_back(row.submission);
    }
    grades.push_back(std::move(grade));
  }
  if (!no_report.empty()) {
    std::string names;
    for (const auto& n : no_report) names += (names.empty() ? "" : ", ") + n;
    warnings.push_back("no text report in reports/ (feedback left empty): " + names);
  }
  return grades;
}

int export_command(const ExportArgs& args, std::ostream& out, std::ostream& err) {
  const auto target = lms::parse_target(args.to);
  if (!target) return exit_for(Error{Errc::usage, "grader export: unknown --to " + args.to}, err);
  std::vector<std::string> warnings;
  std::string lab;
  auto rows = grade_rows(args.out_dir, args.feedback, lab, warnings);
  if (!rows) return exit_for(with_context(rows.error(), "grader export"), err);
  std::optional<lms::Roster> roster;
  if (!args.roster.empty()) {
    auto read = lms::read_roster(args.roster);
    if (!read) return exit_for(with_context(read.error(), "grader export"), err);
    roster = std::move(*read);
  }
  lms::ExportOptions options{.to = *target, .column = args.column, .lab = lab, .feedback = args.feedback,
                             .exported_at = utc_now()};
  auto exported = lms::export_grades(*rows, roster, options);
  if (!exported) return exit_for(with_context(exported.error(), "grader export"), err);
  const fs::path file = args.out.empty() ? fs::path(args.out_dir) / (args.to + "-grades.csv") : fs::path(args.out);
  if (auto written = write_file_atomically(file, exported->text); !written)
    return exit_for(with_context(written.error(), "grader export"), err);
  warnings.insert(warnings.end(), exported->warnings.begin(), exported->warnings.end());
  for (const auto& warning : warnings) err << "grader: warning: " << warning << "\n";
  out << "wrote " << file.string() << " (" << exported->rows << " students, " << args.to << " format)\n";
  return kExitPassed;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* sub = app.add_subcommand("export", "Write a batch's grades in an LMS's import format");
  sub->add_option("out-dir", args->out_dir, "a `grader batch` output folder (results.jsonl, reports/)")->required();
  sub->add_option("--to", args->to, "canvas, moodle, blackboard or csv")
      ->required()
      ->check(CLI::IsMember(lms::target_names()));
  sub->add_option("--roster", args->roster,
                  "roster.csv (id,name,login,email,sis_user_id,section,lms_id), as `grader collect` writes it");
  sub->add_option("--column", args->column,
                  "the grade column's header: Canvas `Lab 1 (12345)` for an existing assignment, Blackboard "
                  "`Lab 1 |123456` for an existing column (default: the lab's name, a new column)");
  sub->add_flag("--feedback", args->feedback,
                "add each student's text report, cut to what the LMS takes (Moodle, csv)");
  sub->add_option("--out", args->out, "the file to write (default: <out-dir>/<to>-grades.csv)");
  return {sub, [args](std::ostream& out, std::ostream& err) { return export_command(*args, out, err); }};
}

}  // namespace ipcg
