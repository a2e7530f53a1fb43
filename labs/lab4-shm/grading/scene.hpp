// lab4's part of a scene (harness/labkit/scene.hpp): the ring's name and shape from the test's
// params, the roles started the way every lab4 test starts them, the shmtool role, the ring
// removed after a test, and the verdicts named in lab4's words (ring_*, records).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/labkit/scene.hpp"
#include "harness/sync/deadlock_watch.hpp"
#include "harness/sync/pct.hpp"
#include "harness/sync/spin_watch.hpp"
#include "harness/sync/sync.hpp"

namespace lab4 {

using namespace ipcg;

// x86_64 futex(2): where a process waits in sem_wait (POSIX semaphores are futexes).
inline constexpr long kSysFutex = 202;

struct Setup {
  std::string ring;  // the shm_open name, from ctx.ipc_names()
  long capacity = 4;
  std::vector<std::string> checks;
};
Setup setup_of(TestContext& ctx);

// A lab4 scene: every role runs under the test's synchronization schedule (the interposer's
// seeded perturbation, its own actor number) with the test's monitor, and while the roles wait
// only on each other a deadlock ends the wait at once, explained (DeadlockWatch).
//
//   Roles roles(ctx);
//   IPCG_TRY_OUTCOME(Actor* c, roles.start("consumer 1 (student)", program_spec(ctx, "consumer", {...})));
//   IPCG_TRY_OUTCOME(bool done, roles.run_until([&] { return roles.scene.exited(*c); }));
//   if (!done) return roles.timed_out("the consumer");   // the deadlock, or the deadline's hang report
class Roles {
 public:
  // pct is scheduled here: the scene ticks the PctScheduler (drive_pct) once the monitor exists.
  explicit Roles(TestContext& ctx) : scene(ctx), ctx_(ctx), schedule_(SyncSchedule::for_test(ctx, /*pct_ticked=*/true)) {}
  Result<Actor*> start(std::string label, SpawnSpec spec);
  // Scene::run_until, with a deadlock watch unless some role waits for the grader (a gate, a role
  // the check starts only later): false when the deadline came first or the watch fired.
  enum class Wait { on_each_other, on_the_grader };
  Result<bool> run_until(const std::function<bool()>& done, Wait wait = Wait::on_each_other);
  // The deadlock the last run_until saw, explained; else the deadline's hang report.
  CheckOutcome timed_out(const std::string& what);
  const SyncMonitor* monitor() const { return monitor_ ? &*monitor_ : nullptr; }

  Scene scene;

 private:
  TestContext& ctx_;
  SyncSchedule schedule_;
  std::optional<SyncMonitor> monitor_;
  std::unique_ptr<PctScheduler> pct_;  // under pct only, once the monitor exists
  std::optional<CheckOutcome> deadlock_;
  unsigned next_actor_ = 0;
};

// Starts a role and runs until it exits (or the deadline, or a deadlock).
Result<Actor*> run_one(Roles& roles, std::string label, SpawnSpec spec);
// The verdict on a scene where some role is still running.
std::optional<CheckOutcome> unfinished(Roles& roles, const std::string& what);

// The ring, made by the producer program of the test's roles (ring_create) and closed again.
Result<Actor*> create_ring(TestContext& ctx, Roles& roles, const Setup& s);

// judge_actors with the failing step named as lab4's API function (ring_create, ring_get ...).
std::optional<CheckOutcome> judge_roles(const std::vector<Actor*>& who);
// The message log judged: standard_log_checks plus "whole" (records not torn: each received
// record has the bytes that were put) and "capacity" (never more than s.capacity inside).
std::optional<CheckOutcome> judge_records(TestContext& ctx, const MessageLog& log, const Setup& s,
                                          const std::string& context);

// shmtool, trusted: a reference role unless the test makes it play the student's earlier run.
SpawnSpec shmtool_spec(TestContext& ctx, std::vector<std::string> args, Role role = Role::reference);
// The uid a program of the test's roles runs as.
Role role_of(const TestContext& ctx, const std::string& program);

// `check`, then the test's ring removed by the trusted shmtool once its roles are gone, so the
// report's "left behind" lists only what the code under test made beside it. ring_unlinked
// judges removal itself and is registered without it.
CheckFn removing_ring(CheckFn check);

}  // namespace lab4
