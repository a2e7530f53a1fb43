// A SysV semaphore set's state read in a process's IPC namespace (private to harness_sync).
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace ipcg {

struct SysvSemOp {  // struct sembuf, as it lies in the waiting process's memory
  unsigned short sem_num;
  short sem_op;
  short sem_flg;
};

struct SysvSetState {
  bool read = false;
  std::string error;         // why it could not be read
  key_t key = 0;
  std::vector<int> values;   // GETALL
  std::vector<int> ncnt;     // GETNCNT per semaphore: processes waiting for it to grow
  std::vector<int> zcnt;     // GETZCNT
  std::vector<pid_t> lastpid;  // GETPID: the last process that changed it (its namespace's pid)
};

// semctl IPC_STAT/GETALL/GETNCNT/GETZCNT/GETPID, from a short-lived thread that joined pid's IPC
// namespace when it is not ours (as harness/proc reads SysV queues).
SysvSetState sysv_sem_state(pid_t in_namespace_of, int semid);

// "SysV semaphore set id 3 (key 0x1234), semaphore 1 (-1)"
std::string describe_sysv_wait(int semid, const SysvSetState& state, const std::vector<SysvSemOp>& ops);
// "semaphore 1: value 0, 2 waiting, last changed by pid 41" (GETPID answers in the reader's pid
// namespace: the grader's, so a host pid like every other pid of the report).
std::string describe_sysv_state(const SysvSetState& state, const std::set<int>& semnums);

}  // namespace ipcg
