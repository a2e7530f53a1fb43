#include "sysv_sem_state.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "harness/core/unique_fd.hpp"

namespace ipcg {
namespace {

void read_set(int semid, SysvSetState& out) {
  semid_ds ds{};
  if (::semctl(semid, 0, IPC_STAT, &ds) != 0) {
    out.error = fmt::format("semctl(IPC_STAT): {}", std::strerror(errno));
    return;
  }
  out.key = ds.sem_perm.__key;
  const int n = static_cast<int>(ds.sem_nsems);
  std::vector<unsigned short> values(static_cast<std::size_t>(n));
  if (::semctl(semid, 0, GETALL, values.data()) != 0) {
    out.error = fmt::format("semctl(GETALL): {}", std::strerror(errno));
    return;
  }
  for (int i = 0; i < n; ++i) {
    out.values.push_back(values[static_cast<std::size_t>(i)]);
    out.ncnt.push_back(::semctl(semid, i, GETNCNT));
    out.zcnt.push_back(::semctl(semid, i, GETZCNT));
    out.lastpid.push_back(::semctl(semid, i, GETPID));
  }
  out.read = true;
}

bool same_ipc_namespace(int ns_fd) {
  struct stat theirs {}, ours {};
  return ::fstat(ns_fd, &theirs) == 0 && ::stat("/proc/thread-self/ns/ipc", &ours) == 0 &&
         theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
}

}  // namespace

SysvSetState sysv_sem_state(pid_t in_namespace_of, int semid) {
  SysvSetState out;
  UniqueFd ns(::open(fmt::format("/proc/{}/ns/ipc", in_namespace_of).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns || same_ipc_namespace(ns.get())) {
    read_set(semid, out);
    return out;
  }
  // setns of an IPC namespace is allowed to one thread of a multithreaded process (CAP_SYS_ADMIN
  // over it: the grader as root, the only case where cells have namespaces).
  std::thread reader([&] {
    if (::setns(ns.get(), CLONE_NEWIPC) == 0) read_set(semid, out);
    else out.error = fmt::format("setns into pid {}'s IPC namespace: {}", in_namespace_of, std::strerror(errno));
  });
  reader.join();
  return out;
}

std::string describe_sysv_wait(int semid, const SysvSetState& state, const std::vector<SysvSemOp>& ops) {
  std::string what = fmt::format("SysV semaphore set id {}", semid);
  if (state.read)
    what += state.key == IPC_PRIVATE ? std::string(" (IPC_PRIVATE)") : fmt::format(" (key {:#x})", static_cast<unsigned>(state.key));
  for (std::size_t i = 0; i < ops.size(); ++i)
    what += fmt::format("{}semaphore {} ({:+d})", i ? ", " : ", ", ops[i].sem_num, ops[i].sem_op);
  return what;
}

std::string describe_sysv_state(const SysvSetState& state, const std::set<int>& semnums) {
  if (!state.read) return state.error;
  std::string out;
  for (int n : semnums) {
    if (n < 0 || static_cast<std::size_t>(n) >= state.values.size()) continue;
    const auto i = static_cast<std::size_t>(n);
    if (!out.empty()) out += "; ";
    out += fmt::format("semaphore {}: value {}, {} waiting", n, state.values[i], state.ncnt[i]);
    if (state.lastpid[i] > 0) out += fmt::format(", last changed by pid {}", state.lastpid[i]);
  }
  std::string all;
  for (std::size_t i = 0; i < state.values.size(); ++i) all += (i ? ", " : "") + std::to_string(state.values[i]);
  return out + fmt::format("; all values [{}]", all);
}

}  // namespace ipcg
