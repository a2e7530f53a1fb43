// harness_labkit: a driver's report read back (the last call, whether it returned, the results),
// the words checks use for statuses, signals and differences, seeded text, and the driver kit's C
// side run for real in child processes (rlimits lowered to a chosen spare, the gate).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <random>

#include "harness/labkit/labkit.hpp"

extern "C" int driver_kit_pipes_after_leaving(int spare);  // driver_kit_probe.c
extern "C" int driver_kit_gate_stops(void);
extern "C" int driver_kit_maps_after_leaving(unsigned long spare, unsigned long bytes);

namespace ipcg {
namespace {

using ::testing::HasSubstr;

RunOutcome with_control(const std::string& text, Ending ending = Ending::exited, int status = 0) {
  RunOutcome out;
  out.ending = ending;
  out.wait_status = status;
  out.captures[kControlFd].data = text;
  return out;
}

TEST(DriverReport, TheLastCallAndWhetherItReturned) {
  auto report = driver_report(with_control("others 41 42\ncall mq_open\nstatus 0\ncall mq_take\n"));
  EXPECT_EQ(report.last_call, "mq_take");
  EXPECT_FALSE(report.last_call_returned);
  EXPECT_EQ(report.results, std::vector<std::string>{"status 0"});
  EXPECT_EQ(report.line_starting("others"), "others 41 42");
  EXPECT_EQ(report.line_starting("other"), std::nullopt);  // a whole first word, not a prefix

  // A lab's own "returned" words; "statusx" is not "status".
  report = driver_report(with_control("call conv\nreply 1 5\ncall conv\nstatusx 3\n"), {"reply"});
  EXPECT_FALSE(report.last_call_returned);
  report = driver_report(with_control("call conv\nreply 1 5\n"), {"reply"});
  EXPECT_TRUE(report.last_call_returned);
  EXPECT_TRUE(report.results.empty());
}

TEST(DriverReport, DiedInsideACallIsNamedWithHowItEnded) {
  const auto exited = with_control("call route_serve\n", Ending::exited, 3 << 8);
  auto verdict = died_inside_call(exited, driver_report(exited));
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(verdict->status, Status::failed);
  EXPECT_THAT(verdict->message, HasSubstr("ended the calling process inside route_serve with exit status 3"));

  const auto killed = with_control("call route_serve\n", Ending::signaled, SIGPIPE);
  verdict = died_inside_call(killed, driver_report(killed));
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(verdict->status, Status::crashed);
  EXPECT_THAT(verdict->message, HasSubstr("died of SIGPIPE inside route_serve"));

  const auto returned = with_control("call route_serve\nstatus 0\n", Ending::exited, 1 << 8);
  EXPECT_EQ(died_inside_call(returned, driver_report(returned)), std::nullopt);
}

TEST(Words, StatusesSignalsAndDifferences) {
  EXPECT_EQ(describe_status(2 << 8), "exit status 2");
  EXPECT_EQ(describe_status(SIGKILL), "killed by SIGKILL");
  EXPECT_EQ(signal_list(SignalMasks::bit(SIGPIPE) | SignalMasks::bit(SIGUSR1)), "SIGUSR1, SIGPIPE");
  EXPECT_THAT(describe_difference("abc\ndef\n", "abc\ndxf\n"), HasSubstr("at byte 5 (line 2)"));
  EXPECT_EQ(printable(std::string("a\nb\x01\0", 5)), "\"a\\nb\\x01\\x00\"");
  EXPECT_EQ(split_lines("one\ntwo\n\nfour"), (std::vector<std::string>{"one", "two", "", "four"}));
}

TEST(Words, RandomTextIsTheSeedsAndEndsItsLastLine) {
  std::mt19937_64 a(42), b(42), c(43);
  const auto text = random_text(a, 4096, true);
  EXPECT_EQ(text.size(), 4096u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text, random_text(b, 4096, true));
  EXPECT_NE(text, random_text(c, 4096, true));
}

TEST(ProcCounters, ReadAndWriteCallsCountThisProcesssCalls) {
  const pid_t self = ::getpid();
  const auto reads = read_calls(self), writes = write_calls(self);
  ASSERT_TRUE(reads && writes);
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  char byte = 'x';
  ASSERT_EQ(::write(ends[1], &byte, 1), 1);
  ASSERT_EQ(::write(ends[1], &byte, 1), 1);
  ASSERT_EQ(::read(ends[0], &byte, 1), 1);
  ::close(ends[0]);
  ::close(ends[1]);
  // Reading /proc/PID/io is itself a read: at least the calls made here, never fewer.
  EXPECT_GE(*write_calls(self), *writes + 2);
  EXPECT_GE(*read_calls(self), *reads + 1);
}

TEST(DriverKit, LeavesExactlyTheSpareDescriptorsItIsAsked) {
  // A pipe takes two descriptors: 2 spare make one pipe, 5 make two.
  EXPECT_EQ(driver_kit_pipes_after_leaving(2), 1);
  EXPECT_EQ(driver_kit_pipes_after_leaving(5), 2);
}

TEST(DriverKit, TheGateStopsTheProcessUntilContinued) { EXPECT_EQ(driver_kit_gate_stops(), 1); }

TEST(DriverKit, LeavesTheSpareAddressSpaceItIsAsked) {
  constexpr unsigned long kMiB = 1ul << 20;
  EXPECT_EQ(driver_kit_maps_after_leaving(16 * kMiB, 8 * kMiB), 1);
  EXPECT_EQ(driver_kit_maps_after_leaving(16 * kMiB, 32 * kMiB), 0);
}

}  // namespace
}  // namespace ipcg
