// lab3 Part B checks: System V typed routing. One queue, a server, several clients; requests
// carry mtype 1 and the reply to client c mtype c. The reference clients log each request (with
// the reply it must get) and each reply; the trusted mqtool server logs each reply it sends.
#include <fmt/format.h>

#include <algorithm>
#include <csignal>

#include "scene.hpp"

namespace lab3 {
namespace {

// Client numbers start at 2: mtype 1 is ROUTE_SERVER, the requests' type.
constexpr int kFirstClient = 2;

std::string key_text(key_t key) { return fmt::format("{:#x}", static_cast<unsigned>(key)); }

// The length hint for a reply that came with 8 bytes too many or too few.
void off_by_eight(std::optional<CheckOutcome>& bad, const MessageLog& log) {
  if (!bad) return;
  for (const auto& e : log)
    for (const auto& s : log)
      if (e.op == MessageEvent::Op::receive && s.op == MessageEvent::Op::send && e.tagged() &&
          e.producer == s.producer && e.seq == s.seq && e.length == s.length + sizeof(long)) {
        bad->evidence.push_back(fmt::format("a reply of {} bytes arrived as {}: {} bytes more, the size of the mtype "
                                            "field: msgsz counts only the text, never the long mtype",
                                            s.length, e.length, sizeof(long)));
        return;
      }
}

// The student's (or the reference's) server program against K reference (or student) clients,
// all at once, each sending N requests and then taking N replies of its own type.
std::optional<CheckOutcome> server_with_clients(TestContext& ctx, Scene& scene, key_t key, int clients, int requests,
                                                const std::vector<std::string>& checks, bool remove_at_end,
                                                const std::string& context, bool reference_clients = false) {
  std::vector<std::string> args{"--create"};
  if (remove_at_end) args.push_back("--remove");
  args.insert(args.end(), {key_text(key), std::to_string(clients * requests)});
  auto server = scene.start(label(ctx, "server"), program_spec(ctx, "server", args));
  if (!server) return CheckOutcome::with(Status::error, server.error().message);
  auto ready = scene.run_until([&] { return scene.exited(**server) || (*server)->reported("queue"); });
  if (!ready || !*ready) return scene.timed_out("the server creating its queue");
  if (auto bad = judge_roles({*server})) return bad;
  std::vector<Actor*> all{*server};
  for (int c = kFirstClient; c < kFirstClient + clients; ++c) {
    std::vector<std::string> cargs{reference_clients ? ctx.reference_program("client") : ctx.program("client"),
                                   key_text(key), std::to_string(c), std::to_string(requests)};
    auto a = scene.start(reference_clients ? fmt::format("client {} (reference)", c) : label(ctx, "client", c),
                         ctx.spawn_spec(std::move(cargs)));
    if (!a) return CheckOutcome::with(Status::error, a.error().message);
    all.push_back(*a);
  }
  auto done = scene.run_until([&] { return scene.all_exited(all); });
  if (!done || !*done) return scene.timed_out(context);
  if (auto bad = judge_roles(all)) return bad;
  auto log = scene.message_log();
  if (!log) return CheckOutcome::with(Status::error, log.error().message);
  auto bad = judge_messages(ctx, *log, checks, context);
  off_by_eight(bad, *log);
  return bad;
}

// The trusted server (mqtool serve) against K clients of the test's roles. With gate, the clients
// start one at a time, each once the previous waits for its reply, and the server answers only
// once all of them wait, the last one first: a client that takes any type gets another's reply.
std::optional<CheckOutcome> clients_with_tool_server(TestContext& ctx, Scene& scene, key_t key, int clients, bool gate,
                                                     const std::vector<std::string>& checks, const std::string& context,
                                                     bool eintr = false) {
  auto made = scene.start("mqtool msgget", tool_spec(ctx, {"msgget", key_text(key)}));
  if (!made) return CheckOutcome::with(Status::error, made.error().message);
  auto ok = scene.run_until([&] { return scene.exited(**made); });
  if (auto bad = judge_roles({*made})) return bad;
  std::vector<std::string> args{"serve"};
  if (gate) args.push_back("--gate");
  args.insert(args.end(), {key_text(key), std::to_string(clients)});
  auto server = scene.start("server (mqtool, trusted)", tool_spec(ctx, args));
  if (!server) return CheckOutcome::with(Status::error, server.error().message);
  Actor* srv = *server;
  auto server_waits = [&] {
    auto snap = scene.snapshot(*srv);
    return snap && (blocked_in(*snap, {kSysMsgrcv}) || snap->state == 'T');
  };
  std::vector<Actor*> all{srv};
  // Gated, the server answers nobody before the grader continues it: a client that returns before
  // then took a message that was not its reply.
  auto early_exit = [&]() -> std::optional<CheckOutcome> {
    for (Actor* a : all) {
      if (a == srv || !scene.exited(*a)) continue;
      if (auto bad = judge_roles({a})) return bad;
      return CheckOutcome::fail(
          fmt::format("routing: {} returned from route_receive before the server had sent any reply: it took a "
                      "message that was not its reply (another client's request, mtype 1)", a->label),
          {"receive with msgtyp equal to the client's own number: msgtyp 0 takes the first message of any type"});
    }
    return std::nullopt;
  };
  auto any_client_exited = [&] {
    return std::any_of(all.begin(), all.end(), [&](Actor* a) { return a != srv && scene.exited(*a); });
  };
  for (int c = kFirstClient; c < kFirstClient + clients; ++c) {
    ok = scene.run_until([&] { return scene.exited(*srv) || server_waits(); });
    if (!ok || !*ok) return scene.timed_out("the server waiting for requests");
    std::vector<std::string> cargs{key_text(key), std::to_string(c), "1"};
    if (eintr) cargs.insert(cargs.begin(), "--eintr");
    auto a = scene.start(label(ctx, "client", c), program_spec(ctx, "client", cargs));
    if (!a) return CheckOutcome::with(Status::error, a.error().message);
    all.push_back(*a);
    Actor* client = *a;
    if (!gate) {  // one client at a time: which reply a client finds never depends on the scheduler
      ok = scene.run_until([&] { return scene.exited(*client); });
      if (!ok || !*ok) return scene.timed_out(fmt::format("client {}", c));
      continue;
    }
    ok = scene.run_until([&] {
      if (scene.exited(*client)) return true;
      auto snap = scene.snapshot(*client);
      return snap && blocked_in(*snap, {kSysMsgrcv}) && server_waits();
    });
    if (!ok || !*ok) return scene.timed_out(fmt::format("client {} sending its request", c));
    if (auto bad = early_exit()) return bad;
  }
  if (gate) {
    ok = scene.run_until([&] {
      auto snap = scene.snapshot(*srv);
      return scene.exited(*srv) || (snap && snap->state == 'T') || any_client_exited();
    });
    if (auto bad = judge_roles(all)) return bad;
    if (auto bad = early_exit()) return bad;
    if (!ok || !*ok) return scene.timed_out("the server taking every request");
    if (eintr) {
      // Every client now waits in msgrcv for its reply: interrupt each, wait until delivered.
      for (Actor* a : all)
        if (a != srv && !scene.exited(*a)) ::kill(a->proc->pid(), SIGUSR1);
      ok = scene.run_until([&] {
        for (Actor* a : all) {
          if (a == srv || scene.exited(*a)) continue;
          auto snap = scene.snapshot(*a);
          if (snap && snap->signals.is_pending(SIGUSR1)) return false;
        }
        return true;
      });
    }
    if (!scene.exited(*srv)) ::kill(srv->proc->pid(), SIGCONT);
  }
  auto done = scene.run_until([&] { return scene.all_exited(all); });
  if (!done || !*done) return scene.timed_out(context);
  if (auto bad = judge_roles(all)) {
    if (eintr) {
      bad->message = "SIGUSR1 (handler without SA_RESTART) came while route_receive waited in msgrcv: " + bad->message;
      bad->evidence.push_back("msgrcv fails with EINTR when a handler interrupts it: call it again");
    }
    return bad;
  }
  auto log = scene.message_log();
  if (!log) return CheckOutcome::with(Status::error, log.error().message);
  auto bad = judge_messages(ctx, *log, checks, context);
  off_by_eight(bad, *log);
  return bad;
}

std::vector<std::string> checks_of(const TestContext& ctx) {
  return ctx.test.params.value("checks", std::vector<std::string>{"exactly_once", "routing"});
}

CheckOutcome routed_by_server(TestContext& ctx) {
  const int clients = ctx.test.params.value("clients", 3), requests = ctx.test.params.value("requests", 4);
  Scene scene(ctx);
  if (auto bad = server_with_clients(ctx, scene, ctx.ipc_names().sysv_key("route"), clients, requests, checks_of(ctx),
                                     false, fmt::format("{} clients at once, {} requests each", clients, requests)))
    return *bad;
  return CheckOutcome::pass();
}

CheckOutcome routed_to_clients(TestContext& ctx) {
  const int clients = ctx.test.params.value("clients", 3);
  Scene scene(ctx);
  if (auto bad = clients_with_tool_server(ctx, scene, ctx.ipc_names().sysv_key("route"), clients, true, checks_of(ctx),
                                          fmt::format("{} clients each waiting for its reply; the server answered the "
                                                      "last one first", clients)))
    return *bad;
  return CheckOutcome::pass();
}

// Both directions: the student's replies (server) and the student's requests (clients).
CheckOutcome message_sizes(TestContext& ctx) {
  const std::vector<std::string> checks{"boundaries"};
  {
    Scene scene(ctx);
    if (student_plays(ctx, "server"))
      if (auto bad = server_with_clients(ctx, scene, ctx.ipc_names().sysv_key("replies"), 2, 2, checks, false,
                                         "replies of the server under test to reference clients", true))
        return *bad;
  }
  Scene scene(ctx);
  if (student_plays(ctx, "client"))
    if (auto bad = clients_with_tool_server(ctx, scene, ctx.ipc_names().sysv_key("requests"), 2, false, checks,
                                            "requests of the clients under test, answered by the trusted server"))
      return *bad;
  return CheckOutcome::pass();
}

CheckOutcome interrupted_receive(TestContext& ctx) {
  Scene scene(ctx);
  if (auto bad = clients_with_tool_server(ctx, scene, ctx.ipc_names().sysv_key("eintr"), 1, true,
                                          {"exactly_once"}, "clients interrupted while waiting for their reply", true))
    return *bad;
  return CheckOutcome::pass();
}

// route_remove removes the queue (IPC_RMID): asked of the cell once the server is done.
CheckOutcome queue_removed(TestContext& ctx) {
  Scene scene(ctx);
  const key_t key = ctx.ipc_names().sysv_key("removed");
  if (auto bad = server_with_clients(ctx, scene, key, 1, 2, {"exactly_once"}, false, "one client", true)) return *bad;
  // Once every client has its replies: the server program again, to remove the queue.
  auto last = scene.start(label(ctx, "server") + " ending the service",
                          program_spec(ctx, "server", {"--remove", key_text(key), "0"}));
  if (!last) return CheckOutcome::with(Status::error, last.error().message);
  auto ended = scene.run_until([&] { return scene.exited(**last); });
  if (!ended || !*ended) return scene.timed_out("route_remove");
  if (auto bad = judge_roles({*last})) return *bad;
  IPCG_TRY_OUTCOME(std::vector<IpcObject> objects, ctx.cell.ipc_objects());
  for (const auto& o : objects)
    if (o.kind == IpcObject::Kind::sysv_msg && o.key == key)
      return CheckOutcome::fail(fmt::format("the System V queue of key {} (id {}) still exists after route_remove "
                                            "returned 0 ({} messages in it)", key_text(key), o.id, o.messages),
                                {o.description, "route_remove must call msgctl(qid, IPC_RMID, NULL): a System V queue "
                                                "lives until it is removed, long after every process has exited"});
  return CheckOutcome::pass();
}

// The keys each test made its queues with; sysv_queue_removed judges removal, so it keeps its own.
std::function<OwnQueues(const TestContext&)> keys(std::vector<std::string> names) {
  return [names = std::move(names)](const TestContext& ctx) {
    OwnQueues q;
    for (const auto& n : names) q.sysv.push_back(ctx.ipc_names().sysv_key(n));
    return q;
  };
}

IPCG_REGISTER_CHECK("lab3.routed_by_server", removing_own_queues(routed_by_server, keys({"route"})));
IPCG_REGISTER_CHECK("lab3.routed_to_clients", removing_own_queues(routed_to_clients, keys({"route"})));
IPCG_REGISTER_CHECK("lab3.message_sizes", removing_own_queues(message_sizes, keys({"replies", "requests"})));
IPCG_REGISTER_CHECK("lab3.interrupted_receive", removing_own_queues(interrupted_receive, keys({"eintr"})));
IPCG_REGISTER_CHECK("lab3.queue_removed", queue_removed);

}  // namespace
}  // namespace lab3
