// How a lab's trusted grading code plugs in: a named check, registered at static-init time,
// that runs one test (spawning role programs in the sandbox) and returns a verdict.
//
//   // labs/lab1-pipe/grading/checks.cpp
//   IPCG_REGISTER_CHECK("lab1.pipeline_output", [](TestContext& ctx) -> CheckOutcome {
//     auto prog = ctx.program("pipeline");          // student's or reference's, per the test roles
//     IPCG_TRY_OUTCOME(RunOutcome out, run(ctx.cell, {...}));   // in this test's cell
//     if (out.captures[1].data != expected) return CheckOutcome::fail("output differs", {...});
//     return CheckOutcome::pass();
//   });
//
// The runner looks a test's `check` up by name; adding a lab never edits the runner.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/core/ipc_names.hpp"
#include "harness/sandbox/execution.hpp"
#include "harness/spec/lab_spec.hpp"
#include "harness/core/result.hpp"
#include "harness/runner/forbidden_symbols.hpp"
#include "harness/sandbox/sandbox.hpp"
#include "harness/trace/trace.hpp"

namespace ipcg {

struct CheckOutcome {
  Status status = Status::passed;
  std::string message;
  std::vector<std::string> evidence;
  std::string output;  // captured student output worth showing
  // A hang's root cause in words without pids (HangReport::cause_kind), for TestResult::hang_cause.
  std::string hang_cause;

  static CheckOutcome pass() { return {}; }
  static CheckOutcome fail(std::string message, std::vector<std::string> evidence = {}) {
    return {Status::failed, std::move(message), std::move(evidence), {}, {}};
  }
  static CheckOutcome with(Status s, std::string message, std::vector<std::string> evidence = {}) {
    return {s, std::move(message), std::move(evidence), {}, {}};
  }
};

struct TestContext {
  const LabSpec& lab;
  const TestSpec& test;
  Sandbox& sandbox;
  Cell& cell;                 // this test's cell: spawn every role here
  std::uint64_t seed;         // this test's seed (derived from the run seed and the test name)
  std::mt19937_64 rng;        // seeded with `seed`
  std::filesystem::path student_bin;    // host folder with the student's built programs
  std::filesystem::path reference_bin;  // host folder with the reference's built programs
  std::filesystem::path tools_dir;      // the lab's trusted helper tools (libexec/ipcgrade/<lab>)
  bool verbose = false;
  // The runner's timeline of this test, never null inside a check. A check that watches
  // messages fills it (sends, receives, violations); when the test does not pass and the user
  // asked for traces (--trace-out), the runner writes it as a Perfetto trace file.
  Trace* trace = nullptr;
  // The lab's [build] forbidden_symbols the student's objects use (labkit's
  // judge_forbidden_symbols turns them into a verdict for the tests that judge the policy).
  std::vector<SymbolUse> student_forbidden_uses;

  // The schedule the sync interposer runs this test's roles under (harness/sync/sync.hpp): the
  // grader's --schedule, else the test's `schedule`, else [build] schedule; native when the lab
  // does not interpose. A check that cannot apply it (PCT where real-time priorities are refused)
  // says what it used instead in schedule_note; both reach the report beside the seed.
  SyncMode schedule = SyncMode::native;
  std::string schedule_note;

  // The program for `name` as the test's roles say (student or reference), as a box path.
  std::string program(const std::string& name) const;
  // The reference's build of a program, whatever the roles say (for expected outputs).
  std::string reference_program(const std::string& name) const;
  // A trusted helper tool as a box path.
  std::string tool(const std::string& name) const;
  // A SpawnSpec with this test's limits and argv, ready to add fds to. Its role (the uid it runs
  // as) is the reference's when argv[0] is a reference program, else the student's.
  SpawnSpec spawn_spec(std::vector<std::string> argv) const;
  // Names for this test's FIFOs, queues, shared memory, semaphores and SysV keys, unique to its
  // cell: pass them to every role (driver arguments); never let a lab hard-code one.
  IpcNames ipc_names() const { return IpcNames(cell.tag()); }
};

using CheckFn = std::function<CheckOutcome(TestContext&)>;

// Maps a run that did not end normally to its verdict: timeout or hung (with the hang report),
// crash by signal N, or death by the syscall filter. Returns nullopt for a normal exit.
std::optional<CheckOutcome> abnormal_ending(const RunOutcome& out, const std::string& what);
// The evidence of a hang, root cause first: each process's place (at most a dozen), then the
// findings; and the cause in words for the report (outcome.hang_cause).
void add_hang_evidence(CheckOutcome& outcome, const HangReport& hang);
// The same with the caller's own line per process (a scene names its roles) instead.
void add_hang_evidence(CheckOutcome& outcome, const HangReport& hang, std::vector<std::string> process_lines);

class CheckRegistry {
 public:
  static CheckRegistry& instance();
  bool add(std::string name, CheckFn fn);
  const CheckFn* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::pair<std::string, CheckFn>> checks_;
};

}  // namespace ipcg

// __COUNTER__, not __LINE__: a unity build puts a lab's check files in one translation unit, where
// two registrations may well share a line number.
#define IPCG_REGISTER_CHECK(name, fn) \
  static const bool IPCG_CONCAT(ipcg_check_registered_, __COUNTER__) = ::ipcg::CheckRegistry::instance().add(name, fn)

// Inside a check: unwrap a Result or return Status::error with its message.
#define IPCG_TRY_OUTCOME(decl, expr)                                                  \
  auto&& IPCG_CONCAT(ipcg_tryo_, __LINE__) = (expr);                                   \
  if (!IPCG_CONCAT(ipcg_tryo_, __LINE__))                                              \
    return ::ipcg::CheckOutcome::with(::ipcg::Status::error,                           \
                                      IPCG_CONCAT(ipcg_tryo_, __LINE__).error().message); \
  decl = std::move(*IPCG_CONCAT(ipcg_tryo_, __LINE__))
