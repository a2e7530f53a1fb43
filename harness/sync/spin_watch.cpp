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

SpinWatch::Figures SpinWatch::measured() const {
  if (!first_ || !last_) return {};
  const SpinSample& from = asleep_from_ ? *asleep_from_ : *first_;
  return {last_->cpu_seconds - from.cpu_seconds, std::chrono::duration<double>(last_->at - from.at).count(),
          last_->voluntary_switches - from.voluntary_switches};
}

std::string SpinWatch::figures() const {
  if (!first_ || !last_) return "no sample";
  const Figures f = measured();
  std::string out = fmt::format("{:.0f} ms of CPU in {:.0f} ms of wall time (CPU/wall {:.2f}; {} voluntary context switch{})",
                                f.cpu_seconds * 1000, f.wall_seconds * 1000,
                                f.wall_seconds > 0 ? f.cpu_seconds / f.wall_seconds : 0.0, f.voluntary_switches,
                                f.voluntary_switches == 1 ? "" : "es");
  if (!asleep_from_) out += ", never asleep in the call it should wait in";
  return out;
}

bool asleep_or_spinning(const Scene& scene, const Actor& a, std::initializer_list<long> waits, SpinWatch& spin,
                        bool counting) {
  if (scene.exited(a)) return true;
  const auto snap = scene.snapshot(a);
  if (!snap) return false;
  const SpinSample sample = spin_sample(*snap, waits);
  if (counting) spin.observe(sample);
  return sample.asleep_in_wait || spin.verdict() == SpinWatch::Verdict::spins;
}

bool spin_decided(const Scene& scene, const Actor& a, std::initializer_list<long> waits, SpinWatch& spin) {
  if (scene.exited(a)) return true;
  const auto snap = scene.snapshot(a);
  return snap && spin.observe(spin_sample(*snap, waits)) != SpinWatch::Verdict::undecided;
}

}  // namespace ipcg
