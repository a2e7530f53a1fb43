// Starting sync_test_actor processes (the test's stand-ins for a lab's programs, linked with the
// interposer) and the counter they share: used by test_sync and bench/bench_sync.cpp.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "harness/core/unique_fd.hpp"
#include "harness/sync/pct.hpp"
#include "harness/sync/sync.hpp"

namespace ipcg::sync_actors {

// A started sync_test_actor: killed and reaped unless waited for.
struct Child {
  pid_t pid = -1;
  UniqueFd to_stdin, from_stdout;
  Child() = default;
  Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)), to_stdin(std::move(o.to_stdin)), from_stdout(std::move(o.from_stdout)) {}
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  // The byte the actor writes once it holds its first semaphore.
  bool said_ready() {
    char c = 0;
    return ::read(from_stdout.get(), &c, 1) == 1 && c == '1';
  }
  bool go() { return ::write(to_stdin.get(), "g", 1) == 1; }
};

struct SpawnOptions {
  std::string env;      // IPCG_SYNC=...
  int monitor_fd = -1;  // becomes fd 5
  int shared_fd = -1;   // becomes fd 6
  int pin_cpu = -1;
};

inline Child spawn(const std::vector<std::string>& args, const SpawnOptions& o) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return {};
  std::vector<std::string> argv_s{SYNC_TEST_ACTOR};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string env_s = o.env;
  char* envp[] = {env_s.empty() ? nullptr : env_s.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Everything to high fds first, so no dup2 below overwrites a source.
    const int fds[4] = {in[0], out[1], o.monitor_fd, o.shared_fd};
    int high[4];
    for (int i = 0; i < 4; ++i) high[i] = fds[i] < 0 ? -1 : ::fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
    const int targets[4] = {0, 1, 5, 6};
    for (int i = 0; i < 4; ++i)
      if (high[i] >= 0) ::dup2(high[i], targets[i]);
    if (o.pin_cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(o.pin_cpu, &set);
      ::sched_setaffinity(0, sizeof set, &set);
    }
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  Child c;
  c.pid = pid;
  c.to_stdin = UniqueFd(in[1]);
  c.from_stdout = UniqueFd(out[0]);
  return c;
}

// The counter both actors increment: a process-shared semaphore and the value (sync_test_actor.c).
struct SharedCounter {
  struct Layout {
    sem_t mutex;
    char pad[64];
    volatile long value;
  };
  UniqueFd fd{::memfd_create("sync-test-counter", MFD_CLOEXEC)};
  Layout* map = nullptr;
  explicit SharedCounter(unsigned mutex_value) {
    if (::ftruncate(fd.get(), sizeof(Layout)) != 0) return;
    void* p = ::mmap(nullptr, sizeof(Layout), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return;
    map = static_cast<Layout*>(p);
    ::sem_init(&map->mutex, 1, mutex_value);
    map->value = 0;
  }
  ~SharedCounter() {
    if (map == nullptr) return;
    ::sem_destroy(&map->mutex);
    ::munmap(map, sizeof(Layout));
  }
};

struct CountRun {
  long lost = 0;
  std::vector<SyncViolation> violations;
};

// Two actors each add `n` to the counter with `variant`; returns the updates lost.
inline CountRun count_twice(SyncMode mode, std::uint64_t seed, const std::string& variant, long n, bool pinned,
                     unsigned mutex_value = 1) {
  SharedCounter counter(mutex_value);
  if (counter.map == nullptr) return {-1, {}};
  auto monitor = SyncMonitor::create(mode);
  if (!monitor) return {-1, {}};
  const SyncSchedule schedule(mode, seed);
  std::vector<Child> actors;
  for (unsigned a = 0; a < 2; ++a)
    actors.push_back(spawn({"count", variant, std::to_string(n)},
                           {schedule.env_for(a), monitor->fd(), counter.fd.get(), pinned ? 0 : -1}));
  // pct: the grader's half places each process and demotes it at its change points meanwhile.
  PctScheduler pct(schedule, *monitor);
  for (auto& c : actors) {
    while (mode == SyncMode::pct) {
      std::vector<pid_t> pids;
      for (const auto& a : actors)
        if (a.pid > 0) pids.push_back(a.pid);
      pct.tick(pids);
      int status = 0;
      if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
        c.pid = -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {-1, {}};
        break;
      }
      ::poll(nullptr, 0, 1);
    }
    if (c.pid > 0 && c.wait() != 0) return {-1, {}};
  }
  return {2 * n - counter.map->value, monitor->violations()};
}

}  // namespace ipcg::sync_actors
