// lab4: records through the ring. Producers and consumers are separate roles of the test's cell;
// every role logs each record it put or got on the grader's log pipe, and the verdicts come from
// that log (harness_msglog: exactly once, FIFO per producer, whole records, capacity) and /proc.
#include <fmt/format.h>

#include <algorithm>

#include "scene.hpp"

namespace lab4 {
namespace {

struct Crowd {
  std::vector<Actor*> producers, consumers;
};

// Consumers first (they wait on an empty ring), then producers with ids 1.. and `records` each.
Result<Crowd> start_crowd(TestContext& ctx, Roles& roles, const Setup& s, int producers, int consumers, long records) {
  Crowd c;
  for (int k = 0; k < consumers; ++k) {
    IPCG_TRY(Actor * a, roles.start(label(ctx, "consumer", k + 1), program_spec(ctx, "consumer", {s.ring})));
    c.consumers.push_back(a);
  }
  for (int k = 0; k < producers; ++k) {
    IPCG_TRY(Actor * a, roles.start(label(ctx, "producer", k + 1),
                                    program_spec(ctx, "producer", {"--id", std::to_string(k + 1), "--count",
                                                                   std::to_string(records), "--capacity",
                                                                   std::to_string(s.capacity), s.ring})));
    c.producers.push_back(a);
  }
  return c;
}

// Every role at once: consumers wait, producers put `records` each; once every producer is done,
// one stop record per consumer. Judged on the log.
CheckOutcome exchange(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const auto& p = ctx.test.params;
  const int producers = p.value("producers", 3), consumers = p.value("consumers", 2);
  const long records = p.value("records", 200L);
  Roles roles(ctx);
  Scene& scene = roles.scene;
  IPCG_TRY_OUTCOME(Actor * creator, create_ring(ctx, roles, s));
  if (auto bad = unfinished(roles, "ring_create")) return *bad;
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Crowd c, start_crowd(ctx, roles, s, producers, consumers, records));
  auto consumer_ended = [&] {
    return std::any_of(c.consumers.begin(), c.consumers.end(), [&](Actor* a) { return scene.exited(*a); });
  };
  // Consumers that got more records than were put go on forever (a get that does not wait for
  // a record): the log says so, and the test ends there.
  const long put_in_all = producers * records;
  long receives = 0;
  Grace look_again;
  auto too_many = [&] {
    if (!look_again.expired(std::chrono::milliseconds(50))) return false;
    look_again.reset();
    if (auto log = scene.message_log())
      receives = std::count_if(log->begin(), log->end(), [](const MessageEvent& e) { return e.op == MessageEvent::Op::receive; });
    return receives > put_in_all;
  };
  IPCG_TRY_OUTCOME(bool produced, roles.run_until([&] {
    return scene.all_exited(c.producers) || consumer_ended() || too_many();
  }));
  if (receives > put_in_all) {
    IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
    auto bad = judge_records(ctx, log, {s.ring, s.capacity, {"exactly_once"}},
                             fmt::format("the consumers got {} records while {} were put in all", receives, put_in_all));
    if (bad) return *bad;
  }
  if (!produced) return roles.timed_out("the producers");
  if (auto bad = judge_roles(c.consumers)) return *bad;
  if (auto bad = judge_roles(c.producers)) return *bad;
  if (!scene.all_exited(c.producers))
    return CheckOutcome::fail("a consumer returned before it got a stop record", c.consumers[0]->lines());
  IPCG_TRY_OUTCOME(Actor * stop, roles.start(label(ctx, "producer") + " putting the stop records",
                                             program_spec(ctx, "producer", {"--stops", std::to_string(consumers), s.ring})));
  IPCG_TRY_OUTCOME(bool drained, roles.run_until([&] { return scene.all_exited(c.consumers) && scene.exited(*stop); }));
  if (!drained) return roles.timed_out("the consumers");
  if (auto bad = judge_roles(c.consumers)) return *bad;
  if (auto bad = judge_roles({stop})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_records(ctx, log, s,
                               fmt::format("{} producers ({} records each) and {} consumers at once on a ring of {}",
                                           producers, records, consumers, s.capacity)))
    return *bad;
  return CheckOutcome::pass();
}

// Waits until every producer is asleep in futex (the ring is full) or has exited, or one of
// them spins (harness SpinWatch, one per producer). `spinner` names that one, `spun` its figures.
Result<bool> wait_until_full(Roles& roles, const std::vector<Actor*>& producers, Actor*& spinner,
                             SpinWatch::Figures& spun) {
  std::vector<SpinWatch> spin(producers.size());
  std::vector<bool> settled(producers.size(), false);
  return roles.run_until([&] {
    for (size_t k = 0; k < producers.size(); ++k) {
      if (settled[k] || !asleep_or_spinning(roles.scene, *producers[k], {kSysFutex}, spin[k])) continue;
      settled[k] = true;
      if (spin[k].verdict() == SpinWatch::Verdict::spins) {
        spinner = producers[k];
        spun = spin[k].measured();
        return true;
      }
    }
    return std::all_of(settled.begin(), settled.end(), [](bool b) { return b; });
  }, Roles::Wait::on_the_grader);  // a full ring waits for the consumer the check starts next
}

// Producers put more than the ring holds while no consumer runs: they must wait (asleep in
// futex, judged by "blocking") and never have more records in than the capacity (judged by
// "capacity" on the log). Then one consumer takes every record.
CheckOutcome fill_then_drain(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const auto& p = ctx.test.params;
  const int producers = p.value("producers", 2);
  const long records = p.value("records", s.capacity + 3);
  const bool judge_blocking = p.value("judge", std::string("capacity")) == "blocking";
  Roles roles(ctx);
  Scene& scene = roles.scene;
  IPCG_TRY_OUTCOME(Actor * creator, create_ring(ctx, roles, s));
  if (auto bad = unfinished(roles, "ring_create")) return *bad;
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Crowd c, start_crowd(ctx, roles, s, producers, 0, records));
  Actor* spinner = nullptr;
  SpinWatch::Figures f;
  IPCG_TRY_OUTCOME(bool settled, wait_until_full(roles, c.producers, spinner, f));
  if (!settled) return roles.timed_out("the producers, filling the ring");
  if (auto bad = judge_roles(c.producers)) return *bad;
  const std::string what = fmt::format("{} producers put {} records each into a ring of {} with no consumer yet",
                                       producers, records, s.capacity);
  if (judge_blocking) {
    if (spinner)
      return CheckOutcome::fail(fmt::format("{}: {} spins instead of waiting: {:.0f} ms of CPU in {:.0f} ms of wall time "
                                            "(CPU/wall {:.2f}), never asleep in futex",
                                            what, spinner->label, f.cpu_seconds * 1000, f.wall_seconds * 1000,
                                            f.cpu_seconds / f.wall_seconds),
                                {"a put on a full ring waits in sem_wait(&empty): the kernel wakes it when a slot is "
                                 "free; never loop on count or sem_trywait"});
    if (scene.all_exited(c.producers))
      return CheckOutcome::fail(fmt::format("{}: every ring_put returned, none waited for a free slot", what),
                                {"a put on a full ring must block until a consumer frees a slot"});
  }
  IPCG_TRY_OUTCOME(Actor * consumer, roles.start(label(ctx, "consumer"),
                                                 program_spec(ctx, "consumer", {"--count",
                                                                                std::to_string(producers * records), s.ring})));
  IPCG_TRY_OUTCOME(bool drained, roles.run_until([&] { return scene.exited(*consumer) && scene.all_exited(c.producers); }));
  if (!drained) return roles.timed_out("the consumer, draining the ring");
  if (auto bad = judge_roles(c.producers)) return *bad;
  if (auto bad = judge_roles({consumer})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_records(ctx, log, s, what + ", then one consumer took them")) return *bad;
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab4.exchange", removing_ring(exchange));
IPCG_REGISTER_CHECK("lab4.fill_then_drain", removing_ring(fill_then_drain));

}  // namespace
}  // namespace lab4
