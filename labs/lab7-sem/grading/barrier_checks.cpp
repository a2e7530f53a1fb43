// lab7 part C checks: the reusable barrier (POSIX named semaphores). The drivers count each
// phase's arrivals on the board before calling barrier_wait and look at the count after it
// returns; the verdicts come from the board, from /proc and from the cell's IPC objects.
#include <fmt/format.h>

#include "scene.hpp"

namespace lab7 {
namespace {

std::string barrier_name(const TestContext& ctx) { return ctx.ipc_names().posix("barrier"); }

// n processes, many phases: nobody returns from phase k before all n arrived at phase k.
CheckOutcome phases(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const int n = p.value("processes", 4), rounds = p.value("phases", 30);
  const std::string name = barrier_name(ctx), count = std::to_string(n);
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, run_one(scene, label(ctx, "barrier") + " creating it",
                                            role_spec(ctx, board, "barrier", 0, {"create", name, count})));
  if (auto bad = unfinished(scene, "barrier_open")) return *bad;
  if (auto bad = judge_actors({creator})) return *bad;
  std::vector<Actor*> roles;
  for (int k = 0; k < n; ++k) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "barrier", k), role_spec(ctx, board, "barrier", 1 + k,
                                                                               {"run", name, count, std::to_string(rounds)})));
    roles.push_back(a);
  }
  DeadlockWatch watch(&board.monitor());
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(roles) || watch.fired(); }, [&] { watch.observe(scene); }));
  const std::string context = fmt::format("{} processes through {} phases", n, rounds);
  const auto early = [&]() -> std::optional<CheckOutcome> {
    if (board->early.count == 0) return std::nullopt;
    return CheckOutcome::fail(
        fmt::format("{}: a process went through the barrier before everyone had arrived, {} time(s)", context,
                    board->early.count),
        {fmt::format("pid {} returned from barrier_wait of phase {} when only {} of {} processes had called it",
                     board->early.pid_new, board->early.step + 1, board->early_arrived, n),
         "a barrier used again must close behind the last process: let nobody through phase k+1 with a token of "
         "phase k (two turnstiles)"});
  };
  if (auto bad = early()) return *bad;
  if (watch.fired()) {
    CheckOutcome out = watch.outcome(context);
    for (int k = 0; k < rounds && k < LAB7_PHASES; ++k)
      if (board->arrived[k] < n) {
        out.evidence.push_back(fmt::format("phase {}: {} of {} arrived", k + 1, board->arrived[k], n));
        break;
      }
    out.evidence.push_back("each phase must open its gate exactly n times, and the right gate");
    return out;
  }
  if (!done) return scene.timed_out(context);
  if (auto bad = judge_actors(roles)) return *bad;
  return CheckOutcome::pass();
}

// After barrier_remove, none of the barrier's semaphores is left. Nobody waits on the barrier
// here: its removal is judged apart from whether barrier_wait works.
CheckOutcome barrier_removed(TestContext& ctx) {
  const std::string name = barrier_name(ctx);
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, run_one(scene, label(ctx, "barrier") + " creating it",
                                            role_spec(ctx, board, "barrier", 0, {"create", name, "1"})));
  IPCG_TRY_OUTCOME(Actor * user, run_one(scene, label(ctx, "barrier"), role_spec(ctx, board, "barrier", 1, {"run", name, "1", "0"})));
  IPCG_TRY_OUTCOME(Actor * last, run_one(scene, label(ctx, "barrier") + " removing it",
                                         role_spec(ctx, board, "barrier", 2, {"remove", name, "1"})));
  if (auto bad = unfinished(scene, "the barrier's users")) return *bad;
  if (auto bad = judge_actors({creator, user, last})) return *bad;
  IPCG_TRY_OUTCOME(std::vector<IpcObject> objects, ctx.cell.ipc_objects());
  const std::string prefix = "/sem." + name.substr(1);
  std::vector<std::string> left;
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::posix_shm && o.name.starts_with(prefix)) left.push_back(o.description);
  if (!left.empty()) {
    left.push_back("barrier_remove must sem_unlink every semaphore barrier_open made");
    return CheckOutcome::fail(fmt::format("{} semaphore(s) of the barrier {} still exist after barrier_remove returned 0",
                                          left.size() - 1, name),
                              left);
  }
  return CheckOutcome::pass();
}

OwnSemaphores barrier_semaphores(const TestContext& ctx) { return {{}, {barrier_name(ctx)}, {}}; }

IPCG_REGISTER_CHECK("lab7.barrier_phases", removing_own(phases, barrier_semaphores));
IPCG_REGISTER_CHECK("lab7.barrier_removed", barrier_removed);

}  // namespace
}  // namespace lab7
