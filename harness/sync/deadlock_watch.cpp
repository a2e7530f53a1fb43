// DeadlockWatch: every process asleep, none progressing, for a grace -> the wait-for graph.
#include "harness/sync/deadlock_watch.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "harness/core/unique_fd.hpp"
#include "harness/sync/sync_shared.h"
#include "sysv_sem_state.hpp"

namespace ipcg {
namespace {

std::string read_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out;
  if (!fd) return out;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// `size` bytes of a process's memory at `addr` (ptrace-read access, which the grader has over
// its cells' processes).
bool read_memory(pid_t pid, std::uint64_t addr, void* out, std::size_t size) {
  UniqueFd fd(::open(fmt::format("/proc/{}/mem", pid).c_str(), O_RDONLY | O_CLOEXEC));
  return fd && ::pread(fd.get(), out, size, static_cast<off_t>(addr)) == static_cast<ssize_t>(size);
}

// The identity of the word at `addr` in `pid`: the same for every process that maps the same
// object (device, inode, offset); a private mapping's word is that process's alone.
// `pid` is the process's own (namespace) pid, as the interposer names its private words too.
std::optional<std::string> identity_in(pid_t pid, const MapsEntry& m, std::uint64_t addr) {
  const std::uint64_t offset = addr - m.start + m.offset;
  if (!m.shared) return fmt::format("private:{}:{:x}", pid, addr);
  return fmt::format("{}:{}:{}:{}", m.device_major, m.device_minor, m.inode, offset);
}

// The name a /dev/shm object has now, found by its inode in the process's own /dev/shm (its
// mount namespace's, through /proc/PID/root): the path in maps is the one it was opened by, and
// glibc's sem_open makes a semaphore under a temporary name (sem.XXXXXX) and links it to its own.
void rename_by_inode(pid_t pid, MapsEntry& m) {
  static constexpr std::string_view kShm = "/dev/shm/";
  if (m.path.rfind(kShm, 0) != 0) return;
  std::error_code ec;
  const std::filesystem::path dir = fmt::format("/proc/{}/root/dev/shm", pid);
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) == 0 && st.st_ino == m.inode) {
      m.path = std::string(kShm) + entry.path().filename().string();
      return;
    }
  }
}

// glibc's semop is the semtimedop system call with no timeout: name what the code called.
std::string call_name(const std::optional<SyncActorRecord::Object>& waiting, const ProcessSnapshot& s) {
  const long syscall = s.syscall.value_or(-1);
  if (syscall == SYS_semtimedop && s.syscall_args.size() >= 4)
    return s.syscall_args[3] == 0 ? "semop" : "semtimedop";
  if (waiting) {
    switch (waiting->kind) {
      case SyncActorRecord::Object::Kind::sem: return "sem_wait";
      case SyncActorRecord::Object::Kind::mutex: return "pthread_mutex_lock";
      case SyncActorRecord::Object::Kind::sysv: return "semop";
    }
  }
  return syscall_name(syscall);
}

}  // namespace

DeadlockWatch::DeadlockWatch(const SyncMonitor* monitor, Options options)
    : monitor_(monitor), options_(options), stall_({.grace = options.grace, .sample_every = options.sample_every}) {}

bool DeadlockWatch::observe(const Scene& scene) {
  std::vector<WatchedProcess> who;
  for (const auto& actor : scene.actors()) {
    if (!actor->proc || actor->status) continue;
    const pid_t main = actor->proc->pid();
    for (pid_t p : actor->proc->processes())
      who.push_back({p, p == main ? actor->label : "a child of " + actor->label});
  }
  return observe(who);
}

bool DeadlockWatch::observe(const std::vector<WatchedProcess>& processes) {
  if (fired_) return true;
  const auto now = Clock::now();
  if (!stall_.due(now)) return false;
  std::vector<pid_t> pids;
  for (const auto& w : processes) pids.push_back(w.pid);
  std::vector<ProcessSnapshot> snaps = proc_.snapshot_all(pids);
  for (const auto& s : snaps) host_pid_of_ns_pid_[s.ns_pid] = s.pid;
  remember_objects(snaps);
  // Stalled: every live process asleep in a wait only another can end (harness/proc/stall.hpp:
  // by syscall number and arguments; a wait with a timeout ends by itself), none progressing.
  std::vector<ProcessLook> looks;
  for (const auto& s : snaps) looks.push_back(look_of(s));
  if (!stall_.observe(looks, now)) return false;
  fired_ = true;
  build_graph(snaps, processes);
  return true;
}

void DeadlockWatch::remember_objects(const std::vector<ProcessSnapshot>& snaps) {
  if (monitor_ == nullptr) return;
  for (const SyncActorRecord& r : monitor_->actors()) {
    const auto host = host_pid_of_ns_pid_.find(r.pid);
    if (host == host_pid_of_ns_pid_.end()) continue;
    const bool alive = std::any_of(snaps.begin(), snaps.end(), [&](const auto& s) { return s.pid == host->second; });
    if (!alive) continue;
    std::string maps;
    for (const auto& o : r.objects) {
      if (o.kind == SyncActorRecord::Object::Kind::sysv || identity_.count({r.pid, o.addr})) continue;
      if (maps.empty()) maps = read_text(fmt::format("/proc/{}/maps", host->second));
      if (auto m = mapping_of(maps, o.addr)) identity_[{r.pid, o.addr}] = *identity_in(r.pid, *m, o.addr);
    }
  }
}

void DeadlockWatch::build_graph(const std::vector<ProcessSnapshot>& snaps, const std::vector<WatchedProcess>& who) {
  const std::vector<SyncActorRecord> records = monitor_ ? monitor_->actors() : std::vector<SyncActorRecord>{};
  auto host_of = [&](pid_t ns) {
    const auto it = host_pid_of_ns_pid_.find(ns);
    return it == host_pid_of_ns_pid_.end() ? ns : it->second;
  };
  auto record_of = [&](const ProcessSnapshot& s) -> const SyncActorRecord* {
    for (const auto& r : records)
      if (r.pid == s.ns_pid) return &r;
    return nullptr;
  };
  // Who holds an object: a process that acquired it more often than it released it, and that
  // either has released it too (it uses it as a lock) or is the only kind of user (nobody else
  // ever posted it: a lock taken once). A consumer that only waits on a counting semaphore others
  // post (a ring's `full`) holds nothing. An object of a process that ended before the watch
  // could resolve it is matched by address: right for a process forked after the mapping was
  // made (children inherit its addresses).
  auto same_object = [&](const SyncActorRecord& r, const SyncActorRecord::Object& o, const std::string& identity,
                         std::uint64_t addr) {
    if (o.kind == SyncActorRecord::Object::Kind::sysv) return false;
    if (!o.identity.empty()) return o.identity == identity;  // as its process found it
    const auto id = identity_.find({r.pid, o.addr});
    return id != identity_.end() ? id->second == identity : o.addr == addr;
  };
  // Sorts the users of one semaphore (`is_it` picks its objects from the records) into w: holders
  // (took it more often than they gave it back, and either gave it back before, a lock, or are the
  // only kind of user), takers (a count used up, see WaitedObject) and posters (gave it back before
  // and hold none of it: who would post it again).
  auto sort_users = [&](WaitedObject& w, const auto& is_it) {
    auto add = [](std::vector<pid_t>& to, pid_t p) {
      if (std::find(to.begin(), to.end(), p) == to.end()) to.push_back(p);
    };
    std::set<pid_t> posters;
    for (const auto& r : records)
      for (const auto& o : r.objects)
        if (o.released > 0 && is_it(r, o)) posters.insert(r.pid);
    std::vector<pid_t> holders;
    for (const auto& r : records)
      for (const auto& o : r.objects) {
        if (o.held() <= 0 || !is_it(r, o)) continue;
        const bool others_post = posters.size() > (posters.count(r.pid) ? 1u : 0u);
        // Taken twice and never given back: no lock is taken twice, so this is a count used up.
        if (o.released == 0 && o.held() >= 2) {
          if (!others_post) add(w.takers, host_of(r.pid));
        } else if (o.released > 0 || !others_post) {
          add(w.holders, host_of(r.pid));
          add(holders, host_of(r.pid));
        }
      }
    for (pid_t p : posters)
      if (std::find(holders.begin(), holders.end(), host_of(p)) == holders.end()) add(w.posters, host_of(p));
  };
  auto holders_of = [&](WaitedObject& w, const std::string& identity, std::uint64_t addr) {
    sort_users(w, [&](const SyncActorRecord& r, const SyncActorRecord::Object& o) {
      return same_object(r, o, identity, addr);
    });
  };
  // Per semaphore of the set (the posters of fork 2 say nothing of who holds fork 1), and only
  // for those the semop waits on.
  auto sysv_holders = [&](WaitedObject& w, long semid, const std::set<int>& semnums) {
    for (const int semnum : semnums)
      sort_users(w, [&](const SyncActorRecord&, const SyncActorRecord::Object& o) {
        return o.kind == SyncActorRecord::Object::Kind::sysv && o.semid == semid && o.semnum == semnum;
      });
  };

  graph_.clear();
  for (const auto& s : snaps) {
    if (s.state == 'Z') continue;
    WaitNode node;
    node.pid = s.pid;
    for (const auto& w : who)
      if (w.pid == s.pid) node.label = w.label;
    const SyncActorRecord* record = record_of(s);
    const auto waiting = record ? record->waiting : std::nullopt;
    const long nr = s.syscall.value_or(-1);
    node.blocked_in = call_name(waiting, s);
    if (nr == SYS_futex && !s.syscall_args.empty()) {
      const std::uint64_t addr = s.syscall_args[0];
      const auto maps = read_text(fmt::format("/proc/{}/maps", s.pid));
      if (auto m = mapping_of(maps, addr)) {
        rename_by_inode(s.pid, *m);
        WaitedObject o;
        o.what = describe_mapping(*m, addr - m->start + m->offset);
        const bool mutex = waiting && waiting->kind == SyncActorRecord::Object::Kind::mutex;
        if (mutex) o.what = "mutex in " + o.what;
        else if (o.what.rfind("semaphore ", 0) != 0) o.what = "semaphore in " + o.what;
        std::uint32_t word = 0;
        if (read_memory(s.pid, addr, &word, sizeof word))
          o.state = mutex ? (word ? "locked" : "unlocked") : fmt::format("value {}", word);
        holders_of(o, *identity_in(s.ns_pid, *m, addr), addr);
        node.waits_on = std::move(o);
      }
    } else if ((nr == SYS_semop || nr == SYS_semtimedop) && s.syscall_args.size() >= 3) {
      const long semid = static_cast<long>(static_cast<std::int32_t>(s.syscall_args[0]));
      const std::size_t nsops = std::min<std::size_t>(s.syscall_args[2], 16);
      std::vector<SysvSemOp> ops(nsops);
      if (!read_memory(s.pid, s.syscall_args[1], ops.data(), nsops * sizeof(SysvSemOp))) ops.clear();
      const auto state = sysv_sem_state(s.pid, static_cast<int>(semid));
      // The semaphores the call cannot pass now (a -1 on a 0, a wait-for-zero on a non-zero); all
      // of them when the values could not be read.
      std::set<int> semnums, blocking;
      for (const auto& op : ops) {
        semnums.insert(op.sem_num);
        if (!state.read || op.sem_num >= state.values.size()) continue;
        const int value = state.values[op.sem_num];
        if ((op.sem_op < 0 && value + op.sem_op < 0) || (op.sem_op == 0 && value != 0)) blocking.insert(op.sem_num);
      }
      if (blocking.empty()) blocking = semnums;
      WaitedObject o;
      o.what = describe_sysv_wait(static_cast<int>(semid), state, ops);
      o.state = describe_sysv_state(state, semnums);
      sysv_holders(o, semid, blocking);
      node.waits_on = std::move(o);
    } else if (nr == SYS_wait4 || nr == SYS_waitid) {
      for (const auto& c : snaps)
        if (c.ppid == s.pid && c.state != 'Z') node.waits_for.push_back(c.pid);
    }
    graph_.push_back(std::move(node));
  }
}

CheckOutcome DeadlockWatch::outcome(const std::string& what) const {
  const bool circular = !find_cycle(graph_).empty();
  auto out = CheckOutcome::fail(
      fmt::format("deadlock: {} stopped making progress, every process asleep for {} ms{}; the test was ended at once",
                  what, stall_.stalled_for().count(), circular ? " in a circular wait" : ""),
      explanation());
  return out;
}

}  // namespace ipcg
