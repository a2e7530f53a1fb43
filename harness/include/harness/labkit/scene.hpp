// A scene: several roles of one test running at once in the test's cell (producers, workers, a
// server, clients), each a separate process with its own uid (student or reference), sharing
// only the names the check passes them and the message log pipe (fd 4) the grader owns.
//
//   Scene scene(ctx);
//   IPCG_TRY_OUTCOME(Actor* w, scene.start("worker (reference)", ctx.spawn_spec({...})));
//   IPCG_TRY_OUTCOME(bool ok, scene.run_until([&] { return scene.exited(*w); }));
//   if (!ok) return scene.timed_out("the workers");       // hang report of every role
//   if (auto bad = judge_actors({w})) return *bad;        // died, exited inside a call, call failed
//   IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
//   if (auto bad = judge_log(ctx, log, standard_log_checks(log, {"exactly_once"}), "...")) return *bad;
//
// Every lab with more than one role at a time (labs 3 to 7) runs its tests as scenes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/labkit/labkit.hpp"
#include "harness/msglog/message_log.hpp"
#include "harness/proc/proc_inspector.hpp"
#include "harness/proc/stall.hpp"
#include "harness/runner/check.hpp"

namespace ipcg {

// The fds every role of a scene gets besides 0-2: the driver's control pipe (driver_kit.h) and
// the trusted message log (msglog_record.h).
inline constexpr int kSceneControlFd = 3, kSceneLogFd = 4;

struct Actor {
  std::string label;  // "producer 1 (student)"
  bool student = false;
  std::optional<SandboxedProcess> proc;
  UniqueFd stdin_w, out, err, ctl;
  std::string stdin_left, out_data, err_data, ctl_data;
  std::optional<int> status;  // wait status, once exited

  std::vector<std::string> lines() const;            // the control lines
  std::optional<std::string> line(std::string_view word) const;  // first line starting with word
  std::string last_call() const;                     // "" when the last call returned
  bool reported(std::string_view word) const { return line(word).has_value(); }
};

class Scene {
 public:
  explicit Scene(TestContext& ctx);
  // Starts a role with stdin_data on fd 0, its stdout/stderr/control captured, the log on fd 4.
  Result<Actor*> start(std::string label, SpawnSpec spec, std::string stdin_data = "");
  // Runs until done() is true (checked every tick, after tick()) or the test's deadline: false
  // when the deadline came first, or when the cell hung before it (every process waiting on
  // another, none progressing, for the test's limits.hang_grace plus 250 ms, so that a check's
  // own DeadlockWatch speaks first: harness/proc/stall.hpp), since
  // then nothing can change any more. timed_out() then says which.
  Result<bool> run_until(const std::function<bool()>& done, const std::function<void()>& tick = {});
  // A check that waits on purpose while every role sleeps (an idle worker watched over a window,
  // a deadlock its own DeadlockWatch explains) turns hang judging off for those waits.
  void judge_hangs(bool on) { judge_hangs_ = on; }
  bool hung() const { return hung_for_.has_value(); }
  // Runs `tick` on every tick of every later run_until, before the call's own: a scheduler the
  // grader drives for the whole test (harness/sync PctScheduler), whatever the check waits for.
  void on_every_tick(std::function<void()> tick) { standing_ticks_.push_back(std::move(tick)); }
  bool exited(const Actor& a) const { return a.status.has_value(); }
  bool all_exited(const std::vector<Actor*>& actors) const;
  const std::vector<std::unique_ptr<Actor>>& actors() const { return actors_; }
  // Snapshot of an actor's process while it runs (nullopt once gone).
  std::optional<ProcessSnapshot> snapshot(const Actor& a) const;
  // The verdict when run_until returned false: Status::hung when the cell hung, else a timeout;
  // where each role was blocked either way.
  CheckOutcome timed_out(const std::string& what);
  // The same report of where each live role is blocked (harness/proc's hang report: pipes,
  // queues, sockets with their queued bytes and peers) under another verdict: a deadlock or stall
  // the test provoked and saw (DeadlockWatch) is `failed` with the check's own words.
  CheckOutcome blocked_roles(Status status, std::string message);
  // The log so far, parsed; drawn on the test's trace by judge_log.
  Result<MessageLog> message_log();

 private:
  void pump();
  bool cell_hung();
  TestContext& ctx_;
  StallDetector stall_;
  bool judge_hangs_ = true;
  std::optional<std::chrono::milliseconds> hung_for_;
  Clock::time_point deadline_;
  PipePair log_;
  std::string log_data_;
  std::vector<std::unique_ptr<Actor>> actors_;
  std::vector<std::function<void()>> standing_ticks_;
};

// The name of the library call a driver reported failing as "error <step> <errno>": a lab maps
// its drivers' steps to its API's function names (lab3: "open" -> "dispatch_open").
using CallNamer = std::function<std::string(const Actor& who, const std::string& step)>;

// The first failure of a role: its code ended the process inside a call, it died, or (student
// roles) a call returned an error. nullopt when every role in `who` ended well.
std::optional<CheckOutcome> judge_actors(const std::vector<Actor*>& who, const CallNamer& call_name = {});

// The message-log checks every lab may name: "exactly_once", "boundaries", "priority",
// "fifo_priority", "fifo_producer". Unknown names are ignored (a lab adds its own violations).
std::vector<OrderViolation> standard_log_checks(const MessageLog& log, const std::vector<std::string>& checks);
// The verdict on a log's violations (nullopt when there are none), with the log drawn on the
// test's trace; context says what the roles did ("4 producers, then 2 workers").
std::optional<CheckOutcome> judge_log(TestContext& ctx, const MessageLog& log, const std::vector<OrderViolation>& found,
                                      const std::string& context);

// Who plays a program in this test (lab.toml roles; a program not named is the student's).
bool student_plays(const TestContext& ctx, const std::string& program);
std::string label(const TestContext& ctx, const std::string& program, int n = -1);  // "worker 1 (student)"
SpawnSpec program_spec(TestContext& ctx, const std::string& program, std::vector<std::string> args);
// A lab's trusted tool (lab.toml's libexec tools), as the reference's uid unless told otherwise.
SpawnSpec tool_spec(TestContext& ctx, const std::string& tool, std::vector<std::string> args,
                    Role role = Role::reference);

// The static half of "the data goes through the mechanism": the lab's [build] forbidden_symbols
// the student's objects use, as a failure naming each symbol and object, when the student plays
// `program`; nullopt when they use none or the reference plays it. `rule` says what is required.
std::optional<CheckOutcome> judge_forbidden_symbols(const TestContext& ctx, const std::string& program,
                                                    const std::string& rule);

std::string strerror_name(int err);  // "EAGAIN (Resource temporarily unavailable)"
double cpu_seconds(const ProcessSnapshot& s);

}  // namespace ipcg
