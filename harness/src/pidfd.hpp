// Small process and descriptor helpers shared by the sandbox's files and the cgroup module
// (private to harness_sandbox).
#pragma once

#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ipcg::internal {

// pidfds through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" and cannot be used
// from C++. Both return -1/errno like the libc calls.
inline int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
inline int pidfd_kill(int pidfd) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0));
}

// Waits up to timeout_ms (-1: forever) for fd to be readable (a pidfd: its process exited).
inline bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

}  // namespace ipcg::internal
