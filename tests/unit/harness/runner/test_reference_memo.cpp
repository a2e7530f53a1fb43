// memo_reference_run: a reference run kept for the process, by lab, test, seed, reference build
// and the caller's key. The run is a plain function here (the seam): it counts its calls.
#include <gtest/gtest.h>

#include "harness/runner/reference_memo.hpp"

namespace ipcg {
namespace {

struct CountedRun {
  int calls = 0;
  Ending ending = Ending::exited;
  Result<RunOutcome> operator()() {
    ++calls;
    RunOutcome out;
    out.ending = ending;
    out.wait_status = 3 << 8;
    out.captures[1].data = "run " + std::to_string(calls);
    out.captures[1].total_bytes = out.captures[1].data.size();
    return out;
  }
};

// A key no other test of this process uses (the memo is process-wide).
ReferenceRunKey key_for(const std::string& test, std::uint64_t seed) {
  return {"memo-lab@0", test, seed, "build-key", "output"};
}

TEST(ReferenceMemo, TheSameKeyRunsOnceAndGivesTheFirstRunBack) {
  CountedRun run;
  const auto first = memo_reference_run(key_for("same", 1), std::ref(run));
  const auto second = memo_reference_run(key_for("same", 1), std::ref(run));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(run.calls, 1);
  EXPECT_EQ(second->captures.at(1).data, "run 1");
  EXPECT_EQ(second->wait_status, 3 << 8);
  EXPECT_EQ(second->ending, Ending::exited);
}

TEST(ReferenceMemo, AnotherSeedBuildOrCallerKeyRunsAgain) {
  CountedRun run;
  memo_reference_run(key_for("other", 1), std::ref(run));
  memo_reference_run(key_for("other", 2), std::ref(run));
  EXPECT_EQ(run.calls, 2);
  auto other_build = key_for("other", 1);
  other_build.build = "another-build";
  memo_reference_run(other_build, std::ref(run));
  auto other_what = key_for("other", 1);
  other_what.what = "something else";
  memo_reference_run(other_what, std::ref(run));
  EXPECT_EQ(run.calls, 4);
}

TEST(ReferenceMemo, ARunThatDidNotExitOrAnUnknownBuildIsNeverKept) {
  CountedRun crashed{.ending = Ending::signaled};
  memo_reference_run(key_for("crash", 1), std::ref(crashed));
  memo_reference_run(key_for("crash", 1), std::ref(crashed));
  EXPECT_EQ(crashed.calls, 2);
  CountedRun unknown;
  auto no_build = key_for("unknown", 1);
  no_build.build.clear();
  memo_reference_run(no_build, std::ref(unknown));
  memo_reference_run(no_build, std::ref(unknown));
  EXPECT_EQ(unknown.calls, 2);
}

}  // namespace
}  // namespace ipcg
