// CellCgroup on the real cgroup hierarchies of this host (no mocks). Skipped where the grader
// gets no cgroups (not root, read-only /sys/fs/cgroup, no controller), with the reason.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "cgroup.hpp"  // private to harness_sandbox

namespace ipcg::internal {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t kMiB = 1u << 20;

// Creates a cell cgroup named uniquely, or skips the test saying why there is none.
#define MAKE_CGROUP_OR_SKIP(made, limits)                                          \
  auto made = CellCgroup::create(unique_cgroup_name(), limits);                     \
  ASSERT_TRUE(made) << made.error().message;                                        \
  if (!made->cgroup) GTEST_SKIP() << "no cgroups here: " << made->why_not

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Forks a child that joins `cg` (writes "0" into each cgroup.procs, as the keeper will) and
// then exits with body()'s value. Returns once the child is in the cgroup.
pid_t fork_joined(const CellCgroup& cg, const std::function<int()>& body) {
  auto procs = cg.open_procs_files();
  if (!procs) {
    ADD_FAILURE() << procs.error().message;
    return -1;
  }
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    for (const UniqueFd& fd : *procs)
      if (::write(fd.get(), "0", 1) != 1) ::_exit(90);
    if (::write(ready[1], "r", 1) != 1) ::_exit(91);
    ::close(ready[1]);
    ::_exit(body());
  }
  ::close(ready[1]);
  char byte;
  while (::read(ready[0], &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  return pid;
}

// Allocates and touches `bytes`; 0 when it survived.
int allocate(std::uint64_t bytes) {
  volatile char* p = static_cast<volatile char*>(std::malloc(bytes));
  if (p == nullptr) return 92;
  for (std::uint64_t i = 0; i < bytes; i += 4096) p[i] = 1;
  return 0;
}

bool killed_by(int status, int sig) { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }

TEST(Cgroup, DescribesSupport) {
  const std::string line = describe_cgroup_support();
  std::printf("cgroup support: %s\n", line.c_str());
  EXPECT_FALSE(line.empty());
}

TEST(Cgroup, RejectsNamesThatAreNotOneComponent) {
  for (const char* bad : {"", ".", "..", "a/b", "../escape", "cgroup.procs"}) {
    auto made = CellCgroup::create(bad, {});
    EXPECT_FALSE(made) << "'" << bad << "' accepted";
  }
}

TEST(Cgroup, CreateAndDestroyLeavesNoFolder) {
  MAKE_CGROUP_OR_SKIP(made, (CgroupLimits{64 * kMiB, 16}));
  const std::vector<std::string> paths = made->cgroup->paths();
  ASSERT_FALSE(paths.empty());
  for (const std::string& p : paths) EXPECT_TRUE(exists(p)) << p;
  EXPECT_TRUE(made->cgroup->empty());
  EXPECT_FALSE(made->cgroup->oom_killed());

  // Moving hands the folders over; the moved-from object removes nothing.
  CellCgroup moved = std::move(*made->cgroup);
  made->cgroup.reset();
  for (const std::string& p : paths) EXPECT_TRUE(exists(p)) << p;
  ASSERT_TRUE(moved.destroy()) << "destroy";
  for (const std::string& p : paths) EXPECT_FALSE(exists(p)) << p;

  // What one cell costs: create (mkdir + limits) and destroy (rmdir) of every folder.
  constexpr int kRounds = 100;
  std::vector<double> us;
  for (int i = 0; i < kRounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    {
      auto again = CellCgroup::create(unique_cgroup_name(), {64 * kMiB, 16});
      ASSERT_TRUE(again && again->cgroup);
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  std::printf("create+destroy of %zu folder(s): median %.0f us, p90 %.0f us\n", paths.size(),
              us[kRounds / 2], us[kRounds * 9 / 10]);
}

TEST(Cgroup, MemoryLimitKillsWithSigkillAndCountsOom) {
  MAKE_CGROUP_OR_SKIP(made, (CgroupLimits{32 * kMiB, 0}));
  CellCgroup& cg = *made->cgroup;
  if (!cg.limits_memory()) GTEST_SKIP() << "no memory controller: " << describe_cgroup_support();
  const pid_t pid = fork_joined(cg, [] { return allocate(100 * kMiB); });
  ASSERT_GT(pid, 0);
  const int status = wait_for(pid);
  EXPECT_TRUE(killed_by(status, SIGKILL)) << "status " << status;
  EXPECT_TRUE(cg.oom_killed());
  EXPECT_GT(cg.memory_peak(), 0u);
  EXPECT_LE(cg.memory_peak(), 32 * kMiB);
  std::printf("100 MiB under 32 MiB: %s, oom_killed %d, peak %.1f MiB\n",
              killed_by(status, SIGKILL) ? "SIGKILL" : "not killed", cg.oom_killed(),
              cg.memory_peak() / double(kMiB));
}

TEST(Cgroup, PidsLimitMakesForkFailWithEagain) {
  MAKE_CGROUP_OR_SKIP(made, (CgroupLimits{0, 8}));
  CellCgroup& cg = *made->cgroup;
  if (!cg.limits_pids()) GTEST_SKIP() << "no pids controller: " << describe_cgroup_support();
  // The child forks 20 children that wait on a pipe; it exits with how many forks worked, or
  // 200 if a fork failed with something other than EAGAIN.
  const pid_t pid = fork_joined(cg, [] {
    int hold[2];
    if (::pipe(hold) != 0) return 201;
    int forked = 0;
    bool other_error = false;
    for (int i = 0; i < 20; ++i) {
      const pid_t c = ::fork();
      if (c == 0) {
        ::close(hold[1]);
        char b;
        (void)!::read(hold[0], &b, 1);
        ::_exit(0);
      }
      if (c > 0) ++forked;
      else if (errno != EAGAIN) other_error = true;
    }
    ::close(hold[1]);  // the children see EOF and exit
    while (::wait(nullptr) > 0) {
    }
    return other_error ? 200 : forked;
  });
  ASSERT_GT(pid, 0);
  const int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  const int forked = WEXITSTATUS(status);
  EXPECT_NE(forked, 200) << "a fork failed with another errno than EAGAIN";
  EXPECT_LT(forked, 20);
  EXPECT_EQ(forked, 7);  // 8 pids: the child itself and 7 more
  EXPECT_TRUE(cg.wait_empty(5s));
}

TEST(Cgroup, KillAllKillsAPausedMember) {
  MAKE_CGROUP_OR_SKIP(made, (CgroupLimits{64 * kMiB, 16}));
  CellCgroup& cg = *made->cgroup;
  const pid_t pid = fork_joined(cg, [] {
    ::pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(cg.empty());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(cg.kill_all());
  std::printf("kill_all of one paused member: %.2f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  EXPECT_TRUE(cg.empty());
  EXPECT_TRUE(killed_by(wait_for(pid), SIGKILL));
  EXPECT_TRUE(cg.empty());
}

TEST(Cgroup, KillAllStopsATreeThatKeepsForking) {
  MAKE_CGROUP_OR_SKIP(made, (CgroupLimits{64 * kMiB, 32}));
  CellCgroup& cg = *made->cgroup;
  if (!cg.limits_pids()) GTEST_SKIP() << "no pids controller: " << describe_cgroup_support();
  // Every process forks for ever (the pids limit bounds the tree); the first to fail tells us
  // the tree has reached the limit.
  int full[2];
  ASSERT_EQ(::pipe(full), 0);
  const pid_t pid = fork_joined(cg, [&] {
    ::close(full[0]);
    ::signal(SIGPIPE, SIG_IGN);  // only SIGKILL may end this tree
    for (;;)
      if (::fork() < 0) (void)!::write(full[1], "f", 1);
    return 0;
  });
  ASSERT_GT(pid, 0);
  ::close(full[1]);
  char byte;
  ASSERT_EQ(::read(full[0], &byte, 1), 1);
  ::close(full[0]);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(cg.kill_all());
  std::printf("kill_all of a forking tree of 32: %.1f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  EXPECT_TRUE(cg.empty());
  EXPECT_TRUE(killed_by(wait_for(pid), SIGKILL));
}

TEST(Cgroup, TwoCellsAreIndependent) {
  MAKE_CGROUP_OR_SKIP(one, (CgroupLimits{32 * kMiB, 8}));
  MAKE_CGROUP_OR_SKIP(two, (CgroupLimits{32 * kMiB, 8}));
  CellCgroup& a = *one->cgroup;
  CellCgroup& b = *two->cgroup;

  // Killing b's tree spares a's member: it still answers and exits by itself.
  int command[2];
  ASSERT_EQ(::pipe(command), 0);
  const pid_t in_a = fork_joined(a, [&] {
    ::close(command[1]);
    char byte;
    return ::read(command[0], &byte, 1) == 1 ? 42 : 43;
  });
  ::close(command[0]);
  const pid_t in_b = fork_joined(b, [] {
    ::pause();
    return 0;
  });
  ASSERT_GT(in_a, 0);
  ASSERT_GT(in_b, 0);
  EXPECT_TRUE(b.kill_all());
  EXPECT_TRUE(killed_by(wait_for(in_b), SIGKILL));
  EXPECT_FALSE(a.empty());
  ASSERT_EQ(::write(command[1], "x", 1), 1);
  ::close(command[1]);
  const int status = wait_for(in_a);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << "status " << status;

  // An OOM in a is not counted in b, and b still has its own 32 MiB.
  if (a.limits_memory()) {
    const int oom = wait_for(fork_joined(a, [] { return allocate(100 * kMiB); }));
    EXPECT_TRUE(killed_by(oom, SIGKILL));
    EXPECT_TRUE(a.oom_killed());
    EXPECT_FALSE(b.oom_killed());
    const int fits = wait_for(fork_joined(b, [] { return allocate(16 * kMiB); }));
    EXPECT_TRUE(WIFEXITED(fits) && WEXITSTATUS(fits) == 0) << "status " << fits;
    EXPECT_FALSE(b.oom_killed());
  }
}

TEST(Cgroup, DestructorKillsMembersAndRemovesFolders) {
  MAKE_CGROUP_OR_SKIP(made, (CgroupLimits{64 * kMiB, 16}));
  const std::vector<std::string> paths = made->cgroup->paths();
  const pid_t pid = fork_joined(*made->cgroup, [] {
    ::pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  made->cgroup.reset();  // the destructor, with a live member inside
  for (const std::string& p : paths) EXPECT_FALSE(exists(p)) << p;
  EXPECT_TRUE(killed_by(wait_for(pid), SIGKILL));
}

}  // namespace
}  // namespace ipcg::internal
