// The synchronization checker's numbers (docs/performance.md, issue 13), run by hand:
//   build/bin/bench_sync [seeds=100]
// 1. What the interposer costs per call: bench_sync_calls built plain and built like a lab's
//    program with interpose_sync, under IPCG_SYNC mode=native (the bookkeeping alone) and
//    mode=delays (with its yields and sleeps).
// 2. How often a race shows, per mode: two processes each adding 200 to a shared counter with the
//    update after the unlock (early_release), with no lock at all (none), and with a mutex
//    semaphore initialised to 2 (caught by the monitor's critical-section check), over `seeds`
//    seeds, native or delays, free or pinned to one CPU; with the median time of a run.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "unit/sync/sync_actors.hpp"

namespace {

using namespace ipcg;
using namespace ipcg::sync_actors;

std::string run_text(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    ::pclose(p);
  }
  return out;
}

void call_costs() {
  fmt::print("## cost per call (ns, uncontended, median of 5 runs)\n");
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"plain (no interposer)", std::string(BENCH_SYNC_PLAIN)},
      {"interposed, native", "IPCG_SYNC='mode=native seed=1 actor=0' " + std::string(BENCH_SYNC_WRAPPED)},
      {"interposed, delays", "IPCG_SYNC='mode=delays seed=1 actor=0' " + std::string(BENCH_SYNC_WRAPPED)}};
  for (const auto& [name, command] : variants) {
    const long n = name.find("delays") != std::string::npos ? 20000 : 1000000;
    std::vector<std::string> runs;
    for (int i = 0; i < 5; ++i) runs.push_back(run_text(command + " " + std::to_string(n)));
    std::sort(runs.begin(), runs.end());  // lines compare by their numbers within one call kind
    fmt::print("{}:\n{}", name, runs[2]);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void detection(int seeds) {
  fmt::print("\n## two processes x 200 increments: runs that showed the bug, of {} seeds (median ms per run)\n", seeds);
  struct Case {
    std::string variant;
    unsigned mutex_value;
    bool by_monitor;
  };
  const std::vector<Case> cases = {{"early_release", 1, false}, {"none", 1, false}, {"locked", 2, true}};
  for (const auto& c : cases) {
    for (SyncMode mode : {SyncMode::native, SyncMode::delays, SyncMode::pct}) {
      for (bool pinned : {false, true}) {
        if (mode == SyncMode::pct && pinned) continue;  // pct places every process on CPU 0 itself
        int shown = 0;
        std::vector<double> ms;
        for (int seed = 1; seed <= seeds; ++seed) {
          const auto start = std::chrono::steady_clock::now();
          const CountRun run = count_twice(mode, seed, c.variant, 200, pinned, c.mutex_value);
          ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          shown += c.by_monitor ? !run.violations.empty() : run.lost > 0;
        }
        fmt::print("{:<14} mutex={} {:<7} {:<7}: {:>3}/{} ({:.1f} ms)\n", c.variant, c.mutex_value, to_string(mode),
                   pinned ? "pinned" : "free", shown, seeds, median(ms));
      }
    }
  }
}

// The same seed twice: how often the second run lost exactly as many updates as the first.
void replay(int seeds) {
  fmt::print("\n## replay: early_release, each seed run twice, same number of lost updates\n");
  for (SyncMode mode : {SyncMode::delays, SyncMode::pct}) {
    int same = 0, shown = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
      const long first = count_twice(mode, seed, "early_release", 200, false).lost;
      const long second = count_twice(mode, seed, "early_release", 200, false).lost;
      same += first == second;
      shown += first > 0;
    }
    fmt::print("{:<7}: {}/{} seeds replayed the same count ({} showed the bug)\n", to_string(mode), same, seeds, shown);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 100;
  call_costs();
  detection(seeds);
  replay(seeds);
}
