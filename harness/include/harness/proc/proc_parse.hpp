// Parsers for the text of /proc files, apart from the code that reads them, so that every odd
// case (a comm with ") " in it, a zombie's empty cmdline, "running" in /proc/PID/syscall) is a
// plain string function. harness_proc reads /proc through them; harness_sandbox uses parse_stat for
// its tree walks (which need the start time that, with the pid, names a process uniquely).
//
//   auto stat = proc_internal::parse_stat(text);   // nullopt when malformed
//   if (stat) snapshot.ppid = stat->ppid;
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/proc/proc_inspector.hpp"

namespace ipcg::proc_internal {

struct StatFields {
  pid_t pid = 0;
  std::string comm;
  char state = '?';
  pid_t ppid = 0, pgid = 0, sid = 0;
  std::uint64_t utime = 0, stime = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot
};
// /proc/PID/stat. comm may hold spaces and parentheses, so it ends at the LAST ')'.
std::optional<StatFields> parse_stat(std::string_view text);

struct StatusFields {
  uid_t uid = 0;  // the real uid (first of the four on the Uid: line)
  std::uint64_t voluntary = 0, involuntary = 0;
  pid_t ns_pid = 0, ns_pgid = 0;  // last values of NSpid/NSpgid (innermost namespace); 0 if absent
  SignalMasks signals;
};
// /proc/PID/status; missing lines leave their defaults.
StatusFields parse_status(std::string_view text);

struct SyscallFields {
  std::optional<long> number;  // nullopt: running, or not inside a syscall (-1)
  std::vector<unsigned long> args;
};
// /proc/PID/syscall: "running", "-1 SP PC", or "NR A1 A2 A3 A4 A5 A6 SP PC" (args in hex).
SyscallFields parse_syscall(std::string_view text);

// Which argument of a blocking syscall is a path worth showing in a hang (open: 0, openat: 1: an
// open of a FIFO waits for the other end), or nullopt.
std::optional<size_t> path_argument(long syscall_number);

// Where the path a blocked open/openat names is, relative to the process's /proc/PID folder, so
// that it is looked up as the process sees it (its root, its cwd, its dirfd, in its mount
// namespace): "root/tmp/x" for "/tmp/x", "cwd/x" for "x" with AT_FDCWD, "fd/5/x" for openat(5,
// "x"). nullopt when the call takes no path or the path is empty.
std::optional<std::string> proc_relative_path(long syscall_number, const std::vector<unsigned long>& args,
                                              std::string_view path);

// One SysV message queue's line of /proc/sysvipc/msg (the reader's IPC namespace).
struct SysvQueueFields {
  std::int64_t messages = 0;  // qnum
  std::int64_t bytes = 0;     // cbytes
};
// The line of queue `id` in the text of /proc/sysvipc/msg, or nullopt when it is not there.
std::optional<SysvQueueFields> parse_sysvipc_msg(std::string_view text, int id);

// /proc/PID/cmdline: NUL-separated, NUL-terminated (a program that rewrote its title may lack
// the final NUL).
std::vector<std::string> parse_cmdline(std::string_view text);

// The octal "flags:" line of /proc/PID/fdinfo/N.
std::optional<unsigned> parse_fdinfo_flags(std::string_view text);

// N out of "pipe:[N]" when target starts with prefix ("pipe:[", "socket:[").
std::optional<std::uint64_t> bracket_number(std::string_view target, std::string_view prefix);

// The kind of a descriptor from its link target and, for paths, its st_mode (0 if unknown).
FdKind classify_fd(std::string_view target, mode_t mode);

// Which end of a pipe or FIFO an open file description is, from its O_ACCMODE bits.
PipeEnd end_from_flags(unsigned flags);

}  // namespace ipcg::proc_internal
