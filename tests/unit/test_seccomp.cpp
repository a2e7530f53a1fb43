// The syscall filter, tested by running calls under it: in a forked child of the test (the
// filter alone), and through the sandbox (the filter as the sandbox installs it).
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

// g++ 12 warns about members left out of designated initializers, the idiom these tests use.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <functional>

#include "harness/execution.hpp"
#include "harness/sandbox.hpp"
#include "harness/seccomp_filter.hpp"

// ---- shared by test_sandbox.cpp, test_seccomp.cpp and test_execution.cpp (defined there) -----
namespace ipcg_test {
using namespace ipcg;
enum class Mode { full, reduced };
std::vector<std::string> helper(const std::string& name, std::vector<std::string> args = {});
std::string mode_name(const ::testing::TestParamInfo<Mode>& info);
Result<Sandbox> make_box(Mode mode, std::vector<std::string> sets = {});
}  // namespace ipcg_test

namespace ipcg_test {
namespace {

// Runs `body` in a forked child under the filter; returns the wait status. body returns the
// exit code.
int run_filtered(const SeccompFilter& filter, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    if (filter.install() != 0) ::_exit(101);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// 0: socket created, 1: EPERM, 2: another error.
int try_socket(long family) {
  const long fd = ::syscall(SYS_socket, family, SOCK_STREAM, 0);
  if (fd >= 0) return 0;
  return errno == EPERM ? 1 : 2;
}

SeccompFilter compiled(const std::vector<std::string>& sets) {
  auto filter = SeccompFilter::compile(sets);
  EXPECT_TRUE(filter) << (filter ? "" : filter.error().message);
  return filter ? std::move(*filter) : SeccompFilter{};
}

TEST(Seccomp, KnowsEverySetALabMayName) {
  const auto known = SeccompFilter::known_sets();
  for (const char* name : {"process", "file", "pipe", "fifo", "posix_mq", "sysv_ipc", "shm", "mmap",
                           "unix_socket", "inet_socket", "semaphore", "socket"})
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
}

TEST(Seccomp, UnknownSetIsAConfigErrorNamingIt) {
  auto filter = SeccompFilter::compile({"pipe", "telepathy"});
  ASSERT_FALSE(filter);
  EXPECT_EQ(filter.error().code, Errc::config);
  EXPECT_NE(filter.error().message.find("'telepathy'"), std::string::npos);
  EXPECT_NE(filter.error().message.find("posix_mq"), std::string::npos);  // lists the known ones
}

TEST(Seccomp, PfcIsReadableAndNamesTheRules) {
  const SeccompFilter filter = compiled({"pipe"});
  EXPECT_GT(filter.instruction_count(), 10u);
  for (const char* word : {"ptrace", "unshare", "io_uring_setup", "socket", "KILL_PROCESS", "ERRNO(1)"})
    EXPECT_NE(filter.pfc().find(word), std::string::npos) << word << " not in:\n" << filter.pfc();
}

TEST(Seccomp, BaselineCallKillsWithSigsys) {
  const int status = run_filtered(compiled({}), [] {
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

TEST(Seccomp, OrdinaryCallsStillWork) {
  const int status = run_filtered(compiled({}), [] {
    int fds[2];
    return ::pipe(fds) == 0 && ::write(fds[1], "x", 1) == 1 && ::getpid() > 0 ? 0 : 1;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(Seccomp, SocketWithoutASocketSetFailsWithEperm) {
  const SeccompFilter filter = compiled({"pipe", "process"});
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 1);
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_INET); })), 1);
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] {
              int sv[2];
              return ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? 0 : errno == EPERM ? 1 : 2;
            })), 1);
}

TEST(Seccomp, SocketSetAllowsEveryFamily) {
  const SeccompFilter filter = compiled({"socket"});
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 0);
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_INET); })), 0);
}

TEST(Seccomp, UnixSocketSetAllowsOnlyUnixEvenWithHighBitsSet) {
  const SeccompFilter filter = compiled({"unix_socket"});
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 0);
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_INET); })), 1);
  // The kernel reads the family as an int: high bits must not slip past the rule.
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket((1L << 32) | AF_INET); })), 1);
}

TEST(Seccomp, InetSocketSetAllowsInetNotUnix) {
  const SeccompFilter filter = compiled({"inet_socket"});
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_INET); })), 0);
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_INET6); })), 0);
  EXPECT_EQ(WEXITSTATUS(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 1);
}

// ---- the filter as the sandbox installs it ----------------------------------------------------

class FilteredRun : public ::testing::TestWithParam<Mode> {
 protected:
  // Runs a helper in a sandbox allowing `sets`; returns the outcome.
  RunOutcome run_helper(std::vector<std::string> sets, std::vector<std::string> argv) {
    auto box = make_box(GetParam(), std::move(sets));
    EXPECT_TRUE(box) << box.error().message;
    if (GetParam() == Mode::full && box->isolation().level != IsolationLevel::full) skipped_ = true;
    RunRequest req{.spec = {.argv = std::move(argv)}};
    auto out = run(*box, std::move(req));
    EXPECT_TRUE(out) << (out ? "" : out.error().message);
    return out ? *out : RunOutcome{};
  }
  bool skipped_ = false;
};

INSTANTIATE_TEST_SUITE_P(Modes, FilteredRun, ::testing::Values(Mode::full, Mode::reduced), mode_name);

TEST_P(FilteredRun, PtraceKillsTheStudentWithSigsys) {
  const RunOutcome out = run_helper({"process", "pipe"}, helper("ptrace"));
  if (skipped_) GTEST_SKIP() << "full isolation unavailable here";
  EXPECT_EQ(out.ending, Ending::signaled);
  EXPECT_TRUE(WIFSIGNALED(out.wait_status) && WTERMSIG(out.wait_status) == SIGSYS) << out.wait_status;
}

TEST_P(FilteredRun, SocketNeedsTheLabToListASocketSet) {
  const RunOutcome denied = run_helper({"pipe"}, helper("socket", {"unix"}));
  const RunOutcome allowed = run_helper({"pipe", "unix_socket"}, helper("socket", {"unix"}));
  if (skipped_) GTEST_SKIP() << "full isolation unavailable here";
  EXPECT_EQ(WEXITSTATUS(denied.wait_status), 1);   // EPERM
  EXPECT_EQ(WEXITSTATUS(allowed.wait_status), 0);
}

}  // namespace
}  // namespace ipcg_test
