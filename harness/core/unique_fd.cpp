#include "harness/core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace ipcg {

void UniqueFd::reset(int fd) {
  // close() is not retried on EINTR: on Linux the fd is released either way.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<PipePair> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_fail("pipe2");
  return PipePair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace ipcg
