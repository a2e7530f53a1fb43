// lab2 checks on the contract around the service: one write() per request, one direction per
// FIFO, an idle server that blocks, stale FIFOs of a crashed run, a client with no server, EINTR,
// and the FIFOs removed at the end. Each is judged from /proc, the message log or the cell's
// list of FIFOs.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <map>
#include <set>

#include "harness/msglog/log_trace.hpp"
#include "harness/sync/spin_watch.hpp"
#include "session.hpp"

namespace lab2 {
namespace {

// The client driver's reports ("reply K LEN TEXT", "error K ERRNO") as text for evidence.
std::string client_errors(const Client& c) {
  std::vector<std::string> errors;
  for (const auto& line : split_lines(c.report)) {
    unsigned k = 0;
    int err = 0;
    if (std::sscanf(line.c_str(), "error %u %d", &k, &err) == 2)
      errors.push_back(fmt::format("call {} failed: {}", k + 1, std::strerror(err)));
  }
  return fmt::format("{}", fmt::join(errors, "; "));
}

std::size_t replies_of(const Client& c) {
  std::size_t n = 0;
  for (const auto& line : split_lines(c.report)) n += line.starts_with("reply ");
  return n;
}

std::optional<CheckOutcome> judge_client_process(const Client& c) {
  if (!c.status) return CheckOutcome::fail(c.label + " never ended");
  if (WIFSIGNALED(*c.status))
    return CheckOutcome::with(Status::crashed, fmt::format("{} died of {} inside {}", c.label,
                                                           signal_name(WTERMSIG(*c.status)), "fifo_client_call"));
  return std::nullopt;
}

// A reference server gated per request (stops after reading each) and one student client gated
// before each call; `at_request` sees the client while its reply is owed, `at_call` before each call.
struct GatedRun {
  RunOutcome out;
  Client* client = nullptr;
};

Result<GatedRun> gated_client_run(TestContext& ctx, Session& s, int count, int bytes, std::vector<std::string> opts,
                                  const std::function<void(const ProcessSnapshot&)>& at_call,
                                  const std::function<void(const ProcessSnapshot&, pid_t)>& at_request) {
  GatedRun g;
  auto req = s.server_request(false, count, {"--gate-each"});
  StopTracker server_stops, client_stops;
  Grace settle;
  bool started = false, stop_pending = false;
  std::string error;
  opts.insert(opts.begin(), {"--mode", "calls", "--gate-each", "--count", std::to_string(count), "--bytes",
                             std::to_string(bytes)});
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    s.pump();
    auto server = snapshot_of(p.pid());
    if (!server) return TickAction::keep_going;
    if (!started) {
      if (!fifo_exists(p.pid(), s.request_fifo()) || !is_blocked(*server)) return TickAction::keep_going;
      auto c = s.spawn_client(true, 1, opts);
      if (!c) { error = c.error().message; return TickAction::kill; }
      g.client = *c;
      started = true;
      return TickAction::keep_going;
    }
    auto client = snapshot_of(g.client->proc.pid());
    if (client && client_stops.is_new_stop(*client)) {
      if (at_call) at_call(*client);
      ::kill(client->pid, SIGCONT);
    }
    if (server_stops.is_new_stop(*server)) {
      stop_pending = true;
      settle.reset();
    }
    if (stop_pending) {
      // The client settles (blocked waiting for its reply) before the grader looks at it.
      if (client && !is_blocked(*client) && client->state != 'Z' && !settle.expired(settle_grace(ctx)))
        return TickAction::keep_going;
      if (client && at_request) at_request(*client, server->pid);
      stop_pending = false;
      ::kill(p.pid(), SIGCONT);
    }
    return TickAction::keep_going;
  };
  req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
  IPCG_TRY(g.out, run(ctx.cell, std::move(req)));
  s.pump();
  if (!error.empty()) return fail(Errc::system, error);
  return g;
}

// --- a request in one write() ----------------------------------------------------------------

CheckOutcome one_write(TestContext& ctx) {
  const int count = ctx.test.params.value("count", 4), bytes = ctx.test.params.value("bytes", 4000);
  Session s(ctx);
  LAB2_CHECK(s.open());
  std::optional<std::uint64_t> before;
  std::vector<std::string> evidence;
  int k = 0;
  IPCG_TRY_OUTCOME(GatedRun g, gated_client_run(ctx, s, count, bytes, {},
      [&](const ProcessSnapshot& c) { before = write_calls(c.pid); },
      [&](const ProcessSnapshot& c, pid_t) {
        ++k;
        auto now = write_calls(c.pid);
        if (before && now && *now - *before > 1)
          evidence.push_back(fmt::format("request {} of pid {} was written with {} write() calls: a request of "
                                         "another client can land between them", k, c.pid, *now - *before));
        before.reset();
      }));
  if (!evidence.empty())
    return CheckOutcome::fail("a request was not written with one write()", evidence);
  if (!g.client) return CheckOutcome::fail("the client never started");
  if (auto bad = judge_client_process(*g.client)) return *bad;
  if (replies_of(*g.client) < static_cast<std::size_t>(count))
    return CheckOutcome::fail(fmt::format("{} got {} of {} replies: {}", g.client->label, replies_of(*g.client), count,
                                          client_errors(*g.client)));
  IPCG_TRY_OUTCOME(MessageLog log, s.log());
  const MessageLog view = server_view(log);
  auto found = check_boundaries(view);
  if (ctx.trace) draw_message_log(*ctx.trace, view, found);
  if (!found.empty()) return CheckOutcome::fail("the server read a request that was not sent whole: " + found.front().message);
  if (k < count) return CheckOutcome::fail(fmt::format("the reference server read {} of {} requests", k, count));
  return CheckOutcome::pass();
}

// --- one direction per FIFO ------------------------------------------------------------------

void fifo_findings(const ProcessSnapshot& s, const std::string& who, const std::string& request_fifo,
                   std::vector<std::string>& found) {
  for (const auto& fd : s.fds) {
    if (fd.kind != FdKind::fifo) continue;
    const bool request = fd.target == request_fifo;
    if (fd.end == PipeEnd::read_write)
      found.push_back(fmt::format("pid {} ({}) holds {} opened O_RDWR: a FIFO carries one direction; open it "
                                  "O_RDONLY or O_WRONLY", s.pid, who, describe_fd(fd)));
    else if (who.starts_with("client") && request && fd.end == PipeEnd::read)
      found.push_back(fmt::format("pid {} ({}) holds the request FIFO for reading ({})", s.pid, who, describe_fd(fd)));
    else if (who.starts_with("client") && !request && fd.end == PipeEnd::write)
      found.push_back(fmt::format("pid {} ({}) holds its reply FIFO for writing ({})", s.pid, who, describe_fd(fd)));
    else if (who.starts_with("server") && !request && fd.end == PipeEnd::read)
      found.push_back(fmt::format("pid {} ({}) holds a reply FIFO for reading ({})", s.pid, who, describe_fd(fd)));
  }
}

CheckOutcome directions(TestContext& ctx) {
  std::vector<std::string> found;
  // The student's server, blocked writing a reply larger than the FIFO's buffer.
  {
    Session s(ctx);
    LAB2_CHECK(s.open());
    LAB2_CHECK(s.spawn_writer());  // a trusted process, not judged here: only the server's fds are
    auto req = s.server_request(true, 1);
    bool seen = false, spawned = false;
    ServerSettled ready(ctx);  // a server that never blocks (busy polling) is the idle test's business
    std::string error;
    req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
      s.pump();
      auto server = snapshot_of(p.pid());
      if (!server) return TickAction::keep_going;
      if (!spawned) {
        if (!fifo_exists(p.pid(), s.request_fifo()) || !s.writer_opened() || !ready(*server))
          return TickAction::keep_going;
        if (auto c = s.spawn_client(false, 1, {"--mode", "hold"}); !c) error = c.error().message;
        spawned = true;
        return TickAction::keep_going;
      }
      if (seen || s.clients().empty()) return TickAction::keep_going;
      auto client = snapshot_of(s.clients().front().proc.pid());
      if (!client || client->state != 'T') return TickAction::keep_going;
      if (!is_blocked(*server)) return TickAction::keep_going;
      fifo_findings(*server, "server", s.request_fifo(), found);
      seen = true;
      ::kill(client->pid, SIGCONT);
      return TickAction::keep_going;
    };
    req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
    IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
    if (!error.empty()) return CheckOutcome::with(Status::error, error);
    if (!seen) {
      if (auto bad = judge_server(out, 1, "one client asked for a reply larger than a FIFO holds")) return *bad;
      if (auto bad = abnormal_ending(out, "the service")) return *bad;
      return CheckOutcome::fail("the server never blocked writing the reply: it was not seen holding its FIFOs");
    }
  }
  // The student's client, waiting for its reply from the reference server.
  {
    Session s(ctx);
    LAB2_CHECK(s.open());
    bool seen = false;
    IPCG_TRY_OUTCOME(GatedRun g, gated_client_run(ctx, s, 1, 64, {}, {}, [&](const ProcessSnapshot& c, pid_t) {
      fifo_findings(c, "client", s.request_fifo(), found);
      seen = true;
    }));
    if (!seen && found.empty()) {
      if (g.client) if (auto bad = judge_client_process(*g.client)) return *bad;
      return CheckOutcome::fail("the client's request never reached the server: " +
                                (g.client ? client_errors(*g.client) : std::string("no client")));
    }
  }
  if (!found.empty()) return CheckOutcome::fail("a FIFO is used in both directions by one process", found);
  return CheckOutcome::pass();
}

// --- an idle server blocks ---------------------------------------------------------------------

// Calls an idle server may legitimately sleep in: a blocking read of the request FIFO, or a wait
// for it to become readable (x86_64 numbers).
constexpr std::initializer_list<long> kIdleWaits = {0 /* read */, 19 /* readv */, 7 /* poll */, 23 /* select */,
                                                    232 /* epoll_wait */, 270 /* pselect6 */, 271 /* ppoll */,
                                                    281 /* epoll_pwait */, 441 /* epoll_pwait2 */};

// The server, with the trusted writer holding the request FIFO open and no request coming, must
// fall asleep in a read (or poll) of it and stay asleep. Judged by SpinWatch from CPU time, not
// from a CPU share of wall time: on a loaded machine a spinner gets less of the CPU (CI once saw
// one pass a 20% share), but it never falls asleep, and a blocked server never uses CPU.
CheckOutcome idle(TestContext& ctx) {
  SpinWatch::Options options;
  options.window = std::chrono::milliseconds(ctx.test.params.value("window_ms", 500));
  SpinWatch spin(options);
  Session s(ctx);
  LAB2_CHECK(s.open());
  LAB2_CHECK(s.spawn_writer());  // idle means no request, not no writer (read() would return 0)
  auto req = s.server_request(true, 1);
  req.spec.limits.hang_grace = std::chrono::milliseconds{0};  // asleep on purpose: watched over the window
  bool watching = false;
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    auto server = snapshot_of(p.pid());
    if (!server) return TickAction::keep_going;
    if (!watching) {
      if (!fifo_exists(p.pid(), s.request_fifo()) || !s.writer_opened()) return TickAction::keep_going;
      watching = true;
    }
    return spin.observe(spin_sample(*server, kIdleWaits)) == SpinWatch::Verdict::undecided ? TickAction::keep_going
                                                                                           : TickAction::kill;
  };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  if (!watching) {
    if (auto bad = judge_server(out, 1, "a server with no clients")) return *bad;
    if (auto bad = abnormal_ending(out, "the idle server")) return *bad;
    return CheckOutcome::fail("the server never made its request FIFO, or never opened it for reading");
  }
  if (spin.verdict() == SpinWatch::Verdict::undecided && out.ending != Ending::timed_out) {
    if (auto bad = judge_server(out, 1, "a server with no clients")) return *bad;
    return CheckOutcome::fail("the server ended although no client came");
  }
  if (spin.verdict() != SpinWatch::Verdict::blocks)
    return CheckOutcome::fail("with no client, the server spins instead of blocking: " + spin.figures(),
                              {"a read() of a FIFO opened without O_NONBLOCK blocks until a request comes; a loop "
                               "around a non-blocking read that returns EAGAIN or 0 burns the CPU"});
  return CheckOutcome::pass();
}

// --- stale FIFOs of a crashed run -------------------------------------------------------------------

Result<void> make_stale(TestContext& ctx, const std::vector<std::string>& paths) {
  std::vector<std::string> argv{ctx.tool("mkstale")};
  argv.insert(argv.end(), paths.begin(), paths.end());
  RunRequest req;
  req.spec = ctx.spawn_spec(std::move(argv));
  req.spec.role = Role::student;  // left by the student's crashed run: theirs to remove
  IPCG_TRY(RunOutcome out, run(ctx.cell, std::move(req)));
  if (out.ending != Ending::exited || WEXITSTATUS(out.wait_status) != 0)
    return fail(Errc::system, "mkstale failed: " + out.captures[2].data);
  return {};
}

CheckOutcome stale(TestContext& ctx) {
  {  // a stale request FIFO before the student's server starts
    Session s(ctx);
    LAB2_CHECK(s.open());
    LAB2_CHECK(make_stale(ctx, {s.request_fifo()}));
    LAB2_CHECK(s.spawn_writer());  // opens the FIFO the server reads, once it reads one
    auto req = s.server_request(true, 2);
    bool spawned = false;
    ServerSettled ready(ctx);  // a server that never blocks (busy polling) is the idle test's business
    std::string error;
    req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
      s.pump();
      auto server = snapshot_of(p.pid());
      if (spawned || !server || !s.writer_opened() || !ready(*server)) return TickAction::keep_going;
      if (auto c = s.spawn_client(false, 1, {"--mode", "calls", "--count", "2"}); !c) error = c.error().message;
      spawned = true;
      return TickAction::keep_going;
    };
    req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
    IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
    if (!error.empty()) return CheckOutcome::with(Status::error, error);
    const std::string situation = fmt::format("a FIFO was left at {} by a crashed run (mkfifo fails with EEXIST)",
                                              s.request_fifo());
    if (auto bad = judge_server(out, 2, situation)) return *bad;
    if (auto bad = abnormal_ending(out, "the server (" + situation + ")")) return *bad;
  }
  {  // a stale reply FIFO where the student's client will make its own
    Session s(ctx);
    LAB2_CHECK(s.open());
    bool made = false;
    std::string error, path;
    IPCG_TRY_OUTCOME(GatedRun g, gated_client_run(ctx, s, 1, 64, {}, [&](const ProcessSnapshot& c) {
      if (made) return;
      made = true;
      path = s.reply_prefix() + std::to_string(c.ns_pid);
      if (auto r = make_stale(ctx, {path}); !r) error = r.error().message;
    }, {}));
    if (!error.empty()) return CheckOutcome::with(Status::error, error);
    if (!g.client) return CheckOutcome::fail("the client never started");
    if (auto bad = judge_client_process(*g.client)) return *bad;
    if (replies_of(*g.client) < 1)
      return CheckOutcome::fail(fmt::format("a FIFO was left at {} (the client's reply FIFO) by a crashed run: {}",
                                            path, client_errors(*g.client)),
                                {"mkfifo fails with EEXIST: remove the stale FIFO and make it again"});
  }
  return CheckOutcome::pass();
}

// --- a client with no server --------------------------------------------------------------------

CheckOutcome no_server(TestContext& ctx) {
  Session s(ctx);
  LAB2_CHECK(s.open());
  struct Case {
    bool stale;
    int expect;
    const char* situation;
  };
  const Case cases[] = {{false, ENOENT, "no request FIFO exists (the server is not there yet)"},
                        {true, ENXIO, "the request FIFO exists but no server has it open (it has gone)"}};
  for (const auto& c : cases) {
    if (c.stale) {
      LAB2_CHECK(make_stale(ctx, {s.request_fifo()}));
    }
    auto req = driver_request(ctx, {student_program(ctx, "client"), "--mode", "calls", "--count", "1", s.request_fifo(),
                                    s.reply_prefix()},
                              "");
    IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
    const auto report = driver_report(out, {"reply"});
    if (auto bad = died_inside_call(out, report)) {
      bad->message = std::string(c.situation) + ": " + bad->message;
      return *bad;
    }
    if (auto bad = abnormal_ending(out, "fifo_client_call")) {
      bad->message = std::string(c.situation) + ": " + bad->message;
      bad->evidence.push_back("open the request FIFO with O_WRONLY|O_NONBLOCK: it fails at once with ENXIO when no "
                              "server has it open, where a blocking open waits for ever");
      return *bad;
    }
    int err = 0;
    unsigned k = 0;
    const auto line = report.line_starting("error");
    if (!line || std::sscanf(line->c_str(), "error %u %d", &k, &err) != 2)
      return CheckOutcome::fail(fmt::format("{}: fifo_client_call did not fail ({})", c.situation,
                                            fmt::join(report.lines, "; ")));
    if (err != c.expect)
      return CheckOutcome::fail(fmt::format("{}: fifo_client_call failed with {} ({}), expected {}", c.situation,
                                            strerrorname_np(err) ? strerrorname_np(err) : "?", std::strerror(err),
                                            strerrorname_np(c.expect)));
    IPCG_TRY_OUTCOME(auto objects, ctx.cell.ipc_objects());
    for (const auto& o : objects)
      if (o.kind == IpcObject::Kind::fifo && o.name.find(s.reply_prefix()) == 0)
        return CheckOutcome::fail(fmt::format("{}: fifo_client_call failed but left its reply FIFO {}", c.situation,
                                              o.name));
  }
  return CheckOutcome::pass();
}

// --- EINTR ---------------------------------------------------------------------------------------

CheckOutcome eintr(TestContext& ctx) {
  std::vector<std::string> notes;
  {  // the student's server, interrupted while it waits for a request
    Session s(ctx);
    LAB2_CHECK(s.open());
    LAB2_CHECK(s.spawn_writer());  // the server waits for a request, not for a writer
    auto req = s.server_request(true, 2, {"--eintr"});
    int phase = 0;
    std::string error;
    ServerSettled settled(ctx);
    req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
      s.pump();
      auto server = snapshot_of(p.pid());
      if (!server) return TickAction::keep_going;
      const bool open = phase == 0 && fifo_exists(p.pid(), s.request_fifo()) && s.writer_opened();
      // Blocked waiting for a request: not still in the open() the writer has just completed.
      if (open && is_blocked(*server) && !blocked_in(*server, {kSysOpen, kSysOpenat})) {
        ::kill(p.pid(), SIGUSR1);
        phase = 1;
      } else if (open && settled.polling(*server)) {  // it polls: there is no blocked call to interrupt
        notes.push_back("the server never blocked: not interrupted");
        phase = 2;
      } else if (phase == 1 && !server->signals.is_pending(SIGUSR1)) {
        phase = 2;
      }
      if (phase == 2) {
        if (auto c = s.spawn_client(false, 1, {"--mode", "calls", "--count", "2"}); !c) error = c.error().message;
        phase = 3;
      }
      return TickAction::keep_going;
    };
    req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
    IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
    if (!error.empty()) return CheckOutcome::with(Status::error, error);
    const std::string situation = "SIGUSR1 (no SA_RESTART) came while the server waited for a request";
    if (auto bad = judge_server(out, 2, situation)) return *bad;
    if (auto bad = abnormal_ending(out, "the server (" + situation + ")")) return *bad;
  }
  {  // the student's client, interrupted while it waits for its reply
    Session s(ctx);
    LAB2_CHECK(s.open());
    int sent = 0;
    IPCG_TRY_OUTCOME(GatedRun g, gated_client_run(ctx, s, 2, 64, {"--eintr"}, {}, [&](const ProcessSnapshot& c, pid_t) {
      if (!is_blocked(c)) return;
      ::kill(c.pid, SIGUSR1);
      ++sent;
      Grace delivered;
      while (!delivered.expired(settle_grace(ctx))) {  // bounded: the signal is delivered at once to a sleeper
        auto now = snapshot_of(c.pid);
        if (!now || !now->signals.is_pending(SIGUSR1)) break;
      }
    }));
    if (!g.client) return CheckOutcome::fail("the client never started");
    const std::string situation = "SIGUSR1 (no SA_RESTART) came while fifo_client_call waited for its reply";
    if (auto bad = judge_client_process(*g.client)) return *bad;
    if (replies_of(*g.client) < 2)
      return CheckOutcome::fail(fmt::format("{}: {}", situation, client_errors(*g.client)),
                                {"when open(), read() or write() fails with EINTR, call it again"});
    if (sent == 0) notes.push_back("the client never blocked waiting for its reply: not interrupted");
  }
  auto pass = CheckOutcome::pass();
  pass.evidence = notes;
  return pass;
}

// --- the FIFOs removed at the end ----------------------------------------------------------------------

CheckOutcome removed(TestContext& ctx) {
  Session s(ctx);
  LAB2_CHECK(s.open());
  // The student's server and the student's clients, one client after the other; the trusted
  // writer holds the request FIFO between them (an unlinked FIFO it still holds is not listed).
  LAB2_CHECK(s.spawn_writer());
  auto req = s.server_request(true, 4);
  int started = 0;
  ServerSettled settled(ctx);
  std::string error;
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    s.pump();
    auto server = snapshot_of(p.pid());
    if (!server || started >= 2 || !fifo_exists(p.pid(), s.request_fifo()) || !s.writer_opened())
      return TickAction::keep_going;
    if (!s.clients_done() || !settled(*server)) return TickAction::keep_going;
    settled.reset();
    ++started;
    if (auto c = s.spawn_client(true, started, {"--mode", "calls", "--count", "2"}); !c) error = c.error().message;
    return TickAction::keep_going;
  };
  req.on_exit = [&](SandboxedProcess&) { s.settle_clients(); };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  if (!error.empty()) return CheckOutcome::with(Status::error, error);
  const std::string situation = "the student's server and two of the student's clients";
  if (auto bad = judge_server(out, 4, situation)) return *bad;
  if (auto bad = abnormal_ending(out, "the server")) return *bad;
  for (const auto& c : s.clients())
    if (auto bad = judge_client_process(c)) return *bad;
  IPCG_TRY_OUTCOME(auto objects, ctx.cell.ipc_objects());
  std::vector<std::string> left;
  const std::string prefix = ctx.ipc_names().prefix();
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::fifo && o.name.find(prefix) != std::string::npos)
      left.push_back(fmt::format("{} is still there: {}", o.name,
                                 o.name == s.request_fifo() ? "the server's request FIFO (unlink it before "
                                                              "fifo_server_run returns)"
                                                            : "a client's reply FIFO (unlink it before "
                                                              "fifo_client_call returns)"));
  if (!left.empty()) return CheckOutcome::fail("FIFOs were left behind after the service stopped", left);
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab2.one_write", one_write);
IPCG_REGISTER_CHECK("lab2.directions", directions);
// idle kills the server it judges, so its request FIFO stays; no_server plants a stale one on
// purpose. Both are the test's doing: removed after the test, whatever the verdict.
std::vector<std::string> own_request_fifo(const TestContext& ctx) { return {request_fifo_of(ctx)}; }

IPCG_REGISTER_CHECK("lab2.idle", removing_own_fifos(idle, own_request_fifo));
IPCG_REGISTER_CHECK("lab2.stale", stale);
IPCG_REGISTER_CHECK("lab2.no_server", removing_own_fifos(no_server, own_request_fifo));
IPCG_REGISTER_CHECK("lab2.eintr", eintr);
IPCG_REGISTER_CHECK("lab2.removed", removed);

}  // namespace
}  // namespace lab2
