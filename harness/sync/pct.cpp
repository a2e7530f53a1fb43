// PctScheduler: the grader places each process of a pct test (one CPU, a SCHED_FIFO priority, a
// real-time CPU bound) and demotes it at its change points, when its interposer asks.
#include "harness/sync/pct.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

namespace ipcg {
namespace {

// Real-time CPU a process may use without blocking before SIGXCPU (soft) and SIGKILL (hard).
constexpr rlim_t kRtTimeSoftUs = 500000, kRtTimeHardUs = 1000000;

// The pid a process sees itself by (last NSpid field), from the host's /proc.
pid_t ns_pid_of(pid_t host) {
  std::ifstream in(fmt::format("/proc/{}/status", host));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    pid_t last = 0;
    for (pid_t p; fields >> p;) last = p;
    return last;
  }
  return 0;
}

}  // namespace

bool rt_priorities_allowed() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    constexpr int kCapSysNice = 23;
    return (caps >> kCapSysNice) & 1u;
  }
  return false;
}

PctScheduler::PctScheduler(const SyncSchedule& schedule, const SyncMonitor& monitor, int cpu)
    : schedule_(schedule), monitor_(monitor), cpu_(cpu) {
  permutation_.resize(64);
  std::iota(permutation_.begin(), permutation_.end(), 0);
  std::mt19937_64 rng(schedule.seed() ^ 0x9c7e5a1d3b2f4e61ull);
  std::shuffle(permutation_.begin(), permutation_.end(), rng);
}

int PctScheduler::start_priority(unsigned n) const {
  return static_cast<int>(SyncSchedule::kPctDepth) + permutation_[n % permutation_.size()];
}

void PctScheduler::tick(const Scene& scene) {
  std::vector<pid_t> pids;
  for (const auto& actor : scene.actors())
    if (actor->proc && !actor->status)
      for (pid_t p : actor->proc->processes()) pids.push_back(p);
  tick(pids);
}

void PctScheduler::tick(const std::vector<pid_t>& host_pids) {
  if (schedule_.mode() != SyncMode::pct) return;
  const auto records = monitor_.actors();
  if (std::none_of(records.begin(), records.end(), [](const auto& r) { return r.pct_waiting; })) return;
  for (pid_t host : host_pids)
    if (!host_of_ns_.count(host)) host_of_ns_[ns_pid_of(host)] = host;  // ns pid -> host pid
  for (const auto& r : records) {
    if (!r.pct_waiting || answered_[r.slot] >= r.pct_requests) continue;
    const auto host = host_of_ns_.find(r.pid);
    if (host == host_of_ns_.end()) continue;  // not seen yet: next tick
    answer(host->second, r);
    answered_[r.slot] = r.pct_requests;
  }
}

// A role's own process takes the permutation's entry of its index; a process it forked one of the
// upper half's, by its place among the forks: the same processes get the same priorities in every
// run of a seed, whichever asks first.
unsigned PctScheduler::priority_index(const SyncActorRecord& r) {
  if (r.lineage == 0) return r.actor % 32;
  return 32 + static_cast<unsigned>((r.lineage ^ (std::uint64_t{r.actor} * 0x9e3779b97f4a7c15ull)) % 32);
}

void PctScheduler::answer(pid_t host_pid, const SyncActorRecord& r) {
  const unsigned slot = r.slot;
  sched_param param{};
  if (!placed_.count(slot)) {
    const unsigned n = priority_index(r);
    placed_[slot] = n;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_, &one);
    if (::sched_setaffinity(host_pid, sizeof one, &one) != 0 && errno != ESRCH)
      refusals_.insert(fmt::format("sched_setaffinity: {}", std::strerror(errno)));
    const rlimit rt{kRtTimeSoftUs, kRtTimeHardUs};
    // EPERM here: a grader without CAP_SYS_RESOURCE may not set another uid's limits (measured:
    // root in a container whose bounding set lacks it); the priority may still be granted.
    if (::prlimit(host_pid, RLIMIT_RTTIME, &rt, nullptr) != 0 && errno != ESRCH)
      refusals_.insert(fmt::format("RLIMIT_RTTIME: {}", std::strerror(errno)));
    param.sched_priority = start_priority(n);
  } else {
    // The i-th change point demotes to depth - i: below every starting priority.
    const unsigned i = ++demotions_[slot];
    param.sched_priority = std::max(1, static_cast<int>(SyncSchedule::kPctDepth) - static_cast<int>(i));
  }
  // ESRCH: the process ended between its request and this answer; nothing was refused.
  if (::sched_setscheduler(host_pid, SCHED_FIFO, &param) != 0 && errno != ESRCH)
    refusals_.insert(fmt::format("SCHED_FIFO: {}", std::strerror(errno)));
  monitor_.pct_release(slot);
}

PctScheduler::~PctScheduler() {
  if (note_to_) note_to_->schedule_note += note();
}

std::unique_ptr<PctScheduler> drive_pct(TestContext& ctx, Scene& scene, const SyncSchedule& schedule,
                                        const SyncMonitor& monitor) {
  if (schedule.mode() != SyncMode::pct) return nullptr;
  auto pct = std::make_unique<PctScheduler>(schedule, monitor);
  pct->note_to_ = &ctx;
  scene.on_every_tick([p = pct.get(), &scene] { p->tick(scene); });
  return pct;
}

std::string PctScheduler::note() const {
  if (refusals_.empty()) return "";
  // Only the CPU time bound refused: the priorities held; the wall limit bounds a spinner.
  const bool only_rttime = std::all_of(refusals_.begin(), refusals_.end(),
                                       [](const std::string& r) { return r.rfind("RLIMIT_RTTIME", 0) == 0; });
  std::string out = only_rttime ? "pct without its real-time CPU bound (" : "pct partly refused (";
  for (const auto& r : refusals_) out += (out.back() == '(' ? "" : ", ") + r;
  return out + (only_rttime ? "): priorities set, a process that never blocks is stopped by the wall limit"
                            : "): those processes ran without their priority");
}

}  // namespace ipcg
