#include "scene.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstddef>

#include "shmring.h"

namespace lab4 {

Setup setup_of(TestContext& ctx) {
  const auto& p = ctx.test.params;
  Setup s;
  s.ring = ctx.ipc_names().posix("ring");
  s.capacity = p.value("capacity", 4L);
  s.checks = p.value("checks", std::vector<std::string>{"exactly_once"});
  return s;
}

Result<Actor*> Roles::start(std::string label, SpawnSpec spec) {
  if (!monitor_) {
    IPCG_TRY(SyncMonitor m, SyncMonitor::create(schedule_.mode()));
    monitor_.emplace(std::move(m));
    pct_ = drive_pct(ctx_, scene, schedule_, *monitor_);
  }
  return scene.start(std::move(label), with_sync(std::move(spec), schedule_, next_actor_++, *monitor_));
}

Result<bool> Roles::run_until(const std::function<bool()>& done, Wait wait) {
  deadlock_.reset();
  DeadlockWatch watch(monitor());  // a fresh grace for every wait
  const bool watching = wait == Wait::on_each_other;
  scene.judge_hangs(watching);  // a role waiting for the grader is not hung either
  auto finished = scene.run_until([&] { return done() || watch.fired(); }, [&] { if (watching) watch.observe(scene); });
  scene.judge_hangs(true);
  if (!finished) return finished;
  if (watch.fired() && !done()) {
    deadlock_ = watch.outcome("the ring's roles");
    return false;
  }
  return *finished;
}

namespace {

// The deadlock explanation names a semaphore in the ring by its offset: say which one it is.
std::string with_semaphore_names(std::string line) {
  for (auto [offset, name] : {std::pair{offsetof(ring_shared, mutex), "mutex"}, {offsetof(ring_shared, empty), "empty"},
                              {offsetof(ring_shared, full), "full"}}) {
    const std::string at = fmt::format("at offset {} ", offset);
    if (auto i = line.find(at); i != std::string::npos) line.insert(i + at.size(), fmt::format("(`{}`) ", name));
  }
  return line;
}

}  // namespace

CheckOutcome Roles::timed_out(const std::string& what) {
  if (deadlock_) {
    CheckOutcome out = *deadlock_;
    out.message = what + ": " + out.message;
    for (auto& line : out.evidence) line = with_semaphore_names(line);
    return out;
  }
  return scene.timed_out(what);
}

Result<Actor*> run_one(Roles& roles, std::string label, SpawnSpec spec) {
  IPCG_TRY(Actor* a, roles.start(std::move(label), std::move(spec)));
  IPCG_TRY(bool done, roles.run_until([&] { return roles.scene.exited(*a); }));
  (void)done;
  return a;
}

std::optional<CheckOutcome> unfinished(Roles& roles, const std::string& what) {
  for (const auto& a : roles.scene.actors())
    if (!roles.scene.exited(*a)) return roles.timed_out(what);
  return std::nullopt;
}

Result<Actor*> create_ring(TestContext& ctx, Roles& roles, const Setup& s) {
  return run_one(roles, label(ctx, "producer") + " creating the ring",
                 program_spec(ctx, "producer", {"--create", std::to_string(s.capacity), "--close", s.ring}));
}

std::optional<CheckOutcome> judge_roles(const std::vector<Actor*>& who) {
  return judge_actors(who, [](const Actor&, const std::string& step) { return "ring_" + step; });
}

std::optional<CheckOutcome> judge_records(TestContext& ctx, const MessageLog& log, const Setup& s,
                                          const std::string& context) {
  std::vector<OrderViolation> found = standard_log_checks(log, s.checks);
  for (const auto& c : s.checks) {
    if (c == "whole")
      for (auto v : check_boundaries(log)) {
        v.property = "whole records";
        v.message += "; a record is copied in and out of its slot while holding the mutex, and its slot is "
                     "given back (sem_post(empty)) only after the copy";
        found.push_back(v);
      }
    if (c == "capacity")
      if (auto v = check_capacity(log, static_cast<std::uint64_t>(s.capacity))) {
        v->message += fmt::format("; the ring has {} slots: `empty` starts at the capacity and a put waits on it",
                                  s.capacity);
        found.push_back(*v);
      }
  }
  return judge_log(ctx, log, found, context);
}

Role role_of(const TestContext& ctx, const std::string& program) {
  return student_plays(ctx, program) ? Role::student : Role::reference;
}

SpawnSpec shmtool_spec(TestContext& ctx, std::vector<std::string> args, Role role) {
  return tool_spec(ctx, "shmtool", std::move(args), role);
}

namespace {

constexpr int kNotMine = 3;  // shmtool unlink: the object belongs to another uid

// /dev/shm is sticky: only the owner removes an object. shmtool asks as the reference's uid,
// then as the student's when the object is theirs.
void remove_ring(TestContext& ctx, const std::string& name) {
  for (Role role : {Role::reference, Role::student}) {
    Scene scene(ctx);
    auto tool = scene.start("shmtool unlink " + name, shmtool_spec(ctx, {"unlink", name}, role));
    if (!tool) return;
    auto done = scene.run_until([&] { return scene.exited(**tool); });
    const std::optional<int> st = (*tool)->status;
    if (!done || !*done || !st || !WIFEXITED(*st) || WEXITSTATUS(*st) != kNotMine) return;
  }
}

}  // namespace

CheckFn removing_ring(CheckFn check) {
  return [check = std::move(check)](TestContext& ctx) {
    CheckOutcome outcome = check(ctx);  // its Scene is gone: every role of the test has been killed
    remove_ring(ctx, ctx.ipc_names().posix("ring"));
    return outcome;
  };
}

}  // namespace lab4
