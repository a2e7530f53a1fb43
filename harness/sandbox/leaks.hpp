// What a cell left behind: SysV objects, POSIX queues, /dev/shm objects and FIFOs, described for
// the report, and (reduced mode, where they live on the host) found by owner and removed.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "sandbox_internal.hpp"

namespace ipcg::internal {

struct Leftover {
  LeftoverKind kind = LeftoverKind::sysv_msg;
  std::string text;  // a /proc/sysvipc line, or a path
  uid_t owner = 0;   // from the line's uid column for SysV
  int sysv_id = -1;  // SysV only
};

// Parses a keeper message or a line of the host's /proc/sysvipc into a Leftover.
Leftover parse_leftover(LeftoverKind kind, const std::string& text, uid_t uid);
// "SysV message queue (key 0x00001234)", "POSIX shared memory /dev/shm/ring", "FIFO /tmp/f".
std::string describe(const Leftover& l);

// Reduced mode: the host's IPC objects whose owner is in `owners` (SysV by uid column, the
// entries of /dev/shm and /dev/mqueue by file owner).
std::vector<Leftover> host_ipc_objects(const std::set<uid_t>& owners);
// Reduced mode as root: files and folders the slot uids made in the host's shared temp folders
// (/tmp, /var/tmp), which a cell without its own mounts writes to directly.
std::vector<Leftover> host_temp_files(const std::set<uid_t>& owners);
// A key naming an object across two listings (kind + id or path).
std::string identity_of(const Leftover& l);
// Removes it from the host (IPC_RMID, unlink); best effort.
void remove_from_host(const Leftover& l);

}  // namespace ipcg::internal
