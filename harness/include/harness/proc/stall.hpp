// Tells a hung process tree from a slow one, from outside: a tree is stalled once every live
// process of it has been asleep in a call that only another process can end (a read of a pipe,
// wait4, semop, a futex wait with no timeout...) and none has used CPU time or switched context
// for a grace period. Calls are classified by syscall number and arguments (/proc/PID/syscall),
// never by wchan names, which differ across kernels. Stopped processes (a gate of the grader),
// running ones, sleeps and waits with a timeout never stall a tree; neither does a process
// waiting on a pipe or socket the grader itself holds (input it may still write).
//
//   StallDetector stall({.grace = 300ms});
//   on every tick:  if (stall.observe(look_at(cell.processes()), Clock::now())) { ...confirm... }
//   confirm:        waiting_on_grader(snapshots, grader_held_objects()) is empty -> hung
//
// observe() is pure (fed looks and times), so tests need no process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "harness/proc/proc_inspector.hpp"

namespace ipcg {

enum class WaitKind {
  busy,        // running, in uninterruptible sleep, or in a call not known to block for good
  indefinite,  // asleep in a call that only another process (or the grader) can end
  timed,       // a sleep, or a wait with a timeout: it ends by itself
  stopped,     // stopped (T/t): whoever stopped it will continue it
  ended,       // a zombie: no longer a participant
};

// The light facts of one process that progress and waits are judged from: /proc/PID/stat,
// status and syscall (no fds). A snapshot has them too (look_of).
struct ProcessLook {
  pid_t pid = 0;
  char state = '?';
  std::uint64_t cpu_ticks = 0;  // utime + stime
  std::uint64_t switches = 0;   // voluntary + involuntary context switches
  std::optional<long> syscall;
  std::vector<unsigned long> syscall_args;
  bool catches_alarm = false;   // SIGALRM has a handler: an alarm() may be armed to wake it
  bool has_posix_timers = false;  // /proc/PID/timers lists a timer: it may be woken by one
};

ProcessLook look_of(const ProcessSnapshot& s);
// Reads the look of each pid that still exists (vanished ones are skipped).
std::vector<ProcessLook> look_at(const std::vector<pid_t>& pids);

// How a process waits, by state, syscall number and arguments.
WaitKind wait_kind(const ProcessLook& p);
std::string_view to_string(WaitKind k);

class StallDetector {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds grace{300};        // stalled this long: hung
    std::chrono::milliseconds sample_every{25};  // observe() looks at most this often
  };
  explicit StallDetector(Options options) : options_(options) {}

  // Whether it is time for another look (the caller skips reading /proc otherwise).
  bool due(Clock::time_point now) const { return now - last_look_ >= options_.sample_every; }
  // One look at every live process of the tree at `now`. True once the tree has been stalled for
  // the grace: every process waits indefinitely, and none changed state, CPU time or context
  // switches since the stall began. Any change starts the grace again.
  bool observe(const std::vector<ProcessLook>& tree, Clock::time_point now);
  // Starts over (after the caller found the stall was not one: the grader holds what it waits on).
  void reset() { stalled_since_.reset(); last_.clear(); }
  std::chrono::milliseconds stalled_for() const { return stalled_for_; }
  // While a stall is under way: by when it will have been judged (its grace, and a look after it).
  // A caller whose wall limit falls before waits until then, so that a tree that hangs near its
  // limit reads hung, not timeout, whatever the limit was; a busy tree never stalls, so it
  // still stops at the limit.
  std::optional<Clock::time_point> judged_by() const {
    if (!stalled_since_) return std::nullopt;
    return *stalled_since_ + options_.grace + 2 * options_.sample_every;
  }
  // Whether a stall under way at `now` is still being judged: the caller's wall limit waits.
  bool judging(Clock::time_point now) const {
    const auto by = judged_by();
    return by && now < *by;
  }
  const Options& options() const { return options_; }

 private:
  using Progress = std::tuple<char, std::uint64_t, std::uint64_t, long>;  // state, cpu, switches, syscall
  Options options_;
  Clock::time_point last_look_{};
  std::optional<Clock::time_point> stalled_since_;
  std::map<pid_t, Progress> last_;
  std::chrono::milliseconds stalled_for_{0};
};

// Pipes and sockets a process holds, by inode, with the pipe ends: what the grader holds is
// what it may still write to (a test's stdin) or read from.
struct HeldObjects {
  std::set<std::uint64_t> pipe_write_ends, pipe_read_ends, sockets;
  std::set<std::pair<std::uint64_t, std::uint64_t>> fifos;  // (device, inode)
};
HeldObjects held_objects(const ProcessSnapshot& s);
// What this process (the grader: every thread of it) holds now, from /proc/self/fd.
HeldObjects grader_held_objects();

// The processes that wait on something `outside` holds: a read of a pipe (or FIFO) whose write
// end it holds, a socket it holds, or a poll/select/epoll over any such descriptor. Their wait
// may end when the grader acts, so the tree is not hung. Empty: nothing outside can wake them.
std::vector<pid_t> waiting_on(const std::vector<ProcessSnapshot>& tree, const HeldObjects& outside);

// One look at a cell's live processes (the caller lists them once stall.due()), confirmed from the grader's side: true
// when `stall` fired and no process waits on something the grader holds (else the grace starts
// again). The snapshots that confirmed it land in `confirmed`, for the hang report.
bool cell_hung(StallDetector& stall, const std::vector<pid_t>& pids, StallDetector::Clock::time_point now,
               std::vector<ProcessSnapshot>* confirmed = nullptr);

}  // namespace ipcg
