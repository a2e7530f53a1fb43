// Shared pieces of lab1's checks: building argv for the drivers and stages, seeded inputs,
// reading the drivers' control lines, and the gate (trusted stages that stop themselves so the
// grader can read /proc at a well-defined moment).
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "harness/runner/check.hpp"
#include "harness/proc/proc_inspector.hpp"

namespace lab1 {

using namespace ipcg;
using Stages = std::vector<std::vector<std::string>>;
using Clock = std::chrono::steady_clock;

// x86_64 syscall numbers the gate logic waits on.
inline constexpr long kSysRead = 0, kSysWrite = 1, kSysPoll = 7, kSysSelect = 23, kSysReadv = 19,
                      kSysWait4 = 61, kSysWaitid = 247, kSysPselect6 = 270, kSysPpoll = 271;
inline constexpr int kControlFd = 3;
// How long to wait for a stopped tree to settle (the parent to block) before looking anyway.
inline constexpr std::chrono::milliseconds kSettleGrace{1000};
inline constexpr std::chrono::milliseconds kPollInterval{2};

Stages stages_param(const TestSpec& test);  // throws std::runtime_error when malformed
// A stage as argv: a name like "upper" runs the trusted stage tool; an absolute path runs as is.
std::vector<std::string> stage_argv(const TestContext& ctx, const std::vector<std::string>& stage, bool gate);
std::vector<std::string> pipeline_argv(const TestContext& ctx, const std::string& program, const Stages& stages,
                                       bool gate_stages, bool gate_after);
std::string stage_label(const ProcessSnapshot& s, std::size_t index);  // "stage 2 (upper)"

// params.input, or params.random_input_bytes of seeded printable text in lines.
std::string test_input(TestContext& ctx);
std::string random_text(std::mt19937_64& rng, std::size_t bytes, bool newlines);

RunRequest driver_request(const TestContext& ctx, std::vector<std::string> argv, std::string input);
std::vector<std::string> control_lines(const RunOutcome& out);
std::vector<std::string> split_lines(const std::string& text);

// The conversation protocol: requests as the drivers read them (one per line), and reply k to a
// request ("<k> <REQUEST IN UPPER CASE>").
std::string joined_lines(const std::vector<std::string>& lines);
std::string expected_reply(std::size_t k, const std::string& request);

// "output differs at byte 1234 (line 17): expected "abc", got "abd"".
std::string describe_difference(const std::string& expected, const std::string& got);
std::string printable(const std::string& s, std::size_t max = 60);

bool is_gated(const ProcessSnapshot& s, const std::string& mode = "");
bool blocked_in(const ProcessSnapshot& s, std::initializer_list<long> syscalls);
std::vector<ProcessSnapshot> live_snapshots(const SandboxedProcess& p);
const ProcessSnapshot* find_pid(const std::vector<ProcessSnapshot>& snaps, pid_t pid);

// Words for one fd: "fd 4 = write end of pipe:[9183]".
std::string describe_fd(const FdInfo& fd);
std::string end_name(PipeEnd end);
// Bytes waiting in the pipe that `pid` holds as `fd` (opened again through /proc), or nullopt.
std::optional<int> unread_bytes(pid_t pid, int fd);
// rchar of /proc/PID/io: bytes this process has read so far (identifies a new stop of a gate).
std::optional<std::uint64_t> bytes_read(pid_t pid);
std::optional<std::uint64_t> bytes_written(pid_t pid);  // wchar of /proc/PID/io
bool is_grader_pipe(const RunContext& run, std::uint64_t inode);

// What a driver reported on the control fd (see the drivers' headers): the calls it made into
// the implementation, their results, and its other facts ("others", "limit", "guard" ...).
struct DriverReport {
  std::vector<std::string> lines;
  std::string last_call;       // "run_pipeline", "conv_exchange" ... (empty: none)
  bool last_call_returned = true;  // false: the report ends right after "call X"
  std::vector<std::string> results;  // "status N" / "error ..." lines, in order
  std::optional<std::string> line_starting(std::string_view word) const;
};
DriverReport driver_report(const RunOutcome& out);

// When the implementation ended the calling process (exit() in the library) or it died inside
// a call: "the student's code ended the calling process inside run_pipeline with exit status 1".
std::optional<CheckOutcome> died_inside_call(const RunOutcome& out, const DriverReport& report);

// Signals by name for evidence: "SIGPIPE".
std::string signal_name(int sig);
// "SIGPIPE, SIGUSR1" for the signals set in mask.
std::string signal_list(std::uint64_t mask);

// "exit status 3", "killed by SIGPIPE".
std::string describe_status(int status);

// The caller (a driver) as it was at its gate after the call(s): its children and descriptors.
struct AfterCall {
  ProcessSnapshot caller;
  std::vector<ProcessSnapshot> children;
};

// How run_to_gate_after watches a driver started with --gate-after (and maybe --gate-before).
struct GateWatch {
  std::function<void(const ProcessSnapshot&)> before;  // sees the --gate-before stop; then continued
  std::function<void(SandboxedProcess&)> each_tick;   // runs first on every tick
  bool continue_after = false;                         // let the driver go on after the gate
};

// Runs req until the driver stops at its gate after the call(s); nullopt if it never got there.
// The tree is killed at that gate unless watch.continue_after.
Result<std::optional<AfterCall>> run_to_gate_after(TestContext& ctx, RunRequest req, RunOutcome& out, RunContext& rc,
                                                  GateWatch watch = {});

// After the driver exited, keeps calling look (every kPollInterval) until it returns true or
// kSettleGrace has passed: what it started may still be on its way to a gate.
void settle_after_exit(SandboxedProcess& p, const std::function<bool(SandboxedProcess&)>& look);

// Children of pid (by parent link) among the snapshots.
std::vector<ProcessSnapshot> children_of(const std::vector<ProcessSnapshot>& snaps, pid_t pid);

// Measures how long a condition has been waiting; starts on first call.
class Grace {
 public:
  bool expired(std::chrono::milliseconds limit) {
    if (!since_) since_ = Clock::now();
    return Clock::now() - *since_ > limit;
  }
  void reset() { since_.reset(); }

 private:
  std::optional<Clock::time_point> since_;
};

// Lets a gated responder (`stage --gate-each respond`, stopped after reading each request) go on
// only once the caller (the process under test, the run's target) has settled: blocked in a
// system call, stopped or gone. When a reply comes then no longer depends on the scheduler, so a
// parent that races its child (non-blocking reads, a request sent early) gets one verdict. A
// caller that never blocks (busy polling) is let go after kSettleGrace.
class ResponderGate {
 public:
  void tick(SandboxedProcess& p);

 private:
  Grace unsettled_;  // since when a stopped responder waits for an unsettled caller
};

}  // namespace lab1
