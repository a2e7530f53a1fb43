// A reference run's outcome remembered for the rest of the process: `grader batch` grades every
// submission under the same seed, so a check whose reference run depends only on the test, its
// seed and the reference's build (lab1's pipeline_output: the reference pipeline on the test's
// input) runs the reference once per batch instead of once per submission.
//
//   IPCG_TRY_OUTCOME(RunOutcome expected, memo_reference_run(ctx, "pipeline output", [&] {
//     return run(ctx.cell, output_request(ctx, ctx.reference_program("pipeline"), stages, input));
//   }));
//
// Keyed by the lab (id and lab.toml's hash), the test's name and seed, the key of the reference's
// build (its inputs' SHA-256) and `what`: the caller names there anything else the run depends on.
// Only a run that exited by itself is kept (a crash or a timeout is run again next time). A hit
// gives back its ending, wait_status and captures, nothing else (no wall time, hang or survivors).
// Thread-safe; two jobs asking at once may both run the reference (the first to finish is kept).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "harness/core/error.hpp"
#include "harness/runner/check.hpp"
#include "harness/sandbox/execution.hpp"

namespace ipcg {

struct ReferenceRunKey {
  std::string lab;    // "lab1@<lab.toml sha256>"
  std::string test;
  std::uint64_t seed = 0;
  std::string build;  // the reference build's key; empty: unknown, never remembered
  std::string what;
};

// The key of a run in this test: ctx's lab, test, seed and reference build.
ReferenceRunKey reference_run_key(const TestContext& ctx, std::string what);

// The remembered outcome for `key`, else run_reference(), remembered when it exited.
Result<RunOutcome> memo_reference_run(const ReferenceRunKey& key, const std::function<Result<RunOutcome>()>& run_reference);
Result<RunOutcome> memo_reference_run(const TestContext& ctx, std::string what,
                                      const std::function<Result<RunOutcome>()>& run_reference);

}  // namespace ipcg
