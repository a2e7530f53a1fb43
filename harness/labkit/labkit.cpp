#include "harness/labkit/labkit.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

#include "harness/core/unique_fd.hpp"

namespace ipcg {

std::string random_text(std::mt19937_64& rng, std::size_t bytes, bool newlines) {
  // Modulo over the raw engine output: the same seed gives the same text with any standard library.
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-";
  std::string text;
  text.reserve(bytes);
  while (text.size() < bytes) {
    if (newlines && rng() % 64 == 0) text.push_back('\n');
    else text.push_back(alphabet[rng() % (sizeof alphabet - 1)]);
  }
  if (newlines && !text.empty()) text.back() = '\n';
  return text;
}

RunRequest driver_request(const TestContext& ctx, std::vector<std::string> argv, std::string input) {
  RunRequest req;
  req.spec = ctx.spawn_spec(std::move(argv));
  req.stdin_data = std::move(input);
  req.extra_captures = {kControlFd};
  return req;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> control_lines(const RunOutcome& out) {
  auto it = out.captures.find(kControlFd);
  return it == out.captures.end() ? std::vector<std::string>{} : split_lines(it->second.data);
}

std::string printable(const std::string& s, std::size_t max) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
    else out.push_back(static_cast<char>(c));
  }
  return "\"" + out + (s.size() > max ? "\"..." : "\"");
}

std::string describe_difference(const std::string& expected, const std::string& got) {
  const auto at = std::mismatch(expected.begin(), expected.end(), got.begin(), got.end()).first - expected.begin();
  const auto line = 1 + std::count(expected.begin(), expected.begin() + at, '\n');
  const auto from = static_cast<std::size_t>(at) > 20 ? at - 20 : 0;
  return fmt::format("output differs from the reference's at byte {} (line {}): expected {} ({} bytes), got {} ({} bytes)",
                     at, line, printable(expected.substr(from)), expected.size(),
                     printable(got.size() > static_cast<std::size_t>(from) ? got.substr(from) : ""), got.size());
}

bool is_blocked(const ProcessSnapshot& s) { return (s.state == 'S' || s.state == 'D') && s.syscall.has_value(); }

bool blocked_in(const ProcessSnapshot& s, std::initializer_list<long> syscalls) {
  return is_blocked(s) && std::find(syscalls.begin(), syscalls.end(), *s.syscall) != syscalls.end();
}

std::vector<ProcessSnapshot> live_snapshots(const SandboxedProcess& p) {
  static const ProcInspector inspector;
  return inspector.snapshot_all(p.processes());
}

const ProcessSnapshot* find_pid(const std::vector<ProcessSnapshot>& snaps, pid_t pid) {
  auto it = std::find_if(snaps.begin(), snaps.end(), [&](const auto& s) { return s.pid == pid; });
  return it == snaps.end() ? nullptr : &*it;
}

std::vector<ProcessSnapshot> children_of(const std::vector<ProcessSnapshot>& snaps, pid_t pid) {
  std::vector<ProcessSnapshot> kids;
  for (const auto& s : snaps)
    if (s.ppid == pid) kids.push_back(s);
  return kids;
}

std::string end_name(PipeEnd end) {
  switch (end) {
    case PipeEnd::read: return "read end";
    case PipeEnd::write: return "write end";
    case PipeEnd::read_write: return "read-write end";
    case PipeEnd::none: break;
  }
  return "end";
}

std::string describe_fd(const FdInfo& fd) {
  if (fd.kind == FdKind::pipe || fd.kind == FdKind::fifo)
    return fmt::format("fd {} = {} of {}", fd.fd, end_name(fd.end), fd.target);
  return fmt::format("fd {} = {}", fd.fd, fd.target);
}

std::optional<int> unread_bytes(pid_t pid, int fd) {
  UniqueFd again(::open(fmt::format("/proc/{}/fd/{}", pid, fd).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  int n = 0;
  if (!again || ::ioctl(again.get(), FIONREAD, &n) != 0) return std::nullopt;
  return n;
}

namespace {
std::optional<std::uint64_t> io_counter(pid_t pid, std::string_view name) {
  std::ifstream io(fmt::format("/proc/{}/io", pid));
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key == name) return value;
  return std::nullopt;
}
}  // namespace

std::optional<std::uint64_t> bytes_read(pid_t pid) { return io_counter(pid, "rchar:"); }
std::optional<std::uint64_t> bytes_written(pid_t pid) { return io_counter(pid, "wchar:"); }
std::optional<std::uint64_t> read_calls(pid_t pid) { return io_counter(pid, "syscr:"); }
std::optional<std::uint64_t> write_calls(pid_t pid) { return io_counter(pid, "syscw:"); }

bool is_grader_pipe(const RunContext& run, std::uint64_t inode) {
  return std::any_of(run.pipe_inodes.begin(), run.pipe_inodes.end(),
                     [&](const auto& kv) { return kv.second == inode; });
}

std::optional<std::string> DriverReport::line_starting(std::string_view word) const {
  for (const auto& line : lines)
    if (line.starts_with(word) && (line.size() == word.size() || line[word.size()] == ' ')) return line;
  return std::nullopt;
}

namespace {
bool first_word_is(std::string_view line, std::string_view word) {
  return line.starts_with(word) && (line.size() == word.size() || line[word.size()] == ' ');
}
}  // namespace

DriverReport driver_report(const RunOutcome& out, std::initializer_list<std::string_view> returned_words) {
  DriverReport r;
  r.lines = control_lines(out);
  for (const auto& line : r.lines) {
    if (line.starts_with("call ")) {
      r.last_call = line.substr(5);
      r.last_call_returned = false;
    } else if (first_word_is(line, "status") || first_word_is(line, "error")) {
      r.last_call_returned = true;
      r.results.push_back(line);
    } else if (std::any_of(returned_words.begin(), returned_words.end(),
                           [&](std::string_view w) { return first_word_is(line, w); })) {
      r.last_call_returned = true;
    }
  }
  return r;
}

std::optional<CheckOutcome> died_inside_call(const RunOutcome& out, const DriverReport& report) {
  if (report.last_call.empty() || report.last_call_returned) return std::nullopt;
  if (out.ending == Ending::exited && WIFEXITED(out.wait_status))
    return CheckOutcome::fail(fmt::format(
        "the student's code ended the calling process inside {} with exit status {}: a library "
        "function must return -1 with errno set, never exit() its caller",
        report.last_call, WEXITSTATUS(out.wait_status)));
  if (out.ending == Ending::signaled) {
    const int sig = WTERMSIG(out.wait_status);
    return CheckOutcome::with(Status::crashed, fmt::format("the calling process died of {} inside {}",
                                                           signal_name(sig), report.last_call));
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return fmt::format("signal {}", sig);
}

std::string signal_list(std::uint64_t mask) {
  std::string text;
  for (int sig = 1; sig <= 64; ++sig)
    if (mask & SignalMasks::bit(sig)) text += (text.empty() ? "" : ", ") + signal_name(sig);
  return text;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by {}", signal_name(WTERMSIG(status)));
  return fmt::format("raw status {}", status);
}

bool StopTracker::is_new_stop(const ProcessSnapshot& s) {
  if (s.state != 'T') return false;
  const auto key = std::make_pair(bytes_read(s.pid).value_or(0), bytes_written(s.pid).value_or(0));
  if (last_ == key) return false;
  last_ = key;
  return true;
}

Result<std::optional<AfterCall>> run_to_gate_after(TestContext& ctx, RunRequest req, RunOutcome& out, RunContext& rc,
                                                  GateWatch watch) {
  std::optional<AfterCall> after;
  StopTracker stops;
  bool before_seen = !watch.before;
  req.on_tick = [&](SandboxedProcess& p, const RunContext& context) {
    rc = context;
    if (watch.each_tick) watch.each_tick(p);
    auto snaps = live_snapshots(p);
    const auto* caller = find_pid(snaps, p.pid());
    if (after || !caller || !stops.is_new_stop(*caller)) return TickAction::keep_going;
    if (!before_seen) {
      before_seen = true;
      watch.before(*caller);
      ::kill(p.pid(), SIGCONT);
      return TickAction::keep_going;
    }
    after = AfterCall{*caller, children_of(snaps, caller->pid)};
    if (!watch.continue_after) return TickAction::kill;
    ::kill(p.pid(), SIGCONT);
    return TickAction::keep_going;
  };
  IPCG_TRY(out, run(ctx.cell, std::move(req)));
  return after;
}

void settle_after_exit(SandboxedProcess& p, std::chrono::milliseconds grace,
                       const std::function<bool(SandboxedProcess&)>& look) {
  Grace settle;
  while (!look(p) && !settle.expired(grace))
    std::this_thread::sleep_for(kPollInterval);  // polling /proc for the stops, bounded
}

}  // namespace ipcg
