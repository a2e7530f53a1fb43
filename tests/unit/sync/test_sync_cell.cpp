// The synchronization checker inside real cells, as a lab's checks use it: the roles run in the
// sandbox (full isolation: their own pid, IPC and mount namespaces; reduced: none), get the
// monitor on fd 5 and IPCG_SYNC, and DeadlockWatch explains their deadlock from the host: host
// pids, the named semaphores in the cell's own /dev/shm, the holders the monitor names by the
// pids the roles see (their namespace's), mapped back.
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "harness/core/ipc_names.hpp"
#include "harness/sandbox/sandbox.hpp"
#include "harness/sync/deadlock_watch.hpp"
#include "harness/sync/sync.hpp"

namespace ipcg {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

struct Role {
  std::optional<SandboxedProcess> proc;
  UniqueFd to_stdin, from_stdout;
};

class SyncInACell : public ::testing::TestWithParam<bool> {  // true: full isolation
 protected:
  void SetUp() override {
    SandboxConfig config{.syscall_sets = {"process", "file", "shm", "mmap", "semaphore"},
                         .allow_namespaces = GetParam()};
    auto created = Sandbox::create(config);
    ASSERT_TRUE(created) << created.error().message;
    box_.emplace(std::move(*created));
    if (GetParam() && box_->isolation().level != IsolationLevel::full)
      GTEST_SKIP() << "full isolation unavailable here: " << box_->isolation().reason;
    // A copy in the box's work folder, as the runner stages a lab's tools: in reduced isolation
    // the slot uid cannot reach the build folder when the checkout lies under a 0700 folder.
    namespace fs = std::filesystem;
    const fs::path copy = box_->host_work_dir() / "sync_test_actor";
    std::error_code ec;
    fs::copy_file(SYNC_TEST_ACTOR, copy, fs::copy_options::overwrite_existing, ec);
    ASSERT_FALSE(ec) << ec.message();
    fs::permissions(copy, fs::perms(0755), ec);
    actor_ = box_->to_box(copy).string();
  }

  Role start(Cell& cell, std::vector<std::string> args, const SyncSchedule& schedule, unsigned actor,
             const SyncMonitor& monitor) {
    int in[2], out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    UniqueFd in_r(in[0]), out_w(out[1]);
    Role r{std::nullopt, UniqueFd(in[1]), UniqueFd(out[0])};
    args.insert(args.begin(), actor_);
    SpawnSpec spec{.argv = args, .fds = {{in_r.get(), 0}, {out_w.get(), 1}}};
    auto proc = cell.spawn(with_sync(spec, schedule, actor, monitor));
    EXPECT_TRUE(proc) << proc.error().message;
    if (proc) r.proc.emplace(std::move(*proc));
    return r;
  }

  std::optional<Sandbox> box_;
  std::string actor_;  // the actor's path as the cell sees it
};

INSTANTIATE_TEST_SUITE_P(Isolation, SyncInACell, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "full" : "reduced"; });

TEST_P(SyncInACell, ALockOrderDeadlockIsEndedAndExplainedWithHostPids) {
  auto cell = box_->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const IpcNames names(cell->tag());
  const std::string a = names.posix("sem-a"), b = names.posix("sem-b");
  auto monitor = SyncMonitor::create(SyncMode::delays);
  ASSERT_TRUE(monitor);
  const SyncSchedule schedule(SyncMode::delays, 11);
  Role p = start(*cell, {"lockorder", a, b}, schedule, 0, *monitor);
  Role q = start(*cell, {"lockorder", b, a}, schedule, 1, *monitor);
  ASSERT_TRUE(p.proc && q.proc);
  char c = 0;
  ASSERT_EQ(::read(p.from_stdout.get(), &c, 1), 1);
  ASSERT_EQ(::read(q.from_stdout.get(), &c, 1), 1);
  DeadlockWatch watch(&*monitor);
  const std::vector<WatchedProcess> who{{p.proc->pid(), "first"}, {q.proc->pid(), "second"}};
  watch.observe(who);
  ASSERT_EQ(::write(p.to_stdin.get(), "g", 1), 1);
  ASSERT_EQ(::write(q.to_stdin.get(), "g", 1), 1);
  const auto start = Clock::now();
  while (!watch.observe(who) && Clock::now() - start < std::chrono::seconds(3)) ::poll(nullptr, 0, 2);
  ASSERT_TRUE(watch.fired());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
  const std::string text = fmt::format("{}", fmt::join(watch.explanation(), "\n"));
  EXPECT_THAT(text, AllOf(HasSubstr(fmt::format("pid {} (first) waits in sem_wait on semaphore {} (value 0), held by pid {}",
                                                p.proc->pid(), b, q.proc->pid())),
                          HasSubstr(fmt::format("pid {} (second) waits in sem_wait on semaphore {} (value 0), held by pid {}",
                                                q.proc->pid(), a, p.proc->pid())),
                          HasSubstr("circular wait")))
      << text;
  p.proc->kill_tree();
  q.proc->kill_tree();
  const CellReport closed = cell->close();
  if (!GetParam()) {  // reduced: the semaphores were the host's; the close swept them (and says so)
    EXPECT_EQ(closed.leftovers.size(), 2u) << fmt::format("{}", fmt::join(closed.leftovers, "; "));
  }
}

}  // namespace
}  // namespace ipcg
