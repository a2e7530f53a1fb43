// The hang judgement on recorded looks and snapshots, without processes: which waits are for
// good, when a tree counts as stalled, and which waits the grader itself could end.
#include <linux/futex.h>
#include <sys/syscall.h>

#include <gtest/gtest.h>

#include <chrono>

#include "harness/proc/stall.hpp"

namespace ipcg {
namespace {

using namespace std::chrono_literals;
using Clock = StallDetector::Clock;

ProcessLook asleep_in(pid_t pid, long nr, std::vector<unsigned long> args = {0, 0, 0, 0, 0, 0}) {
  return {.pid = pid, .state = 'S', .cpu_ticks = 10, .switches = 5, .syscall = nr, .syscall_args = std::move(args)};
}

TEST(WaitKind, BlockingCallsWithoutATimeoutAreIndefinite) {
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_read, {3, 0, 1, 0, 0, 0})), WaitKind::indefinite);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_wait4)), WaitKind::indefinite);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_msgrcv)), WaitKind::indefinite);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_futex, {0x1000, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0})),
            WaitKind::indefinite);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_semtimedop, {3, 0x1000, 1, 0, 0, 0})), WaitKind::indefinite);  // semop
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_poll, {0x1000, 2, 0xffffffff, 0, 0, 0})), WaitKind::indefinite);  // -1
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_poll, {0x1000, 2, 0xffffffffffffffff, 0, 0, 0})), WaitKind::indefinite);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_mq_timedreceive, {3, 0x1000, 64, 0, 0, 0})), WaitKind::indefinite);
}

TEST(WaitKind, SleepsAndWaitsWithATimeoutEndByThemselves) {
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_nanosleep)), WaitKind::timed);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_clock_nanosleep)), WaitKind::timed);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_futex, {0x1000, FUTEX_WAIT, 0, 0x7ffd0000, 0, 0})), WaitKind::timed);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_semtimedop, {3, 0x1000, 1, 0x7ffd0000, 0, 0})), WaitKind::timed);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_poll, {0x1000, 2, 100, 0, 0, 0})), WaitKind::timed);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_mq_timedreceive, {3, 0x1000, 64, 0, 0x7ffd0000, 0})), WaitKind::timed);
  ProcessLook alarmed = asleep_in(1, SYS_read, {3, 0, 1, 0, 0, 0});
  alarmed.catches_alarm = true;  // an alarm() /proc cannot show may be armed
  EXPECT_EQ(wait_kind(alarmed), WaitKind::timed);
  ProcessLook timer = asleep_in(1, SYS_pause);
  timer.has_posix_timers = true;
  EXPECT_EQ(wait_kind(timer), WaitKind::timed);
}

TEST(WaitKind, RunningStoppedEndedAndUnknownCallsAreNeverWaits) {
  ProcessLook p = asleep_in(1, SYS_read);
  p.state = 'R';
  EXPECT_EQ(wait_kind(p), WaitKind::busy);
  p.state = 'D';
  EXPECT_EQ(wait_kind(p), WaitKind::busy);
  p.state = 'T';
  EXPECT_EQ(wait_kind(p), WaitKind::stopped);
  p.state = 'Z';
  EXPECT_EQ(wait_kind(p), WaitKind::ended);
  EXPECT_EQ(wait_kind(asleep_in(1, SYS_getrandom)), WaitKind::busy);
  ProcessLook no_syscall{.pid = 1, .state = 'S'};
  EXPECT_EQ(wait_kind(no_syscall), WaitKind::busy);
}

TEST(StallDetector, FiresOnceEveryProcessWaitedUnchangedForTheGrace) {
  StallDetector stall({.grace = 300ms, .sample_every = 25ms});
  const auto t0 = Clock::now();
  const std::vector<ProcessLook> tree = {asleep_in(1, SYS_wait4), asleep_in(2, SYS_read, {0, 0, 1, 0, 0, 0})};
  EXPECT_FALSE(stall.observe(tree, t0));
  EXPECT_FALSE(stall.observe(tree, t0 + 200ms));
  EXPECT_TRUE(stall.observe(tree, t0 + 300ms));
  EXPECT_EQ(stall.stalled_for(), 300ms);
}

TEST(StallDetector, AnyProgressStartsTheGraceAgain) {
  StallDetector stall({.grace = 300ms});
  const auto t0 = Clock::now();
  std::vector<ProcessLook> tree = {asleep_in(1, SYS_wait4), asleep_in(2, SYS_read)};
  EXPECT_FALSE(stall.observe(tree, t0));
  tree[1].switches += 1;  // it woke and went back to sleep: a reader fed a little at a time
  EXPECT_FALSE(stall.observe(tree, t0 + 250ms));
  EXPECT_FALSE(stall.observe(tree, t0 + 500ms));
  EXPECT_TRUE(stall.observe(tree, t0 + 550ms));
}

TEST(StallDetector, AStallUnderWayIsJudgedUntilItsGraceAndTwoLooksHavePassed) {
  StallDetector stall({.grace = 300ms, .sample_every = 25ms});
  const auto t0 = Clock::now();
  std::vector<ProcessLook> tree = {asleep_in(1, SYS_wait4)};
  EXPECT_FALSE(stall.judging(t0));  // nothing looked at yet: no stall under way
  stall.observe(tree, t0);
  EXPECT_TRUE(stall.judging(t0 + 349ms));
  EXPECT_FALSE(stall.judging(t0 + 350ms));  // grace + 2 looks: a wall limit waits no longer
  tree[0].state = 'R';  // progress ends the stall: nothing is judged, the limit stops the run
  stall.observe(tree, t0 + 100ms);
  EXPECT_FALSE(stall.judging(t0 + 101ms));
}

TEST(StallDetector, OneProcessNotWaitingForGoodKeepsTheTreeAlive) {
  StallDetector stall({.grace = 100ms});
  const auto t0 = Clock::now();
  for (const ProcessLook& other : {asleep_in(2, SYS_nanosleep), ProcessLook{.pid = 2, .state = 'T'},
                                   ProcessLook{.pid = 2, .state = 'R', .syscall = SYS_read}}) {
    const std::vector<ProcessLook> tree = {asleep_in(1, SYS_wait4), other};
    for (auto t = t0; t < t0 + 1s; t += 50ms) EXPECT_FALSE(stall.observe(tree, t));
  }
}

TEST(StallDetector, ZombiesDoNotCountAndAnEmptyTreeIsNotHung) {
  StallDetector stall({.grace = 100ms});
  const auto t0 = Clock::now();
  EXPECT_FALSE(stall.observe({}, t0));
  EXPECT_FALSE(stall.observe({}, t0 + 1s));
  const std::vector<ProcessLook> tree = {asleep_in(1, SYS_read), ProcessLook{.pid = 2, .state = 'Z'}};
  EXPECT_FALSE(stall.observe(tree, t0 + 2s));
  EXPECT_TRUE(stall.observe(tree, t0 + 2s + 100ms));
}

ProcessSnapshot reader_of(pid_t pid, long nr, int fd, FdInfo held) {
  ProcessSnapshot s;
  s.pid = pid;
  s.state = 'S';
  s.syscall = nr;
  s.syscall_args = {static_cast<unsigned long>(fd), 0, 1, 0, 0, 0};
  s.fds = {held, {.fd = 1, .target = "pipe:[900]", .kind = FdKind::pipe, .inode = 900, .end = PipeEnd::write}};
  return s;
}

TEST(WaitingOn, AReaderOfAPipeWhoseWriteEndTheGraderHoldsWaitsOnTheGrader) {
  const FdInfo stdin_pipe{.fd = 0, .target = "pipe:[77]", .kind = FdKind::pipe, .inode = 77, .end = PipeEnd::read};
  const std::vector<ProcessSnapshot> tree = {reader_of(10, SYS_read, 0, stdin_pipe)};
  HeldObjects grader;
  EXPECT_TRUE(waiting_on(tree, grader).empty());
  grader.pipe_read_ends.insert(77);  // the grader reads it too: no reason to wait
  EXPECT_TRUE(waiting_on(tree, grader).empty());
  grader.pipe_write_ends.insert(77);  // the grader may still write the input
  EXPECT_EQ(waiting_on(tree, grader), std::vector<pid_t>{10});
}

TEST(WaitingOn, APollOverTheGradersPipeWaitsOnItButNotOverItsOwnStdout) {
  const FdInfo fed{.fd = 4, .target = "pipe:[78]", .kind = FdKind::pipe, .inode = 78, .end = PipeEnd::read};
  ProcessSnapshot poller = reader_of(11, SYS_poll, 0, fed);
  poller.syscall_args = {0x1000, 2, 0xffffffff, 0, 0, 0};
  HeldObjects grader;
  grader.pipe_read_ends.insert(900);  // it drains the poller's stdout: not what a poll for input waits for
  EXPECT_TRUE(waiting_on({poller}, grader).empty());
  grader.pipe_write_ends.insert(78);
  EXPECT_EQ(waiting_on({poller}, grader), std::vector<pid_t>{11});
}

TEST(WaitingOn, AWriterTheGraderDrainsAndASocketItHoldsCount) {
  ProcessSnapshot writer = reader_of(12, SYS_write, 1, {});
  const FdInfo sock{.fd = 5, .target = "socket:[55]", .kind = FdKind::socket, .inode = 55};
  ProcessSnapshot receiver = reader_of(13, SYS_recvfrom, 5, sock);
  HeldObjects grader;
  grader.pipe_read_ends.insert(900);
  grader.sockets.insert(55);
  EXPECT_EQ(waiting_on({writer, receiver}, grader), (std::vector<pid_t>{12, 13}));
}

}  // namespace
}  // namespace ipcg
