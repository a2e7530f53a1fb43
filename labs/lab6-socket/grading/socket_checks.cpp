// lab6's checks: a stream socket server (UNIX-domain, or TCP on the cell's loopback) paired with
// trusted clients (socktool, which makes the adversity from the test's seed, and the reference's
// client driver), and student clients paired with the reference server. Verdicts come from the
// trusted clients' reports, from /proc (descriptors, where each role is blocked, socket queues)
// and from socktool looking at the socket file.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <set>

#include "harness/labkit/scene.hpp"
#include "harness/sync/deadlock_watch.hpp"

namespace lab6 {
namespace {

using namespace ipcg;

struct Endpoint {
  std::string address;  // as the roles take it: unix:PATH or tcp:PORT
  std::string path;     // the socket file (AF_UNIX)
  bool tcp = false;
};

Endpoint endpoint_of(const TestContext& ctx) {
  const IpcNames names = ctx.ipc_names();
  if (ctx.test.params.value("tcp", false)) return {fmt::format("tcp:{}", names.port("server")), "", true};
  const std::string path = names.fifo("server.sock");
  return {"unix:" + path, path, false};
}

std::string api_name(const Actor&, const std::string& step) {
  if (step == "send") return "sock_send_frame";
  if (step == "recv") return "sock_recv_frame";
  return "sock_" + step;
}

std::optional<CheckOutcome> judge_roles(const std::vector<Actor*>& who) { return judge_actors(who, api_name); }

std::string byte_word(int b) {
  return b >= 32 && b < 127 ? fmt::format("'{}'", static_cast<char>(b)) : fmt::format("byte {}", b & 0xff);
}

// What a trusted client's report says went wrong with the server's replies (nullopt: nothing).
std::optional<CheckOutcome> judge_replies(const Actor& client, const std::string& context) {
  unsigned id = 0, k = 0;
  long offset = 0, sent = 0, got = 0;
  int want = 0, had = 0;
  if (auto l = client.line("differs"); l && std::sscanf(l->c_str(), "differs %u %u %ld %d %d", &id, &k, &offset, &want, &had) == 5)
    return CheckOutcome::fail(fmt::format("{}: the reply to frame {} of client {} differs at byte offset {}: expected {}, "
                                          "got {}", context, k, id, offset, byte_word(want), byte_word(had)),
                              {"each reply is its request with 'a'..'z' upper-cased; were bytes of two frames mixed, "
                               "or a frame taken from one recv()?"});
  if (auto l = client.line("length"); l && std::sscanf(l->c_str(), "length %u %u %ld %ld", &id, &k, &sent, &got) == 4)
    return CheckOutcome::fail(fmt::format("{}: the reply to frame {} of client {} announces {} bytes; the request had {}",
                                          context, k, id, got, sent),
                              {"framing lost: the 4-byte length must be read whole, then exactly that many bytes"});
  if (auto l = client.line("dropped"); l && std::sscanf(l->c_str(), "dropped %u %u %ld %ld %d", &id, &k, &offset, &sent, &want) == 5)
    return CheckOutcome::fail(fmt::format("{}: the server closed client {}'s connection while it sent frame {} one byte "
                                          "per write(), at byte {} of {} ({})",
                                          context, id, k, offset, sent, strerror_name(want)),
                              {"bytes come as they were written: a recv() may return 1 byte of the 4-byte header; keep "
                               "what came and wait for the rest"});
  if (auto l = client.line("closed"); l && std::sscanf(l->c_str(), "closed %u %u %ld %ld", &id, &k, &sent, &got) == 4)
    return CheckOutcome::fail(fmt::format("{}: the server closed client {}'s connection while it waited for the reply to "
                                          "frame {} ({} bytes; {} of the reply's bytes had come)",
                                          context, id, k, sent, got));
  return std::nullopt;
}

// Runs until `done`, a role in `ended` exits, or every live role sleeps with nothing moving
// (harness_sync's DeadlockWatch: 300 ms asleep in system calls, CPU time and context switches
// unchanged). `stalled` says which of the last it was. Blocked processes do not move however
// loaded the machine is, so this is an event, not a race with the scheduler.
Result<bool> run_watching(Scene& scene, const std::function<bool()>& done, const std::vector<Actor*>& ended,
                          bool& stalled) {
  DeadlockWatch watch;
  stalled = false;
  return scene.run_until([&] {
    if (done()) return true;
    for (Actor* a : ended)
      if (scene.exited(*a)) return true;
    stalled = watch.observe(scene);
    return stalled;
  });
}

// The server program (the student's or the reference's), listening: nullopt-valued error or the
// verdict when it could not get there.
struct Started {
  Actor* server = nullptr;
  std::optional<CheckOutcome> bad;
};

Result<Started> start_server(TestContext& ctx, Scene& scene, const Endpoint& ep, std::vector<std::string> extra = {}) {
  extra.push_back(ep.address);
  IPCG_TRY(Actor * server, scene.start(label(ctx, "server"), program_spec(ctx, "server", extra)));
  IPCG_TRY(bool up, scene.run_until([&] { return scene.exited(*server) || server->reported("listening"); }));
  if (!up) return Started{server, scene.timed_out("sock_listen")};
  if (scene.exited(*server)) {
    auto bad = judge_roles({server});
    return Started{server, bad ? bad : CheckOutcome::fail("the server ended before listening", server->lines())};
  }
  return Started{server, std::nullopt};
}

// A trusted client role (socktool).
Result<Actor*> start_tool(TestContext& ctx, Scene& scene, const std::string& what, std::vector<std::string> args,
                          Role role = Role::reference) {
  return scene.start("socktool " + what, tool_spec(ctx, "socktool", std::move(args), role));
}

// The stop request (socktool stop), then the server must return from sock_serve, remove its
// socket file and exit 0.
std::optional<CheckOutcome> stop_server(TestContext& ctx, Scene& scene, Actor& server, const Endpoint& ep) {
  auto stop = start_tool(ctx, scene, "stop", {"stop", ep.address});
  if (!stop) return CheckOutcome::with(Status::error, stop.error().message);
  bool stalled = false;
  auto done = run_watching(scene, [&] { return scene.exited(server) && scene.exited(**stop); }, {}, stalled);
  if (!done) return CheckOutcome::with(Status::error, done.error().message);
  if (stalled) return scene.blocked_roles(Status::failed, "after the stop request (an empty frame) the server did not return "
                                                         "from sock_serve; every role waits");
  if (!*done) return scene.timed_out("the stop request");
  if (auto bad = judge_roles({&server})) return bad;
  if (auto bad = judge_replies(**stop, "the stop request")) return bad;
  return std::nullopt;
}

// Exchanges of `clients` client programs (the student's or the reference's) with the server
// program, at once; then the stop.
CheckOutcome exchange(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  const auto& p = ctx.test.params;
  const int clients = p.value("clients", 4), frames = p.value("frames", 8);
  const long lo = p.value("min_len", 1L), hi = p.value("max_len", 4096L);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep));
  if (s.bad) return *s.bad;
  std::vector<Actor*> cs;
  for (int c = 1; c <= clients; ++c) {
    IPCG_TRY_OUTCOME(Actor * a, scene.start(label(ctx, "client", c),
                                            program_spec(ctx, "client", {ep.address, std::to_string(c), std::to_string(frames),
                                                                         std::to_string(ctx.seed), std::to_string(lo),
                                                                         std::to_string(hi)})));
    cs.push_back(a);
  }
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] { return scene.all_exited(cs); }, {s.server}, stalled));
  const std::string context = fmt::format("{} clients at once, {} frames of {}..{} bytes each over {}", clients, frames,
                                          lo, hi, ep.tcp ? "TCP" : "a UNIX-domain socket");
  if (stalled) return scene.blocked_roles(Status::failed, context + ": the exchanges stopped, every role waits");
  if (!done) return scene.timed_out(context);
  for (Actor* c : cs)
    if (auto bad = judge_replies(*c, context)) return *bad;
  if (auto bad = judge_roles(cs)) return *bad;
  if (auto bad = judge_roles({s.server})) return *bad;
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  return CheckOutcome::pass();
}

std::vector<std::string> tool_args(TestContext& ctx, const std::string& mode, const Endpoint& ep) {
  const auto& p = ctx.test.params;
  const std::string seed = std::to_string(ctx.seed);
  if (mode == "trickle")
    return {"trickle", ep.address, "1", std::to_string(p.value("frames", 3)), seed, std::to_string(p.value("min_len", 20L)),
            std::to_string(p.value("max_len", 120L))};
  if (mode == "mega") return {"mega", ep.address, std::to_string(p.value("size", 1L << 20)), seed};
  if (mode == "flood")
    return {"flood", ep.address, std::to_string(p.value("frames", 16)), std::to_string(p.value("size", 256L << 10)), seed};
  if (mode == "swarm") return {"swarm", ep.address, std::to_string(p.value("clients", 64)), std::to_string(p.value("frames", 4)), seed};
  return {mode, ep.address, seed};
}

// A live look at the server: its descriptors when asleep in a system call.
std::optional<ProcessSnapshot> asleep(Scene& scene, const Actor& a) {
  auto snap = scene.snapshot(a);
  if (!snap || !is_blocked(*snap)) return std::nullopt;
  return snap;
}

// Until the server is asleep again or gone: when a client fails, the server's own end (a death
// by SIGPIPE, a return from sock_serve) may still be on its way, and it is judged first.
Result<bool> settle(Scene& scene, const Actor& server) {
  return scene.run_until([&] { return scene.exited(server) || asleep(scene, server).has_value(); });
}

// What a stall means for each of socktool's ways of talking.
CheckOutcome stall_verdict(Scene& scene, const std::string& mode, const Actor& tool, const TestContext& ctx,
                           Clock::time_point connected_at) {
  // How far the reply in progress got ("got <client> <frame> <bytes>", every 16 KiB).
  std::string reply_progress;
  const long size = ctx.test.params.value("size", mode == "mega" ? 1L << 20 : 256L << 10);
  for (const auto& l : tool.lines()) {
    unsigned id = 0, k = 0;
    long bytes = 0;
    if (std::sscanf(l.c_str(), "got %u %u %ld", &id, &k, &bytes) == 3)
      reply_progress = fmt::format("at least {} of the {} bytes of the reply to frame {} came, then nothing", bytes, size, k);
  }
  if (mode == "flood") {
    // The tool writes more requests than asked when the kernel's buffers could hold them all.
    unsigned frames = ctx.test.params.value("frames", 16);
    long bound = 0;
    for (const auto& l : tool.lines()) std::sscanf(l.c_str(), "flood %u %*u %ld", &frames, &bound);
    const std::string wrote = fmt::format(
        "the client writes {} requests of {} bytes before reading any reply{}", frames, size,
        bound > 0 ? fmt::format(" (more than the {} MiB the kernel's socket buffers can hold)", bound >> 20) : "");
    CheckOutcome out = scene.blocked_roles(Status::failed, "");
    const bool duplex = std::any_of(out.evidence.begin(), out.evidence.end(),
                                    [](const std::string& e) { return e.starts_with("duplex deadlock"); });
    if (duplex)
      out.message = "duplex deadlock: " + wrote + "; the server blocked sending a reply instead of reading on: both "
                    "sides wait in send/write on full socket buffers";
    else if (const auto lines = tool.lines(); lines.empty() || !lines.back().starts_with("got"))
      out.message = wrote + ": the server stopped reading them (it does not block in a send: see where it waits)";
    else
      out.message = wrote + ": a reply stopped short" + (reply_progress.empty() ? "" : " (" + reply_progress + ")") +
                    "; the client waits for the rest while the server has nothing left to send (the rest of a short "
                    "send() dropped?)";
    return out;
  }
  if (mode == "mega")
    return scene.blocked_roles(Status::failed,
                        fmt::format("a {}-byte frame sent in one write(): its reply stopped short ({}); the client waits "
                                    "for the rest while the server has nothing left to send (the rest of a short send() "
                                    "dropped?)",
                                    size, reply_progress.empty() ? "its first bytes never came" : reply_progress));
  if (mode == "swarm") {
    const int clients = ctx.test.params.value("clients", 64);
    std::set<int> served;
    for (const auto& l : tool.lines()) {
      int id = 0;
      if (std::sscanf(l.c_str(), "served %d", &id) == 1) served.insert(id);
    }
    int starved = 1;
    while (served.count(starved)) ++starved;
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - connected_at).count();
    return scene.blocked_roles(
        Status::failed,
        fmt::format("a silent client (connected first, sent 2 bytes of a header, then nothing) held up the others: client "
                    "{} waited {} ms for a reply and got none; {} of {} clients served",
                    starved, waited, served.size(), clients));
  }
  if (mode == "trickle")
    return scene.blocked_roles(Status::failed, "requests sent one byte per write(): the server stopped answering "
                                              "(a frame read with one recv() gets only part of it)");
  return scene.blocked_roles(Status::failed, fmt::format("socktool {}: the exchange stopped, every role waits", mode));
}

// The server program with one of socktool's ways of talking (`mode`): trickle, mega, flood,
// swarm. Then the stop.
CheckOutcome tool_clients(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  const std::string mode = ctx.test.params.value("mode", std::string("echo"));
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep));
  if (s.bad) return *s.bad;
  IPCG_TRY_OUTCOME(Actor * tool, start_tool(ctx, scene, mode, tool_args(ctx, mode, ep)));
  std::optional<Clock::time_point> connected_at;
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] {
    if (!connected_at && tool->reported("connected")) connected_at = Clock::now();
    return scene.exited(*tool);
  }, {s.server}, stalled));
  if (stalled) return stall_verdict(scene, mode, *tool, ctx, connected_at.value_or(Clock::now()));
  if (!done) return scene.timed_out("socktool " + mode);
  IPCG_TRY_OUTCOME(bool settled, settle(scene, *s.server));
  (void)settled;
  if (scene.exited(*s.server)) {
    if (auto bad = judge_roles({s.server})) return *bad;
    return CheckOutcome::fail(fmt::format("the server returned from sock_serve while socktool {} was talking to it", mode),
                              {"a request of length 0 asks the server to stop: was a header that came in pieces read "
                               "as one?",
                               fmt::format("the server's report: {}", fmt::join(s.server->lines(), " / "))});
  }
  const std::string context = "socktool " + mode;
  if (auto bad = judge_replies(*tool, context)) return *bad;
  if (auto bad = judge_actors({tool})) return *bad;
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  return CheckOutcome::pass();
}

std::string fd_list(const ProcessSnapshot& s, const std::set<int>& before) {
  std::vector<std::string> extra;
  for (const auto& fd : s.fds)
    if (!before.count(fd.fd)) extra.push_back(describe_fd(fd));
  if (extra.size() > 6) {
    const size_t more = extra.size() - 5;
    extra.resize(5);
    extra.push_back(fmt::format("... {} more", more));
  }
  return fmt::format("{}", fmt::join(extra, "; "));
}

// `count` connections one after another (some leave without a word, some halfway through a
// header): the server's descriptors (/proc/PID/fd) must be as many after as before.
CheckOutcome fds_released(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  const int count = ctx.test.params.value("connections", 1000);
  const size_t leak_limit = ctx.test.params.value("leak_limit", 32);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep));
  if (s.bad) return *s.bad;
  std::optional<ProcessSnapshot> base;
  IPCG_TRY_OUTCOME(bool idle, scene.run_until([&] { return scene.exited(*s.server) || (base = asleep(scene, *s.server)); }));
  if (!idle) return scene.timed_out("the server, before any client");
  if (scene.exited(*s.server)) return judge_roles({s.server}).value_or(CheckOutcome::fail("the server ended"));
  std::set<int> before;
  for (const auto& fd : base->fds) before.insert(fd.fd);
  IPCG_TRY_OUTCOME(Actor * tool, start_tool(ctx, scene, "churn", {"churn", ep.address, std::to_string(count),
                                                                  std::to_string(ctx.seed)}));
  std::optional<ProcessSnapshot> grown;
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] {
    if (auto snap = scene.snapshot(*s.server); snap && snap->fds.size() > before.size() + leak_limit) grown = snap;
    return grown.has_value() || scene.exited(*tool);
  }, {s.server}, stalled));
  const std::string why = "every connection that ends (EOF, error) must be close()d and dropped from the poll set";
  if (grown)
    return CheckOutcome::fail(fmt::format("the server holds {} descriptors where it held {} before the clients came, "
                                          "while {} connections were made one after another: closed clients' "
                                          "descriptors are never closed",
                                          grown->fds.size(), before.size(), count),
                              {"new in /proc/" + std::to_string(grown->pid) + "/fd: " + fd_list(*grown, before), why});
  if (stalled) return scene.blocked_roles(Status::failed, fmt::format("{} connections one after another: the exchanges "
                                                                     "stopped, every role waits", count));
  if (!done) return scene.timed_out(fmt::format("{} connections one after another", count));
  if (auto bad = judge_roles({s.server})) return *bad;
  if (auto bad = judge_replies(*tool, "one of many connections")) return *bad;
  if (auto bad = judge_actors({tool})) return *bad;
  // Every close has woken the server before socktool exited: once it sleeps again it has seen them.
  std::optional<ProcessSnapshot> after;
  IPCG_TRY_OUTCOME(bool settled, scene.run_until([&] { return scene.exited(*s.server) || (after = asleep(scene, *s.server)); }));
  if (!settled) return scene.timed_out("the server, after the connections");
  if (auto bad = judge_roles({s.server})) return *bad;
  if (after && after->fds.size() > before.size())
    return CheckOutcome::fail(fmt::format("after {} connections, all closed by the clients, the server holds {} "
                                          "descriptors; it held {} before them",
                                          count, after->fds.size(), before.size()),
                              {"new in /proc/" + std::to_string(after->pid) + "/fd: " + fd_list(*after, before), why});
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  return CheckOutcome::pass();
}

// A client that goes away badly (socktool midframe, hangup, reset); then an ordinary client must
// still be served.
CheckOutcome client_vanishes(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  const std::string how = ctx.test.params.value("how", std::string("midframe"));
  const std::string seed = std::to_string(ctx.seed);
  std::vector<std::string> args{how, ep.address};
  if (how == "hangup") args.push_back(std::to_string(ctx.test.params.value("size", 1L << 20)));
  if (how != "midframe") args.push_back(seed);
  const std::string what = how == "midframe"  ? "a client sent half a frame and closed its connection"
                           : how == "hangup" ? "a client sent a large request and closed its connection without reading "
                                               "the reply (the server's send finds no reader: EPIPE, and SIGPIPE unless "
                                               "MSG_NOSIGNAL)"
                                             : "a client closed its connection with the reply unread, which resets it "
                                               "(the server's next recv fails with ECONNRESET)";
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep));
  if (s.bad) return *s.bad;
  IPCG_TRY_OUTCOME(Actor * bad_client, start_tool(ctx, scene, how, args));
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool gone, run_watching(scene, [&] { return scene.exited(*bad_client); }, {}, stalled));
  if (!gone) return scene.timed_out("socktool " + how);
  if (auto bad = judge_actors({bad_client})) return *bad;
  IPCG_TRY_OUTCOME(Actor * next, start_tool(ctx, scene, "echo", {"echo", ep.address, "2", "3", seed, "1", "2000"}));
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] { return scene.exited(*next); }, {s.server}, stalled));
  IPCG_TRY_OUTCOME(bool settled, settle(scene, *s.server));
  (void)settled;
  if (scene.exited(*s.server)) {
    auto bad = judge_roles({s.server}).value_or(CheckOutcome::fail("the server returned from sock_serve", s.server->lines()));
    bad.message = what + ": " + bad.message;
    bad.evidence.push_back("a client that goes away is dropped (close its descriptor); the server serves the others: "
                           "send with MSG_NOSIGNAL, and take EPIPE, ECONNRESET and EOF as 'this client is gone'");
    return bad;
  }
  if (stalled) return scene.blocked_roles(Status::failed, what + "; the next client was not served");
  if (!done) return scene.timed_out(what + "; the next client");
  if (auto bad = judge_replies(*next, what + "; the next client")) return *bad;
  if (auto bad = judge_actors({next})) return *bad;
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  return CheckOutcome::pass();
}

// SIGUSR1 (a handler without SA_RESTART) while the server waits for clients: its call fails
// with EINTR, and the server must go on.
CheckOutcome interrupted_wait(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep, {"--eintr"}));
  if (s.bad) return *s.bad;
  std::optional<long> in;
  IPCG_TRY_OUTCOME(bool waiting, scene.run_until([&] {
    if (scene.exited(*s.server)) return true;
    auto snap = asleep(scene, *s.server);
    if (snap && snap->syscall) in = *snap->syscall;
    return in.has_value();
  }));
  if (!waiting) return scene.timed_out("the server waiting for clients");
  if (scene.exited(*s.server)) return judge_roles({s.server}).value_or(CheckOutcome::fail("the server ended"));
  ::kill(s.server->proc->pid(), SIGUSR1);
  IPCG_TRY_OUTCOME(bool delivered, scene.run_until([&] {
    auto snap = scene.snapshot(*s.server);
    return scene.exited(*s.server) || (snap && !snap->signals.is_pending(SIGUSR1));
  }));
  if (!delivered) return scene.timed_out("the server, after SIGUSR1");
  const std::string how = fmt::format("SIGUSR1 (a handler without SA_RESTART) came while the server waited in {}",
                                      syscall_name(*in));
  IPCG_TRY_OUTCOME(Actor * next, start_tool(ctx, scene, "echo", {"echo", ep.address, "1", "3", std::to_string(ctx.seed), "1", "500"}));
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] { return scene.exited(*next); }, {s.server}, stalled));
  IPCG_TRY_OUTCOME(bool settled, settle(scene, *s.server));
  (void)settled;
  if (scene.exited(*s.server)) {
    auto bad = judge_roles({s.server}).value_or(CheckOutcome::fail("the server returned from sock_serve", s.server->lines()));
    bad.message = how + ": " + bad.message;
    bad.evidence.push_back("a call a signal handler interrupts fails with EINTR: call it again (poll, accept, recv, send)");
    return bad;
  }
  if (stalled) return scene.blocked_roles(Status::failed, how + "; the next client was not served");
  if (!done) return scene.timed_out(how + "; the next client");
  if (auto bad = judge_replies(*next, how)) return *bad;
  if (auto bad = judge_actors({next})) return *bad;
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  return CheckOutcome::pass();
}

// A socket file left at the path by a crashed run (made by the student's uid, nobody listens):
// sock_listen must take the path over.
CheckOutcome stale_file(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * stale, start_tool(ctx, scene, "stale (a crashed run)", {"stale", ep.path}, Role::student));
  IPCG_TRY_OUTCOME(bool made, scene.run_until([&] { return scene.exited(*stale); }));
  if (!made) return scene.timed_out("socktool stale");
  if (auto bad = judge_actors({stale})) return *bad;
  const std::string old = fmt::format("a socket file was left at {} by a crashed run (nobody listens on it)", ep.path);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep));
  if (s.bad) {
    s.bad->message = old + ": " + s.bad->message;
    s.bad->evidence.push_back("bind fails with EADDRINUSE while the file exists: if connecting to it gives ECONNREFUSED, "
                              "nobody listens, so unlink it and bind again");
    return *s.bad;
  }
  IPCG_TRY_OUTCOME(Actor * next, start_tool(ctx, scene, "echo", {"echo", ep.address, "1", "3", std::to_string(ctx.seed), "1", "500"}));
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] { return scene.exited(*next); }, {s.server}, stalled));
  if (stalled) return scene.blocked_roles(Status::failed, old + "; a client was not served");
  if (!done) return scene.timed_out(old + "; a client");
  if (auto bad = judge_roles({s.server})) return *bad;
  if (auto bad = judge_replies(*next, old)) return *bad;
  if (auto bad = judge_actors({next})) return *bad;
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  return CheckOutcome::pass();
}

// After sock_unlisten the socket file is gone (socktool looks in the cell).
CheckOutcome file_removed(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Started s, start_server(ctx, scene, ep));
  if (s.bad) return *s.bad;
  IPCG_TRY_OUTCOME(Actor * next, start_tool(ctx, scene, "echo", {"echo", ep.address, "1", "2", std::to_string(ctx.seed), "1", "100"}));
  bool stalled = false;
  IPCG_TRY_OUTCOME(bool done, run_watching(scene, [&] { return scene.exited(*next); }, {s.server}, stalled));
  if (stalled) return scene.blocked_roles(Status::failed, "a client was not served");
  if (!done) return scene.timed_out("a client");
  if (auto bad = judge_actors({next, s.server})) return *bad;
  if (auto bad = stop_server(ctx, scene, *s.server, ep)) return *bad;
  IPCG_TRY_OUTCOME(Actor * look, start_tool(ctx, scene, "exists", {"exists", ep.path}));
  IPCG_TRY_OUTCOME(bool looked, scene.run_until([&] { return scene.exited(*look); }));
  if (!looked) return scene.timed_out("socktool exists");
  if (look->out_data.starts_with("exists")) {
    return CheckOutcome::fail(fmt::format("the socket file {} still exists after sock_unlisten returned 0", ep.path),
                              {"close() does not remove a UNIX-domain socket's file: unlink(path) it"});
  }
  return CheckOutcome::pass();
}

// A call into the student's library that must fail: the role, its driver's arguments, and what
// the failure must look like. The driver reports the errno and stops at a gate; the grader then
// counts the sockets the process holds in /proc (it held none before the call).
struct MustFail {
  std::string program;             // "server" (sock_listen) or "client" (sock_connect)
  std::vector<std::string> args;   // the driver's, ending with the address
  std::string situation;           // "sock_connect to a socket file nobody listens on"
  std::string failing_call;        // the system call that fails: "connect", "socket", "bind"
  std::vector<int> want;           // acceptable errnos, the first one named in messages
};

// nullopt when the call returned -1 with a wanted errno and left no socket open.
Result<std::optional<CheckOutcome>> judge_must_fail(TestContext& ctx, Scene& scene, const MustFail& m) {
  IPCG_TRY(Actor * a, scene.start(label(ctx, m.program), program_spec(ctx, m.program, m.args)));
  std::optional<ProcessSnapshot> at_gate;
  IPCG_TRY(bool done, scene.run_until([&] {
    if (scene.exited(*a)) return true;
    if (!a->reported("error")) return false;
    at_gate = scene.snapshot(*a);
    return at_gate && at_gate->state == 'T';
  }));
  if (!done) return std::optional{scene.timed_out(m.situation)};
  if (scene.exited(*a)) {  // it never reached the gate: ended inside the call, or the call succeeded
    if (auto bad = judge_roles({a})) {
      bad->message = fmt::format("{}: {}", m.situation, bad->message);
      return std::optional{*bad};
    }
    return std::optional{CheckOutcome::fail(fmt::format("{} returned a descriptor: {}() failed, so it must return -1 "
                                                        "with errno set", m.situation, m.failing_call),
                                            a->lines())};
  }
  std::vector<std::string> held;
  for (const auto& fd : at_gate->fds)
    if (fd.kind == FdKind::socket) held.push_back(fmt::format("fd {} = {}", fd.fd, fd.target));
  ::kill(a->proc->pid(), SIGCONT);
  int err = 0;
  const auto line = a->line("error");
  if (!line || std::sscanf(line->c_str(), "error %*s %d", &err) != 1)
    return std::optional{CheckOutcome::with(Status::error, "the driver's report is unreadable: " + line.value_or(""))};
  if (std::find(m.want.begin(), m.want.end(), err) == m.want.end())
    return std::optional{CheckOutcome::fail(fmt::format("{} failed with {}, expected {} ({}'s errno, kept)", m.situation,
                                                        strerror_name(err), strerror_name(m.want[0]), m.failing_call))};
  if (!held.empty()) {
    held.insert(held.begin(), fmt::format("{} socket(s) still open in the process after the call returned -1 (/proc):",
                                          held.size()));
    held.push_back("close the socket before returning -1 (keep errno: save it around close()); a server that "
                   "retries leaks one descriptor per try until socket() fails with EMFILE");
    return std::optional{CheckOutcome::fail(fmt::format("{} returned -1 with {} as it should, but left its socket open",
                                                        m.situation, strerror_name(err)),
                                            held)};
  }
  return std::optional<CheckOutcome>{};
}

CheckOutcome first_failure(TestContext& ctx, Scene& scene, const std::vector<MustFail>& cases) {
  for (const auto& c : cases) {
    IPCG_TRY_OUTCOME(std::optional<CheckOutcome> bad, judge_must_fail(ctx, scene, c));
    if (bad) return *bad;
  }
  return CheckOutcome::pass();
}

// sock_connect where no server is: a stale socket file (socktool leaves one), then no file.
CheckOutcome refused(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * stale, start_tool(ctx, scene, "stale", {"stale", ep.path}));
  IPCG_TRY_OUTCOME(bool made, scene.run_until([&] { return scene.exited(*stale); }));
  if (!made) return scene.timed_out("socktool stale");
  const std::vector<std::string> one_frame = {"1", "1", "1", "1", "1"};
  const auto connect_to = [&](const std::string& address) {
    std::vector<std::string> args = {"--refused", address};
    args.insert(args.end(), one_frame.begin(), one_frame.end());
    return args;
  };
  return first_failure(ctx, scene, {
      {"client", connect_to(ep.address), "sock_connect to a socket file nobody listens on", "connect", {ECONNREFUSED}},
      {"client", connect_to("unix:" + ctx.ipc_names().fifo("nobody.sock")), "sock_connect to a path with no socket file",
       "connect", {ENOENT, ECONNREFUSED}},
  });
}

// sock_listen and sock_connect when their system calls fail for reasons provoked from outside:
// no descriptor left for socket() (RLIMIT_NOFILE lowered by the driver), a bind() to a path in a
// folder that does not exist. -1 with the call's errno, the caller alive, no socket left open.
CheckOutcome call_failures(TestContext& ctx) {
  const Endpoint ep = endpoint_of(ctx);
  const std::string nowhere = "unix:" + ctx.ipc_names().fifo("no-such-folder") + "/server.sock";
  Scene scene(ctx);
  return first_failure(ctx, scene, {
      {"server", {"--listen-only", "--spare-fds", "0", ep.address},
       "sock_listen with no file descriptor left (RLIMIT_NOFILE lowered)", "socket", {EMFILE}},
      {"server", {"--listen-only", nowhere}, "sock_listen on a path in a folder that does not exist", "bind", {ENOENT}},
      {"client", {"--refused", "--spare-fds", "0", ep.address, "1", "1", "1", "1", "1"},
       "sock_connect with no file descriptor left (RLIMIT_NOFILE lowered)", "socket", {EMFILE}},
  });
}

// TCP needs the cell's own network namespace (docs/threat-model.md, "Sockets"): without one,
// student code could reach the host's loopback services, so the sandbox refuses AF_INET.
CheckFn own_network_only(CheckFn check) {
  return [check = std::move(check)](TestContext& ctx) {
    if (ctx.test.params.value("tcp", false) && !ctx.sandbox.isolation().namespaces())
      return CheckOutcome::with(Status::skipped, "not tested in reduced isolation: TCP runs only in the cell's own "
                                                 "network namespace (full isolation), where loopback is all there is");
    return check(ctx);
  };
}

// `check`, then the test's socket files removed by socktool (as the student's uid, then the
// reference's: /tmp is sticky, only the owner may unlink) once its roles are gone. In reduced
// isolation /tmp is the host's, so a file a failing server left (or the stale file a test made)
// would outlive the run. file_removed has judged removal before this runs.
CheckFn removing_socket_files(CheckFn check) {
  return [check = std::move(check)](TestContext& ctx) {
    CheckOutcome outcome = check(ctx);  // its Scene is gone: every role of the test has been killed
    const IpcNames names = ctx.ipc_names();
    for (Role role : {Role::student, Role::reference}) {
      Scene scene(ctx);
      auto rm = scene.start("socktool unlink", tool_spec(ctx, "socktool", {"unlink", names.fifo("server.sock"),
                                                                            names.fifo("nobody.sock")}, role));
      if (rm) (void)scene.run_until([&] { return scene.exited(**rm); });
    }
    return outcome;
  };
}

IPCG_REGISTER_CHECK("lab6.exchange", removing_socket_files(own_network_only(exchange)));
IPCG_REGISTER_CHECK("lab6.tool_clients", removing_socket_files(own_network_only(tool_clients)));
IPCG_REGISTER_CHECK("lab6.fds_released", removing_socket_files(own_network_only(fds_released)));
IPCG_REGISTER_CHECK("lab6.client_vanishes", removing_socket_files(own_network_only(client_vanishes)));
IPCG_REGISTER_CHECK("lab6.interrupted_wait", removing_socket_files(own_network_only(interrupted_wait)));
IPCG_REGISTER_CHECK("lab6.stale_file", removing_socket_files(stale_file));
IPCG_REGISTER_CHECK("lab6.file_removed", removing_socket_files(file_removed));
IPCG_REGISTER_CHECK("lab6.refused", removing_socket_files(refused));
IPCG_REGISTER_CHECK("lab6.call_failures", removing_socket_files(call_failures));

}  // namespace
}  // namespace lab6
