// Observes processes from outside, through /proc: which pipe ends each holds, what state it is
// in, where it is blocked. Trusted observation: nothing here asks the student's code anything.
//
//   ProcInspector proc;                          // or ProcInspector("/some/proc/root") in tests
//   IPCG_TRY(ProcessSnapshot s, proc.snapshot(pid));
//   for (const FdInfo& fd : s.fds) if (fd.kind == FdKind::pipe && fd.end == PipeEnd::write) ...
//   HangReport h = proc.diagnose_hang(proc.snapshot_all(proc.descendants(root_pid)));
//   h.summary();  // "pid 412 (cat) blocked in read on fd 0 = pipe:[9183] (read end)\n..."
//
// A process blocked on a message queue is named with the messages in it ("pid 42 (worker) blocked
// in mq_timedreceive on POSIX message queue /jobs (fd 3, 0 messages): ..."; "... msgrcv on SysV
// message queue id 3 for a message of mtype 43; the queue holds 2 messages"), one blocked
// opening a FIFO with whether anyone has its other end open ("...: no writer has opened it"), and
// one blocked on a stream socket with its queues and peer ("... sendto on fd 5 = socket:[77]
// (AF_UNIX stream, peer pid 43; 212992 bytes sent and not yet read by the peer, send buffer
// 212992)"); two processes each blocked sending to the other make a duplex deadlock finding.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg {

enum class FdKind { pipe, fifo, socket, file, tty, anon, other };
enum class PipeEnd { none, read, write, read_write };

struct FdInfo {
  int fd = -1;
  std::string target;          // readlink of /proc/PID/fd/N: "pipe:[9183]", "/dev/null"
  FdKind kind = FdKind::other;
  std::uint64_t inode = 0;     // for pipe:[N] and socket:[N]; st_ino for paths; 0 for anon_inode:
  PipeEnd end = PipeEnd::none; // from the fdinfo flags' access mode (pipes and FIFOs)
  unsigned flags = 0;          // the octal flags: line of fdinfo
  bool cloexec = false;        // O_CLOEXEC: will not survive exec
  std::uint64_t device = 0;    // st_dev for paths (with inode, names a FIFO across mounts); 0 otherwise
};

// A stream socket a process is blocked sending on or receiving from, as the kernel has it when
// the snapshot is taken (the grader duplicates the descriptor with pidfd_getfd and asks:
// SIOCINQ, SIOCOUTQ, SO_PEERCRED, getsockname/getpeername). Facts for the hang report: a sender
// whose send queue is full and whose peer does not read, both sides of a duplex deadlock.
struct SocketState {
  int family = 0;                 // AF_UNIX, AF_INET, AF_INET6
  int type = 0;                   // SOCK_STREAM ...
  std::uint64_t inode = 0;        // socket:[N]
  int unread = -1;                // SIOCINQ: bytes in this socket's receive queue (-1: unknown)
  int unsent = -1;                // SIOCOUTQ: bytes sent and not yet read by the peer (AF_UNIX) or not yet acknowledged (TCP)
  int send_buffer = -1;           // SO_SNDBUF
  int receive_buffer = -1;        // SO_RCVBUF
  pid_t peer_pid = 0;             // SO_PEERCRED (AF_UNIX): the peer's process when it connected or listened; 0 unknown
  std::string local, peer;        // "127.0.0.1:40123", "/tmp/x.sock", "" (unnamed)
};

// Signal sets of /proc/PID/status (hex masks; bit N-1 is signal N). Ignored and blocked sets
// survive exec, so they tell what a parent left in a child it started.
struct SignalMasks {
  std::uint64_t pending = 0;         // SigPnd: this thread
  std::uint64_t shared_pending = 0;  // ShdPnd: the whole process
  std::uint64_t blocked = 0;         // SigBlk
  std::uint64_t ignored = 0;         // SigIgn
  std::uint64_t caught = 0;          // SigCgt: a handler is installed
  static constexpr std::uint64_t bit(int sig) { return std::uint64_t{1} << (sig - 1); }
  bool is_pending(int sig) const { return ((pending | shared_pending) & bit(sig)) != 0; }
};

struct ProcessSnapshot {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  // The same ids as the process itself sees them, in its innermost pid namespace (NSpid/NSpgid of
  // status); equal to pid/pgid outside a namespace. Syscall arguments (wait4's pid) use these.
  pid_t ns_pid = 0;
  pid_t ns_pgid = 0;
  char state = '?';             // R, S, D, T, t, Z, X
  std::string comm;             // from stat
  std::string exe;              // readlink of /proc/PID/exe (empty if unreadable or zombie)
  std::vector<std::string> cmdline;
  uid_t uid = 0;
  std::string wchan;            // kernel function it sleeps in ("pipe_read", "do_wait", "0")
  std::optional<long> syscall;  // syscall number from /proc/PID/syscall when blocked in one
  std::vector<unsigned long> syscall_args;
  // The path a blocked open or openat names (read from its memory; empty if none or
  // unreadable): an open of a FIFO waits until the other end is opened.
  std::string syscall_path;
  // That path looked up as the process sees it (its root, cwd or dirfd; stat, never opened):
  // the FIFO's device and inode, matched against FdInfo::device/inode to find who holds it open.
  // 0 when it is not a FIFO or could not be looked up.
  std::uint64_t syscall_path_device = 0, syscall_path_inode = 0;
  // Blocked in mq_timedreceive/mq_timedsend or msgrcv/msgsnd: the messages in that queue when the
  // snapshot was taken (POSIX mq_curmsgs, through the process's queue descriptor reopened from
  // /proc/PID/fd; SysV qnum, read in the process's IPC namespace). nullopt otherwise, or when
  // it could not be read.
  std::optional<std::int64_t> waiting_messages;
  std::optional<std::int64_t> waiting_queue_limit;  // POSIX: mq_maxmsg (SysV limits bytes, not messages)
  // Blocked in read/write/send*/recv* on a socket: that socket's state (nullopt otherwise, or
  // when it could not be read: no pidfd_getfd, no permission, a /proc root other than /proc).
  std::optional<SocketState> waiting_socket;
  std::uint64_t utime_ticks = 0, stime_ticks = 0;
  std::uint64_t voluntary_switches = 0, involuntary_switches = 0;
  SignalMasks signals;          // pending, blocked, ignored, caught
  std::vector<FdInfo> fds;      // empty for zombies

  const FdInfo* fd(int n) const;
};

// Where one process of a hung tree was, in words, plus the raw facts.
struct BlockedProcess {
  ProcessSnapshot process;
  std::string description;  // "pid 412 (cat) blocked in read on fd 0 = pipe:[9183] (read end)"
};

// Built from the wait-for chain: a blocked reader waits for every live holder of its pipe's or
// FIFO's write end (a writer on a full pipe, for the holders of the read end; a parent in wait4,
// for its children). A holder blocked itself is a link of the chain and is not blamed for the end
// it must hold (its stdout); the culprit is a holder of the very end it waits on, or of an end it
// has no use for (a parent waiting for its children, a process waiting for a signal, a pipeline
// stage holding another pipe's end). A cycle of links with no culprit is a deadlock.
struct HangReport {
  std::vector<BlockedProcess> processes;
  // Sentences linking blocked readers/writers to holders of the other end:
  // "pid 413 holds the write end of pipe:[9183] open (fd 4): the reader never sees EOF"
  std::vector<std::string> findings;
  // The descriptor whose closing lets the chain finish, who holds it and why it should not, in
  // one line: "pid 15195 (stage) keeps fd 5 open, the write end of its own input pipe:[639161]:
  // its read on fd 0 can never see EOF"; or the deadlock when the chain is a cycle without one.
  // Empty when no cause is clear.
  std::string root_cause;
  // The same cause in words without pids, fds or inodes, the same across tests and runs ("a
  // process keeps the write end of its own input pipe open"): tests that hung the same way share
  // it. Empty when root_cause is.
  std::string cause_kind;
  // The root cause first, then every description and finding, one per line.
  std::string summary() const;
};

// Seam for tests: the list of processes and their parents. The real one scans /proc.
class ProcessTable {
 public:
  virtual ~ProcessTable() = default;
  virtual std::vector<pid_t> all_pids() const = 0;
  virtual std::optional<pid_t> parent_of(pid_t pid) const = 0;
};

class ProcInspector {
 public:
  explicit ProcInspector(std::filesystem::path proc_root = "/proc");

  // Reads stat, status, fd/, fdinfo/, wchan, syscall of one process. Fails if it is gone.
  Result<ProcessSnapshot> snapshot(pid_t pid) const;
  // Snapshots of every pid that still exists (vanished ones are skipped, not errors).
  std::vector<ProcessSnapshot> snapshot_all(const std::vector<pid_t>& pids) const;
  // pid and all its descendants, found by walking parent links in the table.
  std::vector<pid_t> descendants(pid_t root, const ProcessTable& table) const;
  std::vector<pid_t> descendants(pid_t root) const;  // with the /proc table

  // Explains where each process is blocked and which other process keeps it blocked
  // (holders of the other end of the pipe/FIFO it waits on, including itself).
  HangReport diagnose_hang(const std::vector<ProcessSnapshot>& processes) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// A ProcessTable over a /proc folder.
class ProcfsProcessTable : public ProcessTable {
 public:
  explicit ProcfsProcessTable(std::filesystem::path proc_root = "/proc");
  std::vector<pid_t> all_pids() const override;
  std::optional<pid_t> parent_of(pid_t pid) const override;

 private:
  std::filesystem::path root_;
};

// x86_64 syscall name for a number ("read", "wait4"...), or "syscall N".
std::string syscall_name(long number);

}  // namespace ipcg
