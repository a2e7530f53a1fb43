#include <filesystem>
#include <memory>
#include <ostream>

#include "batch/regrade_apply.hpp"
#include "cli.hpp"
#include "commands/command.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

struct DiffArgs {
  std::string old_out, new_out;
  std::string format = "text";
  bool apply = false;
};

void print_diff(const RegradeDiff& diff, const std::string& format, const fs::path* archive, std::ostream& out) {
  if (format == "json") {
    auto doc = regrade_json(diff);
    if (archive) doc["archive"] = archive->string();
    out << doc.dump(2) << "\n";
    return;
  }
  out << regrade_text(diff);
  if (archive) out << "\napplied: the new results replace the old; the old ones are in " << archive->string() << "\n";
}

int diff_command(const DiffArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.apply) {
    auto diff = diff_folders(args.old_out, args.new_out);
    if (!diff) return exit_for(with_context(diff.error(), "grader diff"), err);
    print_diff(*diff, args.format, nullptr, out);
    return kExitPassed;
  }
  auto applied = apply_regrade(args.old_out, args.new_out, std::chrono::system_clock::now());
  if (!applied) return exit_for(with_context(applied.error(), "grader diff --apply"), err);
  print_diff(applied->diff, args.format, &applied->archive, out);
  // A gradebook page already there is redrawn from the new results, with the regrade's summary.
  const fs::path page = fs::path(args.old_out) / "gradebook.html";
  if (!fs::exists(page)) return kExitPassed;
  auto written = write_gradebook_page(args.old_out, page);
  if (!written) return exit_for(written.error(), err);
  if (args.format == "text") out << *written;
  return kExitPassed;
}

}  // namespace

Command add_diff_command(CLI::App& app) {
  auto args = std::make_shared<DiffArgs>();
  auto* sub = app.add_subcommand("diff", "Compare two batch output folders before a regrade replaces the old one");
  sub->add_option("old-out", args->old_out, "the output folder graded before (kept on --apply, under regrades/)")
      ->required();
  sub->add_option("new-out", args->new_out, "the output folder of the regrade (`grader batch --out`)")->required();
  sub->add_option("--format", args->format, "text (a table, default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--apply", args->apply,
                "replace old-out's results.jsonl, gradebook.csv and reports/ with new-out's, keeping the old ones "
                "in old-out/regrades/<UTC time>/, and write old-out/regrade.json");
  return {sub, [args](std::ostream& out, std::ostream& err) { return diff_command(*args, out, err); }};
}

}  // namespace ipcg
