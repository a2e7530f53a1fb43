#include <memory>

#include "batch/merge.hpp"
#include "cli.hpp"
#include "commands/command.hpp"

namespace ipcg {
namespace {

struct MergeArgs {
  std::vector<std::string> shards;
  std::string out;
};

int merge_command(const MergeArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<std::filesystem::path> dirs(args.shards.begin(), args.shards.end());
  if (auto merged = merge_outputs(dirs, args.out); !merged) return exit_for(merged.error(), err);
  out << "merged " << dirs.size() << " shard(s) into " << args.out << "\n";
  return kExitPassed;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  auto* sub = app.add_subcommand("merge", "Join the output folders of batch shards into one gradebook");
  sub->add_option("shards", args->shards, "output folders of `grader batch --shard`")->required();
  sub->add_option("--out", args->out, "where to write results.jsonl, gradebook.csv, reports/")->required();
  return {sub, [args](std::ostream& out, std::ostream& err) { return merge_command(*args, out, err); }};
}

}  // namespace ipcg
