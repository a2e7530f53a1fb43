// run(): one poll() loop over the child's stdin, its captured outputs, its exit, the tick timer
// and the wall-clock deadline. Everything the loop learns lands in a RunOutcome.
#include "harness/sandbox/execution.hpp"

#include "harness/proc/stall.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>

namespace ipcg {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = 64 * 1024;
// After the tree is dead every write end is closed, so EOF comes at once; this only bounds a
// pathological case (a write end held outside the tree).
constexpr auto kDrainLimit = std::chrono::seconds(2);

struct Stream {
  int child_fd;
  UniqueFd read_end;
  bool eof = false;
};

// The grader's ends of the pipes run() connects to the child.
struct Io {
  UniqueFd stdin_write;
  std::string_view stdin_left;
  std::vector<Stream> streams;
  std::vector<UniqueFd> child_ends;  // closed once the child holds its copies
};

void ignore_sigpipe() {
  // Writing stdin to a child that exited must give EPIPE, not kill the grader.
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

Result<void> set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return sys_fail("fcntl O_NONBLOCK");
  return {};
}

std::uint64_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

Result<void> check_mappings(const RunRequest& req) {
  std::vector<int> ours = {0, 1, 2};
  ours.insert(ours.end(), req.extra_captures.begin(), req.extra_captures.end());
  for (const FdMapping& m : req.spec.fds)
    if (std::find(ours.begin(), ours.end(), m.child_fd) != ours.end())
      return fail(Errc::usage, "run: child fd " + std::to_string(m.child_fd) + " is set up by run() itself");
  return {};
}

// stdin on fd 0; stdout, stderr and the extras captured. Fills the spawn mappings and the
// inodes observers use to recognise the grader's pipes.
Result<Io> connect_io(RunRequest& req, RunContext& ctx) {
  Io io;
  IPCG_TRY(PipePair in, make_pipe());
  IPCG_CHECK(set_nonblocking(in.write_end.get()));
  ctx.pipe_inodes[0] = inode_of(in.read_end.get());
  req.spec.fds.push_back({in.read_end.get(), 0});
  io.stdin_write = std::move(in.write_end);
  io.child_ends.push_back(std::move(in.read_end));
  std::vector<int> captured = {1, 2};
  captured.insert(captured.end(), req.extra_captures.begin(), req.extra_captures.end());
  for (int child_fd : captured) {
    IPCG_TRY(PipePair out, make_pipe());
    IPCG_CHECK(set_nonblocking(out.read_end.get()));
    ctx.pipe_inodes[child_fd] = inode_of(out.read_end.get());
    req.spec.fds.push_back({out.write_end.get(), child_fd});
    io.streams.push_back({child_fd, std::move(out.read_end)});
    io.child_ends.push_back(std::move(out.write_end));
  }
  io.stdin_left = req.stdin_data;
  return io;
}

// Reads what is there; keeps at most `cap` bytes and counts the rest.
void read_stream(Stream& s, CapturedOutput& out, std::uint64_t cap) {
  char buf[kChunk];
  for (;;) {
    const ssize_t n = ::read(s.read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more for now
    if (n == 0) {
      s.eof = true;
      return;
    }
    out.total_bytes += static_cast<std::uint64_t>(n);
    const std::uint64_t room = cap > out.data.size() ? cap - out.data.size() : 0;
    out.data.append(buf, static_cast<size_t>(std::min<std::uint64_t>(room, static_cast<std::uint64_t>(n))));
    out.truncated = out.total_bytes > out.data.size();
  }
}

class Loop {
 public:
  Loop(const Launcher& where, RunRequest& req, RunContext& ctx, Io& io, SandboxedProcess& proc, RunOutcome& out)
      : where_(where), req_(req), ctx_(ctx), io_(io), proc_(proc), out_(out),
        stall_({.grace = req.spec.limits.hang_grace}) {
    for (const Stream& s : io_.streams) out_.captures[s.child_fd];
  }

  Result<void> run(Clock::time_point start) {
    const auto wall = req_.spec.limits.wall;
    const auto deadline = wall.count() > 0 ? start + wall : Clock::time_point::max();
    deadline_ = deadline;
    req_.tick_interval = std::max(req_.tick_interval, std::chrono::milliseconds(1));
    auto next_tick = start + req_.tick_interval;
    bool ticking = static_cast<bool>(req_.on_tick);
    if (io_.stdin_left.empty()) finish_stdin();
    for (;;) {
      const auto now = Clock::now();
      if (now >= deadline && !judging_a_stall(now) && !target_exited(0)) return time_out();
      if (ticking && now >= next_tick) {
        const TickAction action = req_.on_tick(proc_, ctx_);
        if (action == TickAction::kill) return kill_on_request();
        ticking = action == TickAction::keep_going;
        next_tick = Clock::now() + req_.tick_interval;
        continue;
      }
      if (hung(now) && !target_exited(0)) return end_hung();
      auto wake = ticking ? std::min(deadline, next_tick) : deadline;
      if (now >= deadline) wake = now + stall_.options().sample_every;  // past it only while a stall is judged
      if (judges_hangs()) wake = std::min(wake, now + stall_.options().sample_every);
      if (poll_once(wake)) return target_ended();
    }
  }

 private:
  bool target_exited(int timeout_ms) const {
    pollfd p{proc_.exit_fd(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
  }

  static int ms_until(Clock::time_point t) {
    if (t == Clock::time_point::max()) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
  }

  // One poll over stdin, the outputs and the exit; true when the target has exited.
  bool poll_once(Clock::time_point wake) {
    std::vector<pollfd> fds = {{proc_.exit_fd(), POLLIN, 0}};
    if (io_.stdin_write && !io_.stdin_left.empty()) fds.push_back({io_.stdin_write.get(), POLLOUT, 0});
    for (const Stream& s : io_.streams)
      if (!s.eof) fds.push_back({s.read_end.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), ms_until(wake)) < 0) return false;
    for (const pollfd& p : fds) {
      if (!p.revents || p.fd == proc_.exit_fd()) continue;
      if (p.fd == io_.stdin_write.get()) write_stdin();
      else read_fd(p.fd);
    }
    return fds[0].revents != 0;
  }

  // Feeds stdin and reads whatever output is ready until `wake` (once the target has exited,
  // its children may still read the input and write the output).
  void pump_streams(Clock::time_point wake) {
    std::vector<pollfd> fds;
    if (io_.stdin_write && !io_.stdin_left.empty()) fds.push_back({io_.stdin_write.get(), POLLOUT, 0});
    for (const Stream& s : io_.streams)
      if (!s.eof) fds.push_back({s.read_end.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), ms_until(wake)) <= 0) return;
    for (const pollfd& p : fds) {
      if (!p.revents) continue;
      if (p.fd == io_.stdin_write.get()) write_stdin();
      else read_fd(p.fd);
    }
  }

  void read_fd(int fd) {
    for (Stream& s : io_.streams)
      if (s.read_end.get() == fd) read_stream(s, out_.captures[s.child_fd], req_.spec.limits.output_bytes);
  }

  void write_stdin() {
    while (!io_.stdin_left.empty()) {
      const size_t len = std::min(io_.stdin_left.size(), kChunk);
      const ssize_t n = ::write(io_.stdin_write.get(), io_.stdin_left.data(), len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n < 0) {  // EPIPE: nobody reads stdin any more; the rest is dropped
        io_.stdin_left = {};
        break;
      }
      io_.stdin_left.remove_prefix(static_cast<size_t>(n));
    }
    finish_stdin();
  }

  void finish_stdin() {
    if (!req_.keep_stdin_open) io_.stdin_write.reset();
  }

  // After the tree is dead every write end is closed: read to EOF.
  void drain() {
    io_.stdin_write.reset();
    const auto limit = Clock::now() + kDrainLimit;
    for (;;) {
      std::vector<pollfd> fds;
      for (const Stream& s : io_.streams)
        if (!s.eof) fds.push_back({s.read_end.get(), POLLIN, 0});
      if (fds.empty() || Clock::now() >= limit) return;
      if (::poll(fds.data(), fds.size(), ms_until(limit)) <= 0) continue;
      for (const pollfd& p : fds)
        if (p.revents) read_fd(p.fd);
    }
  }

  Result<void> target_ended() {
    out_.survivors = proc_.processes();
    if (req_.on_exit) req_.on_exit(proc_);
    const std::optional<int> status = proc_.wait_status();
    // The target returned early (a parent that never waited): let what it started finish, within
    // the same deadline, so the outcome does not depend on who was scheduled first.
    while (req_.wait_for_descendants && !proc_.processes().empty()) {
      if (Clock::now() >= deadline_ && !judging_a_stall(Clock::now())) return time_out();
      if (hung(Clock::now())) return end_hung();
      const auto now = Clock::now();
      pump_streams(now >= deadline_ ? now + kSurvivorPoll : std::min(deadline_, now + kSurvivorPoll));
    }
    proc_.kill_tree();
    drain();
    if (!status) return fail(Errc::internal, "run: the target's exit status was lost (its keeper died)");
    out_.wait_status = *status;
    out_.ending = WIFSIGNALED(*status) ? Ending::signaled : Ending::exited;
    return {};
  }

  // Where everything was blocked is recorded before anything is killed: afterwards there is
  // nothing left to look at.
  Result<void> time_out() {
    const ProcInspector inspector;
    out_.hang = inspector.diagnose_hang(inspector.snapshot_all(proc_.processes()));
    proc_.kill_tree();
    drain();
    out_.ending = Ending::timed_out;
    out_.wait_status = SIGKILL;
    return {};
  }

  bool judges_hangs() const { return req_.spec.limits.hang_grace.count() > 0; }
  // Past the wall limit, a stall under way is judged before the run ends (StallDetector::judged_by).
  bool judging_a_stall(Clock::time_point now) const { return judges_hangs() && stall_.judging(now); }

  // Whether the cell has been stalled for the grace, confirmed: nothing the grader holds (the
  // input it still writes, a pipe a check feeds) is what a process waits on. The snapshots that
  // confirmed it are kept for the hang report.
  bool hung(Clock::time_point now) {
    return judges_hangs() && stall_.due(now) &&
           cell_hung(stall_, where_.processes_beside(proc_), now, &hung_snapshots_);
  }

  Result<void> end_hung() {
    const ProcInspector inspector;
    out_.hang = inspector.diagnose_hang(hung_snapshots_);
    out_.stalled = stall_.stalled_for();
    proc_.kill_tree();
    drain();
    out_.ending = Ending::hung;
    out_.wait_status = SIGKILL;
    return {};
  }

  Result<void> kill_on_request() {
    proc_.kill_tree();
    drain();
    out_.ending = Ending::killed;
    out_.wait_status = SIGKILL;
    return {};
  }

  static constexpr std::chrono::milliseconds kSurvivorPoll{2};
  Clock::time_point deadline_ = Clock::time_point::max();
  const Launcher& where_;
  RunRequest& req_;
  RunContext& ctx_;
  Io& io_;
  SandboxedProcess& proc_;
  RunOutcome& out_;
  StallDetector stall_;
  std::vector<ProcessSnapshot> hung_snapshots_;
};

}  // namespace

std::string CapturedOutput::display() const {
  if (!truncated) return data;
  return data + "\n[... truncated: " + std::to_string(total_bytes - data.size()) + " more bytes]";
}

Result<RunOutcome> run(Launcher& where, RunRequest request) {
  ignore_sigpipe();
  IPCG_CHECK(check_mappings(request));
  RunContext ctx;
  IPCG_TRY(Io io, connect_io(request, ctx));
  const auto start = Clock::now();
  IPCG_TRY(SandboxedProcess proc, where.spawn(request.spec));
  io.child_ends.clear();  // the child has its copies; ours would hide EOF
  RunOutcome out;
  Loop loop(where, request, ctx, io, proc, out);
  IPCG_CHECK(loop.run(start));
  out.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return out;
}

}  // namespace ipcg
