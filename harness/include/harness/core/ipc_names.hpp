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
#pragma once

#include <sys/types.h>

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

 private:
  std::string tag_;
};

}  // namespace ipcg
