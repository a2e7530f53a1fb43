// The syscall filter as data (named sets) plus the code that turns a lab's list of sets into a BPF
// program with libseccomp, once, in the grader. The child only runs install(): one prctl.
#include "harness/seccomp_filter.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/seccomp.h>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "harness/unique_fd.hpp"

namespace ipcg {
namespace {

// What a set does to a lab that does not list it.
enum class Gate {
  open,       // allowed whether listed or not (today; issue 3 turns the filter into an allow-list)
  eperm,      // its syscalls fail with EPERM unless the lab lists the set
};

struct SyscallSet {
  std::string_view name;
  std::string_view purpose;
  Gate gate;
  std::vector<std::string_view> syscalls;  // what the set covers (the allow-list of issue 3)
  std::vector<int> families;               // socket sets: the address families it allows
};

// The baseline: calls no lab needs and a sandbox escape or a host-wide side effect would use.
// They kill the whole process (SIGSYS) rather than fail, so a student sees "killed by the
// syscall filter" instead of code that quietly takes another path.
const std::vector<std::string_view>& baseline_kill() {
  static const std::vector<std::string_view> calls = {
      "ptrace",        "process_vm_readv", "process_vm_writev", "mount",     "umount2",
      "pivot_root",    "chroot",           "unshare",           "setns",     "kexec_load",
      "kexec_file_load", "bpf",            "perf_event_open",   "keyctl",    "add_key",
      "request_key",   "io_uring_setup",   "io_uring_enter",    "io_uring_register",
  };
  return calls;
}

const std::vector<std::string_view> kSocketCalls = {
    "socket",  "socketpair", "bind",     "listen",     "accept",      "accept4",
    "connect", "sendto",     "recvfrom", "sendmsg",    "recvmsg",     "shutdown",
    "getsockopt", "setsockopt", "getsockname", "getpeername"};

// Every set a lab may name. Only the socket sets are enforced today: creating a socket without
// listing one fails with EPERM (the other socket calls need a socket fd, so gating creation is
// enough). The rest document what they cover and are open until the filter becomes an allow-list.
const std::vector<SyscallSet>& all_sets() {
  static const std::vector<SyscallSet> sets = {
      {"process", "fork, exec, wait, signals", Gate::open,
       {"fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4",
        "waitid", "kill", "tgkill", "tkill", "getpid", "getppid", "gettid", "setsid", "getsid",
        "setpgid", "getpgid", "getpgrp", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
        "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack", "pause", "nanosleep",
        "clock_nanosleep", "sched_yield", "pidfd_open", "pidfd_send_signal"}, {}},
      {"file", "files and folders", Gate::open,
       {"open", "openat", "close", "read", "write", "pread64", "pwrite64", "readv", "writev",
        "lseek", "stat", "fstat", "lstat", "newfstatat", "statx", "access", "faccessat",
        "faccessat2", "fcntl", "dup", "dup2", "dup3", "getdents64", "unlink", "unlinkat",
        "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "ftruncate", "truncate",
        "fsync", "chdir", "getcwd", "readlink", "readlinkat"}, {}},
      {"pipe", "anonymous pipes", Gate::open, {"pipe", "pipe2", "splice", "tee", "vmsplice"}, {}},
      {"fifo", "named pipes", Gate::open, {"mknod", "mknodat"}, {}},
      {"posix_mq", "POSIX message queues", Gate::open,
       {"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
        "mq_getsetattr"}, {}},
      {"sysv_ipc", "System V queues, semaphores, shared memory", Gate::open,
       {"msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl",
        "shmget", "shmat", "shmdt", "shmctl"}, {}},
      {"shm", "POSIX shared memory (shm_open is open on /dev/shm)", Gate::open,
       {"memfd_create", "ftruncate", "mmap", "munmap"}, {}},
      {"mmap", "memory mappings", Gate::open,
       {"mmap", "munmap", "mprotect", "mremap", "msync", "madvise"}, {}},
      {"semaphore", "POSIX (futex) and System V semaphores", Gate::open,
       {"futex", "semget", "semop", "semtimedop", "semctl"}, {}},
      {"unix_socket", "AF_UNIX sockets", Gate::eperm, kSocketCalls, {AF_UNIX}},
      {"inet_socket", "AF_INET/AF_INET6 sockets", Gate::eperm, kSocketCalls, {AF_INET, AF_INET6}},
      {"socket", "sockets of every family", Gate::eperm, kSocketCalls, {}},  // {} = all
  };
  return sets;
}

const SyscallSet* find_set(std::string_view name) {
  for (const SyscallSet& set : all_sets())
    if (set.name == name) return &set;
  return nullptr;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScopedCtx = std::unique_ptr<void, CtxDeleter>;

tl::unexpected<Error> seccomp_fail(const std::string& what, int rc) {
  return fail(Errc::system, "seccomp " + what + ": " + std::strerror(-rc));
}

// Resolves a name for this architecture; a call the arch lacks (e.g. an old one) is skipped.
int resolve(std::string_view name) {
  return seccomp_syscall_resolve_name(std::string(name).c_str());
}

Result<void> add_kill_rules(scmp_filter_ctx ctx) {
  for (std::string_view name : baseline_kill()) {
    const int nr = resolve(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0); rc < 0)
      return seccomp_fail("rule for " + std::string(name), rc);
  }
  return {};
}

// Which address families the listed sets open; nullopt = every family.
std::optional<std::set<int>> allowed_families(const std::vector<const SyscallSet*>& listed) {
  std::set<int> families;
  for (const SyscallSet* set : listed) {
    if (set->gate != Gate::eperm) continue;
    if (set->families.empty()) return std::nullopt;
    families.insert(set->families.begin(), set->families.end());
  }
  return families;
}

// socket/socketpair fail with EPERM for every family no listed set opens. The domain is a 32-bit
// int: a deny rule compares it masked to 32 bits, or high bits set by the caller would slip past
// an exact 64-bit compare while the kernel still sees the family.
Result<void> add_socket_rules(scmp_filter_ctx ctx, const std::set<int>& allowed) {
  for (std::string_view name : {"socket", "socketpair"}) {
    const int nr = resolve(name);
    if (allowed.empty()) {
      if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0); rc < 0)
        return seccomp_fail("rule for " + std::string(name), rc);
      continue;
    }
    for (int family = 0; family < AF_MAX; ++family) {
      if (allowed.count(family)) continue;
      const int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                      SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, static_cast<scmp_datum_t>(family)));
      if (rc < 0) return seccomp_fail("rule for " + std::string(name), rc);
    }
  }
  return {};
}

// libseccomp 2.5 exports only to an fd: a memfd, read back whole.
Result<std::string> export_to_string(scmp_filter_ctx ctx, int (*exporter)(const scmp_filter_ctx, int)) {
  UniqueFd fd(::memfd_create("ipcgrade-seccomp", MFD_CLOEXEC));
  if (!fd) return sys_fail("memfd_create");
  if (int rc = exporter(ctx, fd.get()); rc < 0) return seccomp_fail("export", rc);
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return sys_fail("lseek");
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail("read seccomp export");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::vector<const SyscallSet*>> lookup_sets(const std::vector<std::string>& names) {
  std::vector<const SyscallSet*> listed;
  for (const std::string& name : names) {
    const SyscallSet* set = find_set(name);
    if (!set) {
      std::string known;
      for (const std::string& k : SeccompFilter::known_sets()) known += (known.empty() ? "" : ", ") + k;
      return fail(Errc::config, "unknown syscall set '" + name + "' (known: " + known + ")");
    }
    listed.push_back(set);
  }
  return listed;
}

}  // namespace

std::vector<std::string> SeccompFilter::known_sets() {
  std::vector<std::string> names;
  for (const SyscallSet& set : all_sets()) names.emplace_back(set.name);
  return names;
}

Result<SeccompFilter> SeccompFilter::compile(const std::vector<std::string>& allowed_sets) {
  IPCG_TRY(auto listed, lookup_sets(allowed_sets));
  ScopedCtx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return fail(Errc::system, "seccomp_init failed");
  // A foreign-arch call (int 0x80, x32 numbers) would bypass rules written for x86_64.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
    return seccomp_fail("badarch attribute", rc);
  IPCG_CHECK(add_kill_rules(ctx.get()));
  if (auto families = allowed_families(listed)) {
    IPCG_CHECK(add_socket_rules(ctx.get(), *families));
  }

  SeccompFilter filter;
  IPCG_TRY(std::string bpf, export_to_string(ctx.get(), seccomp_export_bpf));
  if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0)
    return fail(Errc::internal, "seccomp export gave " + std::to_string(bpf.size()) + " bytes");
  filter.program_.resize(bpf.size() / sizeof(sock_filter));
  std::memcpy(filter.program_.data(), bpf.data(), bpf.size());
  IPCG_TRY(filter.pfc_, export_to_string(ctx.get(), seccomp_export_pfc));
  return filter;
}

int SeccompFilter::install() const {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program_.size());
  prog.filter = const_cast<sock_filter*>(program_.data());
  // The kernel requires no_new_privs (or CAP_SYS_ADMIN); the sandbox sets it just before.
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return -errno;
  return 0;
}

}  // namespace ipcg
