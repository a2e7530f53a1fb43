// Telling a deadlock or a stall from slow progress, by events rather than a deadline: every live
// role of a scene asleep in a system call, and nothing about them moving (context switches, read
// and write calls) for a quiet period. A blocked process does not move however loaded the
// machine is; a runnable one is not asleep. So a verdict never depends on the scheduler.
//
//   StallWatch watch(std::chrono::milliseconds(300));
//   IPCG_TRY_OUTCOME(bool over, scene.run_until([&] { return scene.exited(*c) || watch.stalled(scene, live); }));
//   if (watch.fired()) return hang_outcome(scene, Status::failed, "duplex deadlock: ...");
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "harness/labkit/scene.hpp"

namespace ipcg {

class StallWatch {
 public:
  explicit StallWatch(std::chrono::milliseconds quiet) : quiet_(quiet) {}
  // True once every actor of `live` has been asleep in a system call, with the same signature,
  // for the quiet period (checked on every call; any change starts it again).
  bool stalled(const Scene& scene, const std::vector<Actor*>& live);
  bool fired() const { return fired_; }

  // What "moving" means for one process: voluntary switches, read and write calls, CPU ticks,
  // and the call it sleeps in. Public for tests.
  using Signature = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, long>;
  static std::optional<Signature> signature_of(const ProcessSnapshot& s);

 private:
  std::chrono::milliseconds quiet_;
  std::vector<Signature> last_;
  std::optional<Clock::time_point> since_;
  bool fired_ = false;
};

// The verdict on roles that wait on each other: `status` (failed for a deadlock the test
// provoked, timeout for a deadline) with where each live role is blocked (the hang report of
// harness/proc, socket queues included) as evidence. Scene::timed_out is this with a timeout.
CheckOutcome hang_outcome(Scene& scene, Status status, std::string message);

}  // namespace ipcg
