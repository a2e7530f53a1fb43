// lab2 checks on the service itself, with the student's server and reference clients (bursts,
// waves, a client that dies) or the reference server and the student's clients. Verdicts come
// from the message log the reference roles write and from /proc, never from what student code
// prints.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "harness/msglog/log_trace.hpp"
#include "session.hpp"

namespace lab2 {
namespace {

int param(const TestContext& ctx, const char* key, int fallback) { return ctx.test.params.value(key, fallback); }

// Waits for the server to be ready: its request FIFO exists, the session's writer (if any) has
// it open, and the server waits for input (ServerSettled: blocked, or polling).
struct Ready {
  explicit Ready(const TestContext& ctx) : settled(ctx) {}
  ServerSettled settled;
  bool operator()(Session& s, const ProcessSnapshot& server) {
    if (!fifo_exists(server.pid, s.request_fifo()) || !s.writer_opened()) return false;
    return settled(server);
  }
};

// The log's verdicts, with the log drawn on the trace.
std::optional<CheckOutcome> judge_log(TestContext& ctx, const MessageLog& log, const std::vector<OrderViolation>& found,
                                      const std::string& situation) {
  if (ctx.trace) draw_message_log(*ctx.trace, log, found);
  if (found.empty()) return std::nullopt;
  std::vector<std::string> evidence;
  for (const auto& v : found) evidence.push_back(v.property + ": " + v.message);
  return CheckOutcome::fail(situation + ": " + found.front().message, evidence);
}

std::vector<OrderViolation> exactly_once_and_whole(const MessageLog& log) {
  auto found = check_exactly_once(log);
  for (auto& v : check_boundaries(log)) found.push_back(std::move(v));
  return found;
}

// --- bursts: the student's server meets requests written while it was stopped ----------------

CheckOutcome burst(TestContext& ctx) {
  const int clients = param(ctx, "clients", 4), count = param(ctx, "count", 3), bytes = param(ctx, "bytes", 3800);
  const std::string judge = ctx.test.params.value("judge", std::string("exactly_once"));
  Session s(ctx);
  LAB2_CHECK(s.open());
  LAB2_CHECK(s.spawn_writer());
  auto req = s.server_request(true, clients * count);
  int phase = 0;
  Ready ready(ctx);
  std::string error;
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    s.pump();
    auto server = snapshot_of(p.pid());
    if (!server) return TickAction::keep_going;
    if (phase == 0 && ready(s, *server)) {
      for (int i = 1; i <= clients; ++i)
        if (auto c = s.spawn_client(false, i, {"--mode", "burst", "--count", std::to_string(count), "--bytes",
                                                std::to_string(bytes)});
            !c)
          error = c.error().message;
      phase = 1;
    } else if (phase == 1) {  // every client has both FIFOs open and waits at its gate
      bool all = std::all_of(s.clients().begin(), s.clients().end(), [](Client& c) {
        auto snap = snapshot_of(c.proc.pid());
        return c.status || (snap && snap->state == 'T');
      });
      if (!all) return TickAction::keep_going;
      ::kill(p.pid(), SIGSTOP);
      for (auto& c : s.clients()) ::kill(c.proc.pid(), SIGCONT);
      phase = 2;
    } else if (phase == 2 && (s.count(MessageEvent::Op::send, true) >= std::size_t(clients * count) || s.clients_done())) {
      ::kill(p.pid(), SIGCONT);
      phase = 3;
    } else if (phase == 3 && s.clients_done()) {
      return TickAction::kill;
    }
    return TickAction::keep_going;
  };
  req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  s.pump();
  if (!error.empty()) return CheckOutcome::with(Status::error, error);
  const std::string situation = fmt::format("{} clients each wrote {} requests of up to {} bytes while the server was "
                                            "stopped", clients, count, bytes);
  IPCG_TRY_OUTCOME(MessageLog log, s.log());
  const MessageLog view = clients_view(log);
  std::vector<OrderViolation> found;
  if (judge == "order") {
    if (auto v = check_fifo(view, FifoScope::per_producer)) found.push_back(*v);
  } else {
    found = exactly_once_and_whole(view);
    if (auto v = check_returned_to_sender(view, [](std::uint32_t role) { return fmt::format("client {}", role); })) found.insert(found.begin(), *v);
  }
  if (auto bad = judge_log(ctx, view, found, situation)) return *bad;
  if (auto bad = judge_server(out, clients * count, situation)) return *bad;
  if (auto bad = abnormal_ending(out, "the service")) return *bad;
  if (phase < 3) return CheckOutcome::fail(situation + ": the clients never got to send (did the server make its FIFO?)");
  return CheckOutcome::pass();
}

// --- waves: clients come and go; the server must outlive both gaps and deaths --------------------

struct WaveClient {
  unsigned id;
  std::vector<std::string> opts;
};

struct WaveResult {
  RunOutcome out;
  std::size_t waves_started = 0;
  std::string error;
};

// Runs waves of clients against a server: wave k+1 starts once every client of wave k exited
// and the server is blocked again (or gone). `student_server` picks the server's build;
// `student_clients` the clients'. With `writer`, the session's trusted writer holds the request
// FIFO open for the whole run, so that no gap between waves leaves it without a writer.
Result<WaveResult> run_waves(TestContext& ctx, Session& s, bool student_server, bool student_clients, bool writer,
                             long max, const std::vector<std::vector<WaveClient>>& waves,
                             std::vector<std::string> server_opts = {}) {
  WaveResult result;
  if (writer) IPCG_CHECK(s.spawn_writer());
  auto req = s.server_request(student_server, max, std::move(server_opts));
  Ready ready(ctx);
  ServerSettled settled(ctx);
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    s.pump();
    auto server = snapshot_of(p.pid());
    if (!server) return TickAction::keep_going;
    if (result.waves_started == 0 && !ready(s, *server)) return TickAction::keep_going;
    if (result.waves_started > 0 && !s.clients_done()) return TickAction::keep_going;
    // The server has met the gap (no client, and no writer without `writer`): it waits again.
    if (result.waves_started > 0 && !settled(*server)) return TickAction::keep_going;
    settled.reset();
    if (result.waves_started == waves.size()) return TickAction::keep_going;  // the server ends by itself
    for (const auto& w : waves[result.waves_started])
      if (auto c = s.spawn_client(student_clients, w.id, w.opts); !c) result.error = c.error().message;
    ++result.waves_started;
    return TickAction::keep_going;
  };
  req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
  IPCG_TRY(result.out, run(ctx.cell, std::move(req)));
  s.pump();
  return result;
}

std::vector<WaveClient> calls_wave(std::initializer_list<unsigned> ids, int count, int bytes) {
  std::vector<WaveClient> wave;
  for (unsigned id : ids)
    wave.push_back({id, {"--mode", "calls", "--count", std::to_string(count), "--bytes", std::to_string(bytes)}});
  return wave;
}

CheckOutcome waves(TestContext& ctx) {
  const int count = param(ctx, "count", 2);
  Session s(ctx);
  LAB2_CHECK(s.open());
  const std::vector<std::vector<WaveClient>> plan{calls_wave({1}, count, 200), calls_wave({2}, count, 200)};
  IPCG_TRY_OUTCOME(WaveResult r, run_waves(ctx, s, true, false, false, 2 * count, plan));
  if (!r.error.empty()) return CheckOutcome::with(Status::error, r.error);
  const std::string situation = "a client, then none (no writer on the request FIFO), then another";
  if (r.waves_started < plan.size()) {
    const auto rep = server_report(r.out);
    if (auto bad = judge_server(r.out, 2 * count, situation)) {
      if (!rep || rep->result != 0) return *bad;  // it failed or died: judge_server said how
      bad->evidence.push_back(fmt::format("the server ended while no client had the request FIFO open, before the "
                                          "second wave came{}: read() returns 0 (EOF) when no writer is left; keep a "
                                          "write end of your own open on the request FIFO",
                                          fmt::format(" (it had served {})", rep->served)));
      return *bad;
    }
  }
  IPCG_TRY_OUTCOME(MessageLog log, s.log());
  const MessageLog view = clients_view(log);
  if (auto bad = judge_log(ctx, view, exactly_once_and_whole(view), situation)) return *bad;
  if (auto bad = judge_server(r.out, 2 * count, situation)) return *bad;
  if (auto bad = abnormal_ending(r.out, "the service")) return *bad;
  return CheckOutcome::pass();
}

CheckOutcome client_dies(TestContext& ctx) {
  const unsigned dying = 1 + static_cast<unsigned>(ctx.rng() % 3);  // which client dies, from the seed
  Session s(ctx);
  LAB2_CHECK(s.open());
  // One client at a time, in order: the others before and after the one that dies.
  std::vector<std::vector<WaveClient>> plan;
  for (unsigned id = 1; id <= 3; ++id)
    plan.push_back({{id, id == dying ? std::vector<std::string>{"--mode", "die"}
                                     : std::vector<std::string>{"--mode", "calls", "--count", "2", "--bytes", "300"}}});
  const long max = 2 * 2 + 1;
  IPCG_TRY_OUTCOME(WaveResult r, run_waves(ctx, s, true, false, true, max, plan));
  if (!r.error.empty()) return CheckOutcome::with(Status::error, r.error);
  const std::string situation =
      fmt::format("client {} sent a request and exited with its reply half written (its reply FIFO had no reader left)",
                  dying);
  if (auto bad = judge_server(r.out, max, situation)) return *bad;
  if (auto bad = abnormal_ending(r.out, "the service")) return *bad;
  IPCG_TRY_OUTCOME(MessageLog log, s.log());
  const MessageLog view = clients_view(log);
  if (auto bad = judge_log(ctx, view, exactly_once_and_whole(view), situation + ", then the others asked")) return *bad;
  return CheckOutcome::pass();
}

// --- the student's clients against the reference server ------------------------------------

CheckOutcome student_clients(TestContext& ctx) {
  const int count = param(ctx, "count", 3), bytes = param(ctx, "bytes", 200);
  Session s(ctx);
  LAB2_CHECK(s.open());
  const std::vector<std::vector<WaveClient>> plan{calls_wave({1}, count, bytes), calls_wave({2}, count, bytes)};
  IPCG_TRY_OUTCOME(WaveResult r, run_waves(ctx, s, false, true, false, 2 * count, plan));
  if (!r.error.empty()) return CheckOutcome::with(Status::error, r.error);
  for (auto& c : s.clients()) {
    RunOutcome as_run;
    as_run.ending = c.status && *c.status >= 0 && WIFSIGNALED(*c.status) ? Ending::signaled : Ending::exited;
    as_run.wait_status = c.status.value_or(0);
    as_run.captures[kControlFd].data = c.report;
    if (auto bad = died_inside_call(as_run, driver_report(as_run, {"reply"}))) {
      bad->message = c.label + ": " + bad->message;
      return *bad;
    }
    for (const auto& line : split_lines(c.report)) {
      unsigned k = 0;
      int err = 0;
      if (std::sscanf(line.c_str(), "error %u %d", &k, &err) == 2)
        return CheckOutcome::fail(fmt::format("{}: call {} of fifo_client_call failed: {}", c.label, k + 1,
                                              std::strerror(err)));
    }
  }
  if (auto bad = abnormal_ending(r.out, "the service")) {
    bad->message = "the reference server did not get all the requests: " + bad->message;
    return *bad;
  }
  IPCG_TRY_OUTCOME(MessageLog log, s.log());
  const MessageLog view = clients_view(log);
  std::vector<OrderViolation> found = exactly_once_and_whole(view);
  if (auto bad = judge_log(ctx, view, found, "two clients, one after the other, each calling the reference server"))
    return *bad;
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab2.burst", burst);
IPCG_REGISTER_CHECK("lab2.waves", waves);
IPCG_REGISTER_CHECK("lab2.client_dies", client_dies);
IPCG_REGISTER_CHECK("lab2.student_clients", student_clients);

}  // namespace
}  // namespace lab2
