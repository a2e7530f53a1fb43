#include "cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>

#include "harness/lab_spec.hpp"
#include "harness/runner.hpp"
#include "locate.hpp"
#include "report/formats.hpp"
#include "report/gradescope_setup.hpp"

#ifndef IPCG_VERSION
#define IPCG_VERSION "0.0.0"
#endif

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
};

int exit_for(const Error& e, std::ostream& err) {
  err << "grader: error: " << e.message << "\n";
  return e.code == Errc::usage || e.code == Errc::config ? kExitUsage : kExitInternal;
}

bool use_color(const std::string& mode, std::ostream& out) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  if ((no_color && *no_color) || (term && std::string(term) == "dumb")) return false;
  return &out == &std::cout && ::isatty(STDOUT_FILENO);
}

std::uint64_t fresh_seed() {
  std::random_device rd;
  return rd() % 1000000000u;  // short enough to type back with --seed
}

Result<std::vector<LabSpec>> load_labs(const GraderPaths& paths) {
  return load_all_labs(paths.labs_root, paths.reference_root);
}

int cmd_list(std::ostream& out, std::ostream& err) {
  auto paths = locate_paths();
  if (!paths) return exit_for(paths.error(), err);
  auto labs = load_labs(*paths);
  if (!labs) return exit_for(labs.error(), err);
  for (const auto& lab : *labs)
    out << fmt::format("{:<6} {:<14} {:<22} {} ({} tests)\n", lab.id, lab.folder, lab.mechanism, lab.title,
                       lab.tests.size());
  return kExitPassed;
}

int cmd_run(const RunArgs& args, std::ostream& out, std::ostream& err) {
  auto paths = locate_paths();
  if (!paths) return exit_for(paths.error(), err);
  auto labs = load_labs(*paths);
  if (!labs) return exit_for(labs.error(), err);
  const LabSpec* lab = find_lab(*labs, args.lab);
  if (!lab) return exit_for(Error{Errc::usage, "no lab '" + args.lab + "' (see `grader list`)"}, err);

  GradeOptions options;
  // Without --submission a student grades their working copy: the lab's skeleton folder.
  options.submission = args.submission.empty() ? lab->skeleton_dir : std::filesystem::path(args.submission);
  options.seed = args.seed.value_or(fresh_seed());
  if (!args.only.empty()) options.only = args.only;
  options.allow_namespaces = !args.reduced;
  options.verbose = args.verbose;
  options.tools_root = paths->tools_root;
  options.grader_version = IPCG_VERSION;
  auto result = grade(*lab, options);
  if (!result) return exit_for(result.error(), err);

  ReportOptions report{.color = use_color(args.color, out), .verbose = args.verbose,
                       .show_hidden_details = args.show_hidden};
  report.github.nonce = fresh_seed() ^ (static_cast<std::uint64_t>(::getpid()) << 32);
  // GitHub Actions: the Markdown summary goes to the job's step summary file, appended.
  std::ofstream step_summary;
  if (const char* path = std::getenv("GITHUB_STEP_SUMMARY"); path && *path && args.format == "github") {
    step_summary.open(path, std::ios::app);
    if (step_summary) report.github_summary = &step_summary;
  }
  if (auto written = write_report(args.format, *result, report, out); !written)
    return exit_for(written.error(), err);
  if (args.format != "text") out << "\n";
  return exit_code_for(*result);
}

void add_run_command(CLI::App& app, RunArgs& args) {
  auto* run = app.add_subcommand("run", "Grade a submission of one lab");
  run->add_option("lab", args.lab, "lab1, 1 or the lab's folder name")->required();
  run->add_option("--submission", args.submission,
                  "folder with the student's sources (default: the lab's skeleton folder, your working copy)");
  std::vector<std::string> formats;
  for (auto f : report_formats()) formats.emplace_back(f);
  run->add_option("--format", args.format, "report format")->check(CLI::IsMember(formats));
  run->add_option("--seed", args.seed, "seed for every random choice (printed in the report)");
  run->add_option("--only", args.only, "run only this test");
  run->add_flag("--verbose", args.verbose, "show captured output of every test");
  run->add_flag("--show-hidden", args.show_hidden, "show hidden tests' details (for TAs)");
  run->add_flag("--reduced", args.reduced, "force reduced isolation (no namespaces)");
  run->add_option("--color", args.color, "colour the text report")->check(CLI::IsMember({"auto", "always", "never"}));
}

// Writes Gradescope's setup.sh and run_autograder for a lab into `dir`.
int cmd_gradescope_setup(const std::string& lab, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto setup = gradescope_setup(lab);
  if (!setup) return exit_for(setup.error(), err);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (const auto& [name, text] : {std::pair{"setup.sh", setup->setup_sh}, {"run_autograder", setup->run_autograder}}) {
    const auto path = std::filesystem::path(dir) / name;
    std::ofstream file(path);
    file << text;
    if (!file) return exit_for(Error{Errc::io, "cannot write " + path.string()}, err);
    std::filesystem::permissions(path, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                           std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                           std::filesystem::perms::others_exec);
    out << "wrote " << path.string() << "\n";
  }
  return kExitPassed;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"ipcgrade: grades operating-systems IPC labs by watching the processes", "grader"};
  app.set_version_flag("--version", IPCG_VERSION);
  app.require_subcommand(1);
  app.add_subcommand("list", "List the labs: number, folder, mechanism, title");
  RunArgs run_args;
  add_run_command(app, run_args);
  std::string gs_lab, gs_dir = ".";
  auto* gs = app.add_subcommand("gradescope-setup", "Write Gradescope's setup.sh and run_autograder for a lab");
  gs->add_option("lab", gs_lab, "lab1, 1 or the lab's folder name")->required();
  gs->add_option("--out", gs_dir, "folder to write the two files into (default: .)");

  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0.
    const int code = app.exit(e, out, err);
    return code == 0 ? kExitPassed : kExitUsage;
  }
  if (app.got_subcommand("list")) return cmd_list(out, err);
  if (app.got_subcommand("gradescope-setup")) return cmd_gradescope_setup(gs_lab, gs_dir, out, err);
  return cmd_run(run_args, out, err);
}

}  // namespace ipcg
