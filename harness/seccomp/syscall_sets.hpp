// The syscall policy as data: named sets of system calls (private to harness_sandbox).
// seccomp_filter.cpp turns a lab's list of set names into an allow-list; `grader policy`
// prints the same data in words.
//
//   const SyscallSet* pipe = find_syscall_set("pipe");   // nullptr when unknown
//   for (std::string_view call : pipe->calls) ...
//   always_killed();  // the calls no set can allow
#pragma once

#include <string_view>
#include <vector>

namespace ipcg::internal {

// How a set's argument-checked calls are narrowed (the rest of its calls are allowed as is).
enum class ArgRule {
  none,
  socket_family,  // socket/socketpair only for `families` (32-bit compare on the domain)
  clone_no_ns,    // clone only without namespace flags
  mknod_fifo,     // mknod/mknodat only for S_IFIFO
  ioctl_no_sti,   // ioctl except TIOCSTI (32-bit compare on the request)
};

struct SyscallSet {
  std::string_view name;
  std::string_view purpose;
  std::vector<std::string_view> calls;  // allowed outright
  ArgRule rule = ArgRule::none;
  std::vector<std::string_view> checked_calls;  // allowed only when `rule` holds
  std::vector<int> families;                    // for ArgRule::socket_family
  // Only where the cell has its own network namespace (loopback alone): seccomp cannot see
  // where connect() goes, so without one the sandbox leaves this set out (inet_loopback).
  bool needs_own_network = false;
};

// "base", always on: what any dynamically linked C program needs from execve to exit.
const SyscallSet& base_set();
// Every set a lab may name in lab.toml [sandbox] syscalls (base excluded), in a stable order.
const std::vector<SyscallSet>& named_sets();
const SyscallSet* find_syscall_set(std::string_view name);

// Escape and host-wide calls: always SIGSYS (KILL_PROCESS), whatever the sets say.
const std::vector<std::string_view>& always_killed();
// Calls answered with ENOSYS so that libc falls back to an older call the filter can inspect.
const std::vector<std::string_view>& enosys_calls();

// The clone flags that create namespaces (CLONE_NEWNS ... CLONE_NEWNET).
unsigned long clone_namespace_flags();

}  // namespace ipcg::internal
