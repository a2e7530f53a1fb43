// Names of the IPC objects one test uses (FIFO paths, POSIX queue, shared-memory and semaphore
// names, System V keys), made from the test's cell tag. In reduced isolation these names are
// host-wide, so they must never come from the student's code or the lab's fixed text: two
// submissions graded at once (`grader batch --jobs N --reduced`) would meet on them.
//
//   IpcNames names(cell.tag());            // "4121-7": the grader's pid and the cell's serial
//   names.name("jobs");                    // "ipcg-4121-7-jobs"  (a file name)
//   names.posix("jobs");                   // "/ipcg-4121-7-jobs" (mq_open, shm_open, sem_open)
//   names.fifo("requests");                // "/tmp/ipcg-4121-7-requests"
//   names.sysv_key("dispatch");            // a key_t: a hash of the name, never IPC_PRIVATE
//   names.port("server");                  // a TCP port in [20000, 60000), one per cell and name
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ipcg {

class IpcNames {
 public:
  explicit IpcNames(std::string cell_tag) : tag_(std::move(cell_tag)) {}

  const std::string& tag() const { return tag_; }
  std::string name(std::string_view what) const;
  std::string posix(std::string_view what) const { return "/" + name(what); }
  std::string fifo(std::string_view what) const { return "/tmp/" + name(what); }
  // What every name of this cell starts with: for sweeping or listing the cell's objects.
  std::string prefix() const { return "ipcg-" + tag_ + "-"; }
  key_t sysv_key(std::string_view what) const;
  // A TCP/UDP port for 127.0.0.1 in [kFirstPort, kFirstPort + kPorts): the cell's serial picks
  // a block of kPortsPerCell ports (so consecutive cells of one grader never share one) and a
  // hash of `what` a port in it; a hash of the grader's pid shifts the blocks, so that two
  // graders are unlikely to share them. Full isolation needs none of this (each cell has its own
  // network namespace); it keeps tests from meeting where one is shared.
  std::uint16_t port(std::string_view what) const;
  static constexpr unsigned kFirstPort = 20000, kPorts = 40000, kPortsPerCell = 8;

 private:
  std::string tag_;
};

}  // namespace ipcg
