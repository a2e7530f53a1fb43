// `grader stress`: one submission under many seeds, built once. For a TA or a lab author: does the
// reference get full marks under every seed and schedule, does a buggy sample fail its test under
// every seed, how long does detection take (docs/grading-a-class.md, "Is a test flaky?").
#include <charconv>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "commands/command.hpp"
#include "harness/runner/runner.hpp"
#include "report/stress_summary.hpp"

namespace ipcg {
namespace {

struct StressArgs {
  std::string lab;
  std::string submission;
  std::string seeds = "1..100";
  std::string only;
  std::string schedule;
  std::string format = "text";
  bool reduced = false;
  bool quiet = false;
  int confirm = 0;
  CostFlags cost;
};

Result<std::uint64_t> parse_seed(std::string_view text, std::string_view whole) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return fail(Errc::usage, "--seeds " + std::string(whole) + ": expected A..B, N or a comma-separated list of seeds");
  return value;
}

}  // namespace

Result<std::vector<std::uint64_t>> parse_seed_list(std::string_view text) {
  std::vector<std::uint64_t> seeds;
  if (auto dots = text.find(".."); dots != std::string_view::npos) {
    IPCG_TRY(const std::uint64_t first, parse_seed(text.substr(0, dots), text));
    IPCG_TRY(const std::uint64_t last, parse_seed(text.substr(dots + 2), text));
    if (last < first || last - first >= 100000)
      return fail(Errc::usage, "--seeds " + std::string(text) + ": the range must run upwards, at most 100000 seeds");
    for (std::uint64_t s = first; s <= last; ++s) seeds.push_back(s);
    return seeds;
  }
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    IPCG_TRY(const std::uint64_t seed, parse_seed(text.substr(at, comma - at), text));
    seeds.push_back(seed);
    at = comma + 1;
  }
  return seeds;
}

namespace {

int stress_command(const StressArgs& args, std::ostream& out, std::ostream& err) {
  auto seeds = parse_seed_list(args.seeds);
  if (!seeds) return exit_for(seeds.error(), err);
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, args.lab);
  if (!lab) return exit_for(lab.error(), err);
  GradeOptions options = grade_options_for(*loaded, **lab, args.submission, args.reduced, args.schedule);
  options.confirm_runs = args.confirm;
  args.cost.apply_to(options);
  if (!args.only.empty()) options.only = args.only;
  StressSummary summary;
  // A seed that does not get full marks is said at once (on stderr with --format json), so a
  // long run shows its first failures while it goes on.
  std::ostream& progress = args.format == "json" ? err : out;
  auto done = grade_seeds(**lab, options, *seeds, [&](LabResult result) {
    if (!args.quiet && result.score < result.max_score) progress << stress_seed_line(result) << std::endl;
    summary.add(result);
  });
  if (!done) return exit_for(done.error(), err);
  if (args.format == "json")
    write_stress_json(summary, out);
  else
    write_stress_text(summary, out);
  return summary.all_passed() ? kExitPassed : kExitFailed;
}

}  // namespace

Command add_stress_command(CLI::App& app) {
  auto args = std::make_shared<StressArgs>();
  auto* sub = app.add_subcommand("stress", "Grade one submission under many seeds, built once, and tally each test");
  sub->add_option("lab", args->lab, "lab1, 1 or the lab's folder name")->required();
  sub->add_option("--submission", args->submission, "folder with the sources (default: the lab's skeleton folder)");
  sub->add_option("--seeds", args->seeds, "seeds to run: A..B, N, or a comma-separated list (default 1..100)");
  sub->add_option("--only", args->only, "run only this test");
  add_schedule_option(sub, args->schedule);
  sub->add_flag("--reduced", args->reduced, "force reduced isolation (no namespaces)");
  add_cost_flags(sub, args->cost);
  sub->add_option("--confirm", args->confirm, "reruns of a test that did not pass, per seed (default 0)")
      ->check(CLI::Range(0, 20));
  sub->add_option("--format", args->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--quiet", args->quiet, "no line per seed that lacks full marks, only the tally");
  return {sub, [args](std::ostream& out, std::ostream& err) { return stress_command(*args, out, err); }};
}

}  // namespace ipcg
