// The synchronization checker on real processes linked with the interposer (sync_test_actor):
// perturbation exposes a lost update that native pinned runs hide, a lock never loses one, the
// monitor catches two processes inside one critical section, and DeadlockWatch ends and explains
// a deadlock on POSIX named semaphores and on a SysV set. No sleeps: the handshakes and /proc say
// when each step happened; the watch's polling is the only wait, bounded by a deadline.
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "harness/core/unique_fd.hpp"
#include "harness/sync/deadlock_watch.hpp"
#include "harness/sync/pct.hpp"
#include "harness/sync/spin_watch.hpp"
#include "harness/sync/sync.hpp"
#include "sync_actors.hpp"

namespace ipcg {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

using namespace sync_actors;

constexpr int kSeeds = 10;

TEST(SyncInterposer, DelaysExposeAnUpdateMadeAfterTheUnlockInNearlyEverySeed) {
  int lost_in = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) lost_in += count_twice(SyncMode::delays, seed, "early_release", 200, false).lost > 0;
  EXPECT_GE(lost_in, kSeeds - 1) << "seeds that lost an update under delays";
  // Native and pinned to one CPU, the same bug rarely shows: the measured rate is in
  // docs/performance.md; here it is only printed, since it is the kernel's to decide.
  int native_lost_in = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) native_lost_in += count_twice(SyncMode::native, seed, "early_release", 200, true).lost > 0;
  std::printf("early_release, 2 x 200 increments: lost updates in %d/%d seeds under delays, %d/%d native pinned\n",
              lost_in, kSeeds, native_lost_in, kSeeds);
}

TEST(SyncInterposer, ALockNeverLosesAnUpdateAndNoSectionIsSharedUnderDelays) {
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const CountRun run = count_twice(SyncMode::delays, seed, "locked", 200, false);
    EXPECT_EQ(run.lost, 0) << "seed " << seed;
    EXPECT_TRUE(run.violations.empty()) << "seed " << seed << ": " << describe(run.violations.front());
  }
}

TEST(SyncMonitor, AMutexSemaphoreInitialisedToTwoLetsTwoProcessesInAndNamesBoth) {
  int caught = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const CountRun run = count_twice(SyncMode::delays, seed, "locked", 200, false, /*mutex_value=*/2);
    if (run.violations.empty()) continue;
    ++caught;
    const SyncViolation& v = run.violations.front();
    EXPECT_EQ(v.kind, SyncViolation::Kind::two_inside);
    EXPECT_NE(v.pid_a, v.pid_b);
    EXPECT_GT(v.step, 0u);
  }
  EXPECT_GE(caught, kSeeds - 1);
}

TEST(SyncMonitor, RecordsWhatEachProcessAcquiredAndReleased) {
  SharedCounter counter(1);
  auto monitor = SyncMonitor::create(SyncMode::native);
  ASSERT_TRUE(monitor);
  Child c = spawn({"count", "locked", "25"}, {SyncSchedule(SyncMode::native, 1).env_for(4), monitor->fd(), counter.fd.get()});
  const pid_t pid = c.pid;
  ASSERT_EQ(c.wait(), 0);
  const auto actors = monitor->actors();
  ASSERT_EQ(actors.size(), 1u);
  EXPECT_EQ(actors[0].pid, pid);
  EXPECT_EQ(actors[0].actor, 4u);
  // Per increment: the driver's 2 points, 2 around sem_wait, 2 around sem_post, 1 inside the section.
  EXPECT_EQ(actors[0].calls, 25u * 7);
  ASSERT_EQ(actors[0].objects.size(), 1u);
  EXPECT_EQ(actors[0].objects[0].acquired, 25);
  EXPECT_EQ(actors[0].objects[0].released, 25);
  EXPECT_EQ(monitor->section_entries(0), 25u);
}

// Two named semaphores at 1, unlinked at the end.
struct NamedSemaphores {
  std::string a, b;
  explicit NamedSemaphores(const std::string& tag = "")
      : a(fmt::format("/ipcg-sync-test-{}{}-a", ::getpid(), tag)), b(fmt::format("/ipcg-sync-test-{}{}-b", ::getpid(), tag)) {
    for (const auto& n : {a, b}) {
      sem_t* s = ::sem_open(n.c_str(), O_CREAT | O_EXCL, 0600, 1);
      EXPECT_NE(s, SEM_FAILED) << n;
      ::sem_close(s);
    }
  }
  ~NamedSemaphores() {
    ::sem_unlink(a.c_str());
    ::sem_unlink(b.c_str());
  }
};

// ---- pct ---------------------------------------------------------------------------------------

TEST(PctScheduler, PlacesEachProcessOnOneCpuWithItsOwnFifoPriorityWhenItAsks) {
  if (!rt_priorities_allowed()) GTEST_SKIP() << "no CAP_SYS_NICE: pct falls back to delays";
  NamedSemaphores first("p"), second("q");
  auto monitor = SyncMonitor::create(SyncMode::pct);
  ASSERT_TRUE(monitor);
  const SyncSchedule schedule(SyncMode::pct, 21);
  PctScheduler pct(schedule, *monitor);
  Child p = spawn({"lockorder", first.a, first.b}, {schedule.env_for(0), monitor->fd()});
  Child q = spawn({"lockorder", second.a, second.b}, {schedule.env_for(1), monitor->fd()});
  // Each asks to be placed as it starts (and runs on): the grader's ticks answer both.
  const auto start = Clock::now();
  while (pct.placed() < 2 && Clock::now() - start < std::chrono::seconds(2)) {
    pct.tick({p.pid, q.pid});
    ::poll(nullptr, 0, 1);
  }
  ASSERT_EQ(pct.placed(), 2u);
  ASSERT_TRUE(p.said_ready());
  ASSERT_TRUE(q.said_ready());
  std::set<int> priorities;
  for (pid_t pid : {p.pid, q.pid}) {
    EXPECT_EQ(::sched_getscheduler(pid), SCHED_FIFO) << pid;
    sched_param param{};
    ASSERT_EQ(::sched_getparam(pid, &param), 0);
    EXPECT_GT(param.sched_priority, static_cast<int>(SyncSchedule::kPctDepth) - 1);
    priorities.insert(param.sched_priority);
    cpu_set_t cpus;
    ASSERT_EQ(::sched_getaffinity(pid, sizeof cpus, &cpus), 0);
    EXPECT_EQ(CPU_COUNT(&cpus), 1);
    EXPECT_TRUE(CPU_ISSET(0, &cpus));
  }
  EXPECT_EQ(priorities, (std::set<int>{pct.start_priority(0), pct.start_priority(1)}));
  EXPECT_EQ(pct.note(), "");
  ASSERT_TRUE(p.go());
  ASSERT_TRUE(q.go());
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(q.wait(), 0);
}

TEST(PctScheduler, StartingPrioritiesAreDistinctAndAboveTheDemotedOnes) {
  auto monitor = SyncMonitor::create(SyncMode::pct);
  ASSERT_TRUE(monitor);
  const PctScheduler a(SyncSchedule(SyncMode::pct, 5), *monitor), b(SyncSchedule(SyncMode::pct, 6), *monitor);
  std::set<int> seen;
  std::vector<int> order_a, order_b;
  for (unsigned n = 0; n < 16; ++n) {
    EXPECT_GE(a.start_priority(n), static_cast<int>(SyncSchedule::kPctDepth));
    EXPECT_LE(a.start_priority(n), 99);
    seen.insert(a.start_priority(n));
    order_a.push_back(a.start_priority(n));
    order_b.push_back(b.start_priority(n));
  }
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_NE(order_a, order_b);  // drawn from the seed
}

// ---- deadlocks ---------------------------------------------------------------------------------

// Polls the watch like a Scene's tick until it fires or `limit` passes; returns how long it took.
std::chrono::milliseconds watch_until_fired(DeadlockWatch& watch, const std::vector<WatchedProcess>& who,
                                            std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  while (!watch.observe(who) && Clock::now() - start < limit) ::poll(nullptr, 0, 2);
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}


TEST(DeadlockWatch, TwoNamedSemaphoresTakenInOppositeOrderFireWithinASecondAndAreExplained) {
  NamedSemaphores sems;
  auto monitor = SyncMonitor::create(SyncMode::native);
  ASSERT_TRUE(monitor);
  const SyncSchedule schedule(SyncMode::native, 1);
  Child p = spawn({"lockorder", sems.a, sems.b}, {schedule.env_for(0), monitor->fd()});
  Child q = spawn({"lockorder", sems.b, sems.a}, {schedule.env_for(1), monitor->fd()});
  DeadlockWatch watch(&*monitor);
  const std::vector<WatchedProcess> who{{p.pid, "first"}, {q.pid, "second"}};
  // Each holds its first semaphore (and the watch has seen their objects) before both go on.
  ASSERT_TRUE(p.said_ready());
  ASSERT_TRUE(q.said_ready());
  watch.observe(who);
  ASSERT_TRUE(p.go());
  ASSERT_TRUE(q.go());
  const auto took = watch_until_fired(watch, who, std::chrono::milliseconds(3000));
  ASSERT_TRUE(watch.fired());
  EXPECT_LT(took.count(), 1000);
  const auto lines = watch.explanation();
  const std::string text = fmt::format("{}", fmt::join(lines, "\n"));
  EXPECT_THAT(text, AllOf(HasSubstr(fmt::format("pid {} (first) waits in sem_wait on semaphore {} (value 0), held by pid {}",
                                                p.pid, sems.b, q.pid)),
                          HasSubstr(fmt::format("pid {} (second) waits in sem_wait on semaphore {} (value 0), held by pid {}",
                                                q.pid, sems.a, p.pid)),
                          HasSubstr("circular wait: pid")))
      << text;
  const CheckOutcome verdict = watch.outcome("the two processes");
  EXPECT_EQ(verdict.status, Status::failed);
  EXPECT_THAT(verdict.message, HasSubstr("deadlock"));
}

TEST(DeadlockWatch, AProcessKilledWhileHoldingASemaphoreIsNamedAsTheCause) {
  NamedSemaphores sems;
  auto monitor = SyncMonitor::create(SyncMode::native);
  ASSERT_TRUE(monitor);
  const SyncSchedule schedule(SyncMode::native, 1);
  Child holder = spawn({"lockorder", sems.a, sems.b}, {schedule.env_for(0), monitor->fd()});
  ASSERT_TRUE(holder.said_ready());
  const pid_t holder_pid = holder.pid;
  DeadlockWatch watch(&*monitor);
  ::kill(holder.pid, SIGKILL);  // the watch never saw it alive: its interposer said where /a lies
  holder.wait();
  Child waiter = spawn({"lockorder", sems.a, sems.b}, {schedule.env_for(1), monitor->fd()});
  const std::vector<WatchedProcess> who{{waiter.pid, "waiter"}};
  watch_until_fired(watch, who, std::chrono::milliseconds(3000));
  ASSERT_TRUE(watch.fired());
  const std::string text = fmt::format("{}", fmt::join(watch.explanation(), "\n"));
  EXPECT_THAT(text, HasSubstr(fmt::format("pid {} (waiter) waits in sem_wait on semaphore {} (value 0), held by pid {}, "
                                          "which has ended without releasing it",
                                          waiter.pid, sems.a, holder_pid)))
      << text;
}

TEST(DeadlockWatch, ASysvSemopDeadlockNamesTheSetItsSemaphoresAndValues) {
  const int semid = ::semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  ASSERT_GE(semid, 0);
  struct Remove {
    int id;
    ~Remove() { ::semctl(id, 0, IPC_RMID); }
  } remove{semid};
  unsigned short ones[2] = {1, 1};
  ASSERT_EQ(::semctl(semid, 0, SETALL, ones), 0);
  auto monitor = SyncMonitor::create(SyncMode::native);
  ASSERT_TRUE(monitor);
  const SyncSchedule schedule(SyncMode::native, 1);
  Child p = spawn({"sysv", std::to_string(semid), "0", "1"}, {schedule.env_for(0), monitor->fd()});
  Child q = spawn({"sysv", std::to_string(semid), "1", "0"}, {schedule.env_for(1), monitor->fd()});
  ASSERT_TRUE(p.said_ready());
  ASSERT_TRUE(q.said_ready());
  ASSERT_TRUE(p.go());
  ASSERT_TRUE(q.go());
  DeadlockWatch watch(&*monitor);
  const std::vector<WatchedProcess> who{{p.pid, "first"}, {q.pid, "second"}};
  const auto took = watch_until_fired(watch, who, std::chrono::milliseconds(3000));
  ASSERT_TRUE(watch.fired());
  EXPECT_LT(took.count(), 1000);
  const std::string text = fmt::format("{}", fmt::join(watch.explanation(), "\n"));
  EXPECT_THAT(text, AllOf(HasSubstr(fmt::format("pid {} (first) waits in semop on SysV semaphore set id {}", p.pid, semid)),
                          HasSubstr("semaphore 1 (-1)"), HasSubstr("semaphore 1: value 0, 1 waiting"),
                          HasSubstr(fmt::format("held by pid {}", q.pid)), HasSubstr("circular wait")))
      << text;
}

TEST(DeadlockWatch, ConsumersOfACountingSemaphoreHoldNothingAndMakeNoCycle) {
  const std::string name = fmt::format("/ipcg-sync-test-{}-full", ::getpid());
  struct Unlink {
    std::string n;
    ~Unlink() { ::sem_unlink(n.c_str()); }
  } unlink{name};
  auto monitor = SyncMonitor::create(SyncMode::native);
  ASSERT_TRUE(monitor);
  const SyncSchedule schedule(SyncMode::native, 1);
  Child producer = spawn({"fill", name, "3"}, {schedule.env_for(0), monitor->fd()});
  ASSERT_TRUE(producer.said_ready());  // 3 posted
  Child c1 = spawn({"drain", name}, {schedule.env_for(1), monitor->fd()});
  Child c2 = spawn({"drain", name}, {schedule.env_for(2), monitor->fd()});
  const pid_t producer_pid = producer.pid;  // wait() forgets it
  ASSERT_TRUE(producer.go());
  ASSERT_EQ(producer.wait(), 0);
  // A watch that never saw the producer alive: its interposer said where its semaphore lies.
  DeadlockWatch watch(&*monitor);
  const std::vector<WatchedProcess> who{{c1.pid, "consumer 1"}, {c2.pid, "consumer 2"}};
  watch_until_fired(watch, who, std::chrono::milliseconds(3000));
  ASSERT_TRUE(watch.fired());
  const std::string text = fmt::format("{}", fmt::join(watch.explanation(), "\n"));
  // Who could post it again: the producer, which has ended.
  EXPECT_THAT(text, HasSubstr(fmt::format("pid {} (consumer 1) waits in sem_wait on semaphore {} (value 0); nobody "
                                          "holds it, posted only by pid {}, which has ended", c1.pid, name, producer_pid)))
      << text;
  EXPECT_THAT(text, Not(HasSubstr("circular wait"))) << text;
  EXPECT_THAT(text, Not(HasSubstr("held by"))) << text;
}

TEST(DeadlockWatch, AWaitWithATimeoutIsNoDeadlock) {
  const std::string name = fmt::format("/ipcg-sync-test-{}-timed", ::getpid());
  struct Unlink {
    std::string n;
    ~Unlink() { ::sem_unlink(n.c_str()); }
  } unlink{name};
  Child c = spawn({"timedwait", name, "700"}, {});
  DeadlockWatch watch(nullptr, {std::chrono::milliseconds(100), std::chrono::milliseconds(5)});
  const std::vector<WatchedProcess> who{{c.pid, "timed waiter"}};
  // Its sem_timedwait ends by itself after 700 ms, and it says so: the watch never fired meanwhile.
  pollfd out{c.from_stdout.get(), POLLIN, 0};
  while (::poll(&out, 1, 2) == 0) EXPECT_FALSE(watch.observe(who));
  EXPECT_TRUE(c.said_ready());
  EXPECT_EQ(c.wait(), 0);
}

// ---- busy waiting, on real processes ----------------------------------------------------------

SpinWatch::Verdict watch_spin(Child& c) {
  SpinWatch spin;
  ProcInspector proc;
  while (spin.verdict() == SpinWatch::Verdict::undecided) {
    auto snap = proc.snapshot(c.pid);
    if (!snap || snap->state == 'Z') break;
    spin.observe(spin_sample(*snap, {SYS_futex}));
    ::poll(nullptr, 0, 5);
  }
  return spin.verdict();
}

TEST(SpinWatch, ASemTrywaitLoopSpinsAndASemWaitBlocks) {
  const std::string name = fmt::format("/ipcg-sync-test-{}-spin", ::getpid());
  struct Unlink {
    std::string n;
    ~Unlink() { ::sem_unlink(n.c_str()); }
  } unlink{name};
  Child spinner = spawn({"spin", name, "3000"}, {});
  EXPECT_EQ(watch_spin(spinner), SpinWatch::Verdict::spins);
  Child sleeper = spawn({"timedwait", name, "3000"}, {});
  EXPECT_EQ(watch_spin(sleeper), SpinWatch::Verdict::blocks);
}

TEST(DeadlockWatch, ProcessesThatKeepRunningNeverFire) {
  SharedCounter counter(1);
  auto monitor = SyncMonitor::create(SyncMode::delays);
  ASSERT_TRUE(monitor);
  Child c = spawn({"count", "locked", "3000"}, {SyncSchedule(SyncMode::delays, 5).env_for(0), monitor->fd(), counter.fd.get()});
  DeadlockWatch watch(&*monitor, {std::chrono::milliseconds(100), std::chrono::milliseconds(5)});
  const std::vector<WatchedProcess> who{{c.pid, "counter"}};
  // Until it exits: it sleeps between increments, but its context switches keep changing.
  while (true) {
    EXPECT_FALSE(watch.observe(who));
    int status = 0;
    if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
      c.pid = -1;
      break;
    }
    ::poll(nullptr, 0, 2);
  }
}

}  // namespace
}  // namespace ipcg
