// `grader cleanup [--after PID...]`: removes what graders that are gone left on this host (their work
// folders, their cells' empty cgroups). A grader stopped by a signal runs it with --after its own
// pid and its children's (stop_signals.cpp); a TA may run it by hand after graders were killed.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <memory>
#include <vector>

#include "cli.hpp"
#include "commands/command.hpp"
#include "harness/core/unique_fd.hpp"
#include "harness/sandbox/leftovers.hpp"

namespace ipcg {
namespace {

struct CleanupArgs {
  std::vector<int> after;
  bool quiet = false;
};

// Returns once `pid` is gone: its pidfd becomes readable when it exits (no polling of /proc).
Result<void> wait_until_gone(pid_t pid) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    if (errno == ESRCH) return {};  // already gone
    return sys_fail("pidfd_open " + std::to_string(pid));
  }
  pollfd p{pidfd.get(), POLLIN, 0};
  while (::poll(&p, 1, -1) < 0)
    if (errno != EINTR) return sys_fail("poll on the pidfd of " + std::to_string(pid));
  return {};
}

int cleanup_command(const CleanupArgs& args, std::ostream& out, std::ostream& err) {
  for (int pid : args.after)  // one after the other: the sweep needs them all gone
    if (auto gone = wait_until_gone(pid); !gone) return exit_for(gone.error(), err);
  const SweptLeftovers swept = sweep_dead_graders_leftovers();
  if (!args.quiet)
    out << "removed " << swept.work_folders << " work folder(s) and " << swept.cgroups
        << " cgroup(s) left by graders that are gone\n";
  return kExitPassed;
}

}  // namespace

Command add_cleanup_command(CLI::App& app) {
  auto args = std::make_shared<CleanupArgs>();
  auto* sub = app.add_subcommand("cleanup", "Remove the work folders and cgroups that killed graders left behind");
  sub->add_option("--after", args->after, "first wait until these processes (a grader and its children) have ended")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--quiet", args->quiet, "print nothing");
  return {sub, [args](std::ostream& out, std::ostream& err) { return cleanup_command(*args, out, err); }};
}

}  // namespace ipcg
