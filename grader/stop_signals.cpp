#include "stop_signals.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ipcg {
namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
int g_wake[2] = {-1, -1};
pid_t g_grader = 0;

// Async-signal-safe: one byte to the watcher. A child between fork and exec (a cell's set-up
// runs in one) has another pid and writes nothing.
void on_stop_signal(int sig) {
  if (::getpid() != g_grader) return;
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  (void)!::write(g_wake[1], &byte, 1);
  errno = saved;
}

// The grader's children now (its cells' keepers, a build): each ends soon after the grader (a
// keeper by its parent-death signal, and its cell's pid namespace with it), and what they used
// (a cgroup, files in the work folder) can only go once they have.
std::vector<pid_t> children_of_grader() {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "children");
    for (pid_t pid = 0; in >> pid;) children.push_back(pid);
  }
  return children;
}

// `grader cleanup --quiet --after PID CHILD...` from this very binary, in a session of its own (a second
// Ctrl-C does not reach it), default signal dispositions and mask, stdio on /dev/null.
void start_cleanup() {
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawnattr_init(&attr);
  for (int fd = 0; fd <= 2; ++fd) posix_spawn_file_actions_addopen(&files, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : kStopSignals) sigaddset(&defaults, sig);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args = {"grader", "cleanup", "--quiet", "--after", std::to_string(g_grader)};
  for (pid_t child : children_of_grader()) args.push_back(std::to_string(child));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  (void)posix_spawn(&child, "/proc/self/exe", &files, &attr, argv.data(), environ);  // best effort: we are going
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
}

void watch() {
  unsigned char sig = 0;
  while (::read(g_wake[0], &sig, 1) != 1) {
  }
  start_cleanup();
  std::signal(sig, SIG_DFL);
  ::kill(g_grader, sig);  // dies of it, as without the handler: a shell or Slurm sees the signal
}

}  // namespace

void install_stop_signal_cleanup() {
  if (::pipe2(g_wake, O_CLOEXEC) != 0) return;  // then the signals keep their default action
  g_grader = ::getpid();
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : kStopSignals) {
    struct sigaction old {};
    // A signal ignored by whoever started us (nohup's SIGHUP) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
  std::thread(watch).detach();
}

}  // namespace ipcg
