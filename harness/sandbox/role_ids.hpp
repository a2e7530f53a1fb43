// Role uids without root: a subordinate id range of the user (/etc/subuid, /etc/subgid, Debian's
// uidmap package) mapped into a cell's user namespace by the setuid helpers newuidmap and
// newgidmap, which the grader runs (argv, no shell) once the cell's child has made the namespace.
// Inside every such namespace the ids are the same: our uid and gid are 0 (the keeper, root of
// the cell), kSlotBase is the student roles' and kSlotBase + kReferenceOffset the reference
// roles', as root's first slot; each maps to one subordinate id. Namespaces are per cell, so one
// range serves every cell of every grader the user runs (the ids mean something only inside).
//
//   IPCG_TRY(RoleIdMap map, find_role_id_map());           // what is missing, in the error
//   IPCG_CHECK(map_role_ids(map, child_pid));              // the child waits until this is done
//   IPCG_CHECK(as_cell_root(map, [&] { return ::fchown(fd, uid, gid) ? errno : 0; }, "chown x"));
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::internal {

// The ids a role has inside a mapped cell (as root's first slot: slots.hpp).
constexpr uid_t kMappedStudentUid = 61000;
constexpr uid_t kMappedReferenceUid = 62000;
// The real gid every role runs with (its effective gid stays its own): a process whose real and
// effective gids differ when it execs is left non-dumpable by the kernel, so its /proc files
// belong to the cell's root (us, on the host) instead of the role's subordinate uid, and the
// grader, an ordinary user outside the namespace, can still read its fds, syscall and memory.
// A gid that owns nothing and grants nothing.
constexpr gid_t kMappedObserverGid = 60999;

struct SubordinateRange {
  unsigned long start = 0;
  unsigned long count = 0;
};

// The first "name:start:count" line of an /etc/subuid-format text whose name is user (or uid in
// digits, as newuidmap accepts) with at least need ids. Comments, blank and malformed lines skipped.
std::optional<SubordinateRange> find_subordinate_range(std::string_view text, std::string_view user, uid_t uid,
                                                       unsigned long need);

struct RoleIdMap {
  uid_t uid = 0;  // ours (euid, egid): 0 inside
  gid_t gid = 0;
  SubordinateRange uids, gids;
  std::string newuidmap, newgidmap;  // absolute paths
  // The ids after the pid: "0 <uid> 1 60999 <start+2> 1 61000 <start> 1 62000 <start+1> 1".
  std::vector<std::string> args(pid_t pid, bool group) const;
};

// Our subordinate ranges and the two helpers, or why role uids cannot be mapped ("no line for
// nobody in /etc/subuid", "newuidmap is not installed (Debian package uidmap)").
Result<RoleIdMap> find_role_id_map();

// Runs newuidmap, then newgidmap, for pid (a process of ours that made a user namespace and
// has no map yet). An error carries the failing tool's stderr.
Result<void> map_role_ids(const RoleIdMap& map, pid_t pid);

// The grader's half of a cell child's handshake: the child writes its pid as the host sees it
// (readlink /proc/self) and a newline on child_ready_fd(), then waits for one byte on
// child_go_fd(); a thread of ours maps it meanwhile (the thread that cloned it waits in vfork
// until it execs). No byte (EOF) means the mapping failed.
class ParentMapping {
 public:
  static Result<std::unique_ptr<ParentMapping>> start(const RoleIdMap& map);
  int child_ready_fd() const { return ready_write_; }
  int child_go_fd() const { return go_read_; }
  // Once the clone returned: closes our copies of the child's ends, waits for the thread, and
  // returns what newuidmap or newgidmap said when one failed.
  Result<void> finish();
  ~ParentMapping();

 private:
  explicit ParentMapping(const RoleIdMap& map) : map_(map) {}
  void run();
  void close_child_ends();
  const RoleIdMap& map_;
  int ready_read_ = -1, ready_write_ = -1, go_read_ = -1, go_write_ = -1;
  std::thread thread_;
  Result<void> result_;
};

// Runs op in a forked child that has made a user namespace mapped like a cell's: root there,
// with CAP_CHOWN, CAP_FOWNER and CAP_DAC_OVERRIDE over files of the mapped ids only. For what the
// grader (an ordinary user on the host) cannot do to the role folders: give them their owners,
// seal them, remove them. op returns 0 or an errno; it runs after fork: no locks, no threads.
Result<void> as_cell_root(const RoleIdMap& map, const std::function<int()>& op, const std::string& what);

}  // namespace ipcg::internal
