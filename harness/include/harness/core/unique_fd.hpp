// One owner per file descriptor: closed in the destructor, moved never copied.
//
//   UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd) return sys_fail("open");
//   read(fd.get(), ...);
//   int raw = fd.release();   // hand ownership elsewhere
#pragma once

#include <utility>

#include "harness/core/error.hpp"

namespace ipcg {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct PipePair {
  UniqueFd read_end;
  UniqueFd write_end;
};

// pipe2(O_CLOEXEC): both ends close on exec unless explicitly mapped into a child.
Result<PipePair> make_pipe();

}  // namespace ipcg
