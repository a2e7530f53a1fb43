// The syscall filter: an allow-list built from named syscall sets, compiled to BPF once in the
// grader, installed in each child right before exec (installing a precompiled program is ~0.7 ms;
// building one is 2-5).
//
//   IPCG_TRY(auto filter, SeccompFilter::compile({"pipe", "process"}));
//   // in the child, after no_new_privs: filter.install() (async-signal-safe: one prctl)
//   std::string pfc = filter.pfc();   // libseccomp's readable export, for `grader policy`
//   IPCG_TRY(auto policy, SeccompFilter::describe({"pipe"}));  // the same policy in words
//
// Policy (docs/lab-format.md, "Syscall policy"):
// - allowed: the "base" set (what any C program needs, execve included) plus the named sets;
//   socket/socketpair only for the families of the listed socket sets, clone only without
//   namespace flags, mknod only for FIFOs (32-bit argument compares, so high bits don't bypass);
// - always killed (SIGSYS), whatever the sets: ptrace, process_vm_*, keyctl family, bpf,
//   perf_event_open, mount family, unshare, setns, kexec, modules, reboot, io_uring, userfaultfd...;
//   foreign-architecture and x32 syscall numbers too;
// - clone3 fails with ENOSYS (libc falls back to clone, whose flags the filter can read);
// - every other call fails with EPERM, so a student sees an error rather than a mysterious kill.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg {

// One set of the policy in words, for `grader policy`.
struct SyscallGroup {
  std::string name;                  // "base", "pipe", ...
  std::string purpose;
  std::vector<std::string> allowed;  // calls allowed outright ("read", ...)
  std::vector<std::string> checked;  // calls allowed with an argument check ("socket (AF_UNIX)")
};

struct SyscallPolicy {
  std::vector<SyscallGroup> groups;          // base first, then the lab's sets in its order
  std::vector<std::string> killed;           // always SIGSYS
  std::vector<std::string> enosys;           // ENOSYS (libc falls back)
  std::string otherwise = "EPERM";           // what every other call gets
};

class SeccompFilter {
 public:
  static Result<SeccompFilter> compile(const std::vector<std::string>& allowed_sets);
  // The policy compile() would build, in words; the same config errors as compile().
  static Result<SyscallPolicy> describe(const std::vector<std::string>& allowed_sets);
  // Names of every set a lab may list in lab.toml [sandbox] syscalls ("base" is always on).
  static std::vector<std::string> known_sets();
  // The sets a lab's processes get: all of `sets`, less those that are safe only inside the
  // cell's own network namespace ("inet_loopback") when there is none (reduced isolation).
  static std::vector<std::string> sets_for_network(const std::vector<std::string>& sets, bool own_network_namespace);

  // Installs the filter on the calling thread; async-signal-safe. Returns 0 or -errno.
  int install() const;
  const std::string& pfc() const { return pfc_; }
  size_t instruction_count() const { return program_.size(); }
  // The compiled classic BPF program (the sandbox hands it to its keeper process).
  const std::vector<sock_filter>& program() const { return program_; }

 private:
  std::vector<sock_filter> program_;
  std::string pfc_;
};

}  // namespace ipcg
