// Cells with real processes: several roles in one cell, role uids, leftovers at close, the
// memory cgroup, and close() killing everything. Helpers are test_sandbox.cpp's.
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <optional>
#include <string>

#include "harness/sandbox/sandbox.hpp"

#include "sandbox_test_support.hpp"

namespace ipcg_test {

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs a helper in the cell and returns {exit code, stdout}.
std::pair<int, std::string> run_in(Cell& cell, std::vector<std::string> argv, Role role = Role::student) {
  auto out = make_pipe();
  if (!out) return {-1, out.error().message};
  auto proc = cell.spawn({.argv = std::move(argv), .fds = {{out->write_end.get(), 1}}, .role = role});
  if (!proc) return {-1, proc.error().message};
  out->write_end.reset();
  std::string text = read_all(out->read_end.get());
  return {exit_code_of(*proc), text};
}

// A key per test run: parallel ctest jobs must not see each other's objects in reduced mode.
std::string unique_key() { return std::to_string(0x4000000 + (::getpid() & 0xffffff)); }

bool host_has_sysv_key(const std::string& key) {
  for (const char* path : {"/proc/sysvipc/msg", "/proc/sysvipc/sem", "/proc/sysvipc/shm"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string k;
      f >> k;
      if (k == key) return true;
    }
  }
  return false;
}

class CellTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    auto created = make_box(GetParam(), {"process", "file", "pipe", "fifo", "sysv_ipc", "shm", "posix_mq"});
    ASSERT_TRUE(created) << created.error().message;
    box.emplace(std::move(*created));
    if (GetParam() == Mode::full && box->isolation().level != IsolationLevel::full)
      GTEST_SKIP() << "full isolation unavailable here: " << box->isolation().reason;
  }
  bool full() const { return GetParam() == Mode::full; }
  std::optional<Sandbox> box;
};

INSTANTIATE_TEST_SUITE_P(Modes, CellTest, ::testing::Values(Mode::full, Mode::reduced), mode_name);

TEST_P(CellTest, ProcessesOfOneCellShareItsIpcNamespace) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const std::string key = unique_key();
  EXPECT_EQ(run_in(*cell, helper("sysv_find", {key})).first, 1);
  EXPECT_EQ(run_in(*cell, helper("sysv_make", {key})).first, 0);
  EXPECT_EQ(run_in(*cell, helper("sysv_find", {key}), Role::reference).first, 0);
  const CellReport report = cell->close();
  ASSERT_EQ(report.leftovers.size(), 1u);
  EXPECT_NE(report.leftovers[0].find("SysV message queue"), std::string::npos) << report.leftovers[0];
  // Full: the namespace died with the cell. Reduced: the sweep removed it from the host.
  EXPECT_FALSE(host_has_sysv_key(key));
  if (full()) {  // and another cell never saw it
    auto other = box->open_cell();
    ASSERT_TRUE(other);
    EXPECT_EQ(run_in(*other, helper("sysv_find", {key})).first, 1);
  }
}

TEST_P(CellTest, StudentAndReferenceRolesRunAsDifferentUids) {
  if (::geteuid() != 0) GTEST_SKIP() << "roles change uid only as root";
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const auto student = run_in(*cell, helper("uid", {}));
  const auto reference = run_in(*cell, helper("uid", {}), Role::reference);
  ASSERT_EQ(student.first, 0) << student.second;
  ASSERT_EQ(reference.first, 0) << reference.second;
  EXPECT_NE(student.second, reference.second);
  EXPECT_NE(student.second, "0");
  EXPECT_NE(reference.second, "0");
}

TEST_P(CellTest, AStudentProcessCannotSignalAReferenceOne) {
  if (::geteuid() != 0) GTEST_SKIP() << "roles change uid only as root";
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  auto victim = cell->spawn({.argv = {"/bin/sleep", "1000"}, .role = Role::reference});
  ASSERT_TRUE(victim) << victim.error().message;
  // The pid as the cell sees it (last NSpid field).
  std::istringstream nspid(status_line(victim->pid(), "NSpid"));
  std::string inner;
  for (std::string f; nspid >> f;) inner = f;
  ASSERT_FALSE(inner.empty());
  const auto attack = run_in(*cell, helper("kill", {inner}));
  EXPECT_EQ(attack.first, 1) << attack.second;  // EPERM
  EXPECT_EQ(victim->wait_status(), std::nullopt) << "the reference process died";
}

TEST_P(CellTest, CloseListsWhatTheCellLeftAndNothingStaysOnTheHost) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const std::string key = unique_key();
  std::vector<std::string> args{key};
  // Reduced mode's /tmp is the host's: swept by owner only when the cell has uids of its own.
  const bool fifo = full() || ::geteuid() == 0;
  if (fifo) args.push_back("fifo");
  const auto made = run_in(*cell, helper("ipc_leave", args));
  ASSERT_EQ(made.first, 0) << made.second;
  const CellReport report = cell->close();
  struct stat st {};
  std::string all;
  for (const auto& l : report.leftovers) all += l + "\n";
  for (const char* want : {"SysV message queue", "SysV semaphore set", "SysV shared memory segment",
                           "POSIX shared memory /dev/shm/ipcg-test-"})
    EXPECT_NE(all.find(want), std::string::npos) << "missing " << want << " in:\n" << all;
  // POSIX queues are listed inside the cell, or as root through a private mqueue mount; an
  // unprivileged grader on a host without /dev/mqueue cannot see them (docs/threat-model.md).
  const bool queues_visible = full() || ::geteuid() == 0 || ::lstat("/dev/mqueue", &st) == 0;
  if (queues_visible)
    EXPECT_NE(all.find("POSIX message queue /dev/mqueue/ipcg-test-"), std::string::npos) << all;
  else
    ::mq_unlink(("/ipcg-test-" + key).c_str());  // what the sweep could not see, the test removes
  if (fifo) {
    EXPECT_NE(all.find("FIFO /tmp/ipcg-fifo-"), std::string::npos) << all;
  }
  EXPECT_NE(::lstat(("/tmp/ipcg-fifo-" + key).c_str(), &st), 0) << "the FIFO stayed in the host's /tmp";
  EXPECT_FALSE(host_has_sysv_key(key));
  EXPECT_NE(::lstat(("/dev/shm/ipcg-test-" + key).c_str(), &st), 0);
  EXPECT_NE(::lstat(("/dev/mqueue/ipcg-test-" + key).c_str(), &st), 0);
  EXPECT_EQ(cell->close().leftovers, report.leftovers);  // idempotent
}

TEST_P(CellTest, CloseKillsEveryProcessEvenOnesThatLeftTheirSession) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  auto out = make_pipe();
  ASSERT_TRUE(out);
  auto proc = cell->spawn({.argv = helper("daemon", {"exit"}), .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  // Two lines in either order: the daemon's pid (as the cell sees it) and the target's "reaped".
  std::string first;
  for (int line = 0; line < 2; ++line) {
    const std::string text = read_line(out->read_end.get());
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) first = text;
  }
  // The daemon's pid as printed is the cell's; find it on the host among the keeper's children.
  ASSERT_EQ(exit_code_of(*proc), 0);
  std::vector<ProcId> daemons;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::istringstream nspid(status_line(std::stoi(name), "NSpid"));
    std::string inner;
    int levels = 0;
    for (std::string f; nspid >> f; ++levels) inner = f;
    // Full: a process of a child pid namespace (two NSpid levels) whose inner pid was printed.
    const bool ours = full() ? levels == 2 && inner == first : name == first;
    if (ours)
      if (auto id = proc_id(std::stoi(name))) daemons.push_back(*id);
  }
  ASSERT_FALSE(daemons.empty()) << "daemon " << first << " not found";
  cell->close();
  for (const auto& d : daemons) EXPECT_FALSE(still_exists(d)) << "daemon " << d.pid << " outlived its cell";
  auto late = cell->spawn({.argv = {"/bin/true"}});
  EXPECT_FALSE(late) << "a closed cell spawned a process";
}

// The keeper is the small ipcg-keeper program, exec'd in the cell: not a fork of the grader, whose
// pages would then be shared copy-on-write for the cell's whole life.
TEST_P(CellTest, ItsKeeperIsTheKeeperProgramNotACopyOfTheGrader) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  auto in = make_pipe(), out = make_pipe();
  ASSERT_TRUE(in && out);
  auto proc = cell->spawn({.argv = {"/bin/cat"}, .fds = {{in->read_end.get(), 0}, {out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  in->read_end.reset();
  out->write_end.reset();
  std::istringstream ppid(status_line(proc->pid(), "PPid"));
  pid_t keeper = 0;
  ASSERT_TRUE(ppid >> keeper) << "no PPid for " << proc->pid();
  std::ifstream comm("/proc/" + std::to_string(keeper) + "/comm");
  std::string name;
  std::getline(comm, name);
  EXPECT_EQ(name, "ipcg-keeper");
  std::ifstream maps_file("/proc/" + std::to_string(keeper) + "/maps");
  const std::string maps((std::istreambuf_iterator<char>(maps_file)), std::istreambuf_iterator<char>());
  EXPECT_THAT(maps, HasSubstr("ipcg-keeper"));
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").filename();
  EXPECT_THAT(maps, Not(HasSubstr(self))) << "the keeper maps this test's executable: a fork of it";
  EXPECT_THAT(maps, Not(HasSubstr("libstdc++"))) << "the keeper should link no C++ library";
  in->write_end.reset();  // cat sees EOF
  EXPECT_EQ(exit_code_of(*proc), 0);
}

// Started by hand, the keeper says what it is and does nothing.
TEST(KeeperProgram, RefusesToRunByHand) {
  const std::string keeper = std::string(IPCG_BINARY_DIR) + "/libexec/ipcgrade/ipcg-keeper";
  auto err = make_pipe();
  ASSERT_TRUE(err);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err->write_end.get(), 2);
    ::execl(keeper.c_str(), "ipcg-keeper", static_cast<char*>(nullptr));
    ::_exit(126);
  }
  err->write_end.reset();
  EXPECT_THAT(read_line(err->read_end.get()), HasSubstr("not meant to be run by hand"));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST_P(CellTest, TheMemoryCgroupKillsAHogAndTheReportSaysSo) {
  if (::geteuid() != 0) GTEST_SKIP() << "cgroups need root";
  Limits limits;
  limits.memory_bytes = 32ull << 20;
  limits.address_space_bytes = 1ull << 30;
  auto cell = box->open_cell({.limits = limits});
  ASSERT_TRUE(cell) << cell.error().message;
  auto hog = cell->spawn({.argv = helper("alloc", {"256"}), .limits = limits});
  ASSERT_TRUE(hog) << hog.error().message;
  pollfd p{hog->exit_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 30000), 1);
  const auto status = hog->wait_status();
  ASSERT_TRUE(status);
  const CellReport report = cell->close();
  if (report.cgroup.rfind("no cgroups", 0) == 0) GTEST_SKIP() << report.cgroup;
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
  EXPECT_TRUE(report.oom_killed) << report.cgroup;
  EXPECT_GE(report.memory_peak_bytes, 16ull << 20);
}

}  // namespace
}  // namespace ipcg_test
