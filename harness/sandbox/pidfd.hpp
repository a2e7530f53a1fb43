// Small process, descriptor and file helpers shared by the sandbox's files and the cgroup
// module (private to harness_sandbox).
#pragma once

#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <csignal>
#include <optional>
#include <string>

#include "harness/core/unique_fd.hpp"

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

// The whole of a small file (/proc, cgroup files), the last path component not followed;
// nullopt with errno set on failure.
inline std::optional<std::string> read_file_at(int dir, const char* path) {
  UniqueFd fd(::openat(dir, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace ipcg::internal
