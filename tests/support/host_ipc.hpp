// The host's IPC objects as an outside observer sees them, for tests that compare the host
// before and after (test_host_clean, test_hostile). Independent of the harness on purpose: the
// code under test does not get to say what it left.
#pragma once

#include <set>
#include <string>

namespace ipcg::testing {

// Names in a folder starting with prefix (none if it cannot be read).
std::set<std::string> dir_entries(const std::string& dir, const std::string& prefix = "");
// "msg key <key> id <id>" (and sem, shm) for every SysV object of the host's IPC namespace.
std::set<std::string> sysv_objects();
// Names of the host's POSIX message queues. They exist in the kernel whether or not the host
// mounts mqueue: without /dev/mqueue they are listed, as root, through a private mount in a
// child of a new mount namespace; unprivileged there, none can be seen.
std::set<std::string> posix_queues();

}  // namespace ipcg::testing
