// confirm_verdict: a test that did not pass runs again under its seed; runs that disagree are
// kept so the report can say the verdict depends on scheduling. The rerun is a plain function
// here (the seam): what a real rerun does is the sandbox's and the checks' business.
#include <gtest/gtest.h>

#include <vector>

#include "harness/runner/runner.hpp"

namespace ipcg {
namespace {

TestResult with_status(Status s, std::string message = "") {
  TestResult r;
  r.name = "t";
  r.status = s;
  r.message = std::move(message);
  return r;
}

// Hands out the given statuses one per call, counting calls.
struct Reruns {
  std::vector<Status> statuses;
  std::size_t calls = 0;
  TestResult operator()() { return with_status(statuses.at(calls++), "rerun"); }
};

TEST(ConfirmVerdict, APassIsNeverRerun) {
  Reruns reruns{{Status::failed, Status::failed}};
  const auto r = confirm_verdict(with_status(Status::passed), std::ref(reruns), 7, 2);
  EXPECT_EQ(reruns.calls, 0u);
  EXPECT_TRUE(r.attempts.empty());
}

TEST(ConfirmVerdict, AFailureEveryRunAgreesOnLeavesNoAttempts) {
  Reruns reruns{{Status::failed, Status::failed}};
  const auto r = confirm_verdict(with_status(Status::failed, "first"), std::ref(reruns), 7, 2);
  EXPECT_EQ(reruns.calls, 2u);
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.message, "first");
  EXPECT_TRUE(r.attempts.empty());
}

TEST(ConfirmVerdict, RunsThatDisagreeAreAllKeptAndTheFirstVerdictStands) {
  Reruns reruns{{Status::passed, Status::failed}};
  const auto r = confirm_verdict(with_status(Status::failed, "first"), std::ref(reruns), 7, 2);
  EXPECT_EQ(r.status, Status::failed);
  ASSERT_EQ(r.attempts.size(), 3u);
  EXPECT_EQ(r.attempts[0].status, Status::failed);
  EXPECT_EQ(r.attempts[0].message, "first");
  EXPECT_EQ(r.attempts[1].status, Status::passed);
  EXPECT_EQ(r.attempts[2].status, Status::failed);
  for (const auto& a : r.attempts) EXPECT_EQ(a.seed, 7u);
}

TEST(ConfirmVerdict, ACrashThenAFailureDisagree) {
  Reruns reruns{{Status::failed}};
  const auto r = confirm_verdict(with_status(Status::crashed), std::ref(reruns), 1, 1);
  EXPECT_EQ(r.attempts.size(), 2u);
}

TEST(ConfirmVerdict, ATimeoutIsNotRerun) {
  Reruns reruns{{Status::passed}};
  EXPECT_TRUE(confirm_verdict(with_status(Status::timeout), std::ref(reruns), 1, 2).attempts.empty());
  EXPECT_EQ(reruns.calls, 0u);
}

TEST(ConfirmVerdict, AFailureThatTookLongerThanItsWallLimitIsNotRerunButAQuickOneIs) {
  Reruns reruns{{Status::failed, Status::failed}};
  TestResult slow = with_status(Status::failed, "four runs, each to its limit");
  slow.wall_limit_seconds = 1.5;
  slow.duration_seconds = 6.1;
  EXPECT_TRUE(confirm_verdict(slow, std::ref(reruns), 1, 2).attempts.empty());
  EXPECT_EQ(reruns.calls, 0u);
  TestResult quick = slow;
  quick.duration_seconds = 0.2;
  confirm_verdict(quick, std::ref(reruns), 1, 2);
  EXPECT_EQ(reruns.calls, 2u);
}

TEST(ConfirmVerdict, ZeroRunsOrABuildFailureRunsNothing) {
  Reruns reruns{{Status::passed}};
  EXPECT_TRUE(confirm_verdict(with_status(Status::failed), std::ref(reruns), 1, 0).attempts.empty());
  EXPECT_TRUE(confirm_verdict(with_status(Status::build_failed), std::ref(reruns), 1, 2).attempts.empty());
  EXPECT_EQ(reruns.calls, 0u);
}

TEST(ConfirmVerdict, UnderAPerturbingScheduleAgreeingRunsAreKeptToSayHowOftenTheFailureCameBack) {
  Reruns reruns{{Status::failed, Status::failed}};
  TestResult first = with_status(Status::failed, "first");
  first.schedule = "delays";
  const auto r = confirm_verdict(first, std::ref(reruns), 7, 2);
  EXPECT_EQ(reruns.calls, 2u);
  ASSERT_EQ(r.attempts.size(), 3u);
  for (const auto& a : r.attempts) EXPECT_EQ(a.status, Status::failed);
}

}  // namespace
}  // namespace ipcg
