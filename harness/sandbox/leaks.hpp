// What a cell left behind, or holds now: SysV objects, POSIX queues, /dev/shm objects and FIFOs,
// described for the report and for Cell::ipc_objects, and (reduced mode, where they live on the
// host) found by owner and removed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
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
  key_t key = 0;     // SysV only
  // Message queues: messages waiting (SysV qnum; a POSIX queue's mq_curmsgs where it could be
  // read); -1 when unknown or not a queue.
  std::int64_t messages = -1;
  // SysV: the pids the kernel names for it (a queue's last sender and receiver, a segment's
  // creator and last user), 0s dropped; as the reader of the line sees them.
  std::vector<pid_t> pids;
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
// Reduced mode: the FIFOs in the host's /tmp whose owner is in `owners` (where IpcNames::fifo
// puts them), without opening them.
std::vector<Leftover> host_fifos(const std::set<uid_t>& owners);
// Reduced mode: the messages in a host POSIX queue ("/dev/mqueue/jobs"), read through
// mq_open(O_RDONLY) + mq_getattr (nothing is received); -1 where that is not permitted.
std::int64_t host_queue_messages(const Leftover& queue);
// What Cell::ipc_objects reports for it: kind, name as mq_open/shm_open take it ("/jobs") or the
// FIFO's path, SysV key and id, owner, messages, and describe()'s words. nullopt for a plain file.
std::optional<IpcObject> to_ipc_object(const Leftover& l);
// A key naming an object across two listings (kind + id or path).
std::string identity_of(const Leftover& l);
// Removes it from the host (IPC_RMID, unlink); best effort.
void remove_from_host(const Leftover& l);

}  // namespace ipcg::internal
