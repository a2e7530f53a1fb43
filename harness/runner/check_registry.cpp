#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "harness/runner/check.hpp"

namespace ipcg {

CheckRegistry& CheckRegistry::instance() {
  static CheckRegistry registry;
  return registry;
}

bool CheckRegistry::add(std::string name, CheckFn fn) {
  checks_.emplace_back(std::move(name), std::move(fn));
  return true;
}

const CheckFn* CheckRegistry::find(std::string_view name) const {
  auto it = std::find_if(checks_.begin(), checks_.end(), [&](const auto& c) { return c.first == name; });
  return it == checks_.end() ? nullptr : &it->second;
}

std::vector<std::string> CheckRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& c : checks_) out.push_back(c.first);
  std::sort(out.begin(), out.end());
  return out;
}

std::string TestContext::program(const std::string& name) const {
  auto role = test.roles.find(name);
  // A program the test's roles do not mention runs the student's code: it is what is graded.
  const bool reference = role != test.roles.end() && role->second == Impl::reference;
  return sandbox.to_box((reference ? reference_bin : student_bin) / name).string();
}

std::string TestContext::reference_program(const std::string& name) const {
  return sandbox.to_box(reference_bin / name).string();
}

std::string TestContext::tool(const std::string& name) const {
  return sandbox.to_box(tools_dir / name).string();
}

SpawnSpec TestContext::spawn_spec(std::vector<std::string> argv) const {
  SpawnSpec spec;
  const std::string reference_prefix = sandbox.to_box(reference_bin).string() + "/";
  spec.role = !argv.empty() && argv[0].rfind(reference_prefix, 0) == 0 ? Role::reference : Role::student;
  spec.argv = std::move(argv);
  spec.limits = test.limits;
  return spec;
}

namespace {

// A fork bomb hangs with hundreds of processes: keep the report readable.
constexpr std::size_t kMaxProcessLines = 12;

}  // namespace

void add_hang_evidence(CheckOutcome& outcome, const HangReport& hang) {
  std::vector<std::string> lines;
  const auto& procs = hang.processes;
  for (std::size_t i = 0; i < procs.size() && i < kMaxProcessLines; ++i) lines.push_back(procs[i].description);
  if (procs.size() > kMaxProcessLines)
    lines.push_back(fmt::format("... and {} more processes", procs.size() - kMaxProcessLines));
  add_hang_evidence(outcome, hang, std::move(lines));
}

void add_hang_evidence(CheckOutcome& outcome, const HangReport& hang, std::vector<std::string> process_lines) {
  if (!hang.root_cause.empty()) outcome.evidence.push_back("root cause: " + hang.root_cause);
  for (auto& line : process_lines) outcome.evidence.push_back(std::move(line));
  for (const auto& f : hang.findings)
    if (f != hang.root_cause) outcome.evidence.push_back(f);
  outcome.hang_cause = hang.cause_kind;
}

std::optional<CheckOutcome> abnormal_ending(const RunOutcome& out, const std::string& what) {
  switch (out.ending) {
    case Ending::exited:
      return std::nullopt;
    case Ending::killed:
      return std::nullopt;  // the check asked for it and judges by itself
    case Ending::timed_out: {
      auto outcome = CheckOutcome::with(Status::timeout, fmt::format("{} did not finish within {} ms", what, out.wall.count()));
      if (out.hang) add_hang_evidence(outcome, *out.hang);
      if (outcome.evidence.empty()) outcome.evidence.push_back("no process was blocked: busy or sleeping");
      return outcome;
    }
    case Ending::hung: {
      auto outcome = CheckOutcome::with(
          Status::hung,
          fmt::format("{} hung: every process waited on another and none progressed for {} ms (ended after {} ms; "
                      "a hang is judged even when its wall limit comes first)",
                      what, out.stalled.count(), out.wall.count()));
      if (out.hang) add_hang_evidence(outcome, *out.hang);
      return outcome;
    }
    case Ending::signaled: {
      const int sig = WTERMSIG(out.wait_status);
      if (sig == SIGXCPU)
        return CheckOutcome::with(Status::timeout, fmt::format("{} did not finish within its CPU time limit (SIGXCPU)", what));
      if (sig == SIGSYS)
        return CheckOutcome::with(Status::killed_by_filter,
                                  fmt::format("{} was killed by the syscall filter (SIGSYS): it made a "
                                              "system call this lab does not allow", what));
      return CheckOutcome::with(Status::crashed,
                                fmt::format("{} crashed with signal {} ({})", what, sig, strsignal(sig)));
    }
  }
  return std::nullopt;
}

}  // namespace ipcg
