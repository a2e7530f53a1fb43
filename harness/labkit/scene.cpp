#include "harness/labkit/scene.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "harness/labkit/labkit.hpp"
#include "harness/msglog/log_trace.hpp"

namespace ipcg {
namespace {

void nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

void drain(UniqueFd& fd, std::string& into, std::size_t cap = 1 << 20) {
  if (!fd) return;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      fd.reset();
      return;
    }
    if (n < 0) return;
    if (into.size() < cap) into.append(buf, static_cast<std::size_t>(n));
  }
}


}  // namespace

std::vector<std::string> Actor::lines() const { return split_lines(ctl_data); }

std::optional<std::string> Actor::line(std::string_view word) const {
  for (const auto& l : lines())
    if (l.starts_with(word) && (l.size() == word.size() || l[word.size()] == ' ')) return l;
  return std::nullopt;
}

std::string Actor::last_call() const {
  std::string call;
  for (const auto& l : lines()) {
    if (l.starts_with("call ")) call = l.substr(5);
    else call.clear();
  }
  return call;
}

// A check's own DeadlockWatch (300 ms) explains a deadlock it provoked in its own words: the
// scene's judgement waits a little longer, so that the watch speaks first.
constexpr std::chrono::milliseconds kAfterCheckWatches{250};

Scene::Scene(TestContext& ctx)
    : ctx_(ctx), stall_({.grace = ctx.test.limits.hang_grace + kAfterCheckWatches}),
      deadline_(Clock::now() + ctx.test.limits.wall) {
  if (auto p = make_pipe()) {
    log_ = std::move(*p);
    nonblocking(log_.read_end.get());
  }
}

Result<Actor*> Scene::start(std::string label, SpawnSpec spec, std::string stdin_data) {
  auto actor = std::make_unique<Actor>();
  actor->label = std::move(label);
  actor->student = spec.role == Role::student;
  IPCG_TRY(PipePair in, make_pipe());
  IPCG_TRY(PipePair out, make_pipe());
  IPCG_TRY(PipePair err, make_pipe());
  IPCG_TRY(PipePair ctl, make_pipe());
  // The scene's fds, then any the caller added (with_sync's monitor on fd 5).
  spec.fds.insert(spec.fds.begin(), {{in.read_end.get(), 0}, {out.write_end.get(), 1}, {err.write_end.get(), 2},
                                     {ctl.write_end.get(), kSceneControlFd}, {log_.write_end.get(), kSceneLogFd}});
  IPCG_TRY(SandboxedProcess proc, ctx_.cell.spawn(spec));
  actor->proc.emplace(std::move(proc));
  for (auto* fd : {&out.read_end, &err.read_end, &ctl.read_end}) nonblocking(fd->get());
  nonblocking(in.write_end.get());
  actor->stdin_w = std::move(in.write_end);
  actor->stdin_left = std::move(stdin_data);
  actor->out = std::move(out.read_end);
  actor->err = std::move(err.read_end);
  actor->ctl = std::move(ctl.read_end);
  actors_.push_back(std::move(actor));
  pump();
  return actors_.back().get();
}

void Scene::pump() {
  drain(log_.read_end, log_data_, 64 << 20);
  for (auto& a : actors_) {
    if (a->stdin_w) {
      while (!a->stdin_left.empty()) {
        const ssize_t n = ::write(a->stdin_w.get(), a->stdin_left.data(), a->stdin_left.size());
        if (n <= 0) break;
        a->stdin_left.erase(0, static_cast<std::size_t>(n));
      }
      if (a->stdin_left.empty()) a->stdin_w.reset();
    }
    drain(a->out, a->out_data, ctx_.test.limits.output_bytes);
    drain(a->err, a->err_data, ctx_.test.limits.output_bytes);
    drain(a->ctl, a->ctl_data);
    if (!a->status && a->proc) {
      pollfd p{a->proc->exit_fd(), POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        a->status = a->proc->wait_status().value_or(0);
        // What it wrote before it exited: its pipes' write ends are gone with it.
        drain(a->out, a->out_data, ctx_.test.limits.output_bytes);
        drain(a->err, a->err_data, ctx_.test.limits.output_bytes);
        drain(a->ctl, a->ctl_data);
      }
    }
  }
  drain(log_.read_end, log_data_, 64 << 20);
}

Result<bool> Scene::run_until(const std::function<bool()>& done, const std::function<void()>& tick) {
  for (;;) {
    pump();
    for (const auto& standing : standing_ticks_) standing();
    if (tick) tick();
    if (done()) return true;
    // Past the deadline only while a stall under way is judged (StallDetector::judged_by).
    const auto now = Clock::now();
    if (now >= deadline_ && !(judge_hangs_ && ctx_.test.limits.hang_grace.count() > 0 && stall_.judging(now)))
      return false;
    if (cell_hung()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the tick: /proc is polled
  }
}

bool Scene::cell_hung() {
  if (hung_for_) return true;
  const auto now = Clock::now();
  if (!judge_hangs_ || ctx_.test.limits.hang_grace.count() == 0 || !stall_.due(now)) return false;
  if (!ipcg::cell_hung(stall_, ctx_.cell.processes(), now)) return false;
  hung_for_ = stall_.stalled_for();
  return true;
}

bool Scene::all_exited(const std::vector<Actor*>& actors) const {
  return std::all_of(actors.begin(), actors.end(), [&](const Actor* a) { return exited(*a); });
}

std::optional<ProcessSnapshot> Scene::snapshot(const Actor& a) const {
  if (a.status || !a.proc) return std::nullopt;
  static const ProcInspector inspector;
  auto s = inspector.snapshot(a.proc->pid());
  if (!s) return std::nullopt;
  return *s;
}

CheckOutcome Scene::timed_out(const std::string& what) {
  if (hung_for_)
    return blocked_roles(Status::hung, fmt::format("{} hung: every process waited on another and none progressed "
                                                   "for {} ms (the wall limit was {} ms; a hang is judged even when "
                                                   "the wall limit comes first)",
                                                   what, hung_for_->count(), ctx_.test.limits.wall.count()));
  return blocked_roles(Status::timeout,
                       fmt::format("{} did not finish within {} ms", what, ctx_.test.limits.wall.count()));
}

CheckOutcome Scene::blocked_roles(Status status, std::string message) {
  static const ProcInspector inspector;
  std::vector<pid_t> pids;
  for (auto& a : actors_)
    if (!a->status && a->proc)
      for (pid_t p : a->proc->processes()) pids.push_back(p);
  const HangReport hang = inspector.diagnose_hang(inspector.snapshot_all(pids));
  std::vector<std::string> evidence;
  for (auto& a : actors_)
    if (!a->status && a->proc) {
      std::string where = "running";
      for (const auto& b : hang.processes)
        if (b.process.pid == a->proc->pid()) where = b.description;
      evidence.push_back(fmt::format("{}: {}{}", a->label, where,
                                     a->last_call().empty() ? "" : fmt::format(" (inside {})", a->last_call())));
    }
  CheckOutcome outcome = CheckOutcome::with(status, std::move(message));
  add_hang_evidence(outcome, hang, std::move(evidence));
  return outcome;
}

Result<MessageLog> Scene::message_log() {
  pump();
  return parse_message_log(log_data_);
}

bool student_plays(const TestContext& ctx, const std::string& program) {
  const auto it = ctx.test.roles.find(program);
  return it == ctx.test.roles.end() || it->second == Impl::student;
}

std::string label(const TestContext& ctx, const std::string& program, int n) {
  return fmt::format("{}{} ({})", program, n >= 0 ? fmt::format(" {}", n) : "",
                     student_plays(ctx, program) ? "student" : "reference");
}

SpawnSpec program_spec(TestContext& ctx, const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), ctx.program(program));
  return ctx.spawn_spec(std::move(args));
}

SpawnSpec tool_spec(TestContext& ctx, const std::string& tool, std::vector<std::string> args, Role role) {
  args.insert(args.begin(), ctx.tool(tool));
  SpawnSpec spec = ctx.spawn_spec(std::move(args));
  spec.role = role;
  return spec;
}

std::optional<CheckOutcome> judge_forbidden_symbols(const TestContext& ctx, const std::string& program,
                                                    const std::string& rule) {
  if (!student_plays(ctx, program) || ctx.student_forbidden_uses.empty()) return std::nullopt;
  std::vector<std::string> evidence;
  for (const auto& u : ctx.student_forbidden_uses)
    evidence.push_back(fmt::format("{} uses {} (found by nm before linking)", u.object, u.symbol));
  return CheckOutcome::fail(
      fmt::format("forbidden symbol in the submission: {} ({})", describe_uses(ctx.student_forbidden_uses), rule),
      std::move(evidence));
}

std::string strerror_name(int err) {
  const char* name = strerrorname_np(err);
  return fmt::format("{} ({})", name ? name : std::to_string(err), std::strerror(err));
}


double cpu_seconds(const ProcessSnapshot& s) {
  static const long hz = ::sysconf(_SC_CLK_TCK);
  return static_cast<double>(s.utime_ticks + s.stime_ticks) / static_cast<double>(hz);
}

std::optional<CheckOutcome> judge_actors(const std::vector<Actor*>& who, const CallNamer& call_name) {
  for (const Actor* a : who) {
    if (!a->status) continue;
    const int st = *a->status;
    const std::string call = a->last_call();
    if (!call.empty()) {
      if (WIFSIGNALED(st))
        return CheckOutcome::with(Status::crashed, fmt::format("{} died of {} inside {}", a->label,
                                                               signal_name(WTERMSIG(st)), call));
      return CheckOutcome::fail(fmt::format("{}: the code under test ended the process inside {} with exit status {}: "
                                            "a library function returns -1 with errno set, it never exits",
                                            a->label, call, WEXITSTATUS(st)),
                                {a->err_data.empty() ? "(no output)" : "stderr: " + a->err_data.substr(0, 300)});
    }
    if (WIFSIGNALED(st))
      return CheckOutcome::with(Status::crashed, fmt::format("{} died of {}", a->label, signal_name(WTERMSIG(st))));
    for (const auto& l : a->lines()) {
      char step[32];
      int err = 0;
      if (std::sscanf(l.c_str(), "error %31s %d", step, &err) == 2) {
        const std::string fn = call_name ? call_name(*a, step) : std::string(step);
        return CheckOutcome::fail(fmt::format("{}: {} failed with {}", a->label, fn, strerror_name(err)),
                                  {a->student ? "a call of the code under test returned -1"
                                              : "the reference role's call failed: what the student's side did made it fail"});
      }
    }
    if (WEXITSTATUS(st) != 0)
      return CheckOutcome::fail(fmt::format("{} exited with status {}", a->label, WEXITSTATUS(st)),
                                {a->err_data.substr(0, 300)});
  }
  return std::nullopt;
}

std::vector<OrderViolation> standard_log_checks(const MessageLog& log, const std::vector<std::string>& checks) {
  std::vector<OrderViolation> found;
  for (const auto& c : checks) {
    if (c == "exactly_once") for (auto& v : check_exactly_once(log)) found.push_back(v);
    if (c == "boundaries") for (auto& v : check_boundaries(log)) found.push_back(v);
    if (c == "priority") if (auto v = check_priority_order(log)) found.push_back(*v);
    if (c == "fifo_priority") if (auto v = check_fifo(log, FifoScope::per_priority)) found.push_back(*v);
    if (c == "fifo_producer") if (auto v = check_fifo(log, FifoScope::per_producer)) found.push_back(*v);
  }
  return found;
}

std::optional<CheckOutcome> judge_log(TestContext& ctx, const MessageLog& log, const std::vector<OrderViolation>& found,
                                      const std::string& context) {
  if (found.empty()) return std::nullopt;
  if (ctx.trace) draw_message_log(*ctx.trace, log, found);
  std::vector<std::string> evidence;
  for (const auto& v : found) evidence.push_back(v.property + ": " + v.message);
  return CheckOutcome::fail(fmt::format("{}: {}", context, found.front().property), evidence);
}

}  // namespace ipcg
