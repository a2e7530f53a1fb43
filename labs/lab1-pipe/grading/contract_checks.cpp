// lab1 checks on run_pipeline's whole contract, beyond the happy path: a pipe() or fork() made
// to fail from outside (resource limits), the caller's own children and descriptors left alone,
// waits interrupted by a signal (EINTR), a failed exec that must _exit, and the signal state
// exec'ed stages start with. Each is judged from /proc and the trusted drivers and stages.
#include <fmt/format.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>

#include "common.hpp"

namespace lab1 {
namespace {

std::vector<std::string> with_options(std::vector<std::string> argv, const std::vector<std::string>& options) {
  argv.insert(argv.begin() + 1, options.begin(), options.end());
  return argv;
}

RunRequest pipeline_request(const TestContext& ctx, const std::vector<std::string>& options, const Stages& stages,
                            bool gate_stages, const std::string& input) {
  return driver_request(ctx, with_options(pipeline_argv(ctx, ctx.program("pipeline"), stages, gate_stages, false), options),
                        input);
}

// Pipe ends the caller holds that are not the grader's: what a call left behind.
std::vector<std::string> leftover_ends(const ProcessSnapshot& caller, const RunContext& rc, std::string_view when) {
  std::vector<std::string> found;
  for (const auto& fd : caller.fds)
    if ((fd.kind == FdKind::pipe || fd.kind == FdKind::fifo) && !is_grader_pipe(rc, fd.inode))
      found.push_back(fmt::format("pid {} ({}) still holds {} {}", caller.pid, caller.comm, describe_fd(fd), when));
  return found;
}

// --- a pipe() or a fork() that fails midway ----------------------------------------------------

struct FailureCase {
  const char* option;     // driver option lowering the limit
  const char* spare;      // how much it leaves: 2 fds (one pipe()), 1 process (one fork())
  const char* limit;      // words for the report
  const char* call;       // which call fails
  std::set<int> errnos;   // what run_pipeline may set
};

const FailureCase kFailures[] = {
    {"--spare-fds", "2", "only 2 free descriptors (RLIMIT_NOFILE)", "the second pipe()", {EMFILE, ENFILE}},
    {"--spare-procs", "1", "room for 1 more process (RLIMIT_NPROC)", "the second fork()", {EAGAIN, ENOMEM}},
};

std::optional<CheckOutcome> judge_failure_case(TestContext& ctx, const FailureCase& fc, const Stages& stages,
                                               std::vector<std::string>& notes) {
  RunOutcome out;
  RunContext rc;
  auto req = pipeline_request(ctx, {"--gate-after", fc.option, fc.spare}, stages, false, "");
  IPCG_TRY_OUTCOME(std::optional<AfterCall> after, run_to_gate_after(ctx, std::move(req), out, rc));
  const auto report = lab1_driver_report(out);
  if (report.line_starting("limit")) {
    notes.push_back(fmt::format("{} could not be made to fail here ({}): not tested", fc.call, *report.line_starting("limit")));
    return std::nullopt;
  }
  const std::string situation = fmt::format("with {}, {} fails", fc.limit, fc.call);
  if (!after) {
    if (auto bad = died_inside_call(out, report)) {
      bad->message = situation + ": " + bad->message;
      return bad;
    }
    if (auto bad = abnormal_ending(out, "run_pipeline (" + situation + ")")) {
      bad->evidence.insert(bad->evidence.begin(),
                           "the first stage never ends by itself: when the pipeline cannot be completed, kill "
                           "the stages already started, then wait for them");
      return bad;
    }
    return CheckOutcome::fail(situation + ": the driver ended without run_pipeline returning");
  }
  std::vector<std::string> evidence;
  int err = 0, status = 0;
  if (report.results.empty()) return CheckOutcome::fail(situation + ": run_pipeline never returned");
  const auto& result = report.results.front();
  if (std::sscanf(result.c_str(), "status %d", &status) == 1)
    evidence.push_back(fmt::format("run_pipeline returned {} ({}) instead of -1 with errno set", status,
                                   describe_status(status)));
  else if (std::sscanf(result.c_str(), "error %d", &err) == 1 && !fc.errnos.count(err))
    evidence.push_back(fmt::format("run_pipeline returned -1 with errno {} ({}), not the error of the call that "
                                   "failed ({})", err, std::strerror(err), std::strerror(*fc.errnos.begin())));
  for (const auto& child : after->children) {
    if (child.state == 'Z')
      evidence.push_back(fmt::format("pid {} ({}) was started and is a zombie: never waited for", child.pid, child.comm));
    else
      evidence.push_back(fmt::format("pid {} ({}) was started and still runs (state {}): kill the stages already "
                                     "started, then wait for them", child.pid, child.comm, child.state));
  }
  for (auto& line : leftover_ends(after->caller, rc, "after run_pipeline failed")) evidence.push_back(std::move(line));
  if (evidence.empty()) return std::nullopt;
  return CheckOutcome::fail(situation + ": the caller is not left as it was", evidence);
}

CheckOutcome start_failure(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  std::vector<std::string> notes;
  for (const auto& fc : kFailures)
    if (auto bad = judge_failure_case(ctx, fc, stages, notes)) {
      bad->evidence.insert(bad->evidence.end(), notes.begin(), notes.end());
      return *bad;
    }
  auto pass = CheckOutcome::pass();
  pass.evidence = notes;
  return pass;
}

// --- the caller's own children ---------------------------------------------------------------

// "others EXITED RUNNING" from the driver, as pids.
std::optional<std::pair<pid_t, pid_t>> other_children(const DriverReport& report) {
  const auto line = report.line_starting("others");
  int exited = 0, running = 0;
  if (!line || std::sscanf(line->c_str(), "others %d %d", &exited, &running) != 2) return std::nullopt;
  return std::make_pair(static_cast<pid_t>(exited), static_cast<pid_t>(running));
}

// A caller blocked waiting for ANY child (wait4/waitid with pid -1 or 0): with a child of its
// own that never exits, such a wait never returns.
bool waits_for_any_child(const ProcessSnapshot& s) {
  if (!s.syscall || s.syscall_args.empty()) return false;
  const int first = static_cast<int>(s.syscall_args[0]);  // pid_t and idtype_t are ints
  if (*s.syscall == SYS_wait4) return first <= 0;
  if (*s.syscall == SYS_waitid) return first == P_ALL || first == P_PGID;
  return false;
}

std::optional<CheckOutcome> judge_own_children(TestContext& ctx, RunRequest req, const std::string& call,
                                               int expect_exit) {
  RunOutcome out;
  RunContext rc;
  std::optional<ProcessSnapshot> waiting_for_any;
  ResponderGate gate(ctx);
  auto watch = [&](SandboxedProcess& p) {
    gate.tick(p);
    for (const auto& s : live_snapshots(p))
      if (s.pid == p.pid() && waits_for_any_child(s)) waiting_for_any = s;
  };
  IPCG_TRY_OUTCOME(std::optional<AfterCall> after, run_to_gate_after(ctx, std::move(req), out, rc, {.each_tick = watch}));
  const auto report = lab1_driver_report(out);
  const auto others = other_children(report);
  if (!after) {
    if (auto bad = died_inside_call(out, report)) return bad;
    if (auto bad = abnormal_ending(out, call)) {
      if (waiting_for_any && others) {
        pid_t running = others->second;  // as the driver sees it; the report names host pids
        if (out.hang)
          for (const auto& b : out.hang->processes)
            if (b.process.ns_pid == others->second && b.process.ppid == waiting_for_any->pid) running = b.process.pid;
        bad->evidence.insert(bad->evidence.begin(),
                             fmt::format("{} waits for any child (wait/waitpid(-1)), and the caller's own child "
                                         "pid {} (not started by {}) never exits: wait for your children by pid",
                                         call, running, call));
      }
      return bad;
    }
    return CheckOutcome::fail(call + " never returned");
  }
  if (!others) return CheckOutcome::with(Status::error, "the driver did not start its own children");
  std::vector<std::string> evidence;
  const auto find_child = [&](pid_t pid) -> const ProcessSnapshot* {
    for (const auto& c : after->children)
      if (c.ns_pid == pid) return &c;  // the driver reports pids as it sees them
    return nullptr;
  };
  // Gone from /proc, a child has only the pid the driver saw (in its pid namespace).
  if (const auto* exited = find_child(others->first); !exited || exited->state != 'Z')
    evidence.push_back(fmt::format("the caller's own child (pid {} as the caller numbers it) had exited before {} was "
                                   "called, and its status is gone: {} reaped a child that is not its own (wait(NULL) "
                                   "or waitpid(-1))", others->first, call, call));
  if (!find_child(others->second))
    evidence.push_back(fmt::format("the caller's own child (pid {} as the caller numbers it, still running) is no "
                                   "longer its child", others->second));
  // A call that failed outright never got to wait for anything: the property is not shown.
  for (const auto& result : report.results) {
    int err = 0;
    if (std::sscanf(result.c_str(), "error %d", &err) == 1)
      return CheckOutcome::fail(fmt::format("{} failed: {}: whose children it waits for is judged only when it "
                                            "works", call, std::strerror(err)));
  }
  // A wrong status is another test's business, unless it is the other child's.
  for (const auto& result : report.results) {
    int status = 0;
    if (std::sscanf(result.c_str(), "status %d", &status) == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 42 &&
        expect_exit != 42)
      evidence.push_back(fmt::format("{} returned exit status 42, the status of the caller's other child; its own "
                                     "child's is {}", call, expect_exit));
  }
  if (evidence.empty()) return std::nullopt;
  return CheckOutcome::fail(call + " touched children that are not its own", evidence);
}

CheckOutcome own_children(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  const int expect_exit = ctx.test.params.value("expect_exit", 0);
  if (auto bad = judge_own_children(ctx, pipeline_request(ctx, {"--gate-after", "--others", ctx.tool("stage")}, stages, false, "x\n"),
                                    "run_pipeline", expect_exit))
    return *bad;
  auto conv = driver_request(ctx, {ctx.program("parent"), "--gate-after", "--others", ctx.tool("stage"), ctx.tool("stage"),
                                   "--gate-each", "respond"},
                             "one\ntwo\n");
  if (auto bad = judge_own_children(ctx, std::move(conv), "conv_finish", 0)) return *bad;
  return CheckOutcome::pass();
}

// --- EINTR: a signal without SA_RESTART while run_pipeline waits -------------------------------

// Delivers SIGUSR1 to the caller each time it waits (blocked in wait4/waitid) with a stage still
// stopped at its gate, then lets one more stage go: every wait of run_pipeline is interrupted
// once. Returns a note when the caller never waited.
class InterruptEachWait {
 public:
  InterruptEachWait(std::size_t stages, std::chrono::milliseconds grace) : stages_(stages), grace_(grace) {}

  void tick(SandboxedProcess& p) {
    auto snaps = live_snapshots(p);
    std::vector<ProcessSnapshot> gated;
    for (const auto& s : snaps)
      if (is_gated(s)) gated.push_back(s);
    std::sort(gated.begin(), gated.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
    if (!started_) {
      if (gated.size() < stages_ || !std::all_of(gated.begin(), gated.end(), [](const auto& s) { return s.state == 'T'; }))
        return;
      started_ = true;
      order_ = gated;
    }
    const auto* caller = find_pid(snaps, p.pid());
    if (released_ >= order_.size() || !caller) return;
    if (sent_ > released_) {  // a signal is on its way: release a stage once it was delivered
      if (caller->signals.is_pending(SIGUSR1)) return;
      ::kill(order_[released_++].pid, SIGCONT);
      grace_.reset();
      return;
    }
    if (blocked_in(*caller, {kSysWait4, kSysWaitid})) {
      ::kill(caller->pid, SIGUSR1);
      ++sent_;
    } else if (grace_.expired()) {  // it does not wait where we can see it: go on
      note_ = fmt::format("the parent pid {} was not blocked in wait when stage {} was released", caller->pid, released_ + 1);
      ::kill(order_[released_++].pid, SIGCONT);
      grace_.reset();
    }
  }
  std::size_t signals_sent() const { return sent_; }
  const std::string& note() const { return note_; }

 private:
  std::size_t stages_;
  bool started_ = false;
  std::vector<ProcessSnapshot> order_;
  std::size_t released_ = 0, sent_ = 0;
  Grace grace_;
  std::string note_;
};

// With `interrupt`, SIGUSR1 at each wait; without, the same run with no signal (the baseline:
// what fails there is not about EINTR, and other tests judge it).
std::optional<CheckOutcome> judge_pipeline_eintr(TestContext& ctx, const Stages& stages, int expect_exit,
                                                 bool interrupt) {
  RunOutcome out;
  RunContext rc;
  InterruptEachWait interrupter(stages.size(), settle_grace(ctx));
  auto req = pipeline_request(ctx, {"--gate-after", "--eintr"}, stages, interrupt, "x\n");
  GateWatch watch;
  if (interrupt) watch.each_tick = [&](SandboxedProcess& p) { interrupter.tick(p); };
  IPCG_TRY_OUTCOME(std::optional<AfterCall> after, run_to_gate_after(ctx, std::move(req), out, rc, watch));
  const auto report = lab1_driver_report(out);
  const std::string how = fmt::format("SIGUSR1 (handler installed without SA_RESTART) was delivered {} times while "
                                      "run_pipeline waited", interrupter.signals_sent());
  if (!after) {
    if (auto bad = died_inside_call(out, report)) return bad;
    if (auto bad = abnormal_ending(out, "run_pipeline")) return bad;
    return CheckOutcome::fail("run_pipeline never returned");
  }
  std::vector<std::string> evidence;
  int status = 0, err = 0;
  if (!report.results.empty() && std::sscanf(report.results[0].c_str(), "error %d", &err) == 1)
    evidence.push_back(fmt::format("run_pipeline returned -1 with errno {} ({}): when waitpid fails with EINTR, call it again",
                                   err, std::strerror(err)));
  else if (!report.results.empty() && std::sscanf(report.results[0].c_str(), "status %d", &status) == 1 &&
           !(WIFEXITED(status) && WEXITSTATUS(status) == expect_exit))
    evidence.push_back(fmt::format("run_pipeline returned {} ({}), expected the last stage's exit status {}", status,
                                   describe_status(status), expect_exit));
  for (const auto& child : after->children)
    evidence.push_back(fmt::format("pid {} ({}) was never waited for", child.pid,
                                   child.state == 'Z' ? "a zombie" : "still running"));
  if (!interrupter.note().empty() && !evidence.empty()) evidence.push_back(interrupter.note());
  if (evidence.empty()) return std::nullopt;
  return CheckOutcome::fail(how + ": the call did not complete correctly", evidence);
}

// The conversation: SIGUSR1 while conv_exchange reads each reply, and while conv_finish waits.
std::optional<CheckOutcome> judge_conversation_eintr(TestContext& ctx, const std::vector<std::string>& requests,
                                                     bool interrupt) {
  auto req = driver_request(ctx, {ctx.program("parent"), "--eintr", ctx.tool("stage"), "--gate-each", "respond", "--gate-exit"},
                            joined_lines(requests));
  std::size_t stops = 0, sent = 0;
  std::optional<pid_t> held;  // the responder, stopped, until the signal was delivered
  std::uint64_t last_rchar = ~0ull;
  Grace grace;
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    auto snaps = live_snapshots(p);
    const auto* caller = find_pid(snaps, p.pid());
    if (held) {
      if (caller && caller->signals.is_pending(SIGUSR1)) return TickAction::keep_going;
      ::kill(*held, SIGCONT);
      held.reset();
      return TickAction::keep_going;
    }
    for (const auto& s : snaps) {
      if (!is_gated(s, "respond") || s.state != 'T') continue;
      const auto rchar = bytes_read(s.pid).value_or(0);
      const bool at_exit = stops == requests.size();
      if (rchar == last_rchar && !at_exit) return TickAction::keep_going;  // the stop already handled
      // The caller should now wait: for the reply (read/poll) or, at the end, for the child.
      const bool waiting = caller && (at_exit ? blocked_in(*caller, {kSysWait4, kSysWaitid})
                                              : blocked_in(*caller, {kSysRead, kSysReadv, kSysPoll, kSysSelect,
                                                                     kSysPselect6, kSysPpoll}));
      if (!waiting && !grace.expired(settle_grace(ctx))) return TickAction::keep_going;
      if (waiting && caller && interrupt) {
        ::kill(caller->pid, SIGUSR1);
        ++sent;
        held = s.pid;
      } else {
        ::kill(s.pid, SIGCONT);
      }
      last_rchar = rchar;
      ++stops;
      grace.reset();
    }
    return TickAction::keep_going;
  };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  const auto report = lab1_driver_report(out);
  if (auto bad = died_inside_call(out, report)) return bad;
  if (auto bad = abnormal_ending(out, "the conversation")) return bad;
  const std::string how = fmt::format("SIGUSR1 (handler installed without SA_RESTART) was delivered {} times while "
                                      "conv_exchange read a reply or conv_finish waited", sent);
  for (const auto& line : report.lines) {
    char step[32];
    int err = 0;
    if (std::sscanf(line.c_str(), "error %31s %d", step, &err) == 2)
      return CheckOutcome::fail(how + fmt::format(": conv_{} failed with {}", step, std::strerror(err)),
                                {err == EINTR ? "a read() or waitpid() that fails with EINTR must be retried"
                                              : "the call must complete as if no signal had come"});
  }
  const auto replies = split_lines(out.captures[1].data);
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const std::string want = expected_reply(k + 1, requests[k]);
    if (k >= replies.size() || replies[k] != want)
      return CheckOutcome::fail(how + fmt::format(": reply {} is {}, expected {}", k + 1,
                                                  k < replies.size() ? printable(replies[k]) : "missing", printable(want)));
  }
  const auto status_line = report.line_starting("status");
  int status = -1;
  if (!status_line || std::sscanf(status_line->c_str(), "status %d", &status) != 1 || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return CheckOutcome::fail(how + ": conv_finish did not return the child's exit status 0");
  return std::nullopt;
}

// Each part is judged only where the same run without the signal passes: what fails without
// any signal is not about EINTR (other tests judge it).
CheckOutcome interrupted_calls(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  const int expect_exit = ctx.test.params.value("expect_exit", 0);
  std::vector<std::string> notes;
  if (auto bad = judge_pipeline_eintr(ctx, stages, expect_exit, true)) {
    if (!judge_pipeline_eintr(ctx, stages, expect_exit, false)) return *bad;
    notes.push_back("run_pipeline fails the same way without any signal: not judged here");
  }
  const auto requests = ctx.test.params.value("requests", std::vector<std::string>{"one", "two", "three"});
  if (auto bad = judge_conversation_eintr(ctx, requests, true)) {
    if (!judge_conversation_eintr(ctx, requests, false)) return *bad;
    notes.push_back("the conversation fails the same way without any signal: not judged here");
  }
  if (notes.size() == 2)  // nothing could be judged: no EINTR was ever shown to be handled
    return CheckOutcome::fail("run_pipeline and the conversation fail even without any signal, so retrying after "
                              "EINTR cannot be judged yet (the other tests say what fails)", notes);
  auto pass = CheckOutcome::pass();
  pass.evidence = notes;
  return pass;
}

// --- a failed exec leaves with _exit(127) --------------------------------------------------------

std::size_t occurrences(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + word.size())) ++n;
  return n;
}

CheckOutcome failed_exec(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  const std::string marker = fmt::format("caller-buffered-output-{}", ctx.seed);
  const std::string why = "a forked child that calls exit() flushes the stdio buffers it copied from the caller: "
                          "after a failed exec, call _exit(127)";
  IPCG_TRY_OUTCOME(RunOutcome piped, run(ctx.cell, pipeline_request(ctx, {"--marker", marker}, stages, false, "x\n")));
  auto report = lab1_driver_report(piped);
  if (auto bad = died_inside_call(piped, report)) return *bad;
  if (auto bad = abnormal_ending(piped, "run_pipeline")) return *bad;
  if (const auto seen = occurrences(piped.captures[1].data, marker); seen != 1)
    return CheckOutcome::fail(fmt::format("the caller's unflushed stdout ({}) was written {} times, not once, by a "
                                          "pipeline whose stage cannot be exec'ed", printable(marker), seen),
                              {why});
  if (report.results.size() != 1)
    return CheckOutcome::fail(fmt::format("run_pipeline returned {} times: a child whose exec failed went on running "
                                          "the caller's code", report.results.size()), {why});

  auto conv = driver_request(ctx, {ctx.program("parent"), "--marker", marker, "--go-on", stages.back().front()}, "");
  IPCG_TRY_OUTCOME(RunOutcome talked, run(ctx.cell, std::move(conv)));
  report = lab1_driver_report(talked);
  if (auto bad = died_inside_call(talked, report)) return *bad;
  if (auto bad = abnormal_ending(talked, "the conversation")) return *bad;
  if (const auto seen = occurrences(talked.captures[1].data, marker); seen != 1)
    return CheckOutcome::fail(fmt::format("the caller's unflushed stdout was written {} times, not once, when "
                                          "conv_start's child could not exec", seen), {why});
  int status = 0;
  const auto line = report.line_starting("status");
  if (report.results.size() != 1 || !line || std::sscanf(line->c_str(), "status %d", &status) != 1)
    return CheckOutcome::fail("conv_finish did not return the status of a child that could not exec", report.lines);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
    return CheckOutcome::fail(fmt::format("conv_finish returned {} ({}) for a child that could not exec, expected "
                                          "exit status 127", status, describe_status(status)),
                              {why});
  return CheckOutcome::pass();
}

// --- signal state of exec'ed stages ----------------------------------------------------------

std::vector<std::string> signal_findings(const ProcessSnapshot& s, const std::string& who) {
  std::vector<std::string> found;
  if (s.signals.ignored)
    found.push_back(fmt::format("pid {} ({}) starts with {} ignored{}", s.pid, who, signal_list(s.signals.ignored),
                                (s.signals.ignored & SignalMasks::bit(SIGPIPE))
                                    ? ": a stage whose reader is gone then gets EPIPE instead of dying of SIGPIPE"
                                    : ""));
  if (s.signals.blocked)
    found.push_back(fmt::format("pid {} ({}) starts with {} blocked: a blocked signal mask survives exec",
                                s.pid, who, signal_list(s.signals.blocked)));
  return found;
}

CheckOutcome stage_signals(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  std::vector<std::string> evidence;
  // Pipeline: every stage at its gate, right after exec.
  std::vector<ProcessSnapshot> seen;
  auto req = pipeline_request(ctx, {}, stages, true, "x\n");
  auto look = [&](SandboxedProcess& p) {
    for (const auto& s : live_snapshots(p))
      if (is_gated(s) && s.state == 'T' &&
          std::none_of(seen.begin(), seen.end(), [&](const auto& o) { return o.pid == s.pid; })) {
        seen.push_back(s);
        ::kill(s.pid, SIGCONT);
      }
    return seen.size() >= stages.size();
  };
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    look(p);
    return TickAction::keep_going;
  };
  req.on_exit = [&](SandboxedProcess& p) { settle_after_exit(p, settle_grace(ctx), look); };  // a caller that never waits
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  for (std::size_t i = 0; i < seen.size(); ++i)
    for (auto& line : signal_findings(seen[i], stage_label(seen[i], i))) evidence.push_back(std::move(line));
  if (seen.size() < stages.size() && evidence.empty()) {
    if (auto bad = abnormal_ending(out, "run_pipeline")) return *bad;
    return CheckOutcome::fail(fmt::format("only {} of {} stages were seen right after exec", seen.size(), stages.size()));
  }
  // Conversation: the child right after exec, with the caller's SIGPIPE at its default.
  std::optional<ProcessSnapshot> child;
  auto conv = driver_request(ctx, {ctx.program("parent"), "--sigpipe-default", ctx.tool("stage"), "--gate", "respond"}, "one\n");
  conv.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    for (const auto& s : live_snapshots(p))
      if (is_gated(s, "respond") && s.state == 'T') {
        child = s;
        return TickAction::kill;
      }
    return TickAction::keep_going;
  };
  IPCG_TRY_OUTCOME(RunOutcome talked, run(ctx.cell, std::move(conv)));
  if (child)
    for (auto& line : signal_findings(*child, "conv_start's child")) evidence.push_back(std::move(line));
  if (!evidence.empty())
    return CheckOutcome::fail("exec'ed programs start with signals ignored or blocked by the library: restore the "
                              "default disposition and unblock them in the child before exec", evidence);
  if (!child) {
    if (auto bad = abnormal_ending(talked, "the conversation")) return *bad;
    return CheckOutcome::fail("conv_start's child was never seen right after exec");
  }
  return CheckOutcome::pass();
}

// --- the caller's descriptors ----------------------------------------------------------------

std::string fd_role(int fd) {
  switch (fd) {
    case 0: return "stdin";
    case 1: return "stdout";
    case 2: return "stderr";
    case 3: return "the grader's control pipe";
    case 4: return "in_fd";
    case 5: return "out_fd";
  }
  return "fd";
}

std::vector<std::string> compare_fds(const ProcessSnapshot& before, const ProcessSnapshot& after) {
  std::vector<std::string> changed;
  for (int n = 0; n <= 5; ++n) {
    const FdInfo* was = before.fd(n);
    const FdInfo* now = after.fd(n);
    if (!was) continue;
    if (!now) {
      changed.push_back(fmt::format("fd {} ({}) = {} was closed by run_pipeline", n, fd_role(n), was->target));
      continue;
    }
    if (now->target != was->target)
      changed.push_back(fmt::format("fd {} ({}) was {} and is now {}: run_pipeline replaced the caller's fd (dup2 in "
                                    "the parent?)", n, fd_role(n), was->target, now->target));
    else if (now->flags != was->flags || now->cloexec != was->cloexec)
      changed.push_back(fmt::format("fd {} ({}) = {} had flags {:o}{} and now {:o}{}: run_pipeline changed the "
                                    "caller's fd", n, fd_role(n), now->target, was->flags, was->cloexec ? " (cloexec)" : "",
                                    now->flags, now->cloexec ? " (cloexec)" : ""));
  }
  return changed;
}

CheckOutcome caller_fds(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  const std::string input = test_input(ctx);
  RunOutcome out;
  RunContext rc;
  std::optional<ProcessSnapshot> before;
  auto req = pipeline_request(ctx, {"--gate-before", "--gate-after", "--fds", "--twice", "--reap-strays"}, stages, false, input);
  req.wait_for_descendants = true;
  IPCG_TRY_OUTCOME(std::optional<AfterCall> after,
                   run_to_gate_after(ctx, std::move(req), out, rc,
                                     {.before = [&](const ProcessSnapshot& s) { before = s; }, .continue_after = true}));
  const auto report = lab1_driver_report(out);
  if (auto bad = died_inside_call(out, report)) return *bad;
  if (!after || !before) {
    if (auto bad = abnormal_ending(out, "run_pipeline")) return *bad;
    return CheckOutcome::fail("run_pipeline did not return twice");
  }
  auto evidence = compare_fds(*before, after->caller);
  for (auto& line : leftover_ends(after->caller, rc, "after both calls returned")) evidence.push_back(std::move(line));
  if (!evidence.empty())
    return CheckOutcome::fail("run_pipeline changed descriptors of the caller's that were not its own", evidence);
  for (std::size_t i = 0; i < report.results.size(); ++i)
    if (!report.results[i].starts_with("status 0"))
      return CheckOutcome::fail(fmt::format("call {} of run_pipeline on the same in_fd and out_fd reported {}", i + 1,
                                            report.results[i]));
  if (auto bad = abnormal_ending(out, "the caller")) return *bad;
  if (out.captures[1].data != input)
    return CheckOutcome::fail("two pipelines on the same in_fd and out_fd, then the caller copying the rest of in_fd "
                              "to out_fd, do not pass the input through whole: " +
                              describe_difference(input, out.captures[1].data));
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab1.start_failure", start_failure);
IPCG_REGISTER_CHECK("lab1.own_children", own_children);
IPCG_REGISTER_CHECK("lab1.interrupted_calls", interrupted_calls);
IPCG_REGISTER_CHECK("lab1.failed_exec", failed_exec);
IPCG_REGISTER_CHECK("lab1.stage_signals", stage_signals);
IPCG_REGISTER_CHECK("lab1.caller_fds", caller_fds);

}  // namespace
}  // namespace lab1
