// lab1 checks on run_pipeline: output, returned status, pipe ends held (from /proc, at the
// gate), reaping. Each check judges one property from outside the student's processes.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>

#include "common.hpp"
#include "harness/runner/reference_memo.hpp"

namespace lab1 {
namespace {

// run_pipeline must have returned a status: "error E" (e.g. the skeleton's ENOSYS) or nothing
// at all fails whatever else the test looks at.
std::optional<CheckOutcome> judge_returned(const RunOutcome& out) {
  const auto report = lab1_driver_report(out);
  if (auto bad = died_inside_call(out, report)) return bad;
  if (report.results.empty()) return CheckOutcome::fail("run_pipeline never returned (the driver died inside it)");
  int err = 0;
  if (std::sscanf(report.results[0].c_str(), "error %d", &err) == 1)
    return CheckOutcome::fail(fmt::format("run_pipeline failed: {} (it returned -1)", std::strerror(err)));
  return std::nullopt;
}

// The pipeline's output is judged as output: if run_pipeline returns before its stages end (a
// reaping bug, judged by its own test), the stages still get to finish within the time limit.
RunRequest output_request(const TestContext& ctx, const std::string& program, const Stages& stages,
                          const std::string& input) {
  auto req = driver_request(ctx, pipeline_argv(ctx, program, stages, false, false), input);
  req.wait_for_descendants = true;
  return req;
}

CheckOutcome pipeline_output(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  const std::string input = test_input(ctx);
  // The reference's output depends only on the test, its seed and the reference's build: in a
  // batch (every submission under one seed) it runs for the first submission only.
  IPCG_TRY_OUTCOME(RunOutcome expected, memo_reference_run(ctx, "pipeline output", [&] {
    return run(ctx.cell, output_request(ctx, ctx.reference_program("pipeline"), stages, input));
  }));
  if (auto bad = abnormal_ending(expected, "the reference pipeline"))
    return CheckOutcome::with(Status::error, "the reference failed on this test: " + bad->message, bad->evidence);
  IPCG_TRY_OUTCOME(RunOutcome got, run(ctx.cell, output_request(ctx, ctx.program("pipeline"), stages, input)));
  if (auto bad = abnormal_ending(got, "the pipeline")) {
    bad->output = got.captures[2].display();
    return *bad;
  }
  const auto& want = expected.captures[1];
  const auto& have = got.captures[1];
  if (have.truncated || want.truncated) {
    if (have.total_bytes != want.total_bytes)
      return CheckOutcome::fail(fmt::format("output has {} bytes, the reference's {}", have.total_bytes, want.total_bytes));
  }
  if (have.data != want.data) return CheckOutcome::fail(describe_difference(want.data, have.data));
  if (auto bad = judge_returned(got)) return *bad;
  return CheckOutcome::pass();
}

CheckOutcome pipeline_status(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  const int expect_exit = ctx.test.params.value("expect_exit", 0);
  IPCG_TRY_OUTCOME(RunOutcome got, run(ctx.cell, driver_request(ctx, pipeline_argv(ctx, ctx.program("pipeline"), stages, false, false), test_input(ctx))));
  if (auto bad = abnormal_ending(got, "the pipeline")) return *bad;
  auto lines = lab1_driver_report(got).results;
  if (lines.size() > 1)
    return CheckOutcome::fail(
        fmt::format("run_pipeline returned {} times: a child went on running the parent's code "
                    "(after exec fails, a child must _exit(127))", lines.size()),
        lines);
  if (auto bad = judge_returned(got)) return *bad;
  int status = 0;
  if (std::sscanf(lines[0].c_str(), "status %d", &status) != 1)
    return CheckOutcome::fail("run_pipeline failed: " + lines[0] + " (errno)", lines);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != expect_exit)
    return CheckOutcome::fail(fmt::format("run_pipeline returned {} ({}), expected the last stage's exit status {}",
                                          status, describe_status(status), expect_exit));
  return CheckOutcome::pass();
}

// --- the gate: every stage stopped right after exec, the parent settled ----------------------

struct GateView {
  std::optional<ProcessSnapshot> parent;  // the driver running run_pipeline; empty if it had exited
  std::vector<ProcessSnapshot> stages;    // in fork (pid) order
  std::string note;                       // how the parent looked when the grader read /proc
};

// Ready when every gated stage is stopped and the parent waits (or is gone); after a grace
// period the grader looks anyway and says so.
std::optional<GateView> try_gate(const SandboxedProcess& p, std::size_t n_stages, Grace& grace) {
  auto snaps = live_snapshots(p);
  GateView view;
  for (const auto& s : snaps)
    if (is_gated(s) && s.state == 'T') view.stages.push_back(s);
  if (view.stages.size() < n_stages) return std::nullopt;
  if (const auto* parent = find_pid(snaps, p.pid()); parent && parent->state != 'Z') {
    view.parent = *parent;
    if (!blocked_in(*parent, {kSysWait4, kSysWaitid})) {
      if (!grace.expired()) return std::nullopt;
      view.note = fmt::format("the parent pid {} never blocked in wait; read while it was in state {}",
                              parent->pid, parent->state);
    }
  }
  std::sort(view.stages.begin(), view.stages.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return view;
}

Result<GateView> observe_gate(TestContext& ctx, const Stages& stages, RunContext& run_context, RunOutcome& out) {
  std::optional<GateView> view;
  Grace grace{settle_grace(ctx)};
  auto req = driver_request(ctx, pipeline_argv(ctx, ctx.program("pipeline"), stages, true, false), test_input(ctx));
  req.on_tick = [&](SandboxedProcess& p, const RunContext& rc) {
    run_context = rc;
    view = try_gate(p, stages.size(), grace);
    return view ? TickAction::kill : TickAction::keep_going;  // the evidence is in; no need to run on
  };
  // The parent exited (e.g. it never waits): the stages may still be on their way to the gate.
  req.on_exit = [&](SandboxedProcess& p) {
    settle_after_exit(p, settle_grace(ctx), [&](SandboxedProcess& q) {
      view = try_gate(q, stages.size(), grace);
      return view.has_value();
    });
  };
  IPCG_TRY(out, run(ctx.cell, std::move(req)));
  if (!view) return fail(Errc::internal, "gate never reached");
  return *view;
}

// What a pipe inode is, in the pipeline's terms.
std::map<std::uint64_t, std::string> name_pipes(const GateView& view, const RunContext& rc) {
  std::map<std::uint64_t, std::string> names;
  if (rc.pipe_inodes.count(0)) names[rc.pipe_inodes.at(0)] = "the pipeline's input";
  if (rc.pipe_inodes.count(1)) names[rc.pipe_inodes.at(1)] = "the pipeline's output";
  for (std::size_t i = 0; i < view.stages.size(); ++i) {
    const FdInfo* out = view.stages[i].fd(1);
    if (!out || out->kind != FdKind::pipe || names.count(out->inode)) continue;
    for (std::size_t j = 0; j < view.stages.size(); ++j) {
      const FdInfo* in = view.stages[j].fd(0);
      if (in && in->inode == out->inode)
        names[out->inode] = fmt::format("between stage {} and stage {}", i + 1, j + 1);
    }
  }
  return names;
}

std::string pipe_role(const std::map<std::uint64_t, std::string>& names, const FdInfo& fd) {
  auto it = names.find(fd.inode);
  return it == names.end() ? "" : " (" + it->second + ")";
}

CheckOutcome gate_not_reached(const RunOutcome& out, std::size_t n) {
  if (auto bad = abnormal_ending(out, "the pipeline")) return *bad;
  if (auto bad = judge_returned(out)) return *bad;
  return CheckOutcome::fail(fmt::format("not all {} stages were exec'ed: the grader never saw them start", n));
}

CheckOutcome stage_fds(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  RunContext rc;
  RunOutcome out;
  auto view = observe_gate(ctx, stages, rc, out);
  if (!view) return gate_not_reached(out, stages.size());
  const auto names = name_pipes(*view, rc);
  std::vector<std::string> evidence;
  for (std::size_t i = 0; i < view->stages.size(); ++i) {
    const auto& s = view->stages[i];
    const FdInfo* input = s.fd(0);
    for (const auto& fd : s.fds) {
      if (fd.fd <= 2) continue;
      std::string why = ": leaked into the exec'ed program";
      if (input && fd.kind == FdKind::pipe && fd.inode == input->inode && fd.end == PipeEnd::write)
        why = ", its own input pipe: write end left open: the reader never sees EOF";
      evidence.push_back(fmt::format("pid {} ({}) holds {}{}{}", s.pid, stage_label(s, i), describe_fd(fd),
                                     pipe_role(names, fd), why));
    }
  }
  if (!view->note.empty()) evidence.push_back(view->note);
  if (evidence.size() == (view->note.empty() ? 0u : 1u)) return CheckOutcome::pass();
  return CheckOutcome::fail(fmt::format("exec'ed stages hold {} fds besides stdin, stdout and stderr",
                                        evidence.size() - (view->note.empty() ? 0 : 1)),
                            evidence);
}

CheckOutcome parent_fds(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  RunContext rc;
  RunOutcome out;
  auto view = observe_gate(ctx, stages, rc, out);
  if (!view) return gate_not_reached(out, stages.size());
  if (!view->parent) return CheckOutcome::pass();  // it exited: it holds nothing (reaping is another test)
  const auto names = name_pipes(*view, rc);
  const auto& parent = *view->parent;
  std::vector<std::string> evidence;
  for (const auto& fd : parent.fds) {
    if ((fd.kind != FdKind::pipe && fd.kind != FdKind::fifo) || is_grader_pipe(rc, fd.inode)) continue;
    const std::string consequence = fd.end == PipeEnd::read
        ? ": if the reader exits early, the writer never gets SIGPIPE"
        : ": the reader of this pipe never sees EOF";
    evidence.push_back(fmt::format("pid {} ({}) holds {}{} while it waits{}", parent.pid, parent.comm, describe_fd(fd),
                                   pipe_role(names, fd), consequence));
  }
  if (!view->note.empty()) evidence.push_back(view->note);
  const std::size_t held = evidence.size() - (view->note.empty() ? 0 : 1);
  if (held == 0) return CheckOutcome::pass();
  return CheckOutcome::fail(fmt::format("the parent keeps {} pipe ends open after starting the stages", held),
                            evidence);
}

// --- reaping: the driver stops itself after run_pipeline returns ------------------------------

CheckOutcome reaped(TestContext& ctx) {
  const Stages stages = stages_param(ctx.test);
  std::optional<std::vector<ProcessSnapshot>> children;
  pid_t parent_pid = 0;
  auto req = driver_request(ctx, pipeline_argv(ctx, ctx.program("pipeline"), stages, false, true), test_input(ctx));
  req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
    auto snaps = live_snapshots(p);
    const auto* parent = find_pid(snaps, p.pid());
    if (!parent || parent->state != 'T') return TickAction::keep_going;
    parent_pid = parent->pid;
    children.emplace();
    for (const auto& s : snaps)
      if (s.ppid == parent->pid) children->push_back(s);
    if (children->empty()) {
      // A pass must not rest on one tree walk: ask the whole process table for the parent's
      // children too (a clean-clone CI run once saw none where there were three).
      static const ProcInspector inspector;
      const ProcfsProcessTable table;
      for (pid_t pid : table.all_pids())
        if (table.parent_of(pid) == parent->pid)
          if (auto snap = inspector.snapshot(pid)) children->push_back(std::move(*snap));
    }
    return TickAction::kill;
  };
  IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, std::move(req)));
  if (!children) {
    if (auto bad = abnormal_ending(out, "the pipeline")) return *bad;
    return CheckOutcome::fail("the driver exited without run_pipeline returning");
  }
  if (auto bad = judge_returned(out)) return *bad;
  std::vector<std::string> evidence;
  for (const auto& c : *children) {
    if (c.state == 'Z')
      evidence.push_back(fmt::format("pid {} ({}) is a zombie: run_pipeline returned without waiting for it", c.pid, c.comm));
    else
      evidence.push_back(fmt::format("pid {} ({}) is still running (state {}) after run_pipeline returned: never waited for",
                                     c.pid, c.comm, c.state));
  }
  if (evidence.empty()) return CheckOutcome::pass();
  return CheckOutcome::fail(fmt::format("{} children of pid {} were not reaped when run_pipeline returned",
                                        evidence.size(), parent_pid),
                            evidence);
}

IPCG_REGISTER_CHECK("lab1.pipeline_output", pipeline_output);
IPCG_REGISTER_CHECK("lab1.pipeline_status", pipeline_status);
IPCG_REGISTER_CHECK("lab1.stage_fds", stage_fds);
IPCG_REGISTER_CHECK("lab1.parent_fds", parent_fds);
IPCG_REGISTER_CHECK("lab1.reaped", reaped);

}  // namespace
}  // namespace lab1
