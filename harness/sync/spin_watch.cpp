#include "harness/sync/spin_watch.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>

namespace ipcg {

SpinSample spin_sample(const ProcessSnapshot& s, std::initializer_list<long> waits) {
  SpinSample out;
  out.at = std::chrono::steady_clock::now();
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.cpu_seconds = static_cast<double>(s.utime_ticks + s.stime_ticks) / ticks;
  out.voluntary_switches = s.voluntary_switches;
  out.asleep_in_wait = (s.state == 'S' || s.state == 'D') && s.syscall &&
                       std::find(waits.begin(), waits.end(), *s.syscall) != waits.end();
  return out;
}

SpinWatch::Verdict SpinWatch::observe(const SpinSample& s) {
  if (verdict_ != Verdict::undecided) return verdict_;
  if (!first_) first_ = s;
  last_ = s;
  if (!asleep_from_) {
    if (s.asleep_in_wait) {
      asleep_from_ = s;
      return verdict_;
    }
    if (s.cpu_seconds - first_->cpu_seconds >= options_.spin_cpu_seconds) verdict_ = Verdict::spins;
    return verdict_;
  }
  const double wall = std::chrono::duration<double>(s.at - asleep_from_->at).count();
  if (wall < std::chrono::duration<double>(options_.window).count()) return verdict_;
  verdict_ = (s.cpu_seconds - asleep_from_->cpu_seconds) / wall > options_.max_ratio ? Verdict::spins : Verdict::blocks;
  return verdict_;
}

std::string SpinWatch::figures() const {
  if (!first_ || !last_) return "no sample";
  const SpinSample& from = asleep_from_ ? *asleep_from_ : *first_;
  const double cpu = last_->cpu_seconds - from.cpu_seconds;
  const double wall = std::chrono::duration<double>(last_->at - from.at).count();
  const auto switches = last_->voluntary_switches - from.voluntary_switches;
  std::string out = fmt::format("{:.0f} ms of CPU in {:.0f} ms of wall time (CPU/wall {:.2f}; {} voluntary context switch{})",
                                cpu * 1000, wall * 1000, wall > 0 ? cpu / wall : 0.0, switches, switches == 1 ? "" : "es");
  if (!asleep_from_) out += ", never asleep in the call it should wait in";
  return out;
}

}  // namespace ipcg
