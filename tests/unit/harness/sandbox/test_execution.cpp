// run(): stdin, captures, limits, deadlines and the tick/exit hooks, on real process trees.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

// g++ 12 warns about members left out of designated initializers, the idiom these tests use.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <random>

#include "harness/sandbox/execution.hpp"
#include "harness/sandbox/sandbox.hpp"

#include "sandbox_test_support.hpp"

namespace ipcg_test {
namespace {

using namespace std::chrono_literals;

TEST(CapturedOutput, DisplaySaysHowMuchWasCut) {
  CapturedOutput whole{.data = "abc", .total_bytes = 3, .truncated = false};
  EXPECT_EQ(whole.display(), "abc");
  CapturedOutput cut{.data = "abc", .total_bytes = 10, .truncated = true};
  EXPECT_EQ(cut.display(), "abc\n[... truncated: 7 more bytes]");
}

class RunTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    // Shells, pipelines and ls: what a lab allows, so these tests exercise the box, not the policy.
    auto created = make_box(GetParam(), {"process", "file", "pipe"});
    ASSERT_TRUE(created) << created.error().message;
    box.emplace(std::move(*created));
    if (GetParam() == Mode::full && box->isolation().level != IsolationLevel::full)
      GTEST_SKIP() << "full isolation unavailable here: " << box->isolation().reason;
  }

  RunOutcome run_ok(RunRequest req) {
    auto out = run(*box, std::move(req));
    EXPECT_TRUE(out) << out.error().message;
    return out ? std::move(*out) : RunOutcome{};
  }

  std::optional<Sandbox> box;
};

INSTANTIATE_TEST_SUITE_P(Modes, RunTest, ::testing::Values(Mode::full, Mode::reduced), mode_name);

Limits with_wall(std::chrono::milliseconds wall) {
  Limits l;
  l.wall = wall;
  return l;
}

// Every process the tree ever showed, recorded tick by tick.
struct Census {
  std::vector<ProcId> seen;
  size_t most = 0;
  void take(const SandboxedProcess& p) {
    const auto pids = p.processes();
    most = std::max(most, pids.size());
    for (pid_t pid : pids)
      if (auto id = proc_id(pid); id && std::none_of(seen.begin(), seen.end(), [&](const ProcId& s) {
            return s.pid == id->pid && s.start == id->start;
          }))
        seen.push_back(*id);
  }
  std::vector<pid_t> alive() const {
    std::vector<pid_t> out;
    for (const ProcId& p : seen)
      if (still_exists(p)) out.push_back(p.pid);
    return out;
  }
};

TEST_P(RunTest, CapturesStdoutAndStderrApart) {
  const RunOutcome out = run_ok({.spec = {.argv = {"/bin/sh", "-c", "echo out; echo err >&2; echo three >&3"}},
                                 .extra_captures = {3}});
  EXPECT_EQ(out.ending, Ending::exited);
  EXPECT_EQ(out.wait_status, 0);
  EXPECT_EQ(out.captures.at(1).data, "out\n");
  EXPECT_EQ(out.captures.at(2).data, "err\n");
  EXPECT_EQ(out.captures.at(3).data, "three\n");
  EXPECT_FALSE(out.captures.at(1).truncated);
}

TEST_P(RunTest, OneMebibyteRoundTripsThroughCat) {
  std::string data(1 << 20, '\0');
  std::mt19937 rng(42);
  for (char& c : data) c = static_cast<char>(rng());
  RunRequest req{.spec = {.argv = {"/bin/cat"}}, .stdin_data = data};
  req.spec.limits.output_bytes = 2 << 20;
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::exited);
  EXPECT_EQ(out.captures.at(1).total_bytes, data.size());
  EXPECT_TRUE(out.captures.at(1).data == data);
}

TEST_P(RunTest, StdinNobodyReadsIsNotAnError) {
  const RunOutcome out = run_ok({.spec = {.argv = {"/bin/true"}}, .stdin_data = std::string(1 << 20, 'x')});
  EXPECT_EQ(out.ending, Ending::exited);
  EXPECT_EQ(out.wait_status, 0);
}

TEST_P(RunTest, OutputBeyondTheCapIsCountedAndMarked) {
  RunRequest req{.spec = {.argv = {"/bin/sh", "-c", "head -c 100000 /dev/zero"}}};
  req.spec.limits.output_bytes = 1000;
  const RunOutcome out = run_ok(std::move(req));
  const CapturedOutput& c = out.captures.at(1);
  EXPECT_EQ(c.data.size(), 1000u);
  EXPECT_EQ(c.total_bytes, 100000u);
  EXPECT_TRUE(c.truncated);
  EXPECT_NE(c.display().find("[... truncated: 99000 more bytes]"), std::string::npos);
}

// A tree that cannot progress (a reader that keeps its own pipe's write end) ends once it has
// been stalled for the grace, long before its wall limit, with where it was blocked.
TEST_P(RunTest, AHungTreeEndsAtOnceWithItsHangReport) {
  RunRequest req{.spec = {.argv = helper("selfpipe"), .limits = with_wall(10s)}};
  req.spec.limits.hang_grace = 300ms;
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::hung);
  EXPECT_GE(out.stalled, 300ms);
  EXPECT_LT(out.wall, 3s);
  ASSERT_TRUE(out.hang.has_value());
  ASSERT_FALSE(out.hang->processes.empty());
  EXPECT_NE(out.hang->processes.front().description.find("blocked in read"), std::string::npos)
      << out.hang->summary();
}

// A wall limit shorter than the hang grace (a limit derived from a quick reference's run): the
// stall under way when it comes is judged first, so the tree reads hung, not timeout, whatever
// the limit; a busy tree (a spinner never stalls) still times out.
TEST_P(RunTest, AStallUnderWayAtTheWallLimitIsJudgedFirst) {
  RunRequest req{.spec = {.argv = helper("selfpipe"), .limits = with_wall(100ms)}};
  req.spec.limits.hang_grace = 300ms;
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::hung);
  EXPECT_GE(out.stalled, 300ms);
  ASSERT_TRUE(out.hang.has_value());

  RunRequest spinner{.spec = {.argv = {"/bin/sh", "-c", "while :; do :; done"}, .limits = with_wall(100ms)}};
  spinner.spec.limits.hang_grace = 300ms;
  const RunOutcome busy = run_ok(std::move(spinner));
  EXPECT_EQ(busy.ending, Ending::timed_out);
}

// Never ended early: a reader of the input the grader still holds open, a sleeper, a wait an
// alarm may end. Each runs to its wall limit.
TEST_P(RunTest, WaitsTheGraderOrATimerMayEndAreNotHangs) {
  RunRequest on_grader{.spec = {.argv = {"/bin/cat"}, .limits = with_wall(900ms)}, .keep_stdin_open = true};
  RunRequest sleeper{.spec = {.argv = {"/bin/sleep", "5"}, .limits = with_wall(900ms)}};
  RunRequest alarmed{.spec = {.argv = helper("selfpipe", {"alarm"}), .limits = with_wall(900ms)}};
  for (RunRequest* req : {&on_grader, &sleeper, &alarmed}) {
    req->spec.limits.hang_grace = 100ms;
    const std::string what = req->spec.argv.back();
    const RunOutcome out = run_ok(std::move(*req));
    EXPECT_EQ(out.ending, Ending::timed_out) << what;
    EXPECT_GE(out.wall, 900ms) << what;
  }
}

// The deadline kills the whole tree, a setsid'd double-forked daemon included, and the hang is
// recorded first.
TEST_P(RunTest, WallTimeoutKillsTheTreeWithItsDaemon) {
  Census census;
  RunRequest req{.spec = {.argv = helper("daemon", {"stay"}), .limits = with_wall(700ms)},
                 .tick_interval = 10ms};
  req.spec.limits.hang_grace = 0ms;  // the wall limit is what is tested
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    census.take(p);
    return TickAction::keep_going;
  };
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::timed_out);
  EXPECT_TRUE(WIFSIGNALED(out.wait_status) && WTERMSIG(out.wait_status) == SIGKILL);
  EXPECT_TRUE(out.hang.has_value());
  EXPECT_GE(out.wall, 700ms);
  EXPECT_FALSE(out.captures.at(1).data.empty());  // the daemon announced itself
  ASSERT_GE(census.most, 2u);                     // the target and the daemon, at least once
  EXPECT_EQ(census.alive(), std::vector<pid_t>{});
}

TEST_P(RunTest, SurvivorsOfTheTargetAreReportedThenKilled) {
  std::vector<pid_t> seen_on_exit;
  RunRequest req{.spec = {.argv = helper("daemon", {"exit"})}};
  req.on_exit = [&](SandboxedProcess& p) { seen_on_exit = p.processes(); };
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::exited);
  ASSERT_EQ(out.survivors.size(), 1u);
  EXPECT_EQ(seen_on_exit, out.survivors);
  EXPECT_EQ(::access(("/proc/" + std::to_string(out.survivors[0])).c_str(), F_OK), -1);
}

TEST_P(RunTest, WaitForDescendantsLetsAnOrphanFinishItsOutput) {
  // The target exits at once; its background child reads stdin (sh gives a background job
  // /dev/null unless told otherwise, hence fd 4) and writes after it. With
  // wait_for_descendants the output is complete whatever the scheduling; the child is a survivor.
  RunRequest req{.spec = {.argv = {"/bin/sh", "-c", "exec 4<&0; (cat <&4; echo done) & exit 0"}, .limits = with_wall(std::chrono::seconds(10))},
                 .stdin_data = std::string(300000, 'x')};
  req.wait_for_descendants = true;
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::exited);
  EXPECT_EQ(out.captures.at(1).total_bytes, 300005u);
  EXPECT_FALSE(out.survivors.empty());
}

TEST_P(RunTest, WaitForDescendantsStillEndsAtTheDeadline) {
  RunRequest req{.spec = {.argv = {"/bin/sh", "-c", "(while :; do :; done) & exit 0"},
                          .limits = with_wall(std::chrono::milliseconds(300))}};
  req.wait_for_descendants = true;
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::timed_out);
  ASSERT_TRUE(out.hang.has_value());
  EXPECT_FALSE(out.hang->processes.empty());
}

TEST_P(RunTest, ForkBombIsContainedAndKilled) {
  Census census;
  RunRequest req{.spec = {.argv = helper("forkbomb"), .limits = with_wall(1000ms)}, .tick_interval = 20ms};
  req.spec.limits.processes = 16;
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    census.take(p);
    return TickAction::keep_going;
  };
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::timed_out);
  EXPECT_GE(census.most, 2u);
  // With a slot uid the limit is exact; without one it is shared with the user's other processes.
  if (::geteuid() == 0) {
    EXPECT_LE(census.most, 16u);
  }
  EXPECT_EQ(census.alive(), std::vector<pid_t>{});
}

TEST_P(RunTest, CpuLimitKillsASpinner) {
  RunRequest req{.spec = {.argv = helper("spin"), .limits = with_wall(10s)}};
  req.spec.limits.cpu_seconds = 1;
  const RunOutcome out = run_ok(std::move(req));
  // Signaled, not timed_out: the CPU limit ended it before the 10 s wall deadline. (No bound on
  // wall time here: under load a second of CPU can take several of wall.)
  ASSERT_EQ(out.ending, Ending::signaled);
  const int sig = WTERMSIG(out.wait_status);
  EXPECT_TRUE(sig == SIGXCPU || sig == SIGKILL) << sig;
}

TEST_P(RunTest, FileSizeLimitHolds) {
  auto dir = box->make_writable_dir("out");
  ASSERT_TRUE(dir);
  const std::string file = box->to_box(*dir / "big").string();
  RunRequest req{.spec = {.argv = helper("writefile", {file, "131072"})}};
  req.spec.limits.file_size_bytes = 65536;
  const RunOutcome out = run_ok(std::move(req));
  ASSERT_EQ(out.ending, Ending::signaled);
  EXPECT_EQ(WTERMSIG(out.wait_status), SIGXFSZ);
  EXPECT_EQ(std::filesystem::file_size(*dir / "big"), 65536u);
}

TEST_P(RunTest, AddressSpaceLimitHolds) {
  RunRequest big{.spec = {.argv = helper("alloc", {"256"})}};
  big.spec.limits.address_space_bytes = 128ull << 20;
  const RunOutcome refused = run_ok(std::move(big));
  EXPECT_EQ(refused.ending, Ending::exited);
  EXPECT_EQ(WEXITSTATUS(refused.wait_status), 3);  // malloc returned NULL

  RunRequest small{.spec = {.argv = helper("alloc", {"16"})}};
  small.spec.limits.address_space_bytes = 128ull << 20;
  EXPECT_EQ(run_ok(std::move(small)).wait_status, 0);
}

TEST_P(RunTest, OnTickCanKillAndSeesTheGradersPipes) {
  std::string fd1_target;
  std::uint64_t stdout_inode = 0;
  RunRequest req{.spec = {.argv = {"/bin/sleep", "100"}, .limits = with_wall(10s)}};
  req.on_tick = [&](SandboxedProcess& p, const RunContext& ctx) {
    char buf[128];
    const std::string link = "/proc/" + std::to_string(p.pid()) + "/fd/1";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n <= 0) return TickAction::keep_going;  // not exec'ed yet
    fd1_target.assign(buf, static_cast<size_t>(n));
    stdout_inode = ctx.pipe_inodes.at(1);
    return TickAction::kill;
  };
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::killed);
  EXPECT_LT(out.wall, 5s);
  EXPECT_EQ(fd1_target, "pipe:[" + std::to_string(stdout_inode) + "]");
}

TEST_P(RunTest, StopTickingStopsTheCalls) {
  int calls = 0;
  RunRequest req{.spec = {.argv = {"/bin/sleep", "0.2"}}, .tick_interval = 1ms};
  req.on_tick = [&](SandboxedProcess&, const RunContext&) {
    ++calls;
    return TickAction::stop_ticking;
  };
  const RunOutcome out = run_ok(std::move(req));
  EXPECT_EQ(out.ending, Ending::exited);
  EXPECT_EQ(calls, 1);
}

TEST_P(RunTest, ExecFailureIsAnError) {
  auto out = run(*box, {.spec = {.argv = {"/nonexistent/program"}}});
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("exec /nonexistent/program"), std::string::npos) << out.error().message;
}

TEST_P(RunTest, MappingOverTheStandardFdsIsRefused) {
  auto out = run(*box, {.spec = {.argv = {"/bin/true"}, .fds = {{0, 1}}}});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Errc::usage);
}

}  // namespace
}  // namespace ipcg_test
