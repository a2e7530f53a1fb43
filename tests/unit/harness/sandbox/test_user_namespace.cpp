// Cells made without root (a user namespace of their own): real processes, the sandbox run by a
// forked child of this test that dropped to an unused uid. The child reports what it saw on a
// pipe; nothing permanent is made on the host (a marker file in /tmp, removed at the end).
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "harness/sandbox/execution.hpp"
#include "harness/sandbox/sandbox.hpp"

namespace ipcg_test {
namespace {

using namespace ipcg;

constexpr uid_t kNobody = 65534;
// Exit codes of the unprivileged child.
constexpr int kPassed = 0, kFailed = 1, kSkip = 77;

struct ChildReport {
  int code = -1;
  std::string text;
};

// Forks; the child becomes kNobody (uid and gid, no groups) and runs body, whose text and code
// come back. body returns "" on success, else what went wrong; it may _exit(kSkip) with a reason
// written to `out`.
ChildReport as_nobody(const std::function<std::string(int out)>& body) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {kFailed, "pipe2 failed"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const int out = pipe_fds[1];
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      (void)!::write(out, "cannot become uid 65534", 23);
      ::_exit(kSkip);
    }
    // As an exec would: a process whose uid changed is not dumpable, and then may not write its
    // own /proc/self/uid_map, which is how a grader started by an unprivileged user begins.
    ::prctl(PR_SET_DUMPABLE, 1);
    const std::string failure = body(out);
    (void)!::write(out, failure.data(), failure.size());
    ::_exit(failure.empty() ? kPassed : kFailed);
  }
  ::close(pipe_fds[1]);
  ChildReport report;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) report.text.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  report.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return report;
}

[[noreturn]] void skip(int out, const std::string& why) {
  (void)!::write(out, why.data(), why.size());
  ::_exit(kSkip);
}

// A Sandbox as the unprivileged child sees it, or a skip that says why there is none (after the
// Sandbox is gone: _exit runs no destructor, and its work folder must not stay).
Sandbox unprivileged_box(int out) {
  std::string why;
  {
    auto box = Sandbox::create({.syscall_sets = {"process", "file", "pipe"}});
    if (!box)  // the keeper lives in the build folder, which a CI checkout may keep from other users
      why = "no sandbox as uid 65534 (is the build folder readable by others?): " + box.error().message;
    else if (box->isolation().setting == "user namespaces refused")
      why = "this host refuses unprivileged user namespaces: " + box->isolation().reason;
    else
      return std::move(*box);
  }
  skip(out, why);
}

// sh -c script in the cell: its exit code and stdout, or "error: ..." and -1.
std::pair<int, std::string> shell(Cell& cell, const std::string& script) {
  RunRequest request{.spec = {.argv = {"/bin/sh", "-c", script}}};
  request.spec.limits.wall = std::chrono::milliseconds(10000);
  auto outcome = run(cell, request);
  if (!outcome) return {-1, "error: " + outcome.error().message};
  const int code = outcome->ending == Ending::exited ? WEXITSTATUS(outcome->wait_status) : -1;
  return {code, outcome->captures[1].data};
}

void expect_report(const ChildReport& report) {
  if (report.code == kSkip) GTEST_SKIP() << report.text;
  EXPECT_EQ(report.code, kPassed) << report.text;
}

class UserNamespaceCell : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to become uid 65534";
  }
};

TEST_F(UserNamespaceCell, IsolationSaysUserNamespaceWithoutRoleUids) {
  expect_report(as_nobody([](int out) -> std::string {
    Sandbox box = unprivileged_box(out);
    const IsolationInfo& iso = box.isolation();
    if (iso.level != IsolationLevel::user_namespace_without_role_uids || !iso.namespaces())
      return "level " + std::string(to_string(iso.level)) + ": " + iso.reason;
    if (iso.setting != "unprivileged" || iso.reason.find("roles share one uid") == std::string::npos)
      return "setting '" + iso.setting + "', reason '" + iso.reason + "'";
    return box.box_work_dir() == "/tmp/box" ? "" : "work folder in the box: " + box.box_work_dir().string();
  }));
}

// The cell's first process is pid 2 of a PID namespace of its own (the keeper is pid 1, and
// hidden: not dumpable, so hidepid=2 keeps it from a process of the same uid), the hostname is
// the cell's, and the uid is the cell's, root nowhere.
TEST_F(UserNamespaceCell, ProcessesSeeTheirOwnPidNamespace) {
  expect_report(as_nobody([](int out) -> std::string {
    Sandbox box = unprivileged_box(out);
    auto cell = box.open_cell();
    if (!cell) return "open_cell: " + cell.error().message;
    const auto [code, text] =
        shell(*cell, "echo $$; test -e /proc/1/comm && echo keeper seen; cat /proc/sys/kernel/hostname; id -u");
    if (code != 0 || text != "2\nipcgrade\n61000\n") return "the cell printed:\n" + text;
    return "";
  }));
}

// Nothing of the host's /tmp is in the cell's (a private tmpfs), and what the cell writes there
// stays in it.
TEST_F(UserNamespaceCell, CannotSeeTheHostsTmp) {
  const std::string marker = "/tmp/ipcg-userns-marker-" + std::to_string(::getpid());
  ASSERT_EQ(::close(::open(marker.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
  const auto report = as_nobody([&](int out) -> std::string {
    Sandbox box = unprivileged_box(out);
    auto cell = box.open_cell();
    if (!cell) return "open_cell: " + cell.error().message;
    const auto [code, text] = shell(*cell, "test -e " + marker + " && echo seen; touch /tmp/from-the-cell; ls /tmp");
    if (code != 0 || text.find("seen") != std::string::npos) return "the cell saw " + marker + ":\n" + text;
    return "";
  });
  ::unlink(marker.c_str());
  EXPECT_NE(::access("/tmp/from-the-cell", F_OK), 0);
  expect_report(report);
}

// Where every role shares one uid a student process can read anything the reference's folder
// holds: after its build it keeps only its programs, and a program replaced from inside a cell
// is seen by the grader (seal_broken), which no process of that uid can hide.
TEST_F(UserNamespaceCell, ASealedReferenceFolderKeepsOnlyProgramsAndATamperingIsSeen) {
  expect_report(as_nobody([](int out) -> std::string {
    Sandbox box = unprivileged_box(out);
    auto dir = box.make_writable_dir("reference", Role::reference_build);
    if (!dir) return "make_writable_dir: " + dir.error().message;
    std::error_code ec;
    std::filesystem::copy_file("/bin/true", *dir / "prog", ec);
    std::filesystem::permissions(*dir / "prog", std::filesystem::perms(0755), ec);
    std::ofstream(*dir / "solution.c") << "int secret;\n";
    std::filesystem::create_directory(*dir / "drivers", ec);
    std::ofstream(*dir / "drivers" / "driver.c") << "int main(void) { return 0; }\n";
    if (auto sealed = box.seal_dir("reference", Role::reference_build); !sealed) return "seal: " + sealed.error().message;
    if (std::filesystem::exists(*dir / "solution.c") || std::filesystem::exists(*dir / "drivers"))
      return "the reference's sources survived the seal";
    if (!std::filesystem::exists(*dir / "prog")) return "the reference's program did not survive the seal";
    if (auto broken = box.seal_broken("reference")) return "a fresh seal reads broken: " + *broken;
    auto cell = box.open_cell();
    if (!cell) return "open_cell: " + cell.error().message;
    const std::string prog = (box.box_work_dir() / "reference" / "prog").string();
    const auto [code, text] = shell(*cell, "cat " + box.box_work_dir().string() + "/reference/solution.c; "
                                           "cp /bin/false " + prog + ".new && mv -f " + prog + ".new " + prog + " && echo replaced");
    if (text.find("secret") != std::string::npos) return "a cell read the reference's source:\n" + text;
    if (text.find("replaced") == std::string::npos) return "the cell could not replace the program (the test needs it to):\n" + text;
    const auto broken = box.seal_broken("reference");
    if (!broken || *broken != "prog was replaced") return "the grader did not see the replaced program: " + broken.value_or("intact");
    return "";
  }));
}

// A process of the cell's own uid outside it (the grader's user, here nobody) is out of reach:
// its pid does not exist in the cell's PID namespace.
TEST_F(UserNamespaceCell, CannotSignalAProcessOutside) {
  expect_report(as_nobody([](int out) -> std::string {
    const pid_t outside = ::fork();
    if (outside == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test, whatever ends it
      ::pause();
      ::_exit(0);
    }
    std::string failure;
    {
      Sandbox box = unprivileged_box(out);
      auto cell = box.open_cell();
      if (!cell) {
        failure = "open_cell: " + cell.error().message;
      } else {
        const std::string pid = std::to_string(outside);
        const auto [code, text] = shell(*cell, "kill -9 " + pid + " 2>/dev/null; echo $?");
        int status = 0;
        if (::waitpid(outside, &status, WNOHANG) != 0) failure = "the cell killed pid " + pid + " outside it";
        if (code != 0 || text != "1\n") failure += "kill from the cell printed:\n" + text;
      }
    }
    ::kill(outside, SIGKILL);
    ::waitpid(outside, nullptr, 0);
    return failure;
  }));
}

}  // namespace
}  // namespace ipcg_test
