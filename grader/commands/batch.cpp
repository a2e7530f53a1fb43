#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "batch/batch.hpp"
#include "batch/regrade_apply.hpp"
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
  bool preview = false;  // grade into <out>.preview and diff against <out>, which stays untouched
};

// --preview: where the regrade goes (<out>.preview, beside <out>) and, without --seed, the seed
// <out> was graded under, so the diff shows what the lab.toml or grader changed, not the seed.
Result<std::filesystem::path> prepare_preview(const BatchArgs& args, const Shard& shard, BatchOptions& options) {
  if (shard.count != 1)
    return fail(Errc::usage, "grade the whole class (no --shard): a shard would list the rest as dropped");
  std::string out = args.out;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  IPCG_TRY(std::vector<ResultRow> old_rows, read_output_rows(out));  // usage error when not a batch folder
  options.out = out + ".preview";
  if (!options.seed)
    for (const auto& row : old_rows)
      if (auto seed = row.doc.find("seed"); seed != row.doc.end() && seed->is_number_unsigned())
        options.seed = seed->get<std::uint64_t>();
  return std::filesystem::path(out);
}

int print_preview(const std::filesystem::path& old_out, const std::filesystem::path& preview, std::ostream& out,
                  std::ostream& err) {
  auto diff = diff_folders(old_out, preview);
  if (!diff) return exit_for(with_context(diff.error(), "grader batch --preview"), err);
  out << "\n" << regrade_text(*diff) << "\nnothing in " << old_out.string() << " was changed; to apply: grader diff "
      << old_out.string() << " " << preview.string() << " --apply\n";
  return kExitPassed;
}

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
  std::filesystem::path old_out;
  if (args.preview) {
    auto prepared = prepare_preview(args, *shard, options);
    if (!prepared) return exit_for(with_context(prepared.error(), "grader batch --preview"), err);
    old_out = *prepared;
  }
  TerminalProgress progress(out, &out == &std::cout && ::isatty(STDOUT_FILENO));
  auto summary = run_batch(**lab, options, progress);
  if (!summary) return exit_for(summary.error(), err);
  out << "wrote " << (options.out / "gradebook.csv").string() << "\n";
  if (args.preview) {
    if (const int code = print_preview(old_out, options.out, out, err); code != kExitPassed) return code;
  }
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
  sub->add_flag("--preview", args->preview,
                "regrade into <out>.preview/ (under <out>'s seed unless --seed) and list what would change in "
                "<out>, which is left untouched; apply with `grader diff <out> <out>.preview --apply`");
  return {sub, [args](std::ostream& out, std::ostream& err) { return batch_command(*args, out, err); }};
}

}  // namespace ipcg
