// Busy waiting, judged from outside: a role that should block (an empty buffer, a held lock)
// must be seen asleep in one of the calls it should wait in, and then stay asleep. It spins if it
// uses `spin_cpu_seconds` of CPU before it is ever seen asleep (CPU time, not wall time: on a
// loaded machine a spinner gets there later, a blocked process never does), or if over a window
// after that its CPU/wall ratio is above `max_ratio` (a loop that wakes to look keeps using CPU).
//
//   SpinWatch spin;                                            // 0.2 s of CPU, 300 ms window, 0.3
//   scene.run_until([&] {
//     auto snap = scene.snapshot(*consumer);
//     return !snap || spin.observe(spin_sample(*snap, {SYS_futex})) != SpinWatch::Verdict::undecided;
//   });
//   if (spin.verdict() == SpinWatch::Verdict::spins) return CheckOutcome::fail("the consumer spins ...: " + spin.figures());
//
// Pure: it is fed samples (time, CPU, context switches, asleep or not), so tests need no process.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "harness/labkit/scene.hpp"
#include "harness/proc/proc_inspector.hpp"

namespace ipcg {

struct SpinSample {
  std::chrono::steady_clock::time_point at;
  double cpu_seconds = 0;               // utime + stime
  std::uint64_t voluntary_switches = 0;
  bool asleep_in_wait = false;          // asleep in one of the calls it should wait in
};
// A sample of a snapshot taken now: asleep = state S/D in one of `waits` (syscall numbers).
SpinSample spin_sample(const ProcessSnapshot& s, std::initializer_list<long> waits);

class SpinWatch {
 public:
  struct Options {
    double spin_cpu_seconds = 0.2;            // CPU used before ever being asleep: spins
    std::chrono::milliseconds window{300};    // then watched this long
    double max_ratio = 0.3;                   // CPU/wall over the window above this: spins
  };
  enum class Verdict { undecided, blocks, spins };

  SpinWatch() : SpinWatch(Options{}) {}
  explicit SpinWatch(Options o) : options_(o) {}

  // Feeds one sample; returns the verdict so far (final once not undecided).
  Verdict observe(const SpinSample& s);
  Verdict verdict() const { return verdict_; }
  bool ever_asleep() const { return asleep_from_.has_value(); }
  // "210 ms of CPU in 240 ms of wall time (CPU/wall 0.88; 1 voluntary context switch), never
  // asleep in the call it should wait in" — the figures behind the verdict.
  std::string figures() const;
  // The same figures as numbers: over the span the verdict looked at (from the first sample, or
  // from the first asleep one), to the last sample fed.
  struct Figures {
    double cpu_seconds = 0, wall_seconds = 0;
    std::uint64_t voluntary_switches = 0;
  };
  Figures measured() const;

 private:
  Options options_;
  Verdict verdict_ = Verdict::undecided;
  std::optional<SpinSample> first_, asleep_from_, last_;
};

// Watching a role of a Scene that should fall asleep in one of `waits` (feed these to run_until).
// asleep_or_spinning: feeds `spin` a sample of `a` taken now once `counting` (its CPU time counts
// from the first sample fed: pass when the role reported reaching its wait, e.g. "opened"); true
// once `a` has exited, was seen asleep in one of `waits`, or spins.
bool asleep_or_spinning(const Scene& scene, const Actor& a, std::initializer_list<long> waits, SpinWatch& spin,
                        bool counting = true);
// spin_decided: feeds `spin` a sample of `a` taken now; true once `a` has exited or the verdict
// is in (it stayed asleep over the window, or it spins).
bool spin_decided(const Scene& scene, const Actor& a, std::initializer_list<long> waits, SpinWatch& spin);

}  // namespace ipcg
