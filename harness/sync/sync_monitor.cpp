// SyncMonitor: the memfd mapping the roles' interposers write (sync_shared.h), and SyncSchedule's
// environment entry.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "harness/sync/pct.hpp"
#include "harness/sync/sync.hpp"
#include "harness/sync/sync_shared.h"

namespace ipcg {

SyncSchedule SyncSchedule::for_test(TestContext& ctx, bool pct_ticked) {
  if (ctx.schedule == SyncMode::pct && !pct_ticked) {
    ctx.schedule_note = "pct is not scheduled by this test's check; ran under delays";
    return {SyncMode::delays, ctx.seed};
  }
  if (ctx.schedule == SyncMode::pct && !rt_priorities_allowed()) {
    ctx.schedule_note = "pct refused: this grader may not set real-time priorities (no CAP_SYS_NICE); ran under delays";
    return {SyncMode::delays, ctx.seed};
  }
  return {ctx.schedule, ctx.seed};
}

std::string SyncSchedule::env_for(unsigned actor) const {
  return fmt::format("IPCG_SYNC=mode={} seed={} actor={}", to_string(mode_), seed_, actor);
}

namespace {

std::uint32_t mode_code(SyncMode m) {
  switch (m) {
    case SyncMode::native: return IPCG_SYNC_NATIVE;
    case SyncMode::delays: return IPCG_SYNC_DELAYS;
    case SyncMode::pct: return IPCG_SYNC_PCT;
  }
  return IPCG_SYNC_NATIVE;
}

template <typename T>
T load(const T& field) {
  return __atomic_load_n(&field, __ATOMIC_ACQUIRE);
}

SyncActorRecord::Object object_of(const ipcg_sync_object& o, pid_t pid) {
  SyncActorRecord::Object out;
  const std::uint32_t kind = load(o.kind);
  out.kind = kind == IPCG_SYNC_OBJ_MUTEX  ? SyncActorRecord::Object::Kind::mutex
             : kind == IPCG_SYNC_OBJ_SYSV ? SyncActorRecord::Object::Kind::sysv
                                          : SyncActorRecord::Object::Kind::sem;
  out.addr = o.addr;
  out.semid = o.semid;
  out.semnum = o.semnum;
  out.acquired = load(o.acquired);
  out.released = load(o.released);
  if (o.where_found == 1)
    out.identity = fmt::format("{}:{}:{}:{}", o.dev_major, o.dev_minor, o.inode, o.offset);
  else if (o.where_found == 2)
    out.identity = fmt::format("private:{}:{:x}", pid, o.addr);
  return out;
}

}  // namespace

SyncDecision sync_decision(SyncMode mode, std::uint64_t seed, unsigned actor, std::uint64_t lineage,
                           std::uint64_t count) {
  const ipcg_sync_decision d = ipcg_sync_decide(mode_code(mode), seed, ipcg_sync_actor_key(actor, lineage), count);
  SyncDecision out;
  out.action = d.action == IPCG_SYNC_YIELD   ? SyncDecision::Action::yield
               : d.action == IPCG_SYNC_SLEEP ? SyncDecision::Action::sleep
                                             : SyncDecision::Action::run_on;
  out.sleep_us = d.sleep_us;
  return out;
}

std::string describe(const SyncViolation& v) {
  switch (v.kind) {
    case SyncViolation::Kind::two_inside:
      if (v.pid_a == 0)
        return fmt::format("pid {} entered critical section {} while another process was inside ({} inside; its step {})",
                           v.pid_b, v.index, v.value, v.step);
      return fmt::format("pids {} and {} were inside critical section {} at once ({} inside; pid {}'s step {})",
                         v.pid_a, v.pid_b, v.index, v.value, v.pid_b, v.step);
    case SyncViolation::Kind::underflow:
      return fmt::format("buffer {}: pid {}'s get returned an item no put had started (count {} < 0; its step {})",
                         v.index, v.pid_b, v.value, v.step);
    case SyncViolation::Kind::overflow:
      return fmt::format("buffer {}: pid {}'s put returned with at least {} items in, over the capacity (its step {})",
                         v.index, v.pid_b, v.value, v.step);
  }
  return "unknown violation";
}

Result<SyncMonitor> SyncMonitor::create(SyncMode mode) {
  UniqueFd fd(::memfd_create("ipcg-sync-monitor", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return fail(Errc::io, std::string("memfd_create for the sync monitor: ") + std::strerror(errno));
  if (::ftruncate(fd.get(), sizeof(ipcg_sync_monitor)) != 0)
    return fail(Errc::io, std::string("sizing the sync monitor: ") + std::strerror(errno));
  // Its size is fixed: no role can shrink it under the grader's mapping (SIGBUS).
  ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  void* p = ::mmap(nullptr, sizeof(ipcg_sync_monitor), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) return fail(Errc::io, std::string("mapping the sync monitor: ") + std::strerror(errno));
  auto* m = static_cast<ipcg_sync_monitor*>(p);
  m->version = IPCG_SYNC_VERSION;
  m->mode = mode_code(mode);
  __atomic_store_n(&m->magic, IPCG_SYNC_MAGIC, __ATOMIC_RELEASE);
  return SyncMonitor(std::move(fd), m);
}

SyncMonitor::SyncMonitor(SyncMonitor&& o) noexcept : fd_(std::move(o.fd_)), map_(std::exchange(o.map_, nullptr)) {}

SyncMonitor& SyncMonitor::operator=(SyncMonitor&& o) noexcept {
  if (this != &o) {
    if (map_ != nullptr) ::munmap(map_, sizeof(ipcg_sync_monitor));
    fd_ = std::move(o.fd_);
    map_ = std::exchange(o.map_, nullptr);
  }
  return *this;
}

SyncMonitor::~SyncMonitor() {
  if (map_ != nullptr) ::munmap(map_, sizeof(ipcg_sync_monitor));
}

std::uint32_t SyncMonitor::violations_seen() const { return load(map_->violations_seen); }

std::vector<SyncViolation> SyncMonitor::violations() const {
  std::vector<SyncViolation> out;
  const std::uint32_t n = std::min<std::uint32_t>(violations_seen(), IPCG_SYNC_MAX_VIOLATIONS);
  for (std::uint32_t i = 0; i < n; ++i) {
    const ipcg_sync_violation& v = map_->violations[i];
    const std::uint32_t kind = load(v.kind);
    if (kind == 0) continue;  // still being written (the roles have not all ended)
    SyncViolation out_v;
    out_v.kind = kind == IPCG_SYNC_V_UNDERFLOW  ? SyncViolation::Kind::underflow
                 : kind == IPCG_SYNC_V_OVERFLOW ? SyncViolation::Kind::overflow
                                                : SyncViolation::Kind::two_inside;
    out_v.index = v.index;
    out_v.pid_a = v.pid_a;
    out_v.pid_b = v.pid_b;
    out_v.step = v.step;
    out_v.value = v.value;
    out.push_back(out_v);
  }
  return out;
}

std::vector<SyncActorRecord> SyncMonitor::actors() const {
  std::vector<SyncActorRecord> out;
  const std::uint32_t n = std::min<std::uint32_t>(load(map_->actors_used), IPCG_SYNC_MAX_ACTORS);
  for (std::uint32_t i = 0; i < n; ++i) {
    const ipcg_sync_actor& a = map_->actors[i];
    SyncActorRecord r;
    r.pid = load(a.pid);
    if (r.pid == 0) continue;
    r.actor = a.actor;
    r.lineage = a.lineage;
    r.calls = load(a.calls);
    r.slot = i;
    r.pct_waiting = load(a.pct_wait) == 1u;
    r.pct_requests = load(a.pct_requests);
    for (const ipcg_sync_object& o : a.objects) {
      const std::uint32_t kind = load(o.kind);
      if (kind != 0 && kind != IPCG_SYNC_OBJ_CLAIMING) r.objects.push_back(object_of(o, r.pid));
    }
    if (load(a.waiting.kind) != 0) r.waiting = object_of(a.waiting, r.pid);
    out.push_back(std::move(r));
  }
  return out;
}

void SyncMonitor::pct_release(unsigned slot) const {
  if (slot >= IPCG_SYNC_MAX_ACTORS) return;
  __atomic_store_n(&map_->actors[slot].pct_wait, 0u, __ATOMIC_RELEASE);
}

std::uint64_t SyncMonitor::section_entries(unsigned s) const {
  return s < IPCG_SYNC_MAX_SECTIONS ? load(map_->sections[s].entries) : 0;
}

SpawnSpec with_sync(SpawnSpec spec, const SyncSchedule& schedule, unsigned actor, const SyncMonitor& monitor) {
  spec.env.push_back(schedule.env_for(actor));
  spec.fds.push_back({monitor.fd(), IPCG_SYNC_MONITOR_FD});
  return spec;
}

}  // namespace ipcg
