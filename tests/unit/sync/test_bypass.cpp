// Bounded bypass (harness/sync/bypass.hpp) on hand-written histories, without processes: who
// asked, entered and left which kind of section when, and when the grader saw a waiter asleep.
#include <gtest/gtest.h>

#include "harness/sync/bypass.hpp"

namespace ipcg {
namespace {

using Step = SectionEvent::Step;
using Kind = SectionEvent::Kind;

// Actors 1-3 read (pids 11-13), actors 4-5 write (pids 14-15); times in ns.
SectionEvent ev(Step step, Kind kind, int actor, int section, std::int64_t t) {
  return {step, kind, actor, 10 + actor, section, t};
}
SectionEvent read_in(int actor, int section, std::int64_t t) { return ev(Step::enter, Kind::shared, actor, section, t); }
SectionEvent write_ask(int actor, int section, std::int64_t t) { return ev(Step::ask, Kind::exclusive, actor, section, t); }
SectionEvent write_in(int actor, int section, std::int64_t t) { return ev(Step::enter, Kind::exclusive, actor, section, t); }

TEST(Bypass, NoWriterAskedMeansNoWaiter) {
  const std::vector<SectionEvent> history = {ev(Step::ask, Kind::shared, 1, 0, 10), read_in(1, 0, 20),
                                             ev(Step::leave, Kind::shared, 1, 0, 30), read_in(2, 0, 40)};
  EXPECT_FALSE(worst_bypass(history, {{1, 15}}).has_value());
  EXPECT_FALSE(worst_bypass({}, {}).has_value());
}

TEST(Bypass, AWriterSeenWaitingIsBypassedByTheReadersThatGotInMeanwhile) {
  const std::vector<SectionEvent> history = {write_ask(4, 2, 100), read_in(1, 7, 210), read_in(2, 3, 220),
                                             read_in(3, 5, 230),  write_in(4, 2, 400), read_in(1, 8, 500)};
  const auto worst = worst_bypass(history, {{4, 150}, {4, 300}});
  ASSERT_TRUE(worst.has_value());
  EXPECT_EQ(worst->actor, 4);
  EXPECT_EQ(worst->pid, 14);
  EXPECT_EQ(worst->section, 2);
  EXPECT_EQ(worst->bypassed, 3);  // the read after it got in is no bypass
  EXPECT_EQ(worst->waited_ns, 300);
}

TEST(Bypass, ReadersBeforeTheFirstSightingAreNotCounted) {
  // Asked at 100, preempted before its semop: the readers at 110 and 120 got in legitimately.
  const std::vector<SectionEvent> history = {write_ask(4, 0, 100), read_in(1, 0, 110), read_in(2, 0, 120),
                                             read_in(3, 0, 160), write_in(4, 0, 200)};
  const auto worst = worst_bypass(history, {{4, 150}, {4, 190}});
  ASSERT_TRUE(worst.has_value());
  EXPECT_EQ(worst->bypassed, 1);
  EXPECT_EQ(worst_bypass(history, {})->bypassed, 0);            // never seen asleep: bypassed by nobody
  EXPECT_EQ(worst_bypass(history, {{4, 90}})->bypassed, 0);     // a sighting before it asked is another wait's
  EXPECT_EQ(worst_bypass(history, {{5, 105}})->bypassed, 0);    // another writer's sighting is not its own
}

TEST(Bypass, AWriterThatNeverGotInIsLeftOut) {
  const std::vector<SectionEvent> history = {write_ask(4, 0, 100), read_in(1, 0, 200), read_in(2, 0, 300),
                                             write_ask(5, 0, 350), read_in(3, 0, 360), write_in(5, 0, 400)};
  const auto worst = worst_bypass(history, {{4, 150}, {5, 355}});
  ASSERT_TRUE(worst.has_value());
  EXPECT_EQ(worst->actor, 5);
  EXPECT_EQ(worst->bypassed, 1);
  EXPECT_FALSE(worst_bypass({write_ask(4, 0, 100), read_in(1, 0, 200)}, {{4, 150}}).has_value());
}

TEST(Bypass, TheWorstOfSeveralWritersAndSectionsIsReported) {
  const std::vector<SectionEvent> history = {
      write_ask(4, 0, 100), read_in(1, 0, 120), write_in(4, 0, 200),                        // 1
      write_ask(5, 0, 300), read_in(1, 1, 320), read_in(2, 1, 330), write_in(5, 0, 400),    // 2
      write_ask(4, 1, 500), read_in(1, 2, 510), read_in(2, 2, 520), read_in(3, 2, 530),
      read_in(1, 3, 540), write_in(4, 1, 600),                                              // 4
      write_ask(5, 1, 700), read_in(3, 3, 710), read_in(1, 4, 720), read_in(2, 3, 730),
      read_in(3, 4, 740), write_in(5, 1, 800)};                                             // 4, later: a tie
  const auto worst = worst_bypass(history, {{4, 110}, {5, 310}, {4, 505}, {5, 705}});
  ASSERT_TRUE(worst.has_value());
  EXPECT_EQ(worst->actor, 4);
  EXPECT_EQ(worst->section, 1);
  EXPECT_EQ(worst->bypassed, 4);
  EXPECT_EQ(worst->waited_ns, 100);
}

TEST(Bypass, TheKindsCanBeSwappedToJudgeReadersStarvedByWriters) {
  const std::vector<SectionEvent> history = {ev(Step::ask, Kind::shared, 1, 0, 100), write_in(4, 0, 150),
                                             write_in(5, 0, 170), read_in(1, 0, 200)};
  const auto worst = worst_bypass(history, {{1, 120}}, Kind::shared, Kind::exclusive);
  ASSERT_TRUE(worst.has_value());
  EXPECT_EQ(worst->actor, 1);
  EXPECT_EQ(worst->bypassed, 2);
}

}  // namespace
}  // namespace ipcg
