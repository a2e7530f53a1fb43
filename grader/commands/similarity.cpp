#include <cstdlib>
#include <memory>
#include <ostream>

#include "batch/batch.hpp"  // list_submissions
#include "cli.hpp"
#include "commands/command.hpp"
#include "similarity/similarity.hpp"
#include "similarity/site.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

struct SimilarityArgs {
  std::string lab;
  std::string folder;
  std::string out;
  int threshold = 50;
  int jobs = 1;
  int common = 10;
};

constexpr int kTableRows = 25;

// Code every student received: the skeleton's copies of the submitted sources and the lab's
// headers (a student may paste declarations from them).
std::vector<fs::path> handout_files(const LabSpec& lab) {
  std::vector<fs::path> files;
  for (const auto& source : lab.build.sources)
    if (fs::is_regular_file(lab.skeleton_dir / source)) files.push_back(lab.skeleton_dir / source);
  for (const auto& header : lab.build.headers) files.push_back(lab.dir / header);
  return files;
}

int similarity_command(const SimilarityArgs& args, std::ostream& out, std::ostream& err) {
  const char* path_env = std::getenv("PATH");
  auto sim_c = similarity::find_sim_c(path_env ? path_env : "");
  if (!sim_c) return exit_for(sim_c.error(), err);
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, args.lab);
  if (!lab) return exit_for(lab.error(), err);
  auto names = list_submissions(args.folder);
  if (!names) return exit_for(names.error(), err);
  const similarity::SimilarityInput input{.submissions_dir = args.folder, .names = *names,
                                          .sources = (*lab)->build.sources, .handout_files = handout_files(**lab)};
  const similarity::SimilarityOptions options{.sim_c = *sim_c, .threshold = args.threshold, .jobs = args.jobs,
                                              .common_limit = args.common};
  auto report = similarity::compare_submissions(input, options);
  if (!report) return exit_for(with_context(report.error(), "grader similarity"), err);
  if (auto written = similarity::write_similarity_site(*report, (*lab)->id, args.out); !written)
    return exit_for(written.error(), err);
  out << similarity::similarity_table(*report, (*lab)->id, kTableRows);
  out << "wrote " << (fs::path(args.out) / "index.html").string() << " and pairs.csv\n";
  return kExitPassed;
}

}  // namespace

Command add_similarity_command(CLI::App& app) {
  auto args = std::make_shared<SimilarityArgs>();
  auto* sub = app.add_subcommand("similarity",
                                 "Flag pairs of submissions whose code is alike (sim_c, skeleton code removed)");
  sub->add_option("lab", args->lab, "lab1, 1 or the lab's folder name")->required();
  sub->add_option("folder", args->folder, "folder with one subfolder per submission")->required();
  sub->add_option("--out", args->out, "output folder (index.html, pair-<rank>.html, pairs.csv)")->required();
  sub->add_option("--threshold", args->threshold,
                  "flag a pair when either submission has at least this % of its text in the other (default 50)")
      ->check(CLI::Range(1, 100));
  sub->add_option("--jobs", args->jobs, "sim_c processes run at once")->check(CLI::Range(1, 256));
  sub->add_option("--common", args->common,
                  "take out code that this many submissions or more hold, as the skeleton is (default 10; 0: never)")
      ->check(CLI::Range(0, 100000));
  return {sub, [args](std::ostream& out, std::ostream& err) { return similarity_command(*args, out, err); }};
}

}  // namespace ipcg
