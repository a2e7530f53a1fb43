// lab7 part D checks: dining philosophers (a System V set, one semaphore per fork). The drivers
// mark who eats on the board; a deadlock is seen from /proc (every philosopher blocked, none
// making progress) and explained by the harness's DeadlockWatch: each philosopher's semop, the
// forks' values and holders, the cycle.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>

#include <csignal>
#include <sstream>

#include "scene.hpp"

namespace lab7 {
namespace {

key_t table_key(const TestContext& ctx) { return ctx.ipc_names().sysv_key("table"); }

std::optional<CheckOutcome> neighbours_verdict(const lab7_board& b, const std::string& context) {
  if (b.neighbours.count == 0) return std::nullopt;
  return CheckOutcome::fail(fmt::format("{}: two neighbours ate at once, {} time(s)", context, b.neighbours.count),
                            {fmt::format("philosopher {} (pid {}) started eating while its neighbour pid {} was eating",
                                         b.neighbours.step, b.neighbours.pid_new, b.neighbours.pid_in),
                             "table_pick returns only once the philosopher holds both of its forks"});
}

// The table's seat label: "philosopher 2 (student)".
std::string seat_label(const TestContext& ctx, int seat) { return label(ctx, "table", seat).replace(0, 5, "philosopher"); }

// Lays the table (table_open with create) and judges its creator.
std::optional<CheckOutcome> lay_table(TestContext& ctx, Scene& scene, const Board& board, const std::string& key, int n) {
  auto creator = run_one(scene, label(ctx, "table") + " laying the table",
                         role_spec(ctx, board, "table", 0, {"create", key, std::to_string(n)}));
  if (!creator) return CheckOutcome::with(Status::error, creator.error().message);
  if (auto bad = unfinished(scene, "table_open")) return bad;
  return judge_actors({*creator});
}

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
  board.drive(scene);
  if (auto bad = lay_table(ctx, scene, board, key, n)) return *bad;
  std::vector<Actor*> seats;
  for (int i = 0; i < n; ++i) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(seat_label(ctx, i),
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
  if (auto bad = neighbours_verdict(*board, context)) return *bad;
  return CheckOutcome::pass();
}

// The table's values read by the trusted semtool (GETALL) as the reference's uid, then the
// student's (a set made without 0666); nullopt when neither could read it.
std::optional<std::vector<int>> fork_values(TestContext& ctx, Scene& scene, const std::string& key) {
  for (Role role : {Role::reference, Role::student}) {
    auto tool = run_one(scene, "semtool values", semtool_spec(ctx, {"values", key}, role));
    if (!tool || !(*tool)->status || !WIFEXITED(*(*tool)->status) || WEXITSTATUS(*(*tool)->status) != 0) continue;
    std::istringstream in((*tool)->out_data);
    std::string word;
    std::vector<int> values;
    if (!(in >> word) || word != "values") continue;
    for (int v = 0; in >> v;) values.push_back(v);
    return values;
  }
  return std::nullopt;
}

// "pid 41 (philosopher 1 (student)) and pid 44 (philosopher 3 (student))": the processes of the
// watch's graph.
std::string who_waits(const DeadlockWatch& watch) {
  std::vector<std::string> who;
  for (const WaitNode& node : watch.graph())
    who.push_back(node.label.empty() ? fmt::format("pid {}", node.pid) : fmt::format("pid {} ({})", node.pid, node.label));
  if (who.empty()) return "nobody";
  const std::string last = who.back();
  who.pop_back();
  return who.empty() ? last : fmt::format("{} and {}", fmt::join(who, ", "), last);
}

// Philosopher 0 picks its forks and is killed with SIGKILL while it eats: its driver reported
// "eating" after table_pick returned, so it holds forks 0 and 1 (observed outside the code under
// test, no sleep). Then the other philosophers eat `meals` meals each, without the gong (seat 0
// never comes). With SEM_UNDO on every semop the kernel gave the forks back when it died and they
// all finish; without it its neighbours wait for them forever: DeadlockWatch ends the test as soon
// as every philosopher left is asleep, and the verdict names the killed pid as the cause.
CheckOutcome killed_holder(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const int n = p.value("philosophers", 4), meals = p.value("meals", 20);
  const std::string eat = std::to_string(p.value("eat_us", 600));
  const std::string key = hex_key(table_key(ctx)), count = std::to_string(n);
  IPCG_TRY_OUTCOME(Board board, Board::create(ctx));
  Scene scene(ctx);
  board.drive(scene);
  if (auto bad = lay_table(ctx, scene, board, key, n)) return *bad;
  IPCG_TRY_OUTCOME(Actor * victim, scene.start(seat_label(ctx, 0), role_spec(ctx, board, "table", 1, {"hold", key, count, "0"})));
  IPCG_TRY_OUTCOME(bool eating, scene.run_until([&] { return scene.exited(*victim) || victim->reported("eating"); }));
  if (auto bad = judge_actors({victim})) return *bad;
  if (!eating || scene.exited(*victim)) return scene.timed_out("philosopher 0 picking its forks");
  const pid_t victim_pid = victim->proc->pid();
  // Seen alive once, so the watch knows its pid as the monitor records it (its namespace's).
  DeadlockWatch watch(&board.monitor());
  watch.observe(scene);
  ::kill(victim_pid, SIGKILL);
  IPCG_TRY_OUTCOME(bool dead, scene.run_until([&] { return scene.exited(*victim); }));
  if (!dead) return scene.timed_out("philosopher 0, killed while eating");
  const auto killed_at = Clock::now();
  board->eating[0] = 0;  // its meal ended with it: its neighbours may eat now
  const auto after_death = fork_values(ctx, scene, key);

  std::vector<Actor*> seats;
  for (int i = 1; i < n; ++i) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(seat_label(ctx, i),
                                            role_spec(ctx, board, "table", 1 + i,
                                                      {"--no-gong", "dine", key, count, std::to_string(i),
                                                       std::to_string(meals), "0", eat})));
    seats.push_back(a);
  }
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(seats) || watch.fired(); }, [&] { watch.observe(scene); }));
  const std::string killed = fmt::format("{} (pid {}) was killed with SIGKILL while it held forks 0 and 1", victim->label, victim_pid);
  const std::string context = fmt::format("the {} philosophers left ({} meals each) after {}", n - 1, meals, killed);
  if (watch.fired()) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - killed_at).count();
    const bool kept = after_death && after_death->size() >= 2 && (*after_death)[0] == 0 && (*after_death)[1] == 0;
    CheckOutcome out = watch.outcome(context);
    if (kept)
      out.message = fmt::format("{}, and its forks never came back: {} wait for them in semop forever (deadlock: "
                                "every philosopher asleep, seen {:.0f} ms after the kill; the test was ended at once)",
                                killed, who_waits(watch), ms);
    std::vector<std::string> evidence;
    if (after_death)
      evidence.push_back(fmt::format("the table (System V set of key {}) right after pid {} died: fork values [{}] "
                                     "(semctl GETALL by the grader's tool; 1 is a free fork)",
                                     key, victim_pid, fmt::join(*after_death, ", ")));
    if (kept)  // the cause first, in the lab's words; the watch's wait-for lines follow
      evidence.push_back(fmt::format("forks 0 and 1 are held by pid {} ({}), which has ended without releasing them",
                                     victim_pid, victim->label));
    evidence.insert(evidence.end(), out.evidence.begin(), out.evidence.end());
    evidence.push_back("take and put the forks with SEM_UNDO in every semop: the kernel then undoes a dead "
                       "process's operations, and a philosopher killed while eating gives its forks back");
    out.evidence = std::move(evidence);
    return out;
  }
  if (!done) return scene.timed_out(context);
  if (auto bad = judge_actors(seats)) return *bad;
  if (auto bad = neighbours_verdict(*board, context)) return *bad;
  return CheckOutcome::pass();
}

OwnSemaphores table_set(const TestContext& ctx) { return {{}, {}, {table_key(ctx)}}; }

IPCG_REGISTER_CHECK("lab7.dine", removing_own(dine, table_set));
IPCG_REGISTER_CHECK("lab7.killed_holder", removing_own(killed_holder, table_set));

}  // namespace
}  // namespace lab7
