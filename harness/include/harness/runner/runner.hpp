// Grades one submission of one lab: copy the submission in, build student and reference
// programs in the sandbox, run every selected test's check, score.
//
//   RunOptions opt{.submission = "tests/submissions/lab1/reference", .seed = 42};
//   IPCG_TRY(LabResult r, grade(lab_spec, opt));
//
// A student's build failure, crash or timeout is a verdict inside LabResult, never an Error;
// an Error means the grader could not do its job (bad config, internal failure).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/spec/lab_spec.hpp"
#include "harness/core/result.hpp"

namespace ipcg {

struct GradeOptions {
  std::filesystem::path submission;    // folder holding the student's sources
  std::uint64_t seed = 0;
  std::optional<std::string> only;     // run just this test
  bool allow_namespaces = true;
  bool verbose = false;
  std::filesystem::path tools_root;    // libexec/ipcgrade: <tools_root>/<lab folder>/<tool>
  std::string grader_version;
  // When set, a test that did not pass and whose check recorded a trace gets it written to
  // <trace_dir>/<test>.trace.json (TestResult::trace_file says where).
  std::filesystem::path trace_dir;
  // A test that did not pass (other than by timeout) runs this many more times under the same
  // seed. When the runs
  // disagree, the verdict depends on the scheduler rather than the seed: TestResult::attempts
  // then lists every run, and the report says how many did not pass.
  int confirm_runs = 2;
  // The grader's --schedule: overrides every test's schedule in a lab that interposes on its
  // synchronization calls ([build] interpose_sync); ignored elsewhere.
  std::optional<SyncMode> schedule;
  // The reference's build comes from the build cache when its inputs are unchanged (built once per
  // batch and kept on disk: IPCG_CACHE_DIR, /var/cache/ipcgrade as root, else ~/.cache/ipcgrade);
  // false builds it every time (`--no-build-cache`).
  bool build_cache = true;
  // Every test waits for its lab.toml wall limit (`--full-limits`): no hang ended early
  // (limits.hang_grace), no limit derived from the reference's own run (limits' `wall` policy).
  // What grading cost before those existed; a TA's fallback if either is ever in doubt.
  bool full_limits = false;
};

Result<LabResult> grade(const LabSpec& lab, const GradeOptions& options);

// Builds once, then grades under each of `seeds` in turn (options.seed is ignored), handing each
// seed's result to on_result as soon as it is known: `grader stress`, a TA's check that a
// verdict holds over many schedules, without a build per seed.
Result<void> grade_seeds(const LabSpec& lab, const GradeOptions& options, const std::vector<std::uint64_t>& seeds,
                         const std::function<void(LabResult)>& on_result);

// Reruns a test that did not pass (`rerun` runs it again) `runs` more times under its seed (not
// a timeout or a hang: a rerun would cost the wall limit again, and the hang report is its
// evidence). If
// every run agrees, the seed replays the verdict and `first` comes back unchanged; if not, every
// run is kept in attempts (the first run's verdict stands: the failure happened).
TestResult confirm_verdict(TestResult first, const std::function<TestResult()>& rerun, std::uint64_t seed, int runs);

// Derives a test's seed from the run seed and the test name (stable across runs and machines).
std::uint64_t test_seed(std::uint64_t run_seed, std::string_view test_name);

}  // namespace ipcg
