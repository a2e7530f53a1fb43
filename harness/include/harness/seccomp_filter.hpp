// The syscall filter: built from named syscall sets, compiled to BPF once in the grader, installed
// in each child right before exec (installing a precompiled program is ~0.7 ms; building one is 2-5).
//
//   IPCG_TRY(auto filter, SeccompFilter::compile({"pipe", "process"}));
//   // in the child, after no_new_privs: filter.install() (async-signal-safe: one prctl)
//   std::string pfc = filter.pfc();   // libseccomp's readable export, for `grader policy`
//
// Baseline (always): ptrace, process_vm_readv/writev, mount, umount2, pivot_root, chroot,
// unshare, setns, kexec_*, bpf, perf_event_open, keyctl, add_key, request_key, io_uring_* kill
// the process (SIGSYS). Sets a lab does not name (e.g. "socket") fail with EPERM.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "harness/error.hpp"

namespace ipcg {

class SeccompFilter {
 public:
  static Result<SeccompFilter> compile(const std::vector<std::string>& allowed_sets);
  // Names of every set a lab may list in lab.toml [sandbox] syscalls.
  static std::vector<std::string> known_sets();

  // Installs the filter on the calling thread; async-signal-safe. Returns 0 or -errno.
  int install() const;
  const std::string& pfc() const { return pfc_; }
  size_t instruction_count() const { return program_.size(); }

 private:
  std::vector<sock_filter> program_;
  std::string pfc_;
};

}  // namespace ipcg
