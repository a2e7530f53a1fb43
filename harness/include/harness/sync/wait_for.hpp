// The wait-for graph of a deadlocked test, as plain data, and the pure functions over it: the
// cycle, and the explanation in words. DeadlockWatch (deadlock_watch.hpp) fills it from /proc, the
// cell's IPC state and the sync monitor; tests build it by hand.
//
//   std::vector<WaitNode> nodes = {
//     {512, "producer (student)", "sem_wait", WaitedObject{"semaphore /bb_empty", "value 0", {513}}},
//     {513, "consumer (student)", "sem_wait", WaitedObject{"semaphore /bb_mutex", "value 0", {512}}}};
//   find_cycle(nodes);          // {512, 513}
//   explain_wait_for(nodes);    // "pid 512 (producer (student)) waits in sem_wait on semaphore
//                               //  /bb_empty (value 0), held by pid 513", ..., "circular wait: ..."
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipcg {

struct WaitedObject {
  std::string what;             // "semaphore /bb_mutex", "SysV semaphore set id 3 (key 0x1234), semaphore 1"
  std::string state;            // "value 0"; "values [0, 1], 2 waiting, last changed by pid 40"
  std::vector<pid_t> holders;   // processes that acquired it more often than they released it
  // Processes that took it at least twice and never posted it: no lock is taken twice, so this is
  // a count used up (a ring's `empty` before any consumer ran), not a holder (no edge of the graph):
  // said as "decremented by pid X, which never posted it".
  std::vector<pid_t> takers;
  // Processes that have posted it before and hold nothing of it: for a semaphore nobody holds (a
  // ring's `empty`, posted by consumers) the ones that could post it again, so the waiter waits
  // for them (an edge of the graph: "pid 512 waits on /bb_empty, posted only by pid 513").
  std::vector<pid_t> posters;
};

struct WaitNode {
  pid_t pid = 0;
  std::string label;            // "producer 1 (student)"; may be empty
  std::string blocked_in;       // "sem_wait", "semop", "wait4", or the syscall's name
  std::optional<WaitedObject> waits_on;
  std::vector<pid_t> waits_for; // processes it waits for directly (wait4's children)
};

// The processes of a cycle of the graph (waiter -> holder, waiter -> waits_for), in the order of
// the cycle, starting from its smallest pid; empty when there is none.
std::vector<pid_t> find_cycle(const std::vector<WaitNode>& nodes);

// One line per blocked process, then "circular wait: pid A -> pid B -> pid A" when there is a
// cycle, or what nobody holds ("nobody holds ... : a post that never came").
std::vector<std::string> explain_wait_for(const std::vector<WaitNode>& nodes);

// ---- /proc/PID/maps --------------------------------------------------------------------------

struct MapsEntry {
  std::uint64_t start = 0, end = 0;
  bool shared = false;          // the 's' of "rw-s"
  std::uint64_t offset = 0;     // file offset of start
  std::uint64_t device_major = 0, device_minor = 0, inode = 0;
  std::string path;             // "/dev/shm/sem.bb_mutex", "/memfd:x (deleted)", "" (anonymous)
};
std::optional<MapsEntry> parse_maps_line(std::string_view line);
// The mapping of `maps` (the whole file's text) that holds address `addr`.
std::optional<MapsEntry> mapping_of(std::string_view maps, std::uint64_t addr);
// Bytes of a file's pages that a process's mappings of it hold dirty (written, not yet written
// back): Shared_Dirty + Private_Dirty of every /proc/PID/smaps block whose inode is `inode`.
// After msync(MS_SYNC) of a file on disk they are 0 (writeback cleans the page tables); pages
// written since are counted again. Works on every kernel (cachestat(2) needs 6.5). On tmpfs
// pages stay dirty whatever msync does. `smaps` is the whole file's text.
std::uint64_t dirty_mapped_bytes(std::string_view smaps, std::uint64_t inode);

// "semaphore /bb_mutex" for /dev/shm/sem.bb_mutex, "shared memory /ring" for /dev/shm/ring,
// else the path itself (or "anonymous shared memory"), for a word at `offset` of that mapping.
std::string describe_mapping(const MapsEntry& m, std::uint64_t offset);

}  // namespace ipcg
