#include <memory>
#include <ostream>

#include "cli.hpp"
#include "collect/collect.hpp"
#include "commands/command.hpp"

namespace ipcg {
namespace {

struct CollectArgs {
  std::string input;
  std::string lab;
  std::string from;
  std::string out;
};

int collect_command(const CollectArgs& args, std::ostream& out, std::ostream& err) {
  auto from = collect::parse_lms(args.from);
  if (!from) return exit_for(from.error(), err);
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, args.lab);
  if (!lab) return exit_for(lab.error(), err);
  collect::CollectOptions options{.input = args.input, .from = *from, .out = args.out, .lab = (*lab)->id,
                                  .sources = (*lab)->build.sources};
  auto summary = collect::collect(options);
  if (!summary) return exit_for(with_context(summary.error(), "grader collect"), err);
  out << collect::summary_text(*summary, args.out);
  out << "wrote " << (std::filesystem::path(args.out) / "roster.csv").string() << " and "
      << (std::filesystem::path(args.out) / "collect.json").string() << "\n";
  return kExitPassed;
}

}  // namespace

Command add_collect_command(CLI::App& app) {
  auto args = std::make_shared<CollectArgs>();
  auto* sub = app.add_subcommand("collect", "Turn an LMS download into one folder per student for `grader batch`");
  sub->add_option("download", args->input, "the LMS's zip (or tar, ...) or a folder")->required();
  sub->add_option("--lab", args->lab, "lab1, 1 or the lab's folder name: whose source files to collect")->required();
  sub->add_option("--from", args->from, "the download's layout")
      ->required()
      ->check(CLI::IsMember({"canvas", "moodle", "github-classroom", "folders"}));
  sub->add_option("--out", args->out, "a new or empty folder: <id>/ per student, roster.csv, collect.json")->required();
  return {sub, [args](std::ostream& out, std::ostream& err) { return collect_command(*args, out, err); }};
}

}  // namespace ipcg
