// A grader stopped by SIGINT (Ctrl-C), SIGTERM (scancel, kill, a CI job's cancel) or SIGHUP
// still dies of that signal, but first starts `grader cleanup --after <its pid>`: a process of its
// own session that waits for the grader to be gone, then removes its work folders and its cells'
// cgroups (harness/sandbox/leftovers.hpp). Without it they stay until the next grader on the host.
#pragma once

namespace ipcg {

// Once, in main, before any thread or child is started.
void install_stop_signal_cleanup();

}  // namespace ipcg
