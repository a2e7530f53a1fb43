#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "commands/command.hpp"
#include "harness/runner/runner.hpp"
#include "language.hpp"
#include "report/formats.hpp"

namespace ipcg {
namespace {

struct RunArgs {
  std::string lab;
  std::string submission;
  std::string format = "text";
  std::optional<std::uint64_t> seed;
  std::string only;
  bool verbose = false;
  bool show_hidden = false;
  bool reduced = false;
  std::string color = "auto";
  std::string trace_out;
  std::string lang;  // "": the locale's (docs/i18n.md)
  int confirm = 2;
  std::string schedule;  // "": the lab's (docs/lab-format.md, [build] schedule)
  CostFlags cost;
};

bool use_color(const std::string& mode, std::ostream& out) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  if ((no_color && *no_color) || (term && std::string(term) == "dumb")) return false;
  return &out == &std::cout && ::isatty(STDOUT_FILENO);
}

int write_result(const RunArgs& args, const LabSpec& lab, const LabResult& result, std::ostream& out,
                 std::ostream& err) {
  ReportOptions report{.color = use_color(args.color, out), .verbose = args.verbose,
                       .show_hidden_details = args.show_hidden};
  // Only the text report has a language; every other format ignores these.
  report.lang = report_language(args.lang);
  report.lab_text = lab_text_for(lab, report.lang);
  report.github.nonce = fresh_seed() ^ (static_cast<std::uint64_t>(::getpid()) << 32);
  // GitHub Actions: the Markdown summary goes to the job's step summary file, appended.
  std::ofstream step_summary;
  if (const char* path = std::getenv("GITHUB_STEP_SUMMARY"); path && *path && args.format == "github") {
    step_summary.open(path, std::ios::app);
    if (step_summary) report.github_summary = &step_summary;
  }
  if (auto written = write_report(args.format, result, report, out); !written) return exit_for(written.error(), err);
  if (args.format != "text") out << "\n";
  return exit_code_for(result);
}

int run_command(const RunArgs& args, std::ostream& out, std::ostream& err) {
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, args.lab);
  if (!lab) return exit_for(lab.error(), err);
  GradeOptions options = grade_options_for(*loaded, **lab, args.submission, args.reduced, args.schedule);
  options.seed = args.seed.value_or(fresh_seed());
  options.confirm_runs = args.confirm;
  if (!args.only.empty()) options.only = args.only;
  options.verbose = args.verbose;
  options.trace_dir = args.trace_out;
  args.cost.apply_to(options);
  auto result = grade(**lab, options);
  if (!result) return exit_for(result.error(), err);
  return write_result(args, **lab, *result, out, err);
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Grade a submission of one lab");
  run->add_option("lab", args->lab, "lab1, 1 or the lab's folder name")->required();
  run->add_option("--submission", args->submission,
                  "folder with the student's sources (default: the lab's skeleton folder, your working copy)");
  std::vector<std::string> formats;
  for (auto f : report_formats()) formats.emplace_back(f);
  run->add_option("--format", args->format, "report format")->check(CLI::IsMember(formats));
  run->add_option("--seed", args->seed, "seed for every random choice (printed in the report)");
  run->add_option("--only", args->only, "run only this test");
  run->add_option("--confirm", args->confirm,
                  "runs of a test that did not pass again this many times under its seed, to tell a "
                  "verdict the seed replays from one that depends on scheduling (default 2)")
      ->check(CLI::Range(0, 20));
  run->add_flag("--verbose", args->verbose, "show captured output of every test");
  run->add_flag("--show-hidden", args->show_hidden, "show hidden tests' details (for TAs)");
  add_schedule_option(run, args->schedule, "; printed beside the seed of a failing test");
  run->add_flag("--reduced", args->reduced, "force reduced isolation (no namespaces)");
  add_cost_flags(run, args->cost);
  run->add_option("--trace-out", args->trace_out,
                  "write a Perfetto trace (DIR/<test>.trace.json) of each failed test that records one");
  run->add_option("--color", args->color, "colour the text report")->check(CLI::IsMember({"auto", "always", "never"}));
  run->add_option("--lang", args->lang,
                  "language of the text report (default: Korean for a ko_* locale in LC_ALL, LC_MESSAGES "
                  "or LANG, else English); other formats are the same in every language")
      ->check(CLI::IsMember(report_language_codes()));
  return {run, [args](std::ostream& out, std::ostream& err) { return run_command(*args, out, err); }};
}

}  // namespace ipcg
