#include <random>
#include <ostream>

#include "commands/command.hpp"

#ifndef IPCG_VERSION
#define IPCG_VERSION "0.0.0"
#endif

namespace ipcg {

int exit_for(const Error& e, std::ostream& err) {
  err << "grader: error: " << e.message << "\n";
  return e.code == Errc::usage || e.code == Errc::config ? 2 : 3;
}

Result<LoadedLabs> load_labs() {
  IPCG_TRY(GraderPaths paths, locate_paths());
  IPCG_TRY(std::vector<LabSpec> labs, load_all_labs(paths.labs_root, paths.reference_root));
  return LoadedLabs{std::move(paths), std::move(labs)};
}

Result<const LabSpec*> pick_lab(const LoadedLabs& loaded, const std::string& key) {
  const LabSpec* lab = find_lab(loaded.labs, key);
  if (!lab) return fail(Errc::usage, "no lab '" + key + "' (see `grader list`)");
  return lab;
}

std::uint64_t fresh_seed() {
  std::random_device rd;
  return rd() % 1000000000u;
}

std::string grader_version() { return IPCG_VERSION; }

GradeOptions grade_options_for(const LoadedLabs& loaded, const LabSpec& lab, const std::string& submission,
                               bool reduced, const std::string& schedule) {
  GradeOptions options;
  // Without --submission a student grades their working copy: the lab's skeleton folder.
  options.submission = submission.empty() ? lab.skeleton_dir : std::filesystem::path(submission);
  options.allow_namespaces = !reduced;
  options.tools_root = loaded.paths.tools_root;
  options.grader_version = grader_version();
  if (!schedule.empty()) options.schedule = sync_mode_from(schedule);
  return options;
}

void add_cost_flags(CLI::App* sub, CostFlags& flags) {
  sub->add_flag("--no-build-cache", flags.no_build_cache,
                "build the reference every time instead of reusing its cached build (IPCG_CACHE_DIR, "
                "/var/cache/ipcgrade as root, else ~/.cache/ipcgrade)");
  sub->add_flag("--full-limits", flags.full_limits,
                "let every test run to its lab.toml wall limit: no hang ended early, no limit derived from the "
                "reference's own run of the test");
}

void add_schedule_option(CLI::App* sub, std::string& schedule, const std::string& more) {
  sub->add_option("--schedule", schedule,
                  "schedule of the synchronization calls in a lab that perturbs them (native, delays or pct; "
                  "default: the lab's)" + more)
      ->check(CLI::IsMember({"native", "delays", "pct"}));
}

}  // namespace ipcg
