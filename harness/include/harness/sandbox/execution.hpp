// Runs one sandboxed process tree to its end: feeds stdin, captures stdout/stderr (and any
// extra fds) with a cap, enforces the wall-clock limit, and lets the caller observe the tree
// while it runs (on_tick) — the event loop every check uses.
//
//   RunRequest req{.spec = spawn_spec, .stdin_data = "hello\n"};
//   req.extra_captures = {3};                      // child fd 3 is captured too
//   req.on_tick = [&](SandboxedProcess& p, const RunContext& ctx) {
//     ...inspect /proc; ctx.pipe_inodes.at(0) is the pipe the grader feeds stdin through...
//     return TickAction::keep_going; };
//   IPCG_TRY(RunOutcome out, run(box, req));
//   out.ended == Ending::exited && WEXITSTATUS(out.wait_status) == 0
//   out.captures.at(1).data;   out.hang (set when the deadline hit: where each process was blocked)
//
// A tree that hangs (every process of the cell waiting on another, none progressing, for
// spec.limits.hang_grace; nothing the grader holds could wake it) ends at once as Ending::hung
// rather than at the wall limit. A check that waits on purpose while everything sleeps (an idle
// server watched over a window) sets spec.limits.hang_grace to 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "harness/core/error.hpp"
#include "harness/proc/proc_inspector.hpp"
#include "harness/sandbox/sandbox.hpp"

namespace ipcg {

struct CapturedOutput {
  std::string data;           // at most the cap
  std::uint64_t total_bytes = 0;
  bool truncated = false;     // total_bytes > data.size()
  // data, plus "\n[... truncated: N more bytes]" when truncated.
  std::string display() const;
};

enum class TickAction { keep_going, stop_ticking, kill };

// What run() set up around the child, so observers can tell the grader's pipes from the
// student's: child fd -> inode of the pipe the grader connected there (0, 1, 2 and the extra
// captures), as it appears in /proc/PID/fd ("pipe:[INODE]").
struct RunContext {
  std::map<int, std::uint64_t> pipe_inodes;
};

enum class Ending {
  exited,    // the target exited by itself (wait_status has the exit code)
  signaled,  // the target died of a signal (wait_status has it; SIGSYS = the syscall filter,
             // SIGXCPU or SIGKILL = the CPU limit, SIGXFSZ = the file size limit)
  timed_out, // the wall-clock limit hit; the tree was killed after `hang` was recorded
  hung,      // every process of the cell waited on another, none progressing, for the spec's
             // limits.hang_grace (harness/proc/stall.hpp): killed at once after `hang` was recorded
  killed,    // on_tick asked to kill
};

struct RunRequest {
  SpawnSpec spec;             // spec.fds may carry extra mappings; 0/1/2 are set up by run()
  std::string stdin_data;     // written to fd 0, then fd 0 is closed (EPIPE is tolerated)
  bool keep_stdin_open = false;
  std::vector<int> extra_captures;  // child fds captured like stdout
  std::chrono::milliseconds tick_interval{2};  // at least 1 ms
  // Called every tick_interval while the target runs.
  std::function<TickAction(SandboxedProcess&, const RunContext&)> on_tick;
  // After the target exits and before the tree is killed (e.g. to look for leftover processes).
  std::function<void(SandboxedProcess&)> on_exit;
  // After the target exits, wait (within the same deadline) until every process it started has
  // exited too, reading their output, before killing the tree. survivors still lists who was
  // alive at the target's exit.
  bool wait_for_descendants = false;
};

struct RunOutcome {
  Ending ending = Ending::exited;
  int wait_status = 0;  // timed_out/killed: the SIGKILL status the grader's kill caused
  std::map<int, CapturedOutput> captures;  // by child fd: 1, 2 and the extras
  std::chrono::milliseconds wall{0};
  std::optional<HangReport> hang;          // set when timed_out or hung
  std::chrono::milliseconds stalled{0};    // hung: how long nothing progressed before the kill
  std::vector<pid_t> survivors;            // processes still alive when the target exited
};

Result<RunOutcome> run(Launcher& where, RunRequest request);

}  // namespace ipcg
