// lab7 part D checks: dining philosophers (a System V set, one semaphore per fork). The drivers
// mark who eats on the board; a deadlock is seen from /proc (every philosopher blocked, none
// making progress) and explained by the harness's DeadlockWatch: each philosopher's semop, the
// forks' values and holders, the cycle.
#include <fmt/format.h>

#include "scene.hpp"

namespace lab7 {
namespace {

key_t table_key(const TestContext& ctx) { return ctx.ipc_names().sysv_key("table"); }

// n philosophers, each `meals` meals, all starting each meal together (the drivers' gong), seeded
// thinking and eating times: everyone eats all its meals, no two neighbours eat at once, and the
// table never deadlocks. A deadlock ends the test at once with the harness's explanation.
CheckOutcome dine(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const int n = p.value("philosophers", 4), meals = p.value("meals", 40);
  const std::string think = std::to_string(p.value("think_us", 0)), eat = std::to_string(p.value("eat_us", 600));
  const std::string key = hex_key(table_key(ctx)), count = std::to_string(n);
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, run_one(scene, label(ctx, "table") + " laying the table",
                                            role_spec(ctx, board, "table", 0, {"create", key, count})));
  if (auto bad = unfinished(scene, "table_open")) return *bad;
  if (auto bad = judge_actors({creator})) return *bad;
  std::vector<Actor*> seats;
  for (int i = 0; i < n; ++i) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "table", i).replace(0, 5, "philosopher"),
                                            role_spec(ctx, board, "table", 1 + i,
                                                      {"dine", key, count, std::to_string(i), std::to_string(meals), think, eat})));
    seats.push_back(a);
  }
  DeadlockWatch watch(&board.monitor());
  const auto start = Clock::now();
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(seats) || watch.fired(); }, [&] { watch.observe(scene); }));
  const std::string context = fmt::format("{} philosophers, {} meals each", n, meals);
  if (watch.fired()) {
    int eaten = 0;
    for (int i = 0; i < n; ++i) eaten += board->meals[i];
    CheckOutcome out = watch.outcome(context);
    auto& evidence = out.evidence;
    evidence.push_back(fmt::format("{} of {} meals eaten; seen stuck {:.0f} ms after the start", eaten, n * meals,
                                   std::chrono::duration<double, std::milli>(Clock::now() - start).count()));
    evidence.push_back("a philosopher who holds one fork while it waits for the other can close a cycle: take both "
                       "forks in one semop, or order the forks");
    return out;
  }
  if (!done) return scene.timed_out(context);
  if (auto bad = judge_actors(seats)) return *bad;
  if (board->neighbours.count > 0)
    return CheckOutcome::fail(fmt::format("{}: two neighbours ate at once, {} time(s)", context, board->neighbours.count),
                              {fmt::format("philosopher {} (pid {}) started eating while its neighbour pid {} was eating",
                                           board->neighbours.step, board->neighbours.pid_new, board->neighbours.pid_in),
                               "table_pick returns only once the philosopher holds both of its forks"});
  return CheckOutcome::pass();
}

OwnSemaphores table_set(const TestContext& ctx) { return {{}, {}, {table_key(ctx)}}; }

IPCG_REGISTER_CHECK("lab7.dine", removing_own(dine, table_set));

}  // namespace
}  // namespace lab7
