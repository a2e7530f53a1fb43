// Ends a deadlocked test at once, and explains it. Every lab may use it in a Scene's tick: when
// every live process of the test is asleep in a system call and none made progress (CPU time and
// context switches unchanged) for a grace period, it fires; the check then stops with the
// wait-for explanation instead of waiting for its wall limit.
//
//   DeadlockWatch watch(&monitor);                // the monitor names holders; nullptr: none
//   IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(roles) || watch.fired(); },
//                                               [&] { watch.observe(scene); }));
//   if (watch.fired()) return watch.outcome("the producers and consumers");
//
// The explanation: a process in futex on an address inside a shared mapping is matched to the
// named semaphore (/dev/shm/sem.NAME) or shm object and offset, with the semaphore's value; one
// in semop to the SysV set (read in the process's IPC namespace), its semaphore numbers and
// values; holders come from the interposer's acquire/release counts in the monitor. Classified by
// syscall number, never by wchan names (they differ across kernels).
//
// A process in a wait with a timeout (sem_timedwait, semtimedop with one, a sleep) is never
// counted as stalled: it ends by itself, and the wall limit bounds it.
//
// Do not use it while the grader itself is what a role waits for (a gate, a reply the check will
// write): every role would be asleep and none would be deadlocked.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "harness/labkit/scene.hpp"
#include "harness/proc/proc_inspector.hpp"
#include "harness/proc/stall.hpp"
#include "harness/runner/check.hpp"
#include "harness/sync/sync.hpp"
#include "harness/sync/wait_for.hpp"

namespace ipcg {

struct WatchedProcess {
  pid_t pid = 0;       // host pid
  std::string label;   // "producer 1 (student)"
};

class DeadlockWatch {
 public:
  struct Options {
    std::chrono::milliseconds grace{300};        // every process stalled this long: deadlock
    std::chrono::milliseconds sample_every{20};  // /proc is read at most this often
  };
  explicit DeadlockWatch(const SyncMonitor* monitor = nullptr) : DeadlockWatch(monitor, Options{}) {}
  DeadlockWatch(const SyncMonitor* monitor, Options options);

  // Call on every tick with the test's live processes. True once it has fired (and from then on).
  bool observe(const std::vector<WatchedProcess>& processes);
  // Every live process of the scene's actors (their descendants too), labelled by actor.
  bool observe(const Scene& scene);

  bool fired() const { return fired_; }
  // The graph as it was when the watch fired (empty before).
  const std::vector<WaitNode>& graph() const { return graph_; }
  std::vector<std::string> explanation() const { return explain_wait_for(graph_); }
  std::chrono::milliseconds stalled_for() const { return stall_.stalled_for(); }
  // The verdict: Status::failed, "deadlock: <what> stopped making progress ...", the explanation
  // as evidence.
  CheckOutcome outcome(const std::string& what) const;

 private:
  using Clock = std::chrono::steady_clock;
  void remember_objects(const std::vector<ProcessSnapshot>& snaps);
  void build_graph(const std::vector<ProcessSnapshot>& snaps, const std::vector<WatchedProcess>& who);

  const SyncMonitor* monitor_;
  Options options_;
  ProcInspector proc_;
  StallDetector stall_;
  std::map<pid_t, pid_t> host_pid_of_ns_pid_;
  // (pid as the monitor knows it, address) -> the object's identity ("dev:inode:offset"), resolved
  // while that process lived, so a holder that died is still named.
  std::map<std::pair<pid_t, std::uint64_t>, std::string> identity_;
  bool fired_ = false;
  std::vector<WaitNode> graph_;
};

}  // namespace ipcg
