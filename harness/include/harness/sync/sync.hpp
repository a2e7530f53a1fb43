// The synchronization checker, grader side: the schedule a test's roles run under and the monitor
// mapping their interposer writes (sync_shared.h is the layout both sides share).
//
//   SyncSchedule schedule = SyncSchedule::for_test(ctx);      // mode + ctx.seed
//   IPCG_TRY_OUTCOME(SyncMonitor monitor, SyncMonitor::create(schedule.mode()));
//   auto spec = with_sync(program_spec(ctx, "worker", {...}), schedule, /*actor=*/i, monitor);
//   ... scene.start(label, spec) for every role, run to the end ...
//   for (const SyncViolation& v : monitor.violations()) evidence.push_back(describe(v));
//
// What the monitor holds is written by code in the student's processes (the interposer and the
// drivers' ipcg_cs_* calls): evidence that explains, not the only ground of a verdict. Totals
// (lost updates) are read by the grader or a reference role (docs/threat-model.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/core/unique_fd.hpp"
#include "harness/runner/check.hpp"
#include "harness/sandbox/sandbox.hpp"
#include "harness/spec/lab_spec.hpp"

struct ipcg_sync_monitor;

namespace ipcg {

// Which perturbations a role's interposer applies: a pure function of (mode, seed, actor, call
// count), so one seed makes the same decisions in every run.
class SyncSchedule {
 public:
  SyncSchedule(SyncMode mode, std::uint64_t seed) : mode_(mode), seed_(seed) {}
  // ctx.schedule and ctx.seed. `pct` becomes `delays`, and ctx.schedule_note says so (the report
  // prints it beside the seed), where this grader may not set real-time priorities, or where the
  // check does not run a PctScheduler (pct_ticked = false: nobody would answer the processes).
  static SyncSchedule for_test(TestContext& ctx, bool pct_ticked = false);

  SyncMode mode() const { return mode_; }
  std::uint64_t seed() const { return seed_; }
  // "IPCG_SYNC=mode=delays seed=123 actor=2": the environment entry for role number `actor`.
  std::string env_for(unsigned actor) const;
  // pct: the change points per process are depth - 1 (the interposer's default).
  static constexpr unsigned kPctDepth = 3;

 private:
  SyncMode mode_;
  std::uint64_t seed_;
};

// The interposer's decision at one point (the same pure function the C side calls).
struct SyncDecision {
  enum class Action { run_on, yield, sleep };
  Action action = Action::run_on;
  unsigned sleep_us = 0;
  bool operator==(const SyncDecision&) const = default;
};
SyncDecision sync_decision(SyncMode mode, std::uint64_t seed, unsigned actor, std::uint64_t lineage,
                           std::uint64_t count);

struct SyncViolation {
  enum class Kind { two_inside, underflow, overflow };
  Kind kind = Kind::two_inside;
  unsigned index = 0;       // the section or buffer
  pid_t pid_a = 0;          // two_inside: the process already inside (as the monitor saw it)
  pid_t pid_b = 0;          // the process that made the violation
  std::uint64_t step = 0;   // pid_b's synchronization calls so far
  std::int64_t value = 0;   // how many were inside / the count it saw
};
// "pids 512 and 513 were inside critical section 0 at once (pid 513's step 41)".
std::string describe(const SyncViolation& v);

// One process the interposer kept counts for: its acquires and releases per object.
struct SyncActorRecord {
  pid_t pid = 0;            // as the process saw itself (its pid namespace)
  unsigned actor = 0;       // the role's index
  std::uint64_t lineage = 0;
  std::uint64_t calls = 0;
  struct Object {
    enum class Kind { sem, mutex, sysv };
    Kind kind = Kind::sem;
    std::uint64_t addr = 0;  // sem/mutex: the address in that process
    std::int64_t semid = -1;
    int semnum = -1;
    std::int64_t acquired = 0, released = 0;
    // sem/mutex: what the address lies in, as its process found it in its own maps when it first
    // used the object ("MAJOR:MINOR:INODE:OFFSET"; "private:PID:ADDR" in a private mapping), so a
    // process that ended is still matched; empty when it could not tell.
    std::string identity;
    std::int64_t held() const { return acquired - released; }
  };
  std::vector<Object> objects;
  unsigned slot = 0;                 // its place in the monitor
  bool pct_waiting = false;          // pct: waiting for the grader (placement or demotion)
  std::uint32_t pct_requests = 0;
  // What the process was last waiting on, as its interposer said (kind 0 when not waiting).
  std::optional<Object> waiting;
};

// The shared mapping the roles' interposers write: a sealed memfd passed to each role as fd 5.
class SyncMonitor {
 public:
  static Result<SyncMonitor> create(SyncMode mode);
  SyncMonitor(SyncMonitor&&) noexcept;
  SyncMonitor& operator=(SyncMonitor&&) noexcept;
  ~SyncMonitor();

  int fd() const { return fd_.get(); }
  std::vector<SyncViolation> violations() const;
  std::uint32_t violations_seen() const;  // may exceed violations().size(): the first are kept
  std::vector<SyncActorRecord> actors() const;
  // pct: marks the request of the process in `slot` answered.
  void pct_release(unsigned slot) const;
  // Section `s`'s entries so far (how many times some process called ipcg_cs_enter(s)).
  std::uint64_t section_entries(unsigned s) const;

 private:
  SyncMonitor(UniqueFd fd, ipcg_sync_monitor* map) : fd_(std::move(fd)), map_(map) {}
  UniqueFd fd_;
  ipcg_sync_monitor* map_ = nullptr;
};

// spec with the schedule's IPCG_SYNC entry for `actor` and the monitor on fd 5.
SpawnSpec with_sync(SpawnSpec spec, const SyncSchedule& schedule, unsigned actor, const SyncMonitor& monitor);

}  // namespace ipcg
