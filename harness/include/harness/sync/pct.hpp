// The grader's half of the `pct` schedule (PCT, Burckhardt et al. 2010): every process of the test
// on one CPU, each with its own SCHED_FIFO priority drawn from the seed, so the highest runnable
// one runs; at each of its d-1 change points (calls drawn from the seed, sync_shared.h) the
// interposer asks to be demoted below every starting priority, and yields; the grader answers on
// its next tick (the process does not wait: asleep in the interposer it would look like a process
// asleep in sem_wait). Priorities are set from
// outside because a process may not raise its own and the syscall filter lets it change none;
// RLIMIT_RTTIME bounds a real-time process that never blocks (SIGXCPU), and the kernel's RT
// throttling leaves the other CPU's work its share.
//
//   SyncSchedule schedule = SyncSchedule::for_test(ctx, /*pct_ticked=*/true);  // refused -> delays
//   auto pct = drive_pct(ctx, scene, schedule, monitor);  // nullptr unless pct; ticked by the scene
//   ...                                                   // its note reaches the report when it goes
//
// Without CAP_SYS_NICE (an unprivileged grader, a container) for_test() falls back to `delays`;
// a refusal later (a cgroup without real-time runtime) is said in note(): those processes then ran
// natively, and replay is best-effort.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness/labkit/scene.hpp"
#include "harness/sync/sync.hpp"

namespace ipcg {

// Whether this grader may give processes real-time priorities (CAP_SYS_NICE in its effective set).
bool rt_priorities_allowed();

class PctScheduler {
 public:
  PctScheduler(const SyncSchedule& schedule, const SyncMonitor& monitor, int cpu = 0);
  // With note_to, note() is added to its schedule_note when the scheduler goes (drive_pct).
  ~PctScheduler();
  PctScheduler(const PctScheduler&) = delete;
  PctScheduler& operator=(const PctScheduler&) = delete;
  // Answers every process's pending request (placement or demotion). Call on every tick.
  void tick(const Scene& scene);
  void tick(const std::vector<pid_t>& host_pids);
  // The starting priority of the process with priority index n (a role's own process: its actor
  // index; a forked one: a hash of its place among the forks, 32-63): a permutation drawn from the
  // seed, above the priorities change points demote to (1 .. depth-1).
  int start_priority(unsigned n) const;
  std::string note() const;  // "" when every request was granted
  std::size_t placed() const { return placed_.size(); }

 private:
  static unsigned priority_index(const SyncActorRecord& r);
  void answer(pid_t host_pid, const SyncActorRecord& r);
  const SyncSchedule& schedule_;
  const SyncMonitor& monitor_;
  int cpu_;
  std::vector<int> permutation_;
  std::map<unsigned, unsigned> placed_;        // slot -> priority index
  std::map<unsigned, unsigned> demotions_;     // slot -> change points answered
  std::map<unsigned, std::uint32_t> answered_; // slot -> requests answered
  std::map<pid_t, pid_t> host_of_ns_;
  std::set<std::string> refusals_;
  TestContext* note_to_ = nullptr;
  friend std::unique_ptr<PctScheduler> drive_pct(TestContext&, Scene&, const SyncSchedule&, const SyncMonitor&);
};

// Under a pct schedule: a scheduler for the scene's processes, ticked on every tick of every
// run_until of the scene (Scene::on_every_tick), whose refusals reach ctx.schedule_note when it
// goes; nullptr under any other schedule. It must outlive the scene's waits (keep it beside the
// scene), and schedule and monitor must outlive it.
std::unique_ptr<PctScheduler> drive_pct(TestContext& ctx, Scene& scene, const SyncSchedule& schedule,
                                        const SyncMonitor& monitor);

}  // namespace ipcg
