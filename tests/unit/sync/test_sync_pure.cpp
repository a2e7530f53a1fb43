// The synchronization checker's pure parts, without processes: the schedule's decisions as a
// function of (seed, actor, count), the violations' words, the wait-for graph and its cycle from
// hand-made snapshots, /proc/PID/maps lines, and lab.toml's keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "harness/spec/lab_spec.hpp"
#include "harness/sync/sync.hpp"
#include "harness/sync/spin_watch.hpp"
#include "harness/sync/wait_for.hpp"

namespace ipcg {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::vector<SyncDecision> decisions(SyncMode mode, std::uint64_t seed, unsigned actor, std::uint64_t lineage,
                                    int n) {
  std::vector<SyncDecision> out;
  for (int i = 1; i <= n; ++i) out.push_back(sync_decision(mode, seed, actor, lineage, i));
  return out;
}

TEST(SyncSchedule, DecisionsAreAPureFunctionOfSeedActorAndCount) {
  EXPECT_EQ(decisions(SyncMode::delays, 7, 1, 0, 500), decisions(SyncMode::delays, 7, 1, 0, 500));
  EXPECT_NE(decisions(SyncMode::delays, 7, 1, 0, 500), decisions(SyncMode::delays, 8, 1, 0, 500));
  EXPECT_NE(decisions(SyncMode::delays, 7, 1, 0, 500), decisions(SyncMode::delays, 7, 2, 0, 500));
  EXPECT_NE(decisions(SyncMode::delays, 7, 1, 0, 500), decisions(SyncMode::delays, 7, 1, 1, 500));
}

TEST(SyncSchedule, NativeAndPctNeverDelay) {
  for (const auto& d : decisions(SyncMode::native, 7, 1, 0, 1000)) EXPECT_EQ(d.action, SyncDecision::Action::run_on);
  for (const auto& d : decisions(SyncMode::pct, 7, 1, 0, 1000)) EXPECT_EQ(d.action, SyncDecision::Action::run_on);
}

TEST(SyncSchedule, DelaysRunOnHalfTheTimeYieldOrSleepShortlyOtherwise) {
  std::map<SyncDecision::Action, int> count;
  for (const auto& d : decisions(SyncMode::delays, 42, 3, 0, 8000)) {
    count[d.action]++;
    if (d.action == SyncDecision::Action::sleep) {
      EXPECT_GE(d.sleep_us, 1u);
      EXPECT_LE(d.sleep_us, 200u);
    }
  }
  EXPECT_NEAR(count[SyncDecision::Action::run_on], 4000, 300);
  EXPECT_NEAR(count[SyncDecision::Action::yield], 2000, 250);
  EXPECT_NEAR(count[SyncDecision::Action::sleep], 2000, 250);
}

TEST(SyncSchedule, EnvironmentEntryNamesModeSeedAndActor) {
  EXPECT_EQ(SyncSchedule(SyncMode::delays, 123).env_for(2), "IPCG_SYNC=mode=delays seed=123 actor=2");
  EXPECT_EQ(SyncSchedule(SyncMode::pct, 0).env_for(0), "IPCG_SYNC=mode=pct seed=0 actor=0");
}

TEST(SyncViolations, SayWhoWhereAndWhen) {
  EXPECT_EQ(describe(SyncViolation{SyncViolation::Kind::two_inside, 0, 512, 513, 41, 2}),
            "pids 512 and 513 were inside critical section 0 at once (2 inside; pid 513's step 41)");
  EXPECT_THAT(describe(SyncViolation{SyncViolation::Kind::underflow, 1, 0, 600, 9, -1}),
              AllOf(HasSubstr("buffer 1"), HasSubstr("pid 600"), HasSubstr("count -1 < 0")));
  EXPECT_THAT(describe(SyncViolation{SyncViolation::Kind::overflow, 0, 0, 601, 12, 5}),
              AllOf(HasSubstr("at least 5 items"), HasSubstr("over the capacity")));
}

// ---- the wait-for graph ------------------------------------------------------------------------

WaitNode waits(pid_t pid, std::string what, std::string state, std::vector<pid_t> holders) {
  return {pid, "", "sem_wait", WaitedObject{std::move(what), std::move(state), std::move(holders)}, {}};
}

TEST(WaitFor, TwoProcessesTakingTwoSemaphoresInOppositeOrderMakeACycle) {
  const std::vector<WaitNode> nodes = {waits(513, "semaphore /b", "value 0", {512}),
                                       waits(512, "semaphore /a", "value 0", {513})};
  EXPECT_THAT(find_cycle(nodes), ElementsAre(512, 513));
  const auto lines = explain_wait_for(nodes);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "pid 513 waits in sem_wait on semaphore /b (value 0), held by pid 512");
  EXPECT_EQ(lines[1], "pid 512 waits in sem_wait on semaphore /a (value 0), held by pid 513");
  EXPECT_EQ(lines[2], "circular wait: pid 512 -> pid 513 -> pid 512");
}

TEST(WaitFor, AChainWithoutACycleSaysNobodyHoldsTheLastOne) {
  const std::vector<WaitNode> nodes = {waits(10, "semaphore /full", "value 0", {}),
                                       waits(11, "semaphore /mutex", "value 0", {10})};
  EXPECT_TRUE(find_cycle(nodes).empty());
  const auto lines = explain_wait_for(nodes);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("no process holds it: nobody will post it"));
  EXPECT_THAT(lines[1], HasSubstr("held by pid 10"));
}

TEST(WaitFor, ThreeProcessCycleThroughAParentWaitingForItsChild) {
  WaitNode parent{30, "parent", "wait4", std::nullopt, {31}};
  const std::vector<WaitNode> nodes = {parent, waits(31, "semaphore /x", "value 0", {32}),
                                       waits(32, "semaphore /y", "value 0", {30})};
  EXPECT_THAT(find_cycle(nodes), ElementsAre(30, 31, 32));
  EXPECT_THAT(explain_wait_for(nodes)[0], "pid 30 (parent) waits in wait4, for pid 31");
}

TEST(WaitFor, AHolderThatEndedIsNamedAsSuch) {
  const std::vector<WaitNode> nodes = {waits(50, "semaphore /m", "value 0", {49})};
  EXPECT_TRUE(find_cycle(nodes).empty());
  EXPECT_EQ(explain_wait_for(nodes)[0],
            "pid 50 waits in sem_wait on semaphore /m (value 0), held by pid 49, which has ended without releasing it");
}

// A count used up (a ring's `empty` taken to 0 by producers before any consumer ran) is not a
// lock: its takers are said, but are no edges of the graph.
TEST(WaitFor, ACountUsedUpIsSaidAsDecrementedNotHeld) {
  WaitNode producer1 = waits(60, "semaphore /ring.empty", "value 0", {});
  producer1.waits_on->takers = {60, 61};
  WaitNode producer2 = waits(61, "semaphore /ring.mutex", "value 0", {60});
  const std::vector<WaitNode> nodes = {producer1, producer2};
  const auto lines = explain_wait_for(nodes);
  EXPECT_EQ(lines[0], "pid 60 waits in sem_wait on semaphore /ring.empty (value 0), decremented by pid 61 and by itself "
                      "(they never posted it); nobody has posted it yet");
  EXPECT_EQ(lines[1], "pid 61 waits in sem_wait on semaphore /ring.mutex (value 0), held by pid 60");
  EXPECT_TRUE(find_cycle(nodes).empty());
  WaitNode alone = waits(62, "semaphore /ring.empty", "value 0", {});
  alone.waits_on->takers = {63};
  EXPECT_EQ(explain_wait_for({alone})[0], "pid 62 waits in sem_wait on semaphore /ring.empty (value 0), decremented by "
                                          "pid 63, which has ended (never posted it); nobody has posted it yet");
}

// The bounded buffer: the producer sleeps on `empty` (nobody holds it; only the consumer
// posts it) holding `mutex`, which the consumer waits on: a cycle through the poster.
TEST(WaitFor, ASemaphoreNobodyHoldsWaitsForItsPosters) {
  WaitNode producer = waits(512, "semaphore /bb_empty", "value 0", {});
  producer.waits_on->posters = {513};
  const WaitNode consumer = waits(513, "semaphore /bb_mutex", "value 0", {512});
  const std::vector<WaitNode> nodes = {producer, consumer};
  const auto lines = explain_wait_for(nodes);
  EXPECT_EQ(lines[0], "pid 512 waits in sem_wait on semaphore /bb_empty (value 0); nobody holds it, posted only by pid 513");
  EXPECT_EQ(lines[1], "pid 513 waits in sem_wait on semaphore /bb_mutex (value 0), held by pid 512");
  EXPECT_EQ(lines[2], "circular wait: pid 512 -> pid 513 -> pid 512");
  // A poster that ended: said, and no cycle.
  const std::vector<WaitNode> alone = {producer};
  EXPECT_EQ(explain_wait_for(alone)[0],
            "pid 512 waits in sem_wait on semaphore /bb_empty (value 0); nobody holds it, posted only by pid 513, which has ended");
  EXPECT_TRUE(find_cycle(alone).empty());
}

TEST(WaitFor, AProcessWaitingOnWhatItHoldsIsSaidButIsNoCycle) {
  const std::vector<WaitNode> nodes = {waits(40, "semaphore /m", "value 0", {40})};
  EXPECT_TRUE(find_cycle(nodes).empty());
  EXPECT_THAT(explain_wait_for(nodes)[0], HasSubstr("which it holds itself"));
}

// ---- /proc/PID/maps ----------------------------------------------------------------------------

constexpr const char* kMaps =
    "55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1311 /usr/bin/x\n"
    "7f2a1c000000-7f2a1c001000 rw-s 00000000 00:1a 77 /dev/shm/sem.bb_mutex\n"
    "7f2a1c001000-7f2a1c003000 rw-s 00001000 00:1a 78 /dev/shm/ring\n"
    "7f2a1c010000-7f2a1c011000 rw-s 00000000 00:01 4100 /memfd:ipcg-sync-monitor (deleted)\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";

TEST(Maps, ParsesALine) {
  const auto m = parse_maps_line("7f2a1c001000-7f2a1c003000 rw-s 00001000 00:1a 78    /dev/shm/ring");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->start, 0x7f2a1c001000u);
  EXPECT_EQ(m->end, 0x7f2a1c003000u);
  EXPECT_TRUE(m->shared);
  EXPECT_EQ(m->offset, 0x1000u);
  EXPECT_EQ(m->device_minor, 0x1au);
  EXPECT_EQ(m->inode, 78u);
  EXPECT_EQ(m->path, "/dev/shm/ring");
  EXPECT_FALSE(parse_maps_line("garbage"));
}

TEST(Maps, DirtyBytesAreCountedOnlyInTheFilesOwnMappings) {
  const std::string smaps =
      "7f2a1c000000-7f2a1c002000 rw-s 00000000 fd:01 4242 /tmp/cell/region\n"
      "Size:                  8 kB\n"
      "Shared_Dirty:          0 kB\n"
      "Private_Dirty:         8 kB\n"
      "VmFlags: rd wr sh mr mw me ms sd\n"
      "7f2a1c002000-7f2a1c003000 rw-p 00000000 00:00 0\n"
      "Private_Dirty:         4 kB\n"
      "7f2a1c010000-7f2a1c011000 r--s 00002000 fd:01 4242 /tmp/cell/region\n"
      "Shared_Dirty:          4 kB\n";
  EXPECT_EQ(dirty_mapped_bytes(smaps, 4242), 12u * 1024);  // both mappings of inode 4242, not the anonymous one
  EXPECT_EQ(dirty_mapped_bytes(smaps, 99), 0u);
  EXPECT_EQ(dirty_mapped_bytes("", 4242), 0u);
}

TEST(Maps, AnAddressIsNamedByTheObjectItLiesIn) {
  const auto sem = mapping_of(kMaps, 0x7f2a1c000000u);
  ASSERT_TRUE(sem);
  EXPECT_EQ(describe_mapping(*sem, 0), "semaphore /bb_mutex");
  const auto ring = mapping_of(kMaps, 0x7f2a1c001040u);
  ASSERT_TRUE(ring);
  EXPECT_EQ(describe_mapping(*ring, 0x7f2a1c001040u - ring->start + ring->offset), "shared memory /ring at offset 4160");
  const auto memfd = mapping_of(kMaps, 0x7f2a1c010008u);
  ASSERT_TRUE(memfd);
  EXPECT_EQ(describe_mapping(*memfd, 8), "anonymous shared memory at offset 8");
  const auto stack = mapping_of(kMaps, 0x7ffd00000010u);
  ASSERT_TRUE(stack);
  EXPECT_EQ(describe_mapping(*stack, 16), "[stack] at offset 16");
  EXPECT_FALSE(mapping_of(kMaps, 0x1000u));
}

// ---- lab.toml: [build] interpose_sync, schedule; a test's schedule -----------------------------

class LabToml : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "sync_spec_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Result<LabSpec> load(const std::string& build_extra, const std::string& test_extra = "") {
    fs::create_directories(root_ / "lab8-x");
    std::ofstream(root_ / "lab8-x/lab.toml")
        << "[lab]\nnumber = 8\ntitle = \"t\"\nmechanism = \"m\"\n[build]\nsources = [\"a.c\"]\n" << build_extra
        << "[[tests]]\nname = \"t\"\nproperty = \"p\"\npoints = 1\ncheck = \"c\"\n" << test_extra;
    return load_lab_spec(root_ / "lab8-x/lab.toml", root_ / "reference");
  }
  fs::path root_;
};

TEST_F(LabToml, InterposeSyncIsOffAndTheScheduleDelaysUnlessSaid) {
  auto spec = load("");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_FALSE(spec->build.interpose_sync);
  EXPECT_EQ(spec->build.schedule, SyncMode::delays);
  EXPECT_FALSE(spec->tests[0].schedule);
}

TEST_F(LabToml, ReadsInterposeSyncAndSchedules) {
  auto spec = load("interpose_sync = true\nschedule = \"pct\"\n", "schedule = \"native\"\n");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_TRUE(spec->build.interpose_sync);
  EXPECT_EQ(spec->build.schedule, SyncMode::pct);
  EXPECT_EQ(spec->tests[0].schedule, SyncMode::native);
}

TEST_F(LabToml, BadValuesNameTheFileLineAndKey) {
  auto spec = load("interpose_sync = \"yes\"\n");
  ASSERT_FALSE(spec);
  EXPECT_THAT(spec.error().message, AllOf(HasSubstr("lab.toml:7:"), HasSubstr("build.interpose_sync"),
                                          HasSubstr("true or false")));
  spec = load("", "schedule = \"random\"\n");
  ASSERT_FALSE(spec);
  EXPECT_THAT(spec.error().message, AllOf(HasSubstr("lab.toml:12:"), HasSubstr("tests[0].schedule"),
                                          HasSubstr("expected \"native\", \"delays\" or \"pct\", got \"random\"")));
}

}  // namespace
}  // namespace ipcg

namespace ipcg {
namespace {

// ---- SpinWatch: fed samples by hand ------------------------------------------------------------

SpinSample at_ms(int ms, double cpu, std::uint64_t switches, bool asleep) {
  return {std::chrono::steady_clock::time_point{} + std::chrono::milliseconds(ms), cpu, switches, asleep};
}

TEST(SpinWatch, CpuUsedBeforeEverSleepingIsSpinning) {
  SpinWatch spin;
  EXPECT_EQ(spin.observe(at_ms(0, 1.0, 5, false)), SpinWatch::Verdict::undecided);
  EXPECT_EQ(spin.observe(at_ms(100, 1.1, 5, false)), SpinWatch::Verdict::undecided);
  EXPECT_EQ(spin.observe(at_ms(230, 1.21, 6, false)), SpinWatch::Verdict::spins);
  EXPECT_EQ(spin.figures(), "210 ms of CPU in 230 ms of wall time (CPU/wall 0.91; 1 voluntary context switch), "
                            "never asleep in the call it should wait in");
  const auto f = spin.measured();  // the numbers behind the words, for a lab's own sentence
  EXPECT_NEAR(f.cpu_seconds, 0.21, 1e-9);
  EXPECT_NEAR(f.wall_seconds, 0.23, 1e-9);
  EXPECT_EQ(f.voluntary_switches, 1u);
}

TEST(SpinWatch, AsleepAndStillOverTheWindowBlocks) {
  SpinWatch spin;
  spin.observe(at_ms(0, 0.0, 1, false));
  EXPECT_EQ(spin.observe(at_ms(10, 0.001, 2, true)), SpinWatch::Verdict::undecided);
  EXPECT_EQ(spin.observe(at_ms(200, 0.002, 3, true)), SpinWatch::Verdict::undecided);
  EXPECT_EQ(spin.observe(at_ms(310, 0.003, 3, true)), SpinWatch::Verdict::blocks);
  EXPECT_TRUE(spin.ever_asleep());
  EXPECT_NEAR(spin.measured().wall_seconds, 0.3, 1e-9);  // counted from the first asleep sample
  EXPECT_NEAR(spin.measured().cpu_seconds, 0.002, 1e-9);
}

TEST(SpinWatch, ALoopThatSleepsNowAndThenButMostlyRunsSpins) {
  SpinWatch spin;
  spin.observe(at_ms(0, 0.0, 0, true));
  EXPECT_EQ(spin.observe(at_ms(150, 0.1, 3, false)), SpinWatch::Verdict::undecided);
  EXPECT_EQ(spin.observe(at_ms(300, 0.2, 4, true)), SpinWatch::Verdict::spins);
  EXPECT_THAT(spin.figures(), HasSubstr("CPU/wall 0.67; 4 voluntary context switches"));
}

}  // namespace
}  // namespace ipcg
