// lab4: the rest of the contract. A consumer on an empty ring sleeps; a signal does not let a
// waiter in; failures of shm_open/mmap are reported; a consumer may come before the ring exists;
// a crashed run's object is replaced; the object is removed at the end.
#include <fmt/format.h>
#include <sys/wait.h>

#include <csignal>

#include "scene.hpp"

namespace lab4 {
namespace {

// Waits until `a` is asleep in futex, has exited, or spins: harness SpinWatch, its CPU time
// counted once it reported "opened" the ring.
Result<bool> wait_for_sleep(Roles& roles, Actor& a, SpinWatch& spin) {
  return roles.run_until([&] { return asleep_or_spinning(roles.scene, a, {kSysFutex}, spin, a.reported("opened")); },
                         Roles::Wait::on_the_grader);  // an empty ring waits for the producer the check starts next
}

const char* const kSleepAdvice =
    "a get on an empty ring waits in sem_wait(&full): the kernel wakes it when a record is put; never loop on count, "
    "a flag or sem_trywait";

// A consumer on an empty ring: asleep in futex, and over a window it uses next to no CPU. Then a
// record is put and it gets it.
CheckOutcome idle_consumer(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const auto window = std::chrono::milliseconds(ctx.test.params.value("window_ms", 300));
  Roles roles(ctx);
  Scene& scene = roles.scene;
  IPCG_TRY_OUTCOME(Actor * creator, create_ring(ctx, roles, s));
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * consumer, roles.start(label(ctx, "consumer"), program_spec(ctx, "consumer", {"--count", "1", s.ring})));
  SpinWatch spin({.window = window});
  IPCG_TRY_OUTCOME(bool seen, wait_for_sleep(roles, *consumer, spin));
  if (!seen) return roles.timed_out("the consumer on an empty ring");
  if (scene.exited(*consumer)) {
    if (auto bad = judge_roles({consumer})) return *bad;
    return CheckOutcome::fail("ring_get returned on an empty ring: it must wait for a record");
  }
  if (spin.verdict() == SpinWatch::Verdict::spins) {
    const auto f = spin.measured();
    return CheckOutcome::fail(fmt::format("the consumer spins on an empty ring: {:.0f} ms of CPU in {:.0f} ms of wall "
                                          "time (CPU/wall {:.2f}), never asleep in futex",
                                          f.cpu_seconds * 1000, f.wall_seconds * 1000, f.cpu_seconds / f.wall_seconds),
                              {kSleepAdvice});
  }
  // Asleep once: over the window it stays asleep (a loop that wakes now and then to look uses CPU).
  IPCG_TRY_OUTCOME(bool measured, roles.run_until([&] { return spin_decided(scene, *consumer, {kSysFutex}, spin); },
                                                  Roles::Wait::on_the_grader));
  if (!measured) return roles.timed_out("the consumer on an empty ring");
  if (scene.exited(*consumer)) {
    if (auto bad = judge_roles({consumer})) return *bad;
    return CheckOutcome::fail("ring_get returned on an empty ring: it must wait for a record");
  }
  if (spin.verdict() == SpinWatch::Verdict::spins) {
    const auto f = spin.measured();
    return CheckOutcome::fail(fmt::format("the consumer spins on an empty ring: {:.0f} ms of CPU in {:.0f} ms of wall time "
                                          "(CPU/wall {:.2f})", f.cpu_seconds * 1000, f.wall_seconds * 1000,
                                          f.cpu_seconds / f.wall_seconds),
                              {kSleepAdvice});
  }
  IPCG_TRY_OUTCOME(Actor * prod, run_one(roles, label(ctx, "producer"), program_spec(ctx, "producer", {"--count", "1", s.ring})));
  IPCG_TRY_OUTCOME(bool done, roles.run_until([&] { return scene.exited(*consumer); }));
  if (!done) return roles.timed_out("the consumer, after a record was put");
  if (auto bad = judge_roles({prod, consumer})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_records(ctx, log, s, "one record put while the consumer waited")) return *bad;
  return CheckOutcome::pass();
}

// A consumer asleep in sem_wait gets SIGUSR1 (a handler without SA_RESTART): sem_wait fails with
// EINTR, and a get that goes on without the semaphore takes a record that is not there.
CheckOutcome interrupted_get(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Roles roles(ctx);
  Scene& scene = roles.scene;
  IPCG_TRY_OUTCOME(Actor * creator, create_ring(ctx, roles, s));
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * consumer, roles.start(label(ctx, "consumer"),
                                                 program_spec(ctx, "consumer", {"--eintr", "--count", "2", s.ring})));
  SpinWatch spin;
  IPCG_TRY_OUTCOME(bool seen, wait_for_sleep(roles, *consumer, spin));
  if (!seen) return roles.timed_out("the consumer on an empty ring");
  if (scene.exited(*consumer)) {
    if (auto bad = judge_roles({consumer})) return *bad;
    return CheckOutcome::fail("ring_get returned on an empty ring, so no signal could be sent while it waited");
  }
  if (spin.verdict() == SpinWatch::Verdict::spins)
    return CheckOutcome::fail(fmt::format("the consumer never slept in sem_wait on an empty ring ({:.0f} ms of CPU spent "
                                          "looking), so no signal could interrupt a wait: EINTR handling cannot be judged "
                                          "(consumer_blocks_when_empty says why)", spin.measured().cpu_seconds * 1000));
  ::kill(consumer->proc->pid(), SIGUSR1);
  IPCG_TRY_OUTCOME(bool delivered, roles.run_until([&] {
    auto snap = scene.snapshot(*consumer);
    return scene.exited(*consumer) || (snap && !snap->signals.is_pending(SIGUSR1) && is_blocked(*snap));
  }, Roles::Wait::on_the_grader));
  if (!delivered) return roles.timed_out("the consumer, after SIGUSR1");
  IPCG_TRY_OUTCOME(Actor * prod, run_one(roles, label(ctx, "producer"), program_spec(ctx, "producer", {"--count", "2", s.ring})));
  IPCG_TRY_OUTCOME(bool done, roles.run_until([&] { return scene.exited(*consumer) && scene.exited(*prod); }));
  if (!done) return roles.timed_out("the consumer, after SIGUSR1 and two records");
  const std::string how = "SIGUSR1 (a handler without SA_RESTART) came while ring_get waited in sem_wait on an empty ring";
  const std::string advice = "sem_wait returns -1 with errno EINTR when a handler interrupts it: the semaphore was NOT "
                             "taken; wait again (while (sem_wait(&s) != 0) if (errno != EINTR) return -1;)";
  if (auto bad = judge_roles({consumer, prod})) {
    bad->message = how + ": " + bad->message;
    bad->evidence.push_back(advice);
    return *bad;
  }
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_records(ctx, log, s, how)) {
    bad->evidence.push_back(advice);
    return *bad;
  }
  return CheckOutcome::pass();
}

// The cell's shared-memory object of that name, if any.
Result<std::optional<IpcObject>> find_object(TestContext& ctx, const std::string& name) {
  IPCG_TRY(std::vector<IpcObject> objects, ctx.cell.ipc_objects());
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::posix_shm && o.name == name) return std::optional<IpcObject>(o);
  return std::optional<IpcObject>();
}

// ring_create when a call cannot succeed: no descriptor left for shm_open (EMFILE), no address
// space left for mmap (ENOMEM). -1 with that errno, the caller goes on, no object left behind.
CheckOutcome create_failures(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  struct Case {
    std::vector<std::string> args;
    int want;
    std::string why;
  };
  const std::vector<Case> cases = {
      {{"--spare-fds", "0", "--create", "4", s.ring}, EMFILE, "no descriptor free (RLIMIT_NOFILE lowered): shm_open fails"},
      {{"--as-spare-kb", "0", "--create", "4", s.ring}, ENOMEM,
       "no address space left (RLIMIT_AS lowered to what the process maps): mmap fails"},
  };
  for (const auto& c : cases) {
    Roles roles(ctx);
  Scene& scene = roles.scene;
    IPCG_TRY_OUTCOME(Actor * prod, run_one(roles, label(ctx, "producer"), program_spec(ctx, "producer", c.args)));
    if (!scene.exited(*prod)) return roles.timed_out("ring_create with " + c.why);
    if (!prod->last_call().empty()) {
      auto bad = judge_roles({prod});
      bad->message = fmt::format("ring_create with {}: {}", c.why, bad->message);
      return *bad;
    }
    if (auto lim = prod->line("limit"))
      return CheckOutcome::with(Status::error, "the driver could not lower its limit: " + *lim);
    int err = 0;
    const auto line = prod->line("error");
    if (!line || std::sscanf(line->c_str(), "error create %d", &err) != 1)
      return CheckOutcome::fail(fmt::format("ring_create returned 0 with {}: it must return -1 with errno set", c.why),
                                prod->lines());
    if (err != c.want)
      return CheckOutcome::fail(fmt::format("ring_create with {} failed with {}, expected {} (the failing call's errno, "
                                            "kept)", c.why, strerror_name(err), strerror_name(c.want)));
    IPCG_TRY_OUTCOME(std::optional<IpcObject> left, find_object(ctx, s.ring));
    if (left)
      return CheckOutcome::fail(fmt::format("ring_create with {} returned -1 but left the object {} behind", c.why, s.ring),
                                {left->description, "a ring_create that fails after shm_open removes the object it "
                                                    "made (shm_unlink) and closes its descriptor"});
  }
  return CheckOutcome::pass();
}

// Failed ring_open calls the consumer's driver reported ("not-open ERRNO" before each gate).
int failed_opens(const Actor& a, int* last_errno = nullptr) {
  int n = 0, err = 0;
  for (const auto& l : a.lines())
    if (std::sscanf(l.c_str(), "not-open %d", &err) == 1) {
      ++n;
      if (last_errno) *last_errno = err;
    }
  return n;
}

// The consumer's driver stopped at its gate after its `opens`-th failed ring_open, or exited,
// or opened the ring (a SIGCONT is not seen at once: a stop counts only with its report).
Result<bool> wait_for_gate(Roles& roles, Actor& a, int opens) {
  Scene& scene = roles.scene;
  return roles.run_until([&] {
    if (scene.exited(a) || a.reported("opened")) return true;
    auto snap = scene.snapshot(a);
    return snap && snap->state == 'T' && failed_opens(a) >= opens;
  }, Roles::Wait::on_the_grader);
}

// A consumer that starts before its ring is ready: ring_open fails with ENOENT (no object; an
// object not yet sized; sized but not yet initialized), never creates it or crashes on it, and
// opens the ring once its producer has made it.
CheckOutcome consumer_before_producer(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Roles roles(ctx);
  Scene& scene = roles.scene;
  IPCG_TRY_OUTCOME(Actor * consumer, roles.start(label(ctx, "consumer"),
                                                 program_spec(ctx, "consumer", {"--until-open", "--count", "3", s.ring})));
  struct Stage {
    std::string object;   // shmtool embryo's size, or "" for no object
    std::string state;    // in words
  };
  const std::vector<Stage> stages = {
      {"", "no object of that name exists yet"},
      {"0", "the producer has made the object but not sized it yet (0 bytes)"},
      {"full", "the producer has sized the object but not initialized it (magic 0)"},
  };
  const Role creator = role_of(ctx, "producer");
  for (size_t k = 0; k < stages.size(); ++k) {
    const Stage& st = stages[k];
    if (!st.object.empty()) {
      IPCG_TRY_OUTCOME(Actor * t, run_one(roles, "shmtool unlink", shmtool_spec(ctx, {"unlink", s.ring}, creator)));
      IPCG_TRY_OUTCOME(Actor * e, run_one(roles, "shmtool embryo (a producer at work)",
                                          shmtool_spec(ctx, {"embryo", s.ring, st.object}, creator)));
      if (auto bad = judge_roles({t, e})) return *bad;
      ::kill(consumer->proc->pid(), SIGCONT);
    }
    IPCG_TRY_OUTCOME(bool stopped, wait_for_gate(roles, *consumer, static_cast<int>(k) + 1));
    if (!stopped) return roles.timed_out("ring_open when " + st.state);
    if (scene.exited(*consumer)) {
      if (auto bad = judge_roles({consumer})) {
        bad->message = fmt::format("ring_open when {}: {}", st.state, bad->message);
        return *bad;
      }
      return CheckOutcome::fail(fmt::format("ring_open returned 0 when {}: it must return -1 with errno ENOENT (not "
                                            "ready) and let the caller try again", st.state),
                                consumer->lines());
    }
    int err = 0;
    if (consumer->reported("opened") || failed_opens(*consumer, &err) != static_cast<int>(k) + 1)
      return CheckOutcome::fail(fmt::format("ring_open returned 0 when {}", st.state), consumer->lines());
    if (err != ENOENT)
      return CheckOutcome::fail(fmt::format("ring_open when {} failed with {}, expected ENOENT", st.state, strerror_name(err)));
    if (k == 0) {
      IPCG_TRY_OUTCOME(std::optional<IpcObject> made, find_object(ctx, s.ring));
      if (made)
        return CheckOutcome::fail(fmt::format("ring_open when {} created the object {}: only ring_create makes the ring",
                                              st.state, s.ring),
                                  {made->description, "open with O_RDWR only, never O_CREAT"});
    }
  }
  IPCG_TRY_OUTCOME(Actor * t, run_one(roles, "shmtool unlink", shmtool_spec(ctx, {"unlink", s.ring}, creator)));
  IPCG_TRY_OUTCOME(Actor * maker, run_one(roles, label(ctx, "producer"),
                                          program_spec(ctx, "producer", {"--create", std::to_string(s.capacity), "--count",
                                                                         "3", s.ring})));
  if (auto bad = judge_roles({t, maker})) return *bad;
  ::kill(consumer->proc->pid(), SIGCONT);
  IPCG_TRY_OUTCOME(bool done, roles.run_until([&] {
    if (scene.exited(*consumer)) return true;
    auto snap = scene.snapshot(*consumer);
    if (snap && snap->state == 'T') ::kill(consumer->proc->pid(), SIGCONT);  // not ready yet: try again
    return false;
  }, Roles::Wait::on_the_grader));
  if (!done) return roles.timed_out("the consumer, once the ring was ready");
  if (auto bad = judge_roles({consumer})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_records(ctx, log, s, "three records put once the consumer's ring was ready")) return *bad;
  return CheckOutcome::pass();
}

// An object of the ring's name left by a crashed run (ready, three old records waiting):
// ring_create must make a fresh ring, so no old record reaches a consumer.
CheckOutcome stale_ring(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Roles roles(ctx);
  Scene& scene = roles.scene;
  IPCG_TRY_OUTCOME(Actor * stale, run_one(roles, "shmtool stale (a crashed run)",
                                          shmtool_spec(ctx, {"stale", s.ring}, role_of(ctx, "producer"))));
  if (auto bad = judge_roles({stale})) return *bad;
  IPCG_TRY_OUTCOME(Actor * creator, create_ring(ctx, roles, s));
  if (auto bad = unfinished(roles, "ring_create over a crashed run's object")) return *bad;
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * consumer, roles.start(label(ctx, "consumer"), program_spec(ctx, "consumer", {s.ring})));
  IPCG_TRY_OUTCOME(Actor * prod, roles.start(label(ctx, "producer"),
                                             program_spec(ctx, "producer", {"--count", "5", "--stops", "1", s.ring})));
  IPCG_TRY_OUTCOME(bool done, roles.run_until([&] { return scene.exited(*consumer) && scene.exited(*prod); }));
  if (!done) return roles.timed_out("the producer and the consumer");
  const std::string old = "an object of the same name was left by a crashed run (capacity 4, three records of producer "
                          "77 waiting)";
  if (auto bad = judge_roles({prod, consumer})) {
    bad->evidence.push_back(old);
    return *bad;
  }
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_records(ctx, log, s, old)) {
    bad->evidence.push_back("ring_create must not reuse an old object: shm_open with O_CREAT | O_EXCL, and on EEXIST "
                            "shm_unlink the old one and create it again");
    return *bad;
  }
  return CheckOutcome::pass();
}

// After ring_destroy the object no longer exists: asked of the cell while the test runs.
CheckOutcome ring_unlinked(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Roles roles(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_ring(ctx, roles, s));
  IPCG_TRY_OUTCOME(Actor * prod, run_one(roles, label(ctx, "producer"), program_spec(ctx, "producer", {"--count", "3", s.ring})));
  IPCG_TRY_OUTCOME(Actor * consumer, run_one(roles, label(ctx, "consumer"), program_spec(ctx, "consumer", {"--count", "3", s.ring})));
  IPCG_TRY_OUTCOME(Actor * last, run_one(roles, label(ctx, "producer") + " ending the ring",
                                         program_spec(ctx, "producer", {"--destroy", s.ring})));
  if (auto bad = unfinished(roles, "the ring's roles")) return *bad;
  if (auto bad = judge_roles({creator, prod, consumer, last})) return *bad;
  IPCG_TRY_OUTCOME(std::optional<IpcObject> left, find_object(ctx, s.ring));
  if (left)
    return CheckOutcome::fail(fmt::format("the object {} still exists after ring_close and ring_destroy returned 0",
                                          s.ring),
                              {left->description, "ring_destroy must shm_unlink the object: munmap and close only end "
                                                  "this process's use of it, the object lives on in /dev/shm"});
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab4.idle_consumer", removing_ring(idle_consumer));
IPCG_REGISTER_CHECK("lab4.interrupted_get", removing_ring(interrupted_get));
IPCG_REGISTER_CHECK("lab4.create_failures", removing_ring(create_failures));
IPCG_REGISTER_CHECK("lab4.consumer_before_producer", removing_ring(consumer_before_producer));
IPCG_REGISTER_CHECK("lab4.stale_ring", removing_ring(stale_ring));
IPCG_REGISTER_CHECK("lab4.ring_unlinked", ring_unlinked);

}  // namespace
}  // namespace lab4
