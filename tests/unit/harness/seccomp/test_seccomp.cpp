// The syscall filter, tested by running calls under it: in a forked child of the test (the
// filter alone), and through the sandbox (the filter as the sandbox installs it).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

// g++ 12 warns about members left out of designated initializers, the idiom these tests use.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "harness/sandbox/execution.hpp"
#include "harness/sandbox/sandbox.hpp"
#include "harness/seccomp/seccomp_filter.hpp"

#include "../sandbox/sandbox_test_support.hpp"
#include "support/temp_dir.hpp"

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
int try_socket(long family, long call = SYS_socket) {
  int sv[2];
  const long rc = call == SYS_socket ? ::syscall(SYS_socket, family, SOCK_STREAM, 0)
                                     : ::syscall(SYS_socketpair, family, SOCK_STREAM, 0, sv);
  if (rc >= 0) return 0;
  return errno == EPERM ? 1 : 2;
}

// The errno of a raw call made under the filter, as the child's exit code (0 = it succeeded).
int errno_of(long rc) { return rc >= 0 ? 0 : errno; }

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

SeccompFilter compiled(const std::vector<std::string>& sets) {
  auto filter = SeccompFilter::compile(sets);
  EXPECT_TRUE(filter) << (filter ? "" : filter.error().message);
  return filter ? std::move(*filter) : SeccompFilter{};
}

std::vector<std::string> every_set() { return SeccompFilter::known_sets(); }

TEST(Seccomp, KnowsEverySetALabMayName) {
  const auto known = SeccompFilter::known_sets();
  for (const char* name : {"process", "file", "pipe", "fifo", "posix_mq", "sysv_ipc", "shm", "mmap",
                           "unix_socket", "inet_socket", "semaphore", "compiler"})
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
}

TEST(Seccomp, UnknownSetIsAConfigErrorNamingIt) {
  auto filter = SeccompFilter::compile({"pipe", "telepathy"});
  ASSERT_FALSE(filter);
  EXPECT_EQ(filter.error().code, Errc::config);
  EXPECT_NE(filter.error().message.find("'telepathy'"), std::string::npos);
  EXPECT_NE(filter.error().message.find("posix_mq"), std::string::npos);  // lists the known ones
  EXPECT_FALSE(SeccompFilter::describe({"telepathy"}));
}

TEST(Seccomp, PfcIsReadableAndNamesTheRules) {
  const SeccompFilter filter = compiled({"pipe"});
  EXPECT_GT(filter.instruction_count(), 10u);
  for (const char* word : {"ptrace", "unshare", "io_uring_setup", "pipe2", "KILL_PROCESS", "ERRNO(1)",
                           "ERRNO(38)", "ALLOW"})
    EXPECT_NE(filter.pfc().find(word), std::string::npos) << word << " not in:\n" << filter.pfc();
}

TEST(Seccomp, DescribeGroupsCallsBySetAndShowsEachOnce) {
  auto policy = SeccompFilter::describe({"process", "unix_socket", "compiler"});
  ASSERT_TRUE(policy);
  ASSERT_EQ(policy->groups.size(), 4u);
  EXPECT_EQ(policy->groups[0].name, "base");
  const auto& base = policy->groups[0].allowed;
  EXPECT_NE(std::find(base.begin(), base.end(), "execve"), base.end());
  const auto& process = policy->groups[1];
  EXPECT_NE(std::find(process.allowed.begin(), process.allowed.end(), "wait4"), process.allowed.end());
  ASSERT_EQ(process.checked.size(), 1u);
  EXPECT_EQ(process.checked[0], "clone (no CLONE_NEW* namespace flags)");
  EXPECT_EQ(policy->groups[2].checked,
            (std::vector<std::string>{"socket (AF_UNIX only)", "socketpair (AF_UNIX only)"}));
  // compiler's vfork and wait4 were shown under process already.
  const auto& compiler = policy->groups[3].allowed;
  EXPECT_EQ(std::find(compiler.begin(), compiler.end(), "wait4"), compiler.end());
  EXPECT_NE(std::find(policy->killed.begin(), policy->killed.end(), "ptrace"), policy->killed.end());
  EXPECT_EQ(policy->enosys, std::vector<std::string>{"clone3"});
  EXPECT_EQ(policy->otherwise, "EPERM");
}

// Every call the policy promises to kill, by number (an independent list, not the filter's data),
// called with -1 everywhere so that a filter that let one through would get EINVAL/EFAULT/EBADF
// rather than change the host. Each must die of SIGSYS even with every set allowed.
TEST(Seccomp, EveryDangerousCallIsKilledEvenWithAllSets) {
  const SeccompFilter filter = compiled(every_set());
  const std::vector<std::pair<const char*, long>> calls = {
      {"ptrace", SYS_ptrace}, {"process_vm_readv", SYS_process_vm_readv},
      {"process_vm_writev", SYS_process_vm_writev}, {"keyctl", SYS_keyctl}, {"add_key", SYS_add_key},
      {"request_key", SYS_request_key}, {"bpf", SYS_bpf}, {"perf_event_open", SYS_perf_event_open},
      {"mount", SYS_mount}, {"umount2", SYS_umount2}, {"fsopen", SYS_fsopen}, {"fsmount", SYS_fsmount},
      {"fsconfig", SYS_fsconfig}, {"fspick", SYS_fspick}, {"move_mount", SYS_move_mount},
      {"open_tree", SYS_open_tree}, {"mount_setattr", SYS_mount_setattr}, {"pivot_root", SYS_pivot_root},
      {"chroot", SYS_chroot}, {"unshare", SYS_unshare}, {"setns", SYS_setns},
      {"kexec_load", SYS_kexec_load}, {"kexec_file_load", SYS_kexec_file_load},
      {"init_module", SYS_init_module}, {"finit_module", SYS_finit_module},
      {"delete_module", SYS_delete_module}, {"reboot", SYS_reboot},
      {"io_uring_setup", SYS_io_uring_setup}, {"io_uring_enter", SYS_io_uring_enter},
      {"io_uring_register", SYS_io_uring_register}, {"userfaultfd", SYS_userfaultfd},
      {"swapon", SYS_swapon}, {"swapoff", SYS_swapoff}, {"acct", SYS_acct}, {"quotactl", SYS_quotactl},
      {"lookup_dcookie", SYS_lookup_dcookie}, {"fanotify_init", SYS_fanotify_init},
      {"open_by_handle_at", SYS_open_by_handle_at}, {"pidfd_getfd", SYS_pidfd_getfd}};
  for (const auto& [name, nr] : calls) {
    const int status = run_filtered(filter, [nr = nr] {
      ::syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
      return 0;
    });
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << name << ": status " << status;
  }
}

TEST(Seccomp, X32SyscallNumbersAreKilled) {
  const int status = run_filtered(compiled(every_set()), [] {
    ::syscall(0x40000000L | SYS_getpid);  // __X32_SYSCALL_BIT: the x32 ABI's getpid
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << status;
}

TEST(Seccomp, BaseRunsOrdinaryCode) {
  const int status = run_filtered(compiled({}), [] {
    char buf[64];
    const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::read(fd, buf, sizeof buf) > 0 && ::dup2(fd, 40) == 40 && ::getpid() > 0;
    void* p = std::malloc(64 << 20);  // mmap'ed by malloc
    return ok && p ? 0 : 1;
  });
  EXPECT_EQ(exit_code(status), 0) << status;
}

TEST(Seccomp, CallOutsideTheSetsFailsWithEperm) {
  const auto mkdir_errno = [] { return errno_of(::syscall(SYS_mkdir, "/nonexistent-ipcg/dir", 0700)); };
  EXPECT_EQ(exit_code(run_filtered(compiled({"pipe"}), mkdir_errno)), EPERM);
  EXPECT_EQ(exit_code(run_filtered(compiled({"file"}), mkdir_errno)), ENOENT);  // reached the kernel
  const auto pipe_errno = [] {
    int fds[2];
    return errno_of(::pipe2(fds, 0));
  };
  EXPECT_EQ(exit_code(run_filtered(compiled({"file"}), pipe_errno)), EPERM);
  EXPECT_EQ(exit_code(run_filtered(compiled({"pipe"}), pipe_errno)), 0);
}

// TIOCSTI types into a terminal: killed, with high bits set in the request too (the kernel reads 32).
TEST(Seccomp, IoctlWorksButTiocstiIsRefused) {
  const auto sti = [](unsigned long high) {
    return [high] {
      char c = 'x';
      return errno_of(::syscall(SYS_ioctl, 0, high | TIOCSTI, &c));
    };
  };
  for (unsigned long high : {0ul, 1ul << 32}) {
    const int status = run_filtered(compiled({}), sti(high));
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << "high bits " << high << ": " << status;
  }
  // Any other request reaches the kernel: FIONREAD on a pipe answers.
  const auto fionread = [] {
    int fds[2];
    if (::syscall(SYS_pipe2, fds, 0) != 0) return 99;
    int n = -1;
    return errno_of(::ioctl(fds[0], FIONREAD, &n)) == 0 && n == 0 ? 0 : 98;
  };
  EXPECT_EQ(exit_code(run_filtered(compiled({"pipe"}), fionread)), 0);
}

// A role stays non-dumpable, its /proc the grader's to read: PR_SET_DUMPABLE is refused (high
// bits set too), every other prctl reaches the kernel.
TEST(Seccomp, PrctlWorksButSettingDumpableIsRefused) {
  for (unsigned long high : {0ul, 1ul << 32}) {
    const auto set_dumpable = [high] { return errno_of(::syscall(SYS_prctl, high | PR_SET_DUMPABLE, 1, 0, 0, 0)); };
    EXPECT_EQ(exit_code(run_filtered(compiled({"process"}), set_dumpable)), EPERM) << "high bits " << high;
  }
  const auto get_dumpable = [] { return ::prctl(PR_GET_DUMPABLE) >= 0 ? 0 : 98; };
  EXPECT_EQ(exit_code(run_filtered(compiled({"process"}), get_dumpable)), 0);
  const auto name = [] { return errno_of(::prctl(PR_SET_NAME, "renamed", 0, 0, 0)); };
  EXPECT_EQ(exit_code(run_filtered(compiled({"process"}), name)), 0);
  // Nor can the real gid be made the effective one, after which an exec would leave it dumpable.
  const auto same_gids = [] { return errno_of(::syscall(SYS_setresgid, ::getegid(), ::getegid(), ::getegid())); };
  EXPECT_EQ(exit_code(run_filtered(compiled({"process", "file"}), same_gids)), EPERM);
}

TEST(Seccomp, Clone3GetsEnosysSoLibcFallsBackToClone) {
  const auto clone3_errno = [] { return errno_of(::syscall(SYS_clone3, nullptr, 0)); };
  EXPECT_EQ(exit_code(run_filtered(compiled({"process"}), clone3_errno)), ENOSYS);
}

// fork() in a child of the filtered process: 0 when fork worked, else fork's errno.
int fork_errno() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  if (pid < 0) return errno;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 200;
}

TEST(Seccomp, ForkNeedsTheProcessSet) {
  EXPECT_EQ(exit_code(run_filtered(compiled({"pipe"}), fork_errno)), EPERM);
  EXPECT_EQ(exit_code(run_filtered(compiled({"process"}), fork_errno)), 0);
}

TEST(Seccomp, CloneThatCreatesNamespacesIsRefused) {
  for (unsigned long flag : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC}) {
    const int status = run_filtered(compiled(every_set()), [flag] {
      const long pid = ::syscall(SYS_clone, flag | SIGCHLD, 0L, 0L, 0L, 0L);
      if (pid == 0) ::_exit(0);
      if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
      return errno_of(pid);
    });
    EXPECT_EQ(exit_code(status), EPERM) << "flag " << std::hex << flag;
  }
}

TEST(Seccomp, SocketWithoutASocketSetFailsWithEperm) {
  const SeccompFilter filter = compiled({"pipe", "process"});
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 1);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_INET); })), 1);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_UNIX, SYS_socketpair); })), 1);
}

TEST(Seccomp, UnixSocketSetAllowsOnlyUnixEvenWithHighBitsSet) {
  const SeccompFilter filter = compiled({"unix_socket"});
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 0);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_UNIX, SYS_socketpair); })), 0);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_INET); })), 1);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_NETLINK); })), 1);
  // The kernel reads the family as an int: high bits must not make AF_INET look like another.
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket((1L << 32) | AF_INET); })), 1);
}

TEST(Seccomp, InetSocketSetAllowsInetNotUnix) {
  const SeccompFilter filter = compiled({"inet_socket"});
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_INET); })), 0);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_INET6); })), 0);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket(AF_UNIX); })), 1);
  EXPECT_EQ(exit_code(run_filtered(filter, [] { return try_socket((1L << 32) | AF_UNIX); })), 1);
}

// lab6's policy: AF_UNIX, and AF_INET (not AF_INET6, not netlink) only in the cell's own network
// namespace; in reduced isolation the set is left out, so socket(AF_INET) gets EPERM.
TEST(Seccomp, InetLoopbackSetAllowsOnlyInetAndOnlyWithItsOwnNetwork) {
  const std::vector<std::string> lab6{"process", "unix_socket", "inet_loopback"};
  EXPECT_EQ(SeccompFilter::sets_for_network(lab6, true), lab6);
  EXPECT_EQ(SeccompFilter::sets_for_network(lab6, false), (std::vector<std::string>{"process", "unix_socket"}));
  // Sets that do not depend on a network namespace are kept either way, in their order.
  EXPECT_EQ(SeccompFilter::sets_for_network({"inet_socket", "pipe"}, false),
            (std::vector<std::string>{"inet_socket", "pipe"}));

  const SeccompFilter full = compiled(SeccompFilter::sets_for_network(lab6, true));
  EXPECT_EQ(exit_code(run_filtered(full, [] { return try_socket(AF_INET); })), 0);
  EXPECT_EQ(exit_code(run_filtered(full, [] { return try_socket(AF_UNIX); })), 0);
  EXPECT_EQ(exit_code(run_filtered(full, [] { return try_socket(AF_INET6); })), 1);
  EXPECT_EQ(exit_code(run_filtered(full, [] { return try_socket(AF_NETLINK); })), 1);
  EXPECT_EQ(exit_code(run_filtered(full, [] { return try_socket(AF_INET, SYS_socketpair); })), 1);

  const SeccompFilter reduced = compiled(SeccompFilter::sets_for_network(lab6, false));
  EXPECT_EQ(exit_code(run_filtered(reduced, [] { return try_socket(AF_INET); })), 1);
  EXPECT_EQ(exit_code(run_filtered(reduced, [] { return try_socket(AF_UNIX); })), 0);
}

using ipcg::testing::TempDir;

TEST(Seccomp, FifoSetMakesFifosButNotDevices) {
  TempDir dir{"ipcg-seccomp"};
  ASSERT_FALSE(dir.path().empty());
  const std::string fifo = dir.path().string() + "/fifo", dev = dir.path().string() + "/null";
  const SeccompFilter filter = compiled({"fifo"});
  EXPECT_EQ(exit_code(run_filtered(filter, [&] { return errno_of(::mknod(fifo.c_str(), S_IFIFO | 0600, 0)); })), 0);
  EXPECT_EQ(exit_code(run_filtered(filter, [&] {
              return errno_of(::mknod(dev.c_str(), S_IFCHR | 0600, makedev(1, 3)));
            })), EPERM);
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_FALSE(std::filesystem::exists(dev));
  EXPECT_EQ(exit_code(run_filtered(compiled({"pipe"}), [&] {
              return errno_of(::mknod((fifo + "2").c_str(), S_IFIFO | 0600, 0));
            })), EPERM);
}

// The grader builds submissions with gcc under the "compiler" set alone: driver, cc1, as,
// collect2 and ld must all get what they need.
TEST(Seccomp, GccCompilesAndLinksUnderTheCompilerSet) {
  TempDir dir{"ipcg-seccomp"};
  ASSERT_FALSE(dir.path().empty());
  const std::string src = dir.path().string() + "/hello.c", bin = dir.path().string() + "/hello";
  {
    std::ofstream out(src);
    out << "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n";
  }
  const int status = run_filtered(compiled({"compiler"}), [&] {
    ::execlp("gcc", "gcc", "-std=gnu11", "-O2", "-Wall", "-o", bin.c_str(), src.c_str(), nullptr);
    return 120;
  });
  EXPECT_EQ(exit_code(status), 0) << status;
  EXPECT_EQ(::access(bin.c_str(), X_OK), 0);
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

// What lab1 grading runs: /bin/sh, a pipeline, exec of system programs, under lab1's sets.
TEST_P(FilteredRun, ShellPipelineRunsUnderLab1Sets) {
  const RunOutcome out = run_helper({"process", "file", "pipe"},
                                    {"/bin/sh", "-c", "echo hello | tr a-z A-Z | cat; ls / >/dev/null"});
  if (skipped_) GTEST_SKIP() << "full isolation unavailable here";
  EXPECT_EQ(out.ending, Ending::exited);
  EXPECT_EQ(out.wait_status, 0) << out.captures.at(2).display();
  EXPECT_EQ(out.captures.at(1).display(), "HELLO\n");
}

}  // namespace
}  // namespace ipcg_test
