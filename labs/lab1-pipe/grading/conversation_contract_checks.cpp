// lab1 checks on the conversation's contract beyond the happy path: a child that dies
// mid-conversation, pipe ends inherited by programs started later, and the student's serve
// meeting requests that arrive over several reads or several in one read (the trusted client
// writes them so, from the seed), or replies that meet a full pipe.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <map>

#include "common.hpp"

namespace lab1 {
namespace {

// --- the child dies mid-conversation ---------------------------------------------------------

CheckOutcome child_dies(TestContext& ctx) {
  const std::vector<std::string> requests{"one", "two", "three"};
  auto req = driver_request(ctx, {ctx.program("parent"), "--go-on", "--gate-after", ctx.tool("stage"), "--gate-each",
                                  "respond", "--exit-after", "1"},
                            joined_lines(requests));
  RunOutcome out;
  RunContext rc;
  ResponderGate gate(ctx);
  IPCG_TRY_OUTCOME(std::optional<AfterCall> after,
                   run_to_gate_after(ctx, std::move(req), out, rc, {.each_tick = [&](SandboxedProcess& p) { gate.tick(p); }}));
  const auto report = lab1_driver_report(out);
  const std::string situation = "the child exits after reply 1 (its stdin closed first)";
  if (auto bad = died_inside_call(out, report)) {
    if (out.ending == Ending::signaled && WTERMSIG(out.wait_status) == SIGPIPE)
      bad->evidence.push_back("the caller ignores SIGPIPE; it died of it all the same: the library changed the "
                              "caller's SIGPIPE disposition");
    bad->message = situation + ": " + bad->message;
    return *bad;
  }
  if (!after) {
    if (auto bad = abnormal_ending(out, "the conversation")) return *bad;
    return CheckOutcome::fail(situation + ": the caller ended without conv_finish returning");
  }
  std::vector<std::string> evidence;
  int err = 0;
  const auto error = report.line_starting("error");
  if (!error) {
    const auto second = std::find_if(report.lines.begin(), report.lines.end(),
                                     [](const auto& l) { return l.starts_with("reply 2 "); });
    evidence.push_back(second == report.lines.end()
                           ? "conv_exchange did not fail for request 2"
                           : "conv_exchange returned a reply to request 2 (" + *second +
                                 ") although the child had exited: expected -1 with errno EPIPE");
  } else if (std::sscanf(error->c_str(), "error exchange %d", &err) != 1 || err != EPIPE) {
    evidence.push_back(fmt::format("{}: expected conv_exchange to fail with EPIPE (the child is gone)", *error));
  }
  const auto& caller = after->caller;
  if (!(caller.signals.ignored & SignalMasks::bit(SIGPIPE)))
    evidence.push_back(fmt::format("the caller pid {} ignored SIGPIPE before conv_start; now {}: the library changed "
                                   "the caller's SIGPIPE disposition", caller.pid,
                                   (caller.signals.caught & SignalMasks::bit(SIGPIPE)) ? "a handler catches it"
                                                                                      : "it is at its default"));
  int status = 0;
  const auto status_line = report.line_starting("status");
  if (!status_line || std::sscanf(status_line->c_str(), "status %d", &status) != 1)
    evidence.push_back("conv_finish did not return the child's status after the failed exchange");
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    evidence.push_back(fmt::format("conv_finish returned {} ({}); the child exited 0", status, describe_status(status)));
  if (evidence.empty()) return CheckOutcome::pass();
  return CheckOutcome::fail(situation + ": the caller did not get EPIPE and go on", evidence);
}

// --- pipe ends inherited across calls --------------------------------------------------------

struct Seen {
  ProcessSnapshot process;
  std::string who;
};

CheckOutcome across_calls(TestContext& ctx) {
  auto req = driver_request(ctx, {ctx.program("parent"), "--second", ctx.tool("stage"), ctx.tool("stage"), "respond"},
                            "first\n");
  std::optional<ProcessSnapshot> first_child, caller;
  std::vector<Seen> later;
  auto look = [&](SandboxedProcess& p) {
    for (const auto& s : live_snapshots(p)) {
      if (s.pid == p.pid()) continue;
      if (!first_child && s.cmdline.size() == 2 && s.cmdline[1] == "respond") first_child = s;
      const bool second = is_gated(s, "respond"), stage = is_gated(s, "cat");
      if ((second || stage) && s.state == 'T') {
        later.push_back({s, second ? "the second conversation's child" : "run_pipeline's stage"});
        if (auto snap = live_snapshots(p); const auto* c = find_pid(snap, p.pid())) caller = *c;
        ::kill(s.pid, SIGCONT);
      }
    }
    return later.size() >= 2;
  };
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    look(p);
    return TickAction::keep_going;
  };
  req.on_exit = [&](SandboxedProcess& p) { settle_after_exit(p, settle_grace(ctx), look); };  // run_pipeline may not wait
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  // What each pipe is, in the conversation's terms.
  std::map<std::uint64_t, std::string> names;
  if (first_child) {
    if (const auto* in = first_child->fd(0)) names[in->inode] = "the first conversation's request pipe";
    if (const auto* o = first_child->fd(1)) names[o->inode] = "the first conversation's reply pipe";
  }
  for (const auto& s : later)
    if (s.who.starts_with("the second"))
      for (int n : {0, 1})
        if (const auto* fd = s.process.fd(n); fd && !names.count(fd->inode))
          names[fd->inode] = n == 0 ? "the second conversation's request pipe" : "the second conversation's reply pipe";
  std::vector<std::string> evidence;
  for (const auto& s : later)
    for (const auto& fd : s.process.fds) {
      if (fd.fd <= 2 || (fd.kind != FdKind::pipe && fd.kind != FdKind::fifo)) continue;
      std::string what = names.count(fd.inode) ? names[fd.inode] : "a pipe the caller holds";
      std::string where;
      if (caller)
        for (const auto& mine : caller->fds)
          if (mine.inode == fd.inode && mine.kind == fd.kind) where = fmt::format(", the caller's fd {}", mine.fd);
      const std::string made = what.find("first") != std::string::npos ? ", made by the first conv_start" : "";
      evidence.push_back(fmt::format("pid {} ({}) holds {} = {}{}{}: inherited across exec; create the caller's ends "
                                     "with O_CLOEXEC (pipe2)", s.process.pid, s.who, describe_fd(fd), what, where, made));
    }
  if (!evidence.empty())
    return CheckOutcome::fail("programs started while a conversation is open inherit its pipe ends", evidence);
  // Both seen, nothing inherited: how the waits went afterwards is other tests' business.
  if (later.size() >= 2) return CheckOutcome::pass();
  const auto report = lab1_driver_report(out);
  if (auto bad = died_inside_call(out, report)) return *bad;
  if (auto bad = abnormal_ending(out, "the conversation")) return *bad;
  if (later.size() < 2)
    return CheckOutcome::fail(fmt::format("the second conversation and the pipeline did not both start ({})",
                                          fmt::join(report.lines, "; ")));
  return CheckOutcome::pass();
}

// --- the student's serve meets the trusted client ----------------------------------------------

std::vector<std::string> client_requests(TestContext& ctx) {
  const auto& p = ctx.test.params;
  if (p.contains("random_requests")) {
    std::vector<std::string> requests;
    const auto count = p["random_requests"].get<std::size_t>();
    const auto bytes = p.value("random_request_bytes", std::size_t{64});
    for (std::size_t i = 0; i < count; ++i) requests.push_back(random_text(ctx.rng, bytes, false));
    return requests;
  }
  return p.value("requests", std::vector<std::string>{});
}

CheckOutcome client(TestContext& ctx) {
  const auto requests = client_requests(ctx);
  const std::string mode = ctx.test.params.value("mode", std::string("pieces"));
  std::vector<std::string> argv{ctx.tool("client"), mode};
  if (mode == "pieces") argv.push_back(std::to_string(ctx.seed));
  argv.push_back(ctx.program("child"));
  for (const auto& a : ctx.test.params.value("child_args", std::vector<std::string>{})) argv.push_back(a);
  auto req = driver_request(ctx, argv, joined_lines(requests));
  // Flood: the client stops after each request; it goes on once the child is blocked (waiting
  // for the next request, or for room in the reply pipe) or gone, so that when the client reads
  // replies does not depend on the scheduler.
  Grace grace;
  if (mode == "flood")
    req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
      const auto snaps = live_snapshots(p);
      const auto* me = find_pid(snaps, p.pid());
      if (!me || me->state != 'T') return TickAction::keep_going;
      const auto kids = children_of(snaps, p.pid());
      const bool settled = kids.empty() || std::all_of(kids.begin(), kids.end(), [](const auto& c) {
        if (c.state == 'Z' || c.state == 'T') return true;
        if (c.state != 'S' && c.state != 'D') return false;
        // Blocked reading a request that is already there: it is about to wake, not settled.
        return !(blocked_in(c, {kSysRead, kSysReadv}) && unread_bytes(c.pid, 0).value_or(0) > 0);
      });
      if (!settled && !grace.expired(settle_grace(ctx))) return TickAction::keep_going;
      grace.reset();
      ::kill(p.pid(), SIGCONT);
      return TickAction::keep_going;
    };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  const auto report = lab1_driver_report(out);
  std::vector<std::string> pieces;
  for (const auto& line : report.lines) {
    std::size_t k = 0;
    char sizes[128];
    if (std::sscanf(line.c_str(), "pieces %zu %127s", &k, sizes) == 2)
      pieces.push_back(fmt::format("request {} was written as {} bytes, each piece only once the child had read the "
                                   "one before", k, sizes));
  }
  const std::string hint =
      mode == "flood"  ? "write() on a non-blocking pipe may write only part of a reply or fail with EAGAIN: write the "
                         "rest, and wait with poll() for POLLOUT"
      : mode == "batch" ? "one read() can return several requests: answer every line it holds, in order"
                        : "a request ends at its '\\n', not at the end of a read(): keep the start of a request until "
                          "its '\\n' arrives";
  const std::string how = mode == "flood"   ? "requests sent while the reply pipe was full"
                          : mode == "batch" ? fmt::format("{} requests sent in one write()", requests.size())
                                            : "requests that arrived over several reads";
  if (auto bad = abnormal_ending(out, "the conversation")) {
    bad->evidence.insert(bad->evidence.begin(), pieces.begin(), pieces.end());
    bad->evidence.push_back(hint);
    bad->output = out.captures[2].display();
    return *bad;
  }
  const auto replies = split_lines(out.captures[1].data);
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const std::string want = expected_reply(k + 1, requests[k]);
    if (k < replies.size() && replies[k] == want) continue;
    std::vector<std::string> evidence = pieces;
    std::string message;
    if (k >= replies.size())
      message = fmt::format("{}: the child sent {} {} to {} requests{}", how, replies.size(),
                            replies.size() == 1 ? "reply" : "replies", requests.size(),
                            mode == "flood" ? ": replies were lost when the reply pipe was full (a short write or "
                                              "EAGAIN not retried)"
                                            : "");
    else if (mode == "flood" && replies[k].size() < want.size() && want.compare(0, replies[k].size(), replies[k]) == 0)
      message = fmt::format("{}: reply {} is {} bytes, expected {}: the rest of it was never written", how, k + 1,
                            replies[k].size(), want.size());
    else if (mode == "pieces")
      message = fmt::format("{}: reply {} is {}, expected {}: the child took part of a request for a whole one", how,
                            k + 1, printable(replies[k]), printable(want));
    else
      message = fmt::format("{}: reply {} is {}, expected {}", how, k + 1, printable(replies[k]), printable(want));
    evidence.push_back(hint);
    return CheckOutcome::fail(message, evidence);
  }
  if (replies.size() > requests.size())
    return CheckOutcome::fail(fmt::format("{}: the child sent {} replies to {} requests, the first extra one {}", how,
                                          replies.size(), requests.size(), printable(replies[requests.size()])),
                              {pieces.empty() ? hint : pieces.front(), hint});
  int status = 0;
  const auto line = report.line_starting("status");
  if (!line || std::sscanf(line->c_str(), "status %d", &status) != 1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return CheckOutcome::fail(fmt::format("{}: the child did not exit 0 at EOF ({})", how,
                                          line ? describe_status(status) : fmt::format("{}", fmt::join(report.lines, "; "))));
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab1.child_dies", child_dies);
IPCG_REGISTER_CHECK("lab1.across_calls", across_calls);
IPCG_REGISTER_CHECK("lab1.client", client);

}  // namespace
}  // namespace lab1
