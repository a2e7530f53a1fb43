// What every lab's checks share: starting a trusted driver with its control fd and reading what
// it reported (the calls it made into the student's code, and whether each returned), words for
// statuses, signals, descriptors and differences, seeded text, and the gate: a driver that stops
// itself (SIGSTOP) after the call so the grader reads /proc at a well-defined moment.
//
//   RunRequest req = driver_request(ctx, {ctx.program("server"), "--gate-after", names.fifo("req")}, "");
//   RunOutcome out; RunContext rc;
//   IPCG_TRY_OUTCOME(auto after, run_to_gate_after(ctx, std::move(req), out, rc));
//   DriverReport report = driver_report(out);
//   if (auto died = died_inside_call(out, report)) return *died;  // "ended the calling process inside ..."
//
// The drivers' side of the protocol is driver_kit.h (C, copied beside every lab's drivers).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "harness/proc/proc_inspector.hpp"
#include "harness/runner/check.hpp"

namespace ipcg {

using Clock = std::chrono::steady_clock;

// x86_64 syscall numbers the gate logic waits on.
inline constexpr long kSysRead = 0, kSysWrite = 1, kSysOpen = 2, kSysPoll = 7, kSysSelect = 23, kSysReadv = 19,
                      kSysWait4 = 61, kSysMsgsnd = 69, kSysMsgrcv = 70, kSysOpenat = 257, kSysWaitid = 247,
                      kSysPselect6 = 270, kSysPpoll = 271, kSysMqTimedsend = 242, kSysMqTimedreceive = 243;
// The driver's control fd (driver_kit.h's IPCG_CONTROL_FD).
inline constexpr int kControlFd = 3;
// How long to wait for a stopped tree to settle (the parent to block) before looking anyway:
// the test's limits.settle_grace (lab.toml `settle_ms` / `settle`), which the wall limit allows for.
inline std::chrono::milliseconds settle_grace(const TestContext& ctx) { return ctx.test.limits.settle_grace; }
inline constexpr std::chrono::milliseconds kPollInterval{2};

// Seeded printable text (lines when `newlines`): the same seed gives the same text anywhere.
std::string random_text(std::mt19937_64& rng, std::size_t bytes, bool newlines);

// A run of a driver with its control fd (kControlFd) captured.
RunRequest driver_request(const TestContext& ctx, std::vector<std::string> argv, std::string input);
std::vector<std::string> control_lines(const RunOutcome& out);
std::vector<std::string> split_lines(const std::string& text);

// "output differs at byte 1234 (line 17): expected "abc", got "abd"".
std::string describe_difference(const std::string& expected, const std::string& got);
std::string printable(const std::string& s, std::size_t max = 60);

// Asleep inside a system call (state S or D with a syscall shown): waiting, not computing.
bool is_blocked(const ProcessSnapshot& s);
bool blocked_in(const ProcessSnapshot& s, std::initializer_list<long> syscalls);
std::vector<ProcessSnapshot> live_snapshots(const SandboxedProcess& p);
const ProcessSnapshot* find_pid(const std::vector<ProcessSnapshot>& snaps, pid_t pid);
// Children of pid (by parent link) among the snapshots.
std::vector<ProcessSnapshot> children_of(const std::vector<ProcessSnapshot>& snaps, pid_t pid);

// Words for one fd: "fd 4 = write end of pipe:[9183]".
std::string describe_fd(const FdInfo& fd);
std::string end_name(PipeEnd end);
// Bytes waiting in the pipe or FIFO that `pid` holds as `fd` (opened again through /proc), or nullopt.
std::optional<int> unread_bytes(pid_t pid, int fd);
// rchar of /proc/PID/io: bytes this process has read so far (identifies a new stop of a gate).
std::optional<std::uint64_t> bytes_read(pid_t pid);
std::optional<std::uint64_t> bytes_written(pid_t pid);  // wchar of /proc/PID/io
// syscr/syscw of /proc/PID/io: read and write system calls completed so far (a read() still
// blocked is not counted).
std::optional<std::uint64_t> read_calls(pid_t pid);
std::optional<std::uint64_t> write_calls(pid_t pid);
bool is_grader_pipe(const RunContext& run, std::uint64_t inode);

// What a driver reported on the control fd (driver_kit.h): the calls it made into the
// implementation ("call X"), their results, and its other facts ("others", "limit", ...).
struct DriverReport {
  std::vector<std::string> lines;
  std::string last_call;             // "run_pipeline", "mq_dispatch" ... (empty: none)
  bool last_call_returned = true;    // false: the report ends right after "call X"
  std::vector<std::string> results;  // "status N" / "error ..." lines, in order
  std::optional<std::string> line_starting(std::string_view word) const;
};
// `returned_words`: the first words of the lines by which the lab's drivers say a call returned,
// beyond "status" and "error" (the results).
DriverReport driver_report(const RunOutcome& out, std::initializer_list<std::string_view> returned_words = {});

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
// `grace` (settle_grace(ctx)) has passed: what it started may still be on its way to a gate.
void settle_after_exit(SandboxedProcess& p, std::chrono::milliseconds grace,
                       const std::function<bool(SandboxedProcess&)>& look);

// A new stop (SIGSTOP at a gate) of a process, told from the one before by its I/O counters: a
// driver always reads or writes something between two gates.
class StopTracker {
 public:
  bool is_new_stop(const ProcessSnapshot& s);

 private:
  std::optional<std::pair<std::uint64_t, std::uint64_t>> last_;
};

// Measures how long a condition has been waiting; starts on first call.
class Grace {
 public:
  Grace() = default;
  // A grace of its own length, for expired() (e.g. Grace{settle_grace(ctx)}).
  explicit Grace(std::chrono::milliseconds limit) : limit_(limit) {}
  bool expired(std::chrono::milliseconds limit) {
    if (!since_) since_ = Clock::now();
    return Clock::now() - *since_ > limit;
  }
  bool expired() { return expired(limit_); }
  void reset() { since_.reset(); }

 private:
  std::chrono::milliseconds limit_{0};
  std::optional<Clock::time_point> since_;
};

}  // namespace ipcg
