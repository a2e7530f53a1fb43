// lab3 Part A checks: the POSIX priority dispatcher. Producers and workers are separate roles of
// the test's cell; the reference roles log each job on the grader's log pipe, and the verdicts
// come from that log (harness_msglog), from /proc and from the trusted mqtool.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>

#include "harness/sync/spin_watch.hpp"
#include "scene.hpp"

namespace lab3 {
namespace {

struct Setup {
  std::string queue;
  long maxmsg = 10, msgsize = 128;
  std::vector<std::string> checks;
};

Setup setup_of(TestContext& ctx) {
  const auto& p = ctx.test.params;
  Setup s;
  s.queue = ctx.ipc_names().posix("jobs");
  s.maxmsg = p.value("maxmsg", 10L);
  s.msgsize = p.value("msgsize", 128L);
  s.checks = p.value("checks", std::vector<std::string>{"exactly_once"});
  return s;
}

// Seeded jobs, one "PRIORITY LENGTH" line each (LENGTH 0: exactly msgsize).
std::string jobs_text(TestContext& ctx, int count) {
  const auto& p = ctx.test.params;
  const auto prios = p.value("priorities", std::vector<int>{1, 4, 7});
  const long lo = p.value("min_len", 12L), hi = p.value("max_len", 60L);
  std::string text;
  for (int i = 0; i < count; ++i)
    text += fmt::format("{} {}\n", prios[ctx.rng() % prios.size()], lo + static_cast<long>(ctx.rng() % (hi - lo + 1)));
  return text;
}

// Starts a role and waits for it to exit; nullopt-valued optional outcome means it ran.
Result<Actor*> run_one(Scene& scene, std::string label, SpawnSpec spec, std::string input = "") {
  IPCG_TRY(Actor* a, scene.start(std::move(label), std::move(spec), std::move(input)));
  IPCG_TRY(bool done, scene.run_until([&] { return scene.exited(*a); }));
  (void)done;
  return a;
}

std::optional<CheckOutcome> unfinished(Scene& scene, const std::string& what) {
  for (const auto& a : scene.actors())
    if (!scene.exited(*a)) return scene.timed_out(what);
  return std::nullopt;
}

// The queue, made by the producer program of the test's roles (the student's dispatch_open when
// the student plays the producer).
Result<Actor*> create_queue(TestContext& ctx, Scene& scene, const Setup& s) {
  return run_one(scene, label(ctx, "producer") + " creating the queue",
                 program_spec(ctx, "producer", {"--create", "--maxmsg", std::to_string(s.maxmsg), "--msgsize",
                                                std::to_string(s.msgsize), "--close", s.queue}));
}

// Fill then drain, in rounds: the producers put a round's jobs in the queue (all of them fit),
// then one worker takes them all. The order a worker sees is then fully determined.
CheckOutcome fill_then_drain(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const auto& p = ctx.test.params;
  const int rounds = p.value("rounds", 3), producers = p.value("producers", 2);
  const int per_round = p.value("jobs_per_round", static_cast<int>(s.maxmsg));
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  std::vector<long> seq(producers, 0);
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < producers; ++k) {
      const int jobs = per_round / producers + (k < per_round % producers ? 1 : 0);
      IPCG_TRY_OUTCOME(Actor * a, run_one(scene, label(ctx, "producer", k),
                                          program_spec(ctx, "producer", {"--id", std::to_string(k), "--seq",
                                                                         std::to_string(seq[k]), s.queue}),
                                          jobs_text(ctx, jobs)));
      seq[k] += jobs;
      if (auto bad = unfinished(scene, fmt::format("round {}: filling the queue", r + 1))) return *bad;
      if (auto bad = judge_roles({a})) return *bad;
    }
    IPCG_TRY_OUTCOME(Actor * w, run_one(scene, label(ctx, "worker"),
                                        program_spec(ctx, "worker", {"--count", std::to_string(per_round), s.queue})));
    if (auto bad = unfinished(scene, fmt::format("round {}: draining the queue", r + 1))) return *bad;
    if (auto bad = judge_roles({w})) return *bad;
  }
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks, fmt::format("{} rounds of {} jobs put in the queue, then taken",
                                                          rounds, per_round)))
    return *bad;
  return CheckOutcome::pass();
}

// Everything at once: producers and workers run together; once every producer is done, one stop
// job per worker (priority 0, below every job).
CheckOutcome concurrent(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const auto& p = ctx.test.params;
  const int producers = p.value("producers", 3), workers = p.value("workers", 2), jobs = p.value("jobs", 20);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  std::vector<Actor*> prods, works;
  for (int k = 0; k < workers; ++k) {
    IPCG_TRY_OUTCOME(Actor * w, scene.start(label(ctx, "worker", k), program_spec(ctx, "worker", {s.queue})));
    works.push_back(w);
  }
  for (int k = 0; k < producers; ++k) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "producer", k),
                                            program_spec(ctx, "producer", {"--id", std::to_string(k), s.queue}),
                                            jobs_text(ctx, jobs)));
    prods.push_back(a);
  }
  // A worker that ends before the producers (its code failed) leaves them blocked on a full queue.
  auto worker_ended = [&] { return std::any_of(works.begin(), works.end(), [&](Actor* w) { return scene.exited(*w); }); };
  IPCG_TRY_OUTCOME(bool produced, scene.run_until([&] { return scene.all_exited(prods) || worker_ended(); }));
  if (!produced) return scene.timed_out("the producers");
  if (auto bad = judge_roles(works)) return *bad;
  if (auto bad = judge_roles(prods)) return *bad;
  if (!scene.all_exited(prods)) return CheckOutcome::fail("a worker ended before every job was taken", works[0]->lines());
  IPCG_TRY_OUTCOME(Actor * stop, run_one(scene, "mqtool stop", tool_spec(ctx, {"stop", s.queue, std::to_string(workers)})));
  if (auto bad = judge_roles({stop})) return *bad;
  IPCG_TRY_OUTCOME(bool drained, scene.run_until([&] { return scene.all_exited(works); }));
  if (!drained) return scene.timed_out("the workers");
  if (auto bad = judge_roles(works)) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks,
                           fmt::format("{} producers and {} workers at once, {} jobs each", producers, workers, jobs)))
    return *bad;
  return CheckOutcome::pass();
}

// A queue of maxmsg jobs and no worker yet: the producer must wait for room (blocking: in
// mq_timedsend; non-blocking: dispatch_submit returns EAGAIN and the driver waits in poll).
// Only once the grader has seen it wait does a worker start.
CheckOutcome full_queue(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const bool nonblock = ctx.test.params.value("nonblock", false);
  const int jobs = ctx.test.params.value("jobs", 8);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  std::vector<std::string> args{"--id", "0", s.queue};
  if (nonblock) args.insert(args.begin(), "--nonblock");
  IPCG_TRY_OUTCOME(Actor * prod, scene.start(label(ctx, "producer"), program_spec(ctx, "producer", args),
                                             jobs_text(ctx, jobs)));
  std::optional<long> waiting_in;
  IPCG_TRY_OUTCOME(bool seen, scene.run_until([&] {
    if (scene.exited(*prod)) return true;
    auto snap = scene.snapshot(*prod);
    if (!snap) return false;
    if (blocked_in(*snap, {kSysMqTimedsend, kSysPoll, kSysPpoll})) waiting_in = *snap->syscall;
    return waiting_in.has_value();
  }));
  if (!seen) return scene.timed_out("the producer");
  const std::string sent_before = fmt::format("{} jobs into a queue of {} with no worker", jobs, s.maxmsg);
  if (scene.exited(*prod)) {
    if (auto bad = judge_roles({prod})) return *bad;
    if (!nonblock)
      return CheckOutcome::fail(fmt::format("dispatch_submit never blocked: the producer submitted {} and returned",
                                            sent_before),
                                {"a full queue must block the sender until a worker takes a job (was the queue opened "
                                 "with O_NONBLOCK, or EAGAIN taken for success?)"});
    if (!prod->reported("eagain"))
      return CheckOutcome::fail(fmt::format("dispatch_submit with DISPATCH_NONBLOCK never returned EAGAIN: the producer "
                                            "submitted {} and returned", sent_before),
                                {"on a full queue mq_send fails with EAGAIN: return -1 with errno EAGAIN, the job not sent"});
  } else if (nonblock && *waiting_in == kSysMqTimedsend) {
    return CheckOutcome::fail("with DISPATCH_NONBLOCK, dispatch_submit blocked in mq_timedsend on a full queue",
                              {"open the queue with O_NONBLOCK when DISPATCH_NONBLOCK is given; return -1 with errno "
                               "EAGAIN when it is full"});
  } else if (!nonblock && *waiting_in != kSysMqTimedsend) {
    return CheckOutcome::fail(fmt::format("on a full queue dispatch_submit did not block in mq_timedsend but in {}",
                                          syscall_name(*waiting_in)));
  }
  IPCG_TRY_OUTCOME(Actor * worker, scene.start(label(ctx, "worker"), program_spec(ctx, "worker", {s.queue})));
  IPCG_TRY_OUTCOME(bool produced, scene.run_until([&] { return scene.exited(*prod); }));
  if (!produced) return scene.timed_out("the producer");
  if (auto bad = judge_roles({prod})) return *bad;
  IPCG_TRY_OUTCOME(Actor * stop, run_one(scene, "mqtool stop", tool_spec(ctx, {"stop", s.queue, "1"})));
  if (auto bad = judge_roles({stop})) return *bad;
  IPCG_TRY_OUTCOME(bool drained, scene.run_until([&] { return scene.exited(*worker); }));
  if (!drained) return scene.timed_out("the worker");
  if (auto bad = judge_roles({worker})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks, sent_before + ", then a worker")) return *bad;
  return CheckOutcome::pass();
}

// Waits until the worker blocks in mq_timedreceive, exits, or spins: harness SpinWatch, its CPU
// time counted once the worker reported "open" (CPU time, not wall time: on a busy machine a
// spinner gets there later, a blocked worker never does, so the verdict does not depend on load).
// false when the test's deadline came first.
Result<bool> wait_for_block(Scene& scene, Actor& worker, SpinWatch& spin) {
  return scene.run_until(
      [&] { return asleep_or_spinning(scene, worker, {kSysMqTimedreceive}, spin, worker.reported("open")); });
}

// A worker on an empty queue must block in mq_timedreceive, not spin: it is seen asleep in it,
// and stays there without using the CPU over a window (CPU time from /proc).
CheckOutcome idle_worker(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const auto window = std::chrono::milliseconds(ctx.test.params.value("window_ms", 300));
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * worker, scene.start(label(ctx, "worker"), program_spec(ctx, "worker", {s.queue})));
  SpinWatch spin({.window = window});
  IPCG_TRY_OUTCOME(bool blocked, wait_for_block(scene, *worker, spin));
  if (!blocked) return scene.timed_out("the idle worker");
  const std::string advice = "a worker waits in mq_receive (blocking) for a job; never poll an O_NONBLOCK queue in a loop";
  if (spin.verdict() == SpinWatch::Verdict::spins) {
    const auto f = spin.measured();
    return CheckOutcome::fail(fmt::format("the worker spins on an empty queue: {:.0f} ms of CPU in {:.0f} ms of wall "
                                          "time (CPU/wall {:.2f}), never blocked in mq_timedreceive",
                                          f.cpu_seconds * 1000, f.wall_seconds * 1000, f.cpu_seconds / f.wall_seconds),
                              {advice});
  }
  // Blocked once: over the window it must stay asleep (a wait with a short timeout in a loop
  // wakes, but uses next to no CPU; a loop that spins between waits does). Asleep on purpose:
  // not a hang.
  scene.judge_hangs(false);
  IPCG_TRY_OUTCOME(bool measured,
                   scene.run_until([&] { return spin_decided(scene, *worker, {kSysMqTimedreceive}, spin); }));
  if (!measured) return scene.timed_out("the idle worker");
  if (scene.exited(*worker)) {
    if (auto bad = judge_roles({worker})) return *bad;
    return CheckOutcome::fail("the worker returned from dispatch_take on an empty queue",
                              {worker->lines().empty() ? "" : "last report: " + worker->lines().back()});
  }
  if (spin.verdict() == SpinWatch::Verdict::spins) {
    const auto f = spin.measured();
    return CheckOutcome::fail(fmt::format("the worker spins on an empty queue: {:.0f} ms of CPU in {:.0f} ms of wall time "
                                          "(CPU/wall {:.2f}; {} voluntary context switches)",
                                          f.cpu_seconds * 1000, f.wall_seconds * 1000, f.cpu_seconds / f.wall_seconds,
                                          f.voluntary_switches),
                              {advice});
  }
  IPCG_TRY_OUTCOME(Actor * stop, run_one(scene, "mqtool stop", tool_spec(ctx, {"stop", s.queue, "1"})));
  if (auto bad = judge_roles({stop})) return *bad;
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.exited(*worker); }));
  if (!done) return scene.timed_out("the worker, after its stop job");
  if (auto bad = judge_roles({worker})) return *bad;
  return CheckOutcome::pass();
}

// A worker whose buffer is smaller than mq_msgsize (but holds every job).
CheckOutcome small_buffer(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const int jobs = ctx.test.params.value("jobs", 6);
  const long cap = ctx.test.params.value("cap", 64L);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * prod, run_one(scene, label(ctx, "producer"), program_spec(ctx, "producer", {s.queue}),
                                         jobs_text(ctx, jobs)));
  if (auto bad = judge_roles({prod})) return *bad;
  IPCG_TRY_OUTCOME(Actor * worker, run_one(scene, label(ctx, "worker"),
                                           program_spec(ctx, "worker", {"--count", std::to_string(jobs), "--cap",
                                                                        std::to_string(cap), s.queue})));
  const std::string what = fmt::format("dispatch_take with a buffer of {} bytes on a queue of mq_msgsize {}", cap, s.msgsize);
  if (!scene.exited(*worker)) {
    auto out = scene.timed_out(what);
    out.evidence.push_back(fmt::format("{} of {} jobs taken", worker->lines().size() > 2 ? 0 : 0, jobs));
    return out;
  }
  if (auto guard = worker->line("guard"))
    return CheckOutcome::fail(what + ": bytes written past the end of the buffer", {*guard});
  const std::string why = "mq_receive fails with EMSGSIZE when its buffer is smaller than mq_msgsize: receive into "
                          "a buffer of msgsize bytes of your own, then copy the job";
  if (auto bad = judge_roles({worker})) {
    bad->evidence.push_back(why);
    return *bad;
  }
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks, what)) {
    bad->evidence.push_back(why);
    return *bad;
  }
  return CheckOutcome::pass();
}

// A job of exactly mq_msgsize bytes is sent whole; one byte more is refused with EMSGSIZE.
CheckOutcome sizes(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  const std::string jobs = "3 0\n2 20\n1 0\n";  // 0: exactly msgsize
  IPCG_TRY_OUTCOME(Actor * prod, run_one(scene, label(ctx, "producer"),
                                         program_spec(ctx, "producer", {"--oversize", s.queue}), jobs));
  if (!scene.exited(*prod)) return scene.timed_out("the producer");
  if (auto bad = judge_roles({prod})) return *bad;
  int rc = 0, err = 0;
  const auto over = prod->line("oversize");
  if (!over || std::sscanf(over->c_str(), "oversize %d %d", &rc, &err) != 2)
    return CheckOutcome::fail("the producer did not get to submit the oversized job", prod->lines());
  if (rc == 0)
    return CheckOutcome::fail(fmt::format("dispatch_submit accepted a job of {} bytes, one more than mq_msgsize {}: it "
                                          "must fail with EMSGSIZE (was it cut to fit?)", s.msgsize + 1, s.msgsize));
  if (err != EMSGSIZE)
    return CheckOutcome::fail(fmt::format("dispatch_submit of a job of msgsize + 1 = {} bytes failed with {}, expected "
                                          "EMSGSIZE", s.msgsize + 1, strerror_name(err)));
  IPCG_TRY_OUTCOME(Actor * worker, run_one(scene, label(ctx, "worker"), program_spec(ctx, "worker", {"--count", "3", s.queue})));
  if (!scene.exited(*worker)) return scene.timed_out("the worker");
  if (auto bad = judge_roles({worker})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks, fmt::format("jobs of exactly mq_msgsize = {} bytes", s.msgsize)))
    return *bad;
  return CheckOutcome::pass();
}

// dispatch_open when the queue cannot be made: RLIMIT_MSGQUEUE too low (EMFILE), mq_maxmsg above
// the system's msg_max (EINVAL). -1 with errno, and the caller goes on.
CheckOutcome open_failures(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  struct Case {
    std::vector<std::string> args;
    int want;
    std::string why;
  };
  const std::vector<Case> cases = {
      {{"--create", "--msgqueue-limit", "1", "--maxmsg", "10", "--msgsize", "128", s.queue}, EMFILE,
       "RLIMIT_MSGQUEUE lowered to 1 byte"},
      {{"--create", "--maxmsg", "100000", "--msgsize", "128", s.queue}, EINVAL,
       "mq_maxmsg 100000, above /proc/sys/fs/mqueue/msg_max"},
  };
  for (const auto& c : cases) {
    Scene scene(ctx);
    IPCG_TRY_OUTCOME(Actor * prod, run_one(scene, label(ctx, "producer"), program_spec(ctx, "producer", c.args)));
    if (!scene.exited(*prod)) return scene.timed_out("dispatch_open with " + c.why);
    const std::string call = prod->last_call();
    if (!call.empty()) {
      auto bad = judge_roles({prod});
      bad->message = fmt::format("dispatch_open with {}: {}", c.why, bad->message);
      return *bad;
    }
    int err = 0;
    const auto line = prod->line("error");
    if (!line || std::sscanf(line->c_str(), "error open %d", &err) != 1)
      return CheckOutcome::fail(fmt::format("dispatch_open returned 0 with {}: mq_open failed, so it must return -1 "
                                            "with errno set", c.why),
                                prod->lines());
    if (err != c.want)
      return CheckOutcome::fail(fmt::format("dispatch_open with {} failed with {}, expected {} (mq_open's errno, kept)",
                                            c.why, strerror_name(err), strerror_name(c.want)));
  }
  return CheckOutcome::pass();
}

// A worker blocked in mq_timedreceive gets SIGUSR1 (no SA_RESTART); dispatch_take must retry.
CheckOutcome interrupted_take(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * worker, scene.start(label(ctx, "worker"),
                                               program_spec(ctx, "worker", {"--eintr", "--count", "2", s.queue})));
  // A worker that never blocks (it polls) cannot be interrupted in mq_timedreceive.
  SpinWatch spin;
  IPCG_TRY_OUTCOME(bool blocked, wait_for_block(scene, *worker, spin));
  if (!blocked) return scene.timed_out("the worker waiting for a job");
  if (scene.exited(*worker)) {
    if (auto bad = judge_roles({worker})) return *bad;
    return CheckOutcome::fail("the worker returned from dispatch_take on an empty queue, so no signal could be sent");
  }
  if (spin.verdict() == SpinWatch::Verdict::spins)
    return CheckOutcome::fail(fmt::format("the worker did not block in mq_timedreceive on an empty queue ({:.0f} ms of CPU "
                                          "spent polling), so no signal could interrupt it: EINTR handling cannot be "
                                          "judged (idle_worker_blocks says why)", spin.measured().cpu_seconds * 1000));
  ::kill(worker->proc->pid(), SIGUSR1);
  IPCG_TRY_OUTCOME(bool delivered, scene.run_until([&] {
    auto snap = scene.snapshot(*worker);
    return scene.exited(*worker) || (snap && !snap->signals.is_pending(SIGUSR1));
  }));
  if (!delivered) return scene.timed_out("the worker, after SIGUSR1");
  IPCG_TRY_OUTCOME(Actor * prod, run_one(scene, label(ctx, "producer"), program_spec(ctx, "producer", {"--id", "0", s.queue}),
                                         jobs_text(ctx, 2)));
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.exited(*worker); }));
  if (!done) return scene.timed_out("the worker, after SIGUSR1 and two jobs");
  const std::string how = "SIGUSR1 (handler without SA_RESTART) came while dispatch_take waited in mq_timedreceive";
  if (auto bad = judge_roles({worker, prod})) {
    bad->message = how + ": " + bad->message;
    bad->evidence.push_back("mq_receive fails with EINTR when a handler interrupts it: call it again");
    return *bad;
  }
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks, how)) return *bad;
  return CheckOutcome::pass();
}

// A queue of the same name left by a crashed run (the student's own uid made it), with other
// attributes and two old jobs. DISPATCH_CREATE must give a fresh queue.
CheckOutcome stale_queue(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  const int jobs = ctx.test.params.value("jobs", 5);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * stale, run_one(scene, "mqtool stale (a crashed run)",
                                          tool_spec(ctx, {"stale", s.queue, "2", "16", "2"}, Role::student)));
  if (auto bad = judge_roles({stale})) return *bad;
  IPCG_TRY_OUTCOME(Actor * prod, scene.start(label(ctx, "producer"),
                                             program_spec(ctx, "producer", {"--create", "--maxmsg", std::to_string(s.maxmsg),
                                                                            "--msgsize", std::to_string(s.msgsize), s.queue}),
                                             jobs_text(ctx, jobs)));
  // Done, or waiting for room: the old queue was full (two old jobs, mq_maxmsg 2).
  IPCG_TRY_OUTCOME(bool settled, scene.run_until([&] {
    auto snap = scene.snapshot(*prod);
    return scene.exited(*prod) || (snap && blocked_in(*snap, {kSysMqTimedsend}));
  }));
  if (!settled) return scene.timed_out("the producer");
  if (prod->reported("error open") || !prod->last_call().empty())
    if (auto bad = judge_roles({prod})) return *bad;
  IPCG_TRY_OUTCOME(Actor * attrs, run_one(scene, "mqtool attrs", tool_spec(ctx, {"attrs", s.queue})));
  long maxmsg = 0, msgsize = 0, cur = 0;
  const std::string old = "a queue of the same name was left by a crashed run (mq_maxmsg 2, mq_msgsize 16, two old jobs)";
  if (std::sscanf(attrs->out_data.c_str(), "attrs %ld %ld %ld", &maxmsg, &msgsize, &cur) == 3 &&
      (maxmsg != s.maxmsg || msgsize != s.msgsize))
    return CheckOutcome::fail(fmt::format("after dispatch_open(DISPATCH_CREATE, maxmsg {}, msgsize {}) the queue has "
                                          "mq_maxmsg {} and mq_msgsize {}: the old queue was reused",
                                          s.maxmsg, s.msgsize, maxmsg, msgsize),
                              {old, "create with O_CREAT | O_EXCL; on EEXIST mq_unlink the old queue and create it again"});
  if (!scene.exited(*prod)) return scene.timed_out("the producer");
  if (auto bad = judge_roles({prod})) {
    bad->evidence.push_back(old);
    return *bad;
  }
  IPCG_TRY_OUTCOME(Actor * worker, run_one(scene, label(ctx, "worker"),
                                           program_spec(ctx, "worker", {"--count", std::to_string(jobs), s.queue})));
  if (!scene.exited(*worker)) return scene.timed_out("the worker");
  if (auto bad = judge_roles({worker})) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, scene.message_log());
  if (auto bad = judge_messages(ctx, log, s.checks, old)) {
    bad->evidence.push_back("a job of the old run reached a worker: remove the old queue before creating yours");
    return *bad;
  }
  return CheckOutcome::pass();
}

// The dispatcher's last call removes the queue: asked of the cell while the test runs.
CheckOutcome queue_unlinked(TestContext& ctx) {
  const Setup s = setup_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * creator, create_queue(ctx, scene, s));
  if (auto bad = judge_roles({creator})) return *bad;
  IPCG_TRY_OUTCOME(Actor * prod, run_one(scene, label(ctx, "producer"), program_spec(ctx, "producer", {s.queue}),
                                         jobs_text(ctx, 3)));
  IPCG_TRY_OUTCOME(Actor * worker, run_one(scene, label(ctx, "worker"), program_spec(ctx, "worker", {"--count", "3", s.queue})));
  IPCG_TRY_OUTCOME(Actor * last, run_one(scene, label(ctx, "producer") + " ending the service",
                                         program_spec(ctx, "producer", {"--destroy", s.queue})));
  if (auto bad = unfinished(scene, "the dispatcher")) return *bad;
  if (auto bad = judge_roles({prod, worker, last})) return *bad;
  IPCG_TRY_OUTCOME(std::vector<IpcObject> objects, ctx.cell.ipc_objects());
  // Only the dispatcher's queue: another queue the code made is a leftover of the report's.
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::posix_mq && o.name == s.queue)
      return CheckOutcome::fail(fmt::format("the queue {} still exists after dispatch_close and dispatch_destroy "
                                            "returned 0 ({} messages in it)", o.name, o.messages),
                                {o.description, "dispatch_destroy must mq_unlink the queue: mq_close only closes "
                                                "this process's descriptor, the queue lives on in the kernel"});
  return CheckOutcome::pass();
}

// Every Part A test uses one queue, "jobs"; queue_unlinked judges its removal, so it keeps it.
OwnQueues jobs_queue(const TestContext& ctx) { return {{ctx.ipc_names().posix("jobs")}, {}}; }

IPCG_REGISTER_CHECK("lab3.fill_then_drain", removing_own_queues(fill_then_drain, jobs_queue));
IPCG_REGISTER_CHECK("lab3.concurrent", removing_own_queues(concurrent, jobs_queue));
IPCG_REGISTER_CHECK("lab3.full_queue", removing_own_queues(full_queue, jobs_queue));
IPCG_REGISTER_CHECK("lab3.idle_worker", removing_own_queues(idle_worker, jobs_queue));
IPCG_REGISTER_CHECK("lab3.small_buffer", removing_own_queues(small_buffer, jobs_queue));
IPCG_REGISTER_CHECK("lab3.sizes", removing_own_queues(sizes, jobs_queue));
IPCG_REGISTER_CHECK("lab3.open_failures", removing_own_queues(open_failures, jobs_queue));
IPCG_REGISTER_CHECK("lab3.interrupted_take", removing_own_queues(interrupted_take, jobs_queue));
IPCG_REGISTER_CHECK("lab3.stale_queue", removing_own_queues(stale_queue, jobs_queue));
IPCG_REGISTER_CHECK("lab3.queue_unlinked", queue_unlinked);

}  // namespace
}  // namespace lab3
