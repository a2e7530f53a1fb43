// lab7 part B checks: readers-writers with writer preference (a System V semaphore set). The
// drivers log every section (asked, in, out) on the board; the verdicts come from that log, from
// the board's counts of who is inside, from /proc and from the cell's IPC objects.
#include <fmt/format.h>
#include <time.h>

#include <algorithm>

#include "rw_history.hpp"
#include "scene.hpp"

namespace lab7 {
namespace {

key_t rw_key(const TestContext& ctx) { return ctx.ipc_names().sysv_key("rw"); }

Result<Actor*> create_rw(TestContext& ctx, Scene& scene, const Board& board) {
  return run_one(scene, label(ctx, "rw") + " creating the set",
                 role_spec(ctx, board, "rw", 0, {"create", hex_key(rw_key(ctx))}));
}

std::vector<lab7_event> events_of(const lab7_board& b) {
  const auto n = std::min<std::uint32_t>(b.nevents, LAB7_EVENTS);
  return {b.events, b.events + n};
}

std::optional<CheckOutcome> alone_verdict(const lab7_board& b, const std::string& context) {
  if (b.writer_not_alone.count == 0) return std::nullopt;
  return CheckOutcome::fail(
      fmt::format("{}: a writer was not alone inside, {} time(s)", context, b.writer_not_alone.count),
      {fmt::format("pid {} came in (its section {}) while pid {} was inside with a writer among them",
                   b.writer_not_alone.pid_new, b.writer_not_alone.step + 1, b.writer_not_alone.pid_in),
       "a writer waits until no reader and no writer is inside; a reader waits while a writer is inside"});
}

// Readers and writers at once: every section of a writer has it alone inside; everyone done.
// With `max_bypass`, writers are not starved: while a writer waits, at most that many read
// sections begin (bounded bypass, from the board's log).
CheckOutcome mixed(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const int readers = p.value("readers", 3), writers = p.value("writers", 2);
  const int reads = p.value("reads", 40), writes = p.value("writes", 10);
  const int max_bypass = p.value("max_bypass", -1);
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, create_rw(ctx, scene, board));
  if (auto bad = unfinished(scene, "rw_open")) return *bad;
  if (auto bad = judge_actors({creator})) return *bad;
  std::vector<Actor*> roles;
  const std::string key = hex_key(rw_key(ctx));
  for (int k = 0; k < readers; ++k) {
    std::vector<std::string> args{"reader", key, std::to_string(reads)};
    if (max_bypass >= 0) args.insert(args.end(), {"--until-writers", std::to_string(writers), "--hold-us", "600"});
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "rw", k) + " reader", role_spec(ctx, board, "rw", 1 + k, args)));
    roles.push_back(a);
  }
  // Starvation is judged once the readers are busy: the writers start when a reader is inside.
  if (max_bypass >= 0) {
    IPCG_TRY_OUTCOME(bool busy, scene.run_until([&] { return board->readers_in > 0 || scene.all_exited(roles); }));
    if (!busy) return scene.timed_out("the readers");
  }
  for (int k = 0; k < writers; ++k) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "rw", readers + k) + " writer",
                                            role_spec(ctx, board, "rw", 1 + readers + k, {"writer", key, std::to_string(writes)})));
    roles.push_back(a);
  }
  DeadlockWatch watch(&board.monitor());
  std::vector<WaitSighting> writers_asleep;  // when each writer was seen waiting in the set (harness bypass.hpp)
  auto watch_writers = [&] {
    for (int k = 0; k < writers; ++k)
      if (auto s = scene.snapshot(*roles[readers + k]); s && blocked_in(*s, {kSysSemop, kSysSemtimedop})) {
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        writers_asleep.push_back({1 + readers + k, now.tv_sec * 1'000'000'000LL + now.tv_nsec});
      }
  };
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(roles) || watch.fired(); }, [&] {
    watch.observe(scene);
    if (max_bypass >= 0) watch_writers();
  }));
  const std::string context = fmt::format("{} readers and {} writers at once", readers, writers);
  if (watch.fired()) return watch.outcome(context);
  if (!done) return scene.timed_out(context);
  if (auto bad = judge_actors(roles)) return *bad;
  if (auto bad = alone_verdict(*board, context)) return *bad;
  if (max_bypass >= 0) {
    if (auto worst = worst_bypass(section_history(events_of(*board)), writers_asleep); worst && worst->bypassed > max_bypass)
      return CheckOutcome::fail(
          fmt::format("{}: a writer was starved: {} read sections began while it waited (at most {} allowed)", context,
                      worst->bypassed, max_bypass),
          {fmt::format("writer pid {} asked for its section {} and got in {:.1f} ms later; {} readers came in while "
                       "the grader saw it waiting in semop",
                       worst->pid, worst->section + 1, worst->waited_ns / 1e6, worst->bypassed),
           "writer preference: once a writer waits, a reader that asks must wait until the writer is done"});
  }
  return CheckOutcome::pass();
}

// Two readers at once: each stays inside until the other is in too. A lock that lets one reader
// in at a time leaves the second blocked while the first waits inside for it.
CheckOutcome readers_together(TestContext& ctx) {
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, create_rw(ctx, scene, board));
  if (auto bad = unfinished(scene, "rw_open")) return *bad;
  if (auto bad = judge_actors({creator})) return *bad;
  std::vector<Actor*> roles;
  for (int k = 0; k < 2; ++k) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "rw", k) + " reader",
                                            role_spec(ctx, board, "rw", 1 + k,
                                                      {"reader", hex_key(rw_key(ctx)), "1", "--together", "2"})));
    roles.push_back(a);
  }
  // One inside waiting for the other (it polls the board: it moves), the other asleep and still
  // for a grace: only the readers not inside are watched.
  DeadlockWatch watch(&board.monitor());
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(roles) || watch.fired(); }, [&] {
    if (board->readers_in != 1) return;
    std::vector<WatchedProcess> outside;
    for (Actor* a : roles)
      if (!a->reported("inside") && !scene.exited(*a)) outside.push_back({a->proc->pid(), a->label});
    watch.observe(outside);
  }));
  if (watch.fired()) {
    board->release = 1;
    CheckOutcome out = watch.outcome("the reader kept out");
    out.message = "one reader inside, the other kept out: readers must be inside together";
    out.evidence.push_back("readers share the lock: rw_read_lock waits only for writers");
    return out;
  }
  if (!done) return scene.timed_out("two readers");
  if (auto bad = judge_actors(roles)) return *bad;
  if (board->max_readers_in < 2)
    return CheckOutcome::fail(fmt::format("the two readers were never inside together (at most {} at once)",
                                          board->max_readers_in));
  return CheckOutcome::pass();
}

// After rw_remove, the set is gone.
CheckOutcome set_removed(TestContext& ctx) {
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  const std::string key = hex_key(rw_key(ctx));
  IPCG_TRY_OUTCOME(Actor * creator, create_rw(ctx, scene, board));
  IPCG_TRY_OUTCOME(Actor * user, run_one(scene, label(ctx, "rw") + " writer", role_spec(ctx, board, "rw", 1, {"writer", key, "2"})));
  IPCG_TRY_OUTCOME(Actor * last, run_one(scene, label(ctx, "rw") + " removing it", role_spec(ctx, board, "rw", 2, {"remove", key})));
  if (auto bad = unfinished(scene, "the set's users")) return *bad;
  if (auto bad = judge_actors({creator, user, last})) return *bad;
  IPCG_TRY_OUTCOME(std::vector<IpcObject> objects, ctx.cell.ipc_objects());
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::sysv_sem && o.key == rw_key(ctx))
      return CheckOutcome::fail(fmt::format("the semaphore set of key {} still exists after rw_remove returned 0", key),
                                {o.description, "rw_remove must call semctl(semid, 0, IPC_RMID): a System V set "
                                                "outlives every process until it is removed"});
  return CheckOutcome::pass();
}

OwnSemaphores rw_set(const TestContext& ctx) { return {{}, {}, {rw_key(ctx)}}; }

IPCG_REGISTER_CHECK("lab7.rw_mixed", removing_own(mixed, rw_set));
IPCG_REGISTER_CHECK("lab7.readers_together", removing_own(readers_together, rw_set));
IPCG_REGISTER_CHECK("lab7.rw_removed", set_removed);

}  // namespace
}  // namespace lab7
