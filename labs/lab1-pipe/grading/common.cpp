#include "common.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "harness/core/unique_fd.hpp"

namespace lab1 {

Stages stages_param(const TestSpec& test) {
  const auto& p = test.params;
  if (!p.contains("stages") || !p["stages"].is_array() || p["stages"].empty())
    throw std::runtime_error("params.stages must be a non-empty array of argv arrays");
  Stages stages;
  for (const auto& stage : p["stages"]) {
    if (!stage.is_array() || stage.empty()) throw std::runtime_error("each stage must be a non-empty array");
    std::vector<std::string> argv;
    for (const auto& arg : stage) argv.push_back(arg.get<std::string>());
    stages.push_back(std::move(argv));
  }
  return stages;
}

std::vector<std::string> stage_argv(const TestContext& ctx, const std::vector<std::string>& stage, bool gate) {
  if (stage.front().starts_with("/")) return stage;
  std::vector<std::string> argv{ctx.tool("stage")};
  if (gate) argv.push_back("--gate");
  argv.insert(argv.end(), stage.begin(), stage.end());
  return argv;
}

std::vector<std::string> pipeline_argv(const TestContext& ctx, const std::string& program, const Stages& stages,
                                       bool gate_stages, bool gate_after) {
  std::vector<std::string> argv{program};
  if (gate_after) argv.push_back("--gate-after");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (i > 0) argv.push_back("|");
    auto stage = stage_argv(ctx, stages[i], gate_stages);
    argv.insert(argv.end(), stage.begin(), stage.end());
  }
  return argv;
}

std::string stage_label(const ProcessSnapshot& s, std::size_t index) {
  std::string mode = s.comm;
  for (std::size_t i = 1; i < s.cmdline.size(); ++i)
    if (!s.cmdline[i].starts_with("--gate")) { mode = s.cmdline[i]; break; }
  return fmt::format("stage {} ({})", index + 1, mode);
}

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

std::string test_input(TestContext& ctx) {
  const auto& p = ctx.test.params;
  if (p.contains("random_input_bytes")) return random_text(ctx.rng, p["random_input_bytes"].get<std::size_t>(), true);
  return p.value("input", std::string());
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

bool is_gated(const ProcessSnapshot& s, const std::string& mode) {
  if (s.cmdline.size() < 2 || (s.cmdline[1] != "--gate" && s.cmdline[1] != "--gate-each")) return false;
  return mode.empty() || (s.cmdline.size() > 2 && s.cmdline[2] == mode);
}

bool blocked_in(const ProcessSnapshot& s, std::initializer_list<long> syscalls) {
  if (s.state != 'S' && s.state != 'D') return false;
  return s.syscall && std::find(syscalls.begin(), syscalls.end(), *s.syscall) != syscalls.end();
}

std::vector<ProcessSnapshot> live_snapshots(const SandboxedProcess& p) {
  static const ProcInspector inspector;
  return inspector.snapshot_all(p.processes());
}

const ProcessSnapshot* find_pid(const std::vector<ProcessSnapshot>& snaps, pid_t pid) {
  auto it = std::find_if(snaps.begin(), snaps.end(), [&](const auto& s) { return s.pid == pid; });
  return it == snaps.end() ? nullptr : &*it;
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

bool is_grader_pipe(const RunContext& run, std::uint64_t inode) {
  return std::any_of(run.pipe_inodes.begin(), run.pipe_inodes.end(),
                     [&](const auto& kv) { return kv.second == inode; });
}

}  // namespace lab1
