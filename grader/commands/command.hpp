// How a subcommand plugs into the CLI: a function that adds it to the CLI11 app and returns what
// to run when the user picked it. Each subcommand lives in its own file in grader/commands/.
//
//   Command add_batch_command(CLI::App& app) {
//     auto args = std::make_shared<BatchArgs>();
//     auto* sub = app.add_subcommand("batch", "Grade a folder of submissions");
//     sub->add_option("lab", args->lab)->required();
//     return {sub, [args](std::ostream& out, std::ostream& err) { return run_batch(*args, out, err); }};
//   }
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/runner/runner.hpp"
#include "harness/spec/lab_spec.hpp"
#include "locate.hpp"

namespace ipcg {

struct Command {
  CLI::App* sub = nullptr;
  std::function<int(std::ostream& out, std::ostream& err)> run;
};

// Prints "grader: error: ..." and returns the documented exit code (2 usage/config, 3 otherwise).
int exit_for(const Error& e, std::ostream& err);

// The grader's data folders and every lab, or the error to report.
struct LoadedLabs {
  GraderPaths paths;
  std::vector<LabSpec> labs;
};
Result<LoadedLabs> load_labs();
// One lab by "lab1", "1" or its folder name, as a usage error when unknown.
Result<const LabSpec*> pick_lab(const LoadedLabs& loaded, const std::string& key);

std::uint64_t fresh_seed();  // a random seed short enough to type back with --seed

std::string grader_version();

// What run, stress and batch set alike: the submission (default: the lab's skeleton folder, the
// student's working copy), isolation, the lab tools' folder, the version and --schedule ("": the lab's).
GradeOptions grade_options_for(const LoadedLabs& loaded, const LabSpec& lab, const std::string& submission,
                               bool reduced, const std::string& schedule);

// --schedule native|delays|pct, the same in run, batch and stress; `more` ends its help text.
void add_schedule_option(CLI::App* sub, std::string& schedule, const std::string& more = "");

// What grading may save, the same in run, batch and stress: --no-build-cache (build the reference
// every time) and --full-limits (every test waits for its lab.toml wall limit).
struct CostFlags {
  bool no_build_cache = false;
  bool full_limits = false;
  void apply_to(GradeOptions& options) const {
    options.build_cache = !no_build_cache;
    options.full_limits = full_limits;
  }
};
void add_cost_flags(CLI::App* sub, CostFlags& flags);

// The gradebook page of a batch's output folder written to `page` (`grader report`; redrawn by
// `grader diff --apply`), with the last regrade's summary when out_dir holds regrade.json.
// Returns what to print: "wrote <page> (N submissions, ...)".
Result<std::string> write_gradebook_page(const std::filesystem::path& out_dir, const std::filesystem::path& page);

// The seeds of `grader stress --seeds`: "1..200", "42" or "3,17,99"; a usage error otherwise.
Result<std::vector<std::uint64_t>> parse_seed_list(std::string_view text);

Command add_list_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_gradescope_setup_command(CLI::App& app);
Command add_collect_command(CLI::App& app);
Command add_batch_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
Command add_diff_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_handout_command(CLI::App& app);
Command add_policy_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_stress_command(CLI::App& app);
Command add_cleanup_command(CLI::App& app);
Command add_similarity_command(CLI::App& app);

}  // namespace ipcg
