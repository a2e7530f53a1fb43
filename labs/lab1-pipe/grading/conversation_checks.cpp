// lab1 checks on the duplex conversation: replies (both pairings), strict alternation and one
// direction per pipe. The gated responder (`stage --gate respond`) stops after reading each
// request, so the grader can look at the parent while the reply is still owed.
#include <fmt/format.h>
#include <sys/wait.h>

#include <csignal>
#include <map>

#include "common.hpp"
#include "conversation_trace.hpp"

namespace lab1 {
namespace {

// params.requests, then (if given) one seeded random request of params.random_request_bytes.
std::vector<std::string> requests_param(TestContext& ctx) {
  const auto& p = ctx.test.params;
  if (!p.contains("requests") && !p.contains("random_request_bytes"))
    throw std::runtime_error("params.requests or params.random_request_bytes is required");
  auto requests = p.value("requests", std::vector<std::string>{});
  if (p.contains("random_request_bytes"))
    requests.push_back(random_text(ctx.rng, p["random_request_bytes"].get<std::size_t>(), false));
  return requests;
}

// The child's argv: params.child_tool runs the trusted stage tool with those arguments ("{seed}"
// becomes this test's seed); otherwise the child program of the test's roles.
std::vector<std::string> child_argv(const TestContext& ctx) {
  const auto& p = ctx.test.params;
  std::vector<std::string> argv;
  if (p.contains("child_tool")) {
    argv.push_back(ctx.tool("stage"));
    for (auto arg : p["child_tool"].get<std::vector<std::string>>())
      argv.push_back(arg == "{seed}" ? std::to_string(ctx.seed) : arg);
    return argv;
  }
  argv.push_back(ctx.program("child"));
  for (const auto& arg : p.value("child_args", std::vector<std::string>{})) argv.push_back(arg);
  return argv;
}

bool plays(const TestContext& ctx, const std::string& role, Impl impl) {
  const auto it = ctx.test.roles.find(role);
  return it == ctx.test.roles.end() ? impl == Impl::student : it->second == impl;
}

RunRequest parent_request(TestContext& ctx, const std::vector<std::string>& child_argv,
                          const std::vector<std::string>& requests, const std::vector<std::string>& options = {}) {
  std::vector<std::string> argv{ctx.program("parent")};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), child_argv.begin(), child_argv.end());
  return driver_request(ctx, std::move(argv), joined_lines(requests));
}

// Compares the replies the parent driver printed with the ones the protocol defines (each cut
// to cap-1 bytes when the parent's buffer holds cap). A reply cut short is the student's short
// read when the student plays the parent, their short write when they play the child.
std::optional<CheckOutcome> judge_replies(const std::vector<std::string>& requests, const std::string& output,
                                          bool student_parent, std::size_t cap = 0) {
  const auto replies = split_lines(output);
  for (std::size_t k = 0; k < requests.size(); ++k) {
    std::string want = expected_reply(k + 1, requests[k]);
    if (cap > 0 && want.size() > cap - 1) want.resize(cap - 1);
    if (k >= replies.size())
      return CheckOutcome::fail(fmt::format("got {} replies, expected {}", replies.size(), requests.size()));
    const auto& got = replies[k];
    if (got == want) continue;
    if (!got.empty() && got.size() < want.size() && want.compare(0, got.size(), got) == 0) {
      if (student_parent)
        return CheckOutcome::fail(fmt::format("reply {} is {} bytes, expected {}: conv_exchange returned part of a "
                                              "reply as the whole of it (a reply can arrive over several reads: read "
                                              "until its '\\n')", k + 1, got.size(), want.size()),
                                  {fmt::format("got {}, expected {}", printable(got), printable(want))});
      return CheckOutcome::fail(fmt::format("reply {} is {} bytes, expected {}: its tail was never written (a short "
                                            "write not retried?)", k + 1, got.size(), want.size()));
    }
    if (cap > 0 && got.size() > cap - 1)
      return CheckOutcome::fail(fmt::format("reply {} is {} bytes, more than the cap-1 = {} the buffer holds", k + 1,
                                            got.size(), cap - 1));
    return CheckOutcome::fail(fmt::format("reply {}: expected {}, got {}", k + 1, printable(want), printable(got)));
  }
  if (replies.size() > requests.size())
    return CheckOutcome::fail(fmt::format("got {} replies to {} requests", replies.size(), requests.size()));
  return std::nullopt;
}

// The driver's control lines: "reply k len"..., then "status S" or "error step errno".
std::optional<CheckOutcome> judge_control(const RunOutcome& out, bool reference_parent = false) {
  if (auto bad = died_inside_call(out, lab1_driver_report(out))) return bad;
  auto lines = control_lines(out);
  std::erase_if(lines, [](const auto& l) { return l.starts_with("call "); });
  if (lines.empty()) return CheckOutcome::fail("the parent reported nothing: it died before conv_start returned");
  const std::string& last = lines.back();
  char step[32];
  int err = 0, status = 0;
  if (std::sscanf(last.c_str(), "error %31s %d", step, &err) == 2) {
    if (reference_parent) {  // the reference does not fail on its own: the student's child made it
      const std::size_t replies = static_cast<std::size_t>(
          std::count_if(lines.begin(), lines.end(), [](const auto& l) { return l.starts_with("reply "); }));
      if (err == EPROTO)
        return CheckOutcome::fail(fmt::format("the child sent more after the '\\n' of reply {}: two replies to one "
                                              "request (did serve answer one request as two, e.g. at the end of each "
                                              "read()?)", replies + 1));
      if (err == EPIPE)
        return CheckOutcome::fail(fmt::format("the child closed its stdout or exited before it finished reply {} "
                                              "(did serve return or exit early?)", replies + 1));
      return CheckOutcome::fail(fmt::format("the reference parent's conv_{} failed: {}", step, std::strerror(err)));
    }
    return CheckOutcome::fail(fmt::format("conv_{} failed: {}", step, std::strerror(err)));
  }
  if (std::sscanf(last.c_str(), "status %d", &status) != 1)
    return CheckOutcome::fail("the conversation did not finish: last report was " + printable(last));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return CheckOutcome::fail(fmt::format("the child ended with wait status {} instead of exiting 0 at EOF", status));
  return std::nullopt;
}

std::size_t reply_bytes(const std::vector<std::string>& requests) {
  std::size_t total = 0;
  for (std::size_t k = 0; k < requests.size(); ++k) total += fmt::format("{} ", k + 1).size() + requests[k].size() + 1;
  return total;
}

CheckOutcome conversation(TestContext& ctx) {
  const auto requests = requests_param(ctx);
  const std::size_t cap = ctx.test.params.value("cap", std::size_t{0});
  std::vector<std::string> options;
  if (cap > 0) options = {"--cap", std::to_string(cap)};
  auto req = parent_request(ctx, child_argv(ctx), requests, options);
  // How much the child has written (wchar), to explain a hang: a reply cut short leaves the
  // parent waiting for the rest of its line.
  std::map<pid_t, std::uint64_t> written;
  ResponderGate gate(ctx);  // does nothing unless the child is a gated responder
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    gate.tick(p);
    for (pid_t pid : p.processes())
      if (pid != p.pid())
        if (auto w = bytes_written(pid)) written[pid] = *w;
    return TickAction::keep_going;
  };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  const bool student_parent = plays(ctx, "parent", Impl::student);
  if (auto bad = died_inside_call(out, lab1_driver_report(out))) return *bad;
  if (auto bad = abnormal_ending(out, "the conversation")) {
    const std::size_t owed = reply_bytes(requests);
    // Hints about the child's writing are about the student's code only when the child is theirs.
    for (const auto& [pid, w] : plays(ctx, "child", Impl::student) ? written : decltype(written){}) {
      if (w == 0)
        bad->evidence.push_back(fmt::format("pid {} (child) wrote nothing of the {} bytes of replies it owed "
                                            "(replies buffered and never flushed?)", pid, owed));
      else if (w < owed)
        bad->evidence.push_back(fmt::format("pid {} (child) wrote {} of the {} bytes of replies it owed: part of a "
                                            "reply was never written (a short write not retried?)", pid, w, owed));
    }
    bad->output = out.captures[2].display();
    return *bad;
  }
  if (out.captures[1].truncated)
    return CheckOutcome::fail(fmt::format("the replies came to {} bytes, more than the {} this test expects",
                                          out.captures[1].total_bytes, out.captures[1].data.size()));
  const auto report = lab1_driver_report(out);
  for (const auto& line : report.lines) {
    std::size_t k = 0;
    int bytes = 0;
    if (std::sscanf(line.c_str(), "guard %zu %d", &k, &bytes) == 2)
      return CheckOutcome::fail(fmt::format("conv_exchange wrote past the end of the reply buffer: {} of the {} bytes "
                                            "after reply[cap-1] changed during exchange {} (cap = {})",
                                            bytes, 64, k, cap),
                                {"at most cap-1 bytes of the reply and its terminating NUL fit in the buffer"});
    if (std::sscanf(line.c_str(), "unterminated %zu", &k) == 1)
      return CheckOutcome::fail(fmt::format("reply {} is not NUL-terminated within the buffer (cap = {})", k, cap));
  }
  // A conv_* call that failed says more than the replies it left missing.
  const bool reference_parent = plays(ctx, "parent", Impl::reference);
  if (report.line_starting("error"))
    if (auto bad = judge_control(out, reference_parent)) return *bad;
  if (auto bad = judge_replies(requests, out.captures[1].data, student_parent, cap)) return *bad;
  if (auto bad = judge_control(out, reference_parent)) return *bad;
  return CheckOutcome::pass();
}

// --- the gated responder ---------------------------------------------------------------------

struct Stop {
  ProcessSnapshot responder;
  std::optional<ProcessSnapshot> parent;
  std::string note;
};

// Where the gated responder stops: once right after exec (--gate), or after each request
// (--gate-each).
enum class StopAt { exec, each_request };

// Has the parent done all it will do while the responder is stopped? After a request: blocked
// reading the reply pipe, blocked writing (the request pipe is full) or waiting in poll/select.
// After exec: blocked in any of those or in wait (it may have "read" its own request back).
bool parent_settled(const ProcessSnapshot& parent, const ProcessSnapshot& responder, StopAt at) {
  if (blocked_in(parent, {kSysWrite, kSysPoll, kSysSelect, kSysPselect6, kSysPpoll})) return true;
  if (at == StopAt::exec && blocked_in(parent, {kSysRead, kSysReadv, kSysWait4, kSysWaitid})) return true;
  const FdInfo* reply_pipe = responder.fd(1);
  if (!blocked_in(parent, {kSysRead, kSysReadv}) || !reply_pipe || parent.syscall_args.empty()) return false;
  const FdInfo* fd = parent.fd(static_cast<int>(parent.syscall_args[0]));
  return fd && fd->inode == reply_pipe->inode;
}

// A new stop of the responder with the parent settled or gone; after a grace period, whatever
// the parent does (noted). `last_rchar` tells a new stop from the one already handled.
std::optional<Stop> try_stop(const SandboxedProcess& p, StopAt at, std::uint64_t last_rchar, Grace& grace) {
  auto snaps = live_snapshots(p);
  const ProcessSnapshot* responder = nullptr;
  for (const auto& s : snaps)
    if (is_gated(s, "respond") && s.state == 'T') responder = &s;
  if (!responder || bytes_read(responder->pid).value_or(0) == last_rchar) return std::nullopt;
  Stop stop{*responder, std::nullopt, ""};
  const auto* parent = find_pid(snaps, p.pid());
  if (!parent) return stop;
  stop.parent = *parent;
  if (!parent_settled(*parent, *responder, at)) {
    if (!grace.expired()) return std::nullopt;
    stop.note = fmt::format("the parent pid {} was not blocked reading the reply (state {}, {})", parent->pid,
                            parent->state, parent->syscall ? syscall_name(*parent->syscall) : "no syscall");
  }
  return stop;
}

CheckOutcome alternation(TestContext& ctx) {
  const auto requests = requests_param(ctx);
  std::vector<std::string> evidence, notes;
  std::size_t stops = 0;
  std::uint64_t last_rchar = 0;
  Grace grace{settle_grace(ctx)};
  auto req = parent_request(ctx, {ctx.tool("stage"), "--gate-each", "respond"}, requests);
  Trace unused;  // a check run outside the runner has no trace to fill
  ConversationTrace timeline(ctx.trace ? *ctx.trace : unused);
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    timeline.look(p);
    auto stop = try_stop(p, StopAt::each_request, last_rchar, grace);
    if (!stop) return TickAction::keep_going;
    ++stops;
    const pid_t responder = stop->responder.pid;
    const int early = unread_bytes(responder, 0).value_or(0);
    timeline.stopped(stops, responder, early);
    if (early > 0)
      evidence.push_back(fmt::format("after request {}, {} more bytes were already in the request pipe before reply "
                                     "{} was read: pid {} sent request {} early",
                                     stops, early, stops, p.pid(), stops + 1));
    if (!stop->note.empty()) notes.push_back(stop->note);
    last_rchar = bytes_read(responder).value_or(0);
    grace.reset();
    ::kill(responder, SIGCONT);
    return TickAction::keep_going;
  };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  timeline.finish(split_lines(out.captures[1].data).size());
  if (!evidence.empty()) {
    evidence.insert(evidence.end(), notes.begin(), notes.end());
    return CheckOutcome::fail("requests and replies do not strictly alternate", evidence);
  }
  if (auto bad = abnormal_ending(out, "the conversation")) return *bad;
  if (stops == 0)
    if (auto bad = judge_control(out)) return *bad;
  if (stops != requests.size())
    return CheckOutcome::fail(fmt::format("the child received {} of {} requests", stops, requests.size()));
  if (auto bad = judge_replies(requests, out.captures[1].data, true)) return *bad;
  return CheckOutcome::pass();
}

// Which pipe ends parent and child hold at the first stop (request 1 read, reply owed).
std::vector<std::string> duplex_findings(const Stop& stop, const RunContext& rc) {
  std::vector<std::string> found;
  const auto& child = stop.responder;
  const FdInfo* in = child.fd(0);
  const FdInfo* out = child.fd(1);
  if (in && out && in->kind == FdKind::pipe && in->inode == out->inode)
    found.push_back(fmt::format("pid {} (child) reads and writes the same {} (fd 0 and fd 1): one pipe used both "
                                "ways; a pipe carries one direction", child.pid, in->target));
  for (const auto& fd : child.fds)
    if (fd.fd > 2 && (fd.kind == FdKind::pipe || fd.kind == FdKind::fifo))
      found.push_back(fmt::format("pid {} (child) holds {}: leaked into the exec'ed child", child.pid, describe_fd(fd)));
  if (!stop.parent) return found;
  for (const auto& fd : stop.parent->fds) {
    if (fd.kind != FdKind::pipe || is_grader_pipe(rc, fd.inode)) continue;
    const bool request_pipe = in && fd.inode == in->inode;
    const bool reply_pipe = out && fd.inode == out->inode;
    if (request_pipe && fd.end != PipeEnd::write)
      found.push_back(fmt::format("pid {} (parent) holds {}, the request pipe's {}: the parent only writes requests",
                                  stop.parent->pid, describe_fd(fd), end_name(fd.end)));
    else if (reply_pipe && fd.end != PipeEnd::read)
      found.push_back(fmt::format("pid {} (parent) holds {}, the reply pipe's {}: the parent only reads replies",
                                  stop.parent->pid, describe_fd(fd), end_name(fd.end)));
    else if (!request_pipe && !reply_pipe)
      found.push_back(fmt::format("pid {} (parent) holds {}, which the conversation does not use",
                                  stop.parent->pid, describe_fd(fd)));
  }
  return found;
}

CheckOutcome duplex_ends(TestContext& ctx) {
  const auto requests = requests_param(ctx);
  std::optional<std::vector<std::string>> findings;
  Grace grace{settle_grace(ctx)};
  auto req = parent_request(ctx, {ctx.tool("stage"), "--gate", "respond"}, requests);
  req.on_tick = [&](SandboxedProcess& p, const RunContext& rc) {
    auto stop = try_stop(p, StopAt::exec, 0, grace);
    if (!stop) return TickAction::keep_going;
    findings = duplex_findings(*stop, rc);
    if (!findings->empty() && !stop->note.empty()) findings->push_back(stop->note);
    return TickAction::kill;
  };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  if (!findings) {
    if (auto bad = abnormal_ending(out, "the conversation")) return *bad;
    if (auto bad = judge_control(out)) return *bad;
    return CheckOutcome::fail("the child never started");
  }
  if (findings->empty()) return CheckOutcome::pass();
  return CheckOutcome::fail("a pipe is used in both directions or an end is held by the wrong process", *findings);
}

IPCG_REGISTER_CHECK("lab1.conversation", conversation);
IPCG_REGISTER_CHECK("lab1.alternation", alternation);
IPCG_REGISTER_CHECK("lab1.duplex_ends", duplex_ends);

}  // namespace
}  // namespace lab1
