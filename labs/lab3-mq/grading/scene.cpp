#include "scene.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

namespace lab3 {

SpawnSpec tool_spec(TestContext& ctx, std::vector<std::string> args, Role role) {
  return ipcg::tool_spec(ctx, "mqtool", std::move(args), role);
}

namespace {

constexpr int kNotMine = 3;  // mqtool unlink/rmid: the queue belongs to another uid

// Only the owner may remove a queue (mqueue's root is sticky; IPC_RMID wants the creator or
// owner): mqtool asks as the reference's uid, then as the student's when the queue is theirs.
void remove_queue(TestContext& ctx, const std::string& mode, const std::string& what) {
  for (Role role : {Role::reference, Role::student}) {
    Scene scene(ctx);
    auto tool = scene.start(fmt::format("mqtool {} {}", mode, what), tool_spec(ctx, {mode, what}, role));
    if (!tool) return;
    auto done = scene.run_until([&] { return scene.exited(**tool); });
    const std::optional<int> st = (*tool)->status;
    if (!done || !*done || !st || !WIFEXITED(*st) || WEXITSTATUS(*st) != kNotMine) return;
  }
}

}  // namespace

CheckFn removing_own_queues(CheckFn check, std::function<OwnQueues(const TestContext&)> own) {
  return [check = std::move(check), own = std::move(own)](TestContext& ctx) {
    CheckOutcome outcome = check(ctx);  // its Scene is gone: every role of the test has been killed
    const OwnQueues q = own(ctx);
    for (const auto& name : q.posix) remove_queue(ctx, "unlink", name);
    for (key_t key : q.sysv) remove_queue(ctx, "rmid", fmt::format("{:#x}", static_cast<unsigned>(key)));
    return outcome;
  };
}

std::optional<CheckOutcome> judge_roles(const std::vector<Actor*>& who) {
  return ipcg::judge_actors(who, [](const Actor& a, const std::string& step) {
    const bool routing = a.label.starts_with("server") || a.label.starts_with("client");
    if (routing || step == "request" || step == "serve") return "route_" + step;
    return "dispatch_" + step;
  });
}

std::optional<CheckOutcome> judge_messages(TestContext& ctx, const MessageLog& log, const std::vector<std::string>& checks,
                                      const std::string& context) {
  std::vector<OrderViolation> found = standard_log_checks(log, checks);
  for (const auto& c : checks) {
    if (c == "routing") {
      // System V routing: client c (role 100 + c) owns the replies to its own requests (tag c);
      // what the clients received is judged, not what a server took.
      MessageLog clients;
      std::vector<size_t> index_in_log;  // the trace marks events of the whole log
      for (size_t i = 0; i < log.size(); ++i)
        if (log[i].op == MessageEvent::Op::send || log[i].role >= 100) {
          clients.push_back(log[i]);
          index_in_log.push_back(i);
        }
      auto v = check_addressee(
          clients, [](std::uint32_t producer) -> std::optional<std::uint32_t> { return 100 + producer; },
          [](std::uint32_t role) { return fmt::format("client {}", role - 100); });
      if (v) {
        v->property = "routing";
        for (auto& i : v->events) i = index_in_log[i];
        v->message += "; a client receives with msgtyp = its own number";
        found.push_back(*v);
      }
    }
  }
  return ipcg::judge_log(ctx, log, found, context);
}

}  // namespace lab3
