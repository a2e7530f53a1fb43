// The result model: everything a report writer may see. Plain values, no behaviour.
//
//   LabResult r = run_lab(...);
//   for (const TestResult& t : r.tests) if (t.status != Status::passed) ...
//
// Status is the one contract for test outcomes; docs/report-format.md maps it to each format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipcg {

enum class Status {
  passed,            // the property held
  failed,            // the property was violated; message + evidence say how
  timeout,           // the wall-clock or CPU limit ran out; the process tree was killed
  // Every process of the test was blocked with nothing left to wake it (a deadlock, a reader
  // waiting for an EOF that cannot come), seen from /proc: ended at once (a stall under way at the wall limit is judged first).
  hung,
  crashed,           // a student process died of a signal (not the syscall filter)
  killed_by_filter,  // a student process made a syscall the lab's policy kills (SIGSYS)
  build_failed,      // the submission did not compile; the compiler output is the feedback
  skipped,           // not run (filtered out with --only, or an earlier stage made it moot)
  error,             // the grader itself could not run the test (an internal error)
};

std::string_view to_string(Status s);

enum class Visibility { visible, hidden };
std::string_view to_string(Visibility v);

// full: the cell's own namespaces and a uid per role (root, or a user namespace with subordinate
// uids); user_namespace_without_role_uids: the same namespaces inside a user namespace of an
// unprivileged user, every role one uid; reduced: no namespaces (docs/threat-model.md).
enum class IsolationLevel { full, user_namespace_without_role_uids, reduced };
std::string_view to_string(IsolationLevel l);

struct IsolationInfo {
  IsolationLevel level = IsolationLevel::reduced;
  // How it was reached: "root" / "user namespace" (full); "unprivileged" (without role uids);
  // reduced: why, in a few words ("unprivileged", "user namespaces refused", ...).
  std::string setting;
  std::string reason;   // what is missing and what that costs; empty when full
  // Each cell has its own IPC, PID, mount, network and UTS namespaces.
  bool namespaces() const { return level != IsolationLevel::reduced; }
};

// One run of a test under one seed, when the runner ran it more than once (reruns under other
// seeds to tell a real failure from a flaky one). JUnit reports mixed attempts as flakyFailure.
struct Attempt {
  std::uint64_t seed = 0;
  Status status = Status::error;
  std::string message;
};

struct TestResult {
  std::string name;
  std::string description;
  std::string property;  // the property the test checks, e.g. "unused pipe ends closed"
  std::string hint;      // what to fix when it does not pass (the lab's words), or empty
  Visibility visibility = Visibility::visible;
  Status status = Status::error;
  double score = 0;
  double max_score = 0;
  std::string message;                // one line: what went wrong, or empty when passed
  std::vector<std::string> evidence;  // pids, fds, expected vs got, where blocked
  std::string output;                 // captured student output (capped), for feedback
  double duration_seconds = 0;
  std::vector<Attempt> attempts;      // empty: the test ran once, under the report's seed
  std::string trace_file;             // Perfetto trace of the failed run (--trace-out), or empty
  // IPC objects and FIFOs the test's processes left ("SysV message queue (key 0x00001234, id 0)").
  std::vector<std::string> leftovers;
  // In a lab that perturbs its synchronization calls: the schedule mode the test ran under
  // ("delays", "pct", "pct (...refused...)"), else empty; and whether its seed replays the
  // processes' order exactly or only the perturbations (best-effort: every mode today, as measured
  // in docs/performance.md).
  std::string schedule;
  bool exact_replay = false;
  // The wall limit the test ran under and where it came from, when it ended on it or hung:
  // "wall limit 450 ms = 5 x the reference's 90 ms on this test (at least 300 ms, at most 3000 ms)".
  std::string limit_note;
  // The wall limit each run of the test had, in seconds (0: not known). Not reported: it tells
  // the runner whether a failure is worth running again (confirm_verdict).
  double wall_limit_seconds = 0;
  // A hung or timed-out test: the root cause in one line, in words that do not name pids or fds
  // ("a stage keeps the write end of its own input pipe"), so that a report can say it once for
  // every test of a submission that hung the same way. Empty when unknown.
  std::string hang_cause;
};

struct BuildResult {
  bool ok = false;
  std::string compiler_output;  // capped; the feedback when the build fails
  double duration_seconds = 0;
};

struct LabResult {
  std::string lab;        // "lab1"
  std::string title;
  std::string mechanism;  // "anonymous pipe"
  std::string submission; // the folder graded
  double score = 0;
  double max_score = 0;
  std::uint64_t seed = 0;
  IsolationInfo isolation;
  std::string grader_version;
  std::string spec_hash;  // sha256 of lab.toml: a regrade can show it used the same tests
  BuildResult build;
  std::vector<TestResult> tests;
  double duration_seconds = 0;

  bool all_passed() const;
};

}  // namespace ipcg
