#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "batch/batch.hpp"
#include "cli.hpp"
#include "commands/command.hpp"
#include "language.hpp"

namespace ipcg {
namespace {

struct BatchArgs {
  std::string lab;
  std::string folder;
  int jobs = 1;
  std::string out = "grades";
  std::string shard = "1/1";
  std::optional<std::uint64_t> seed;
  bool reduced = false;
  std::string lang;  // of reports/<submission>.txt; "": the locale's
  std::string schedule;  // "": the lab's
  CostFlags cost;
};

int batch_command(const BatchArgs& args, std::ostream& out, std::ostream& err) {
  auto shard = parse_shard(args.shard, environment_lookup());
  if (!shard) return exit_for(shard.error(), err);
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, args.lab);
  if (!lab) return exit_for(lab.error(), err);
  BatchOptions options{.folder = args.folder, .out = args.out, .jobs = args.jobs, .shard = *shard,
                       .seed = args.seed, .fallback_seed = fresh_seed()};
  options.grade_template = grade_options_for(*loaded, **lab, "", args.reduced, args.schedule);  // each submission its own
  args.cost.apply_to(options.grade_template);
  options.text.lang = report_language(args.lang);
  options.text.lab_text = lab_text_for(**lab, options.text.lang);
  TerminalProgress progress(out, &out == &std::cout && ::isatty(STDOUT_FILENO));
  auto summary = run_batch(**lab, options, progress);
  if (!summary) return exit_for(summary.error(), err);
  out << "wrote " << (std::filesystem::path(args.out) / "gradebook.csv").string() << "\n";
  if (summary->errors == 0) return kExitPassed;
  err << "grader: error: " << summary->errors << " submission(s) could not be graded (see results.jsonl)\n";
  return kExitInternal;
}

}  // namespace

Command add_batch_command(CLI::App& app) {
  auto args = std::make_shared<BatchArgs>();
  auto* sub = app.add_subcommand("batch", "Grade every subfolder of a folder (one submission each)");
  sub->add_option("lab", args->lab, "lab1, 1 or the lab's folder name")->required();
  sub->add_option("folder", args->folder, "folder with one subfolder per submission")->required();
  sub->add_option("--jobs", args->jobs, "submissions graded in parallel")->check(CLI::Range(1, 256));
  sub->add_option("--out", args->out, "output folder (results.jsonl, gradebook.csv, reports/)");
  sub->add_option("--shard", args->shard, "grade only shard K of N (K/N, or auto/N from "
                                          "JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)");
  sub->add_option("--seed", args->seed, "seed for every submission (default: a fresh one, printed)");
  sub->add_flag("--reduced", args->reduced, "force reduced isolation (no namespaces)");
  add_cost_flags(sub, args->cost);
  add_schedule_option(sub, args->schedule, "; recorded per test in results.jsonl");
  sub->add_option("--lang", args->lang,
                  "language of reports/<submission>.txt (default: the locale's, as for `run`); "
                  "results.jsonl and gradebook.csv are the same in every language")
      ->check(CLI::IsMember(report_language_codes()));
  return {sub, [args](std::ostream& out, std::ostream& err) { return batch_command(*args, out, err); }};
}

}  // namespace ipcg
