#include "harness/labkit/stall.hpp"

#include <fmt/format.h>

#include "harness/labkit/labkit.hpp"

namespace ipcg {

std::optional<StallWatch::Signature> StallWatch::signature_of(const ProcessSnapshot& s) {
  if (!is_blocked(s)) return std::nullopt;
  const auto reads = read_calls(s.pid), writes = write_calls(s.pid);
  return Signature{s.voluntary_switches, reads.value_or(0), writes.value_or(0), s.utime_ticks + s.stime_ticks,
                   s.syscall.value_or(-1)};
}

bool StallWatch::stalled(const Scene& scene, const std::vector<Actor*>& live) {
  std::vector<Signature> now;
  bool all_asleep = !live.empty();
  for (const Actor* a : live) {
    auto snap = scene.snapshot(*a);
    std::optional<Signature> sig = snap ? signature_of(*snap) : std::nullopt;
    if (!sig) {
      all_asleep = false;
      break;
    }
    now.push_back(*sig);
  }
  if (!all_asleep || now != last_) {
    last_ = all_asleep ? std::move(now) : std::vector<Signature>{};
    since_ = all_asleep ? std::optional<Clock::time_point>(Clock::now()) : std::nullopt;
    return false;
  }
  fired_ = since_ && Clock::now() - *since_ >= quiet_;
  return fired_;
}

CheckOutcome hang_outcome(Scene& scene, Status status, std::string message) {
  CheckOutcome out = scene.timed_out("");
  out.status = status;
  out.message = std::move(message);
  return out;
}

}  // namespace ipcg
