// The named syscall sets. Policy is data: adding a call to a set is a one-line change here, and
// `grader policy <lab>` shows the result. Names the running architecture lacks are skipped when
// the filter is compiled.
#include "syscall_sets.hpp"

#include <sched.h>
#include <sys/socket.h>

namespace ipcg::internal {
namespace {

// Base: from execve through the dynamic loader, libc start-up, stdio, malloc, to exit. Also the
// harmless questions (who am I, what time is it, what are my limits) and fd plumbing every IPC lab
// uses (dup2, fcntl, poll). execve is here because the target is exec'ed after the filter loads.
SyscallSet make_base() {
  return {"base", "any C program: exec, loader, libc start-up, stdio, malloc, fds, time, exit",
          {"execve", "exit", "exit_group", "restart_syscall",
           // the loader and libc start-up
           "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "arch_prctl", "set_tid_address",
           "set_robust_list", "rseq", "prlimit64", "getrlimit", "getrandom", "uname",
           "open", "openat", "close", "close_range", "read", "write", "readv", "writev", "pread64",
           "pwrite64", "lseek", "stat", "fstat", "lstat", "newfstatat", "statx", "access",
           "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd",
           // fds: the plumbing of every IPC lab
           "dup", "dup2", "dup3", "fcntl", "poll", "ppoll", "select", "pselect6",
           "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
           // signals of the process itself
           "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "sigaltstack",
           "rt_sigsuspend", "rt_sigtimedwait", "pause", "alarm", "setitimer", "getitimer",
           // threads and waiting
           "futex", "sched_yield", "sched_getaffinity", "nanosleep", "clock_nanosleep",
           // time and identity
           "clock_gettime", "clock_getres", "gettimeofday", "time", "times", "getrusage",
           "sysinfo", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
           "getgroups", "getresuid", "getresgid", "getpgrp", "getpgid", "getsid"},
          // ioctl: everything but TIOCSTI, which types into a terminal the grader may share.
          ArgRule::ioctl_no_sti, {"ioctl"}, {}};
}

// Socket calls other than creation need a socket fd, so gating socket/socketpair is enough.
std::vector<std::string_view> socket_io() {
  return {"bind", "listen", "accept", "accept4", "connect", "sendto", "recvfrom", "sendmsg",
          "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockopt", "setsockopt",
          "getsockname", "getpeername"};
}

std::vector<SyscallSet> make_named() {
  return {
      {"process", "fork, wait, signals to others, sessions and process groups",
       {"fork", "vfork", "execveat", "wait4", "waitid", "kill", "tgkill", "tkill",
        "rt_sigqueueinfo", "rt_tgsigqueueinfo", "setsid", "setpgid", "prctl", "pidfd_open",
        "pidfd_send_signal", "timer_create", "timer_settime",
        "timer_gettime", "timer_delete", "sched_setaffinity", "getpriority", "setpriority"},
       ArgRule::clone_no_ns, {"clone"}, {}},
      {"file", "create, remove, rename and list files and folders",
       {"creat", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir", "rename", "renameat",
        "renameat2", "link", "linkat", "symlink", "symlinkat", "truncate", "ftruncate",
        "fallocate", "fsync", "fdatasync", "sync_file_range", "getdents64", "chdir", "fchdir",
        "chmod", "fchmod", "fchmodat", "umask", "utimensat", "futimesat", "statfs", "fstatfs",
        "flock", "sendfile", "copy_file_range"},
       ArgRule::none, {}, {}},
      {"pipe", "anonymous pipes", {"pipe", "pipe2", "splice", "tee"}, ArgRule::none, {}, {}},
      {"fifo", "named pipes (mknod of S_IFIFO only)", {"unlink", "unlinkat"}, ArgRule::mknod_fifo,
       {"mknod", "mknodat"}, {}},
      {"posix_mq", "POSIX message queues",
       {"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr"},
       ArgRule::none, {}, {}},
      {"sysv_ipc", "System V message queues, semaphores and shared memory",
       {"msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl",
        "shmget", "shmat", "shmdt", "shmctl"},
       ArgRule::none, {}, {}},
      {"shm", "POSIX shared memory (shm_open is a file in /dev/shm) and memfd",
       {"memfd_create", "ftruncate", "fallocate", "unlink", "unlinkat", "msync", "fstatfs"},
       ArgRule::none, {}, {}},
      {"mmap", "memory mappings beyond malloc's", {"msync", "mincore", "mlock", "munlock",
       "remap_file_pages"}, ArgRule::none, {}, {}},
      {"semaphore", "POSIX semaphores (futex, /dev/shm) and System V semaphores",
       {"semget", "semop", "semtimedop", "semctl", "unlink", "unlinkat", "ftruncate"},
       ArgRule::none, {}, {}},
      {"unix_socket", "AF_UNIX sockets", socket_io(), ArgRule::socket_family,
       {"socket", "socketpair"}, {AF_UNIX}},
      {"inet_socket", "AF_INET and AF_INET6 sockets", socket_io(), ArgRule::socket_family,
       {"socket"}, {AF_INET, AF_INET6}},
      // The cell's network namespace holds only loopback, so AF_INET there reaches nothing else;
      // in reduced isolation (no namespace) the set is left out and socket(AF_INET) gets EPERM.
      {"inet_loopback", "AF_INET sockets, only in the cell's own network namespace (loopback alone)",
       socket_io(), ArgRule::socket_family, {"socket"}, {AF_INET}, true},
      // What gcc, cc1, as, collect2 and ld call beyond base (measured with strace -f -c).
      {"compiler", "the C toolchain: gcc driver, cc1, as, collect2, ld",
       {"vfork", "fork", "wait4", "pipe2", "pipe", "unlink", "unlinkat", "rename", "chmod",
        "fchmod", "umask", "ftruncate", "fallocate", "getdents64", "mkdir", "rmdir", "chdir",
        "utimensat", "statfs", "fstatfs", "prctl"},
       ArgRule::clone_no_ns, {"clone"}, {}},
  };
}

}  // namespace

const SyscallSet& base_set() {
  static const SyscallSet set = make_base();
  return set;
}

const std::vector<SyscallSet>& named_sets() {
  static const std::vector<SyscallSet> sets = make_named();
  return sets;
}

const SyscallSet* find_syscall_set(std::string_view name) {
  for (const SyscallSet& set : named_sets())
    if (set.name == name) return &set;
  return nullptr;
}

// Calls no lab needs that an escape or a host-wide side effect would use: debugging other
// processes, kernel keyrings, BPF and perf, mounts and namespaces, kernel images and modules,
// io_uring (its own syscall-free path around this filter), userfaultfd (race amplifier for
// kernel exploits), swap, accounting, quotas. A kill rather than an error, so the report says
// "killed by the syscall filter" instead of code quietly taking another path.
const std::vector<std::string_view>& always_killed() {
  static const std::vector<std::string_view> calls = {
      "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "keyctl",
      "add_key", "request_key", "bpf", "perf_event_open", "mount", "umount2", "fsopen",
      "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "pivot_root",
      "chroot", "unshare", "setns", "kexec_load", "kexec_file_load", "init_module",
      "finit_module", "delete_module", "reboot", "io_uring_setup", "io_uring_enter",
      "io_uring_register", "userfaultfd", "swapon", "swapoff", "acct", "quotactl",
      "quotactl_fd", "lookup_dcookie", "fanotify_init",
      // open_by_handle_at opens any inode of a mounted filesystem by number (the "shocker" escape)
      "open_by_handle_at", "name_to_handle_at",
  };
  return calls;
}

// clone3 passes its flags in a struct behind a pointer that BPF cannot read, so the namespace
// check on clone's flags could not apply to it. ENOSYS makes glibc fall back to clone.
const std::vector<std::string_view>& enosys_calls() {
  static const std::vector<std::string_view> calls = {"clone3"};
  return calls;
}

unsigned long clone_namespace_flags() {
  return CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
         CLONE_NEWPID | CLONE_NEWNET;
}

}  // namespace ipcg::internal
