// lab7 part A checks: the critical section (a POSIX named semaphore). The roles are separate
// processes of the test's cell; the verdicts come from the board the drivers keep (processes
// inside, the shared counter), from /proc and from the cell's IPC objects.
#include <fmt/format.h>

#include <csignal>

#include "harness/sync/spin_watch.hpp"
#include "scene.hpp"

namespace lab7 {
namespace {

std::string cs_name(const TestContext& ctx) { return ctx.ipc_names().posix("cs"); }

// The semaphore, made by `program` of the test's roles.
Result<Actor*> create_cs(TestContext& ctx, Scene& scene, const Board& board, const std::string& program) {
  return run_one(scene, label(ctx, program) + " creating the semaphore",
                 role_spec(ctx, board, program, 0, {"create", cs_name(ctx)}));
}

std::optional<CheckOutcome> overlap_verdict(const lab7_board& b, const std::string& context) {
  if (b.cs.count == 0) return std::nullopt;
  return CheckOutcome::fail(
      fmt::format("{}: two processes inside the critical section at once, {} time(s)", context, b.cs.count),
      {fmt::format("pid {} was inside when cs_enter returned in pid {} (its section {})", b.cs.pid_in, b.cs.pid_new,
                   b.cs.step + 1),
       "the semaphore must start at 1 and every cs_enter must wait in sem_wait until it is 1"});
}

// K processes, each N sections at once: mode "loop" (cs_enter, the driver's own slow increment,
// cs_leave) or "add" (cs_add, which reads and writes through counter_get/counter_set). The
// counter must end at K·N and nobody may ever be inside beside another.
CheckOutcome counting(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const int procs = p.value("processes", 3), sections = p.value("sections", 100);
  const std::string mode = p.value("mode", std::string("loop"));
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, create_cs(ctx, scene, board, "cs"));
  if (auto bad = unfinished(scene, "cs_create")) return *bad;
  if (auto bad = judge_actors({creator})) return *bad;
  std::vector<Actor*> roles;
  for (int k = 0; k < procs; ++k) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "cs", k),
                                            role_spec(ctx, board, "cs", k + 1, {mode, cs_name(ctx), std::to_string(sections)})));
    roles.push_back(a);
  }
  DeadlockWatch watch(&board.monitor());
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(roles) || watch.fired(); },
                                              [&] { watch.observe(scene); }));
  const std::string context = fmt::format("{} processes, {} {} each", procs, sections,
                                          mode == "add" ? "cs_add(1) calls" : "sections");
  if (watch.fired()) {
    CheckOutcome out = watch.outcome(context);
    out.evidence.push_back("every process waits and none is inside: was the semaphore created with value 0, or a "
                           "cs_leave missed?");
    return out;
  }
  if (!done) return scene.timed_out(context);
  if (auto bad = judge_actors(roles)) return *bad;
  if (auto bad = overlap_verdict(*board, context)) {
    for (auto& e : monitor_evidence(board)) bad->evidence.push_back(e);
    return *bad;
  }
  const long want = static_cast<long>(procs) * sections, got = static_cast<long>(board->counter);
  if (got != want)
    return CheckOutcome::fail(fmt::format("{}: lost updates: the shared counter reads {}, expected {} ({} lost)", context,
                                          got, want, want - got),
                              {mode == "add" ? "counter_get and counter_set must both be called inside the critical "
                                               "section: a value read outside it may be stale when it is written back"
                                             : "two processes read the same value and both wrote it back plus one"});
  return CheckOutcome::pass();
}

// Waits until the waiter blocks in futex (a POSIX semaphore's wait), exits, reports being
// inside, or spins: harness SpinWatch, its CPU time counted once it reported "waiting".
// The holder waits for the grader meanwhile: asleep on purpose, not hung.
Result<bool> wait_for_block(Scene& scene, Actor& waiter, SpinWatch& spin) {
  scene.judge_hangs(false);
  auto settled = scene.run_until([&] {
    return waiter.reported("inside") ||
           asleep_or_spinning(scene, waiter, {kSysFutex}, spin, waiter.reported("waiting"));
  });
  scene.judge_hangs(true);
  return settled;
}

// A reference holder is inside; the student's waiter calls cs_enter and must block in sem_wait
// (futex), not spin. With `signal`, SIGUSR1 (no SA_RESTART) interrupts that wait: the waiter
// must wait again, never come in while the holder is inside.
CheckOutcome waiter(TestContext& ctx) {
  const bool signal = ctx.test.params.value("signal", false);
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, create_cs(ctx, scene, board, "holder"));
  if (auto bad = judge_actors({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * holder, scene.start(label(ctx, "holder"), role_spec(ctx, board, "holder", 1, {"hold", cs_name(ctx)})));
  IPCG_TRY_OUTCOME(bool in, scene.run_until([&] { return scene.exited(*holder) || holder->reported("inside"); }));
  if (!in) return scene.timed_out("the holder entering");
  if (auto bad = judge_actors({holder})) return *bad;
  std::vector<std::string> args{"wait", cs_name(ctx)};
  if (signal) args.insert(args.begin(), "--eintr");
  IPCG_TRY_OUTCOME(Actor * w, scene.start(label(ctx, "cs"), role_spec(ctx, board, "cs", 2, args)));
  SpinWatch spin;
  IPCG_TRY_OUTCOME(bool settled, wait_for_block(scene, *w, spin));
  if (!settled) return scene.timed_out("the waiter");
  const std::string setup = "a reference process is inside the critical section; your process calls cs_enter";
  if (auto bad = judge_actors({w})) return *bad;
  if (w->reported("inside") || scene.exited(*w))
    return CheckOutcome::fail(setup + ": cs_enter returned while the other process was inside",
                              {fmt::format("pid {} inside, cs_enter returned in the waiter", board->cs.pid_in)});
  if (spin.verdict() == SpinWatch::Verdict::spins)
    return CheckOutcome::fail(
        fmt::format("{}: the waiter spins: {:.0f} ms of CPU without ever blocking in sem_wait (futex){}", setup,
                    spin.measured().cpu_seconds * 1000, signal ? ", so no signal could interrupt a wait: EINTR handling cannot be judged" : ""),
        {"wait with sem_wait, which sleeps until the semaphore is posted; never loop over sem_trywait"});
  if (signal) {
    // Delivered (no longer pending), then: asleep in sem_wait again after a wake-up (retried),
    // inside (the bug), or gone.
    std::uint64_t switches_before = 0;
    if (auto snap = scene.snapshot(*w)) switches_before = snap->voluntary_switches + snap->involuntary_switches;
    ::kill(w->proc->pid(), SIGUSR1);
    IPCG_TRY_OUTCOME(bool after, scene.run_until([&] {
      if (scene.exited(*w) || w->reported("inside")) return true;
      auto snap = scene.snapshot(*w);
      if (!snap) return false;
      const bool woke = snap->voluntary_switches + snap->involuntary_switches > switches_before;
      return woke && !snap->signals.is_pending(SIGUSR1) && blocked_in(*snap, {kSysFutex});
    }));
    if (!after) return scene.timed_out("the waiter, after SIGUSR1");
    const std::string how = "SIGUSR1 (handler without SA_RESTART) interrupted the waiter's sem_wait while the holder "
                            "was inside";
    if (auto bad = overlap_verdict(*board, how)) {
      bad->message = how + ": cs_enter returned 0 and let the caller in beside the holder";
      bad->evidence.push_back("sem_wait returns -1 with errno EINTR when a handler interrupts it: check its result and "
                              "wait again");
      return *bad;
    }
    if (auto bad = judge_actors({w})) {
      bad->message = how + ": " + bad->message;
      bad->evidence.push_back("on EINTR cs_enter must wait again, not fail");
      return *bad;
    }
  }
  board->release = 1;
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited({holder, w}); }));
  if (!done) return scene.timed_out("the holder and the waiter, after the holder left");
  if (auto bad = judge_actors({holder, w})) return *bad;
  if (auto bad = overlap_verdict(*board, setup)) return *bad;
  return CheckOutcome::pass();
}

// A semaphore of the same name left by a crashed run with value 0: cs_create must make a fresh
// one (value 1); reused, every process waits forever.
CheckOutcome stale(TestContext& ctx) {
  const int procs = 2, sections = 10;
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * old, run_one(scene, "semtool stale (a crashed run)",
                                        semtool_spec(ctx, {"stale", cs_name(ctx), "0"}, Role::student)));
  if (auto bad = judge_actors({old})) return *bad;
  IPCG_TRY_OUTCOME(Actor * creator, create_cs(ctx, scene, board, "cs"));
  if (auto bad = unfinished(scene, "cs_create")) return *bad;
  if (auto bad = judge_actors({creator})) return *bad;
  std::vector<Actor*> roles;
  for (int k = 0; k < procs; ++k) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "cs", k), role_spec(ctx, board, "cs", k + 1,
                                                                           {"loop", cs_name(ctx), std::to_string(sections)})));
    roles.push_back(a);
  }
  DeadlockWatch watch(&board.monitor());
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(roles) || watch.fired(); }, [&] { watch.observe(scene); }));
  const std::string old_one = "a semaphore of the same name was left by a crashed run, with value 0";
  if (watch.fired()) {
    CheckOutcome out = watch.outcome("the processes after cs_create");
    out.message = "after cs_create every process waits forever in cs_enter: the old semaphore (value 0) was reused; " +
                  out.message;
    out.evidence.insert(out.evidence.begin(), old_one);
    out.evidence.push_back("create with O_CREAT | O_EXCL; on EEXIST sem_unlink the old one and create it again");
    return out;
  }
  if (!done) return scene.timed_out("the processes after cs_create");
  // Only whether the old semaphore was replaced is judged here: two processes inside at once are
  // mutual_exclusion's finding (a mutex made with value 2 must not fail this test too).
  if (auto bad = judge_actors(roles)) return *bad;
  return CheckOutcome::pass();
}

// cs_create when no descriptor is left (RLIMIT_NOFILE lowered by the driver): -1 with EMFILE.
CheckOutcome open_failure(TestContext& ctx) {
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * a, run_one(scene, label(ctx, "cs"),
                                      role_spec(ctx, board, "cs", 0, {"--spare-fds", "0", "create", cs_name(ctx)})));
  const std::string why = "cs_create with no file descriptor left (RLIMIT_NOFILE lowered)";
  if (!scene.exited(*a)) return scene.timed_out(why);
  if (!a->last_call().empty()) {
    auto bad = judge_actors({a});
    bad->message = why + ": " + bad->message;
    return *bad;
  }
  int err = 0;
  const auto line = a->line("error");
  if (!line || std::sscanf(line->c_str(), "error cs_create %d", &err) != 1)
    return CheckOutcome::fail(why + " returned 0: sem_open cannot succeed without a descriptor, so it must return -1 "
                                    "with errno set",
                              a->lines());
  if (err != EMFILE)
    return CheckOutcome::fail(fmt::format("{} failed with {}, expected EMFILE (sem_open's errno, kept)", why,
                                          strerror_name(err)));
  return CheckOutcome::pass();
}

// After cs_remove, the semaphore is gone (the cell's objects are listed while the test runs).
CheckOutcome removed(TestContext& ctx) {
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  IPCG_TRY_OUTCOME(Actor * creator, create_cs(ctx, scene, board, "cs"));
  IPCG_TRY_OUTCOME(Actor * user, run_one(scene, label(ctx, "cs"), role_spec(ctx, board, "cs", 1, {"loop", cs_name(ctx), "3"})));
  IPCG_TRY_OUTCOME(Actor * last, run_one(scene, label(ctx, "cs") + " removing it", role_spec(ctx, board, "cs", 2,
                                                                                           {"remove", cs_name(ctx)})));
  if (auto bad = unfinished(scene, "the critical section's users")) return *bad;
  if (auto bad = judge_actors({creator, user, last})) return *bad;
  IPCG_TRY_OUTCOME(std::vector<IpcObject> objects, ctx.cell.ipc_objects());
  const std::string file = "/sem." + cs_name(ctx).substr(1);  // how /dev/shm lists it
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::posix_shm && o.name == file)
      return CheckOutcome::fail(fmt::format("the semaphore {} still exists after cs_close and cs_remove returned 0",
                                            cs_name(ctx)),
                                {o.description, "cs_remove must sem_unlink the name: sem_close only closes this "
                                                "process's handle, the semaphore lives on in /dev/shm"});
  return CheckOutcome::pass();
}

OwnSemaphores cs_semaphore(const TestContext& ctx) { return {{cs_name(ctx)}, {}, {}}; }

IPCG_REGISTER_CHECK("lab7.counting", removing_own(counting, cs_semaphore));
IPCG_REGISTER_CHECK("lab7.waiter", removing_own(waiter, cs_semaphore));
IPCG_REGISTER_CHECK("lab7.stale", removing_own(stale, cs_semaphore));
IPCG_REGISTER_CHECK("lab7.open_failure", removing_own(open_failure, cs_semaphore));
IPCG_REGISTER_CHECK("lab7.removed", removed);

}  // namespace
}  // namespace lab7
