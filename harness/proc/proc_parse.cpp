#include "harness/proc/proc_parse.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <charconv>

namespace ipcg::proc_internal {
namespace {

template <class T>
std::optional<T> to_number(std::string_view s, int base = 10) {
  T value{};
  if (base == 16 && s.starts_with("0x")) s.remove_prefix(2);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Space-separated words; runs of blanks and newlines count as one separator.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (true) {
    i = s.find_first_not_of(" \t\n", i);
    if (i == std::string_view::npos) return out;
    const std::size_t j = std::min(s.find_first_of(" \t\n", i), s.size());
    out.push_back(s.substr(i, j - i));
    i = j;
  }
}

// The value after "Key:" on its own line, or empty.
std::string_view line_value(std::string_view text, std::string_view key) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t eol = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, eol - at);
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':')
      return line.substr(key.size() + 1);
    at = eol + 1;
  }
  return {};
}

std::optional<std::string_view> first_word(std::string_view s) {
  auto w = words(s);
  if (w.empty()) return std::nullopt;
  return w.front();
}

}  // namespace

std::optional<StatFields> parse_stat(std::string_view text) {
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  const auto head = words(text.substr(0, open));
  // After ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice num_threads itrealvalue starttime ...
  const auto f = words(text.substr(close + 1));
  if (head.size() != 1 || f.size() < 20 || f[0].size() != 1) return std::nullopt;
  const auto pid = to_number<pid_t>(head[0]);
  const auto ppid = to_number<pid_t>(f[1]), pgid = to_number<pid_t>(f[2]), sid = to_number<pid_t>(f[3]);
  const auto ut = to_number<std::uint64_t>(f[11]), st = to_number<std::uint64_t>(f[12]);
  const auto start = to_number<std::uint64_t>(f[19]);
  if (!pid || !ppid || !pgid || !sid || !ut || !st || !start) return std::nullopt;
  return StatFields{.pid = *pid, .comm = std::string(text.substr(open + 1, close - open - 1)),
                    .state = f[0][0], .ppid = *ppid, .pgid = *pgid, .sid = *sid,
                    .utime = *ut, .stime = *st, .start_time = *start};
}

StatusFields parse_status(std::string_view text) {
  StatusFields s;
  if (auto w = first_word(line_value(text, "Uid"))) s.uid = to_number<uid_t>(*w).value_or(0);
  if (auto w = first_word(line_value(text, "voluntary_ctxt_switches")))
    s.voluntary = to_number<std::uint64_t>(*w).value_or(0);
  if (auto w = first_word(line_value(text, "nonvoluntary_ctxt_switches")))
    s.involuntary = to_number<std::uint64_t>(*w).value_or(0);
  if (auto w = words(line_value(text, "NSpid")); !w.empty()) s.ns_pid = to_number<pid_t>(w.back()).value_or(0);
  if (auto w = words(line_value(text, "NSpgid")); !w.empty()) s.ns_pgid = to_number<pid_t>(w.back()).value_or(0);
  auto mask = [&](std::string_view key) {
    const auto w = first_word(line_value(text, key));
    return w ? to_number<std::uint64_t>(*w, 16).value_or(0) : 0;
  };
  s.signals = {mask("SigPnd"), mask("ShdPnd"), mask("SigBlk"), mask("SigIgn"), mask("SigCgt")};
  return s;
}

SyscallFields parse_syscall(std::string_view text) {
  SyscallFields s;
  const auto w = words(text);
  if (w.empty() || w[0] == "running") return s;
  const auto nr = to_number<long>(w[0]);
  if (!nr || *nr < 0) return s;  // -1: sleeping, but not inside a system call
  s.number = nr;
  for (std::size_t i = 1; i < w.size() && i <= 6; ++i)
    s.args.push_back(to_number<unsigned long>(w[i], 16).value_or(0));
  return s;
}

std::vector<std::string> parse_cmdline(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t nul = std::min(text.find('\0'), text.size());
    out.emplace_back(text.substr(0, nul));
    text.remove_prefix(std::min(nul + 1, text.size()));
  }
  return out;
}

std::optional<unsigned> parse_fdinfo_flags(std::string_view text) {
  const auto w = first_word(line_value(text, "flags"));
  if (!w) return std::nullopt;
  return to_number<unsigned>(*w, 8);
}

std::optional<std::uint64_t> bracket_number(std::string_view target, std::string_view prefix) {
  if (!target.starts_with(prefix) || !target.ends_with("]")) return std::nullopt;
  target.remove_prefix(prefix.size());
  target.remove_suffix(1);
  return to_number<std::uint64_t>(target);
}

FdKind classify_fd(std::string_view target, mode_t mode) {
  if (bracket_number(target, "pipe:[")) return FdKind::pipe;
  if (bracket_number(target, "socket:[")) return FdKind::socket;
  if (target.starts_with("anon_inode:")) return FdKind::anon;
  if (target.starts_with("/dev/pts/") || target.starts_with("/dev/tty") ||
      target == "/dev/ptmx" || target == "/dev/console")
    return FdKind::tty;
  if (S_ISFIFO(mode)) return FdKind::fifo;
  if (S_ISREG(mode)) return FdKind::file;
  if (S_ISSOCK(mode)) return FdKind::socket;
  return FdKind::other;
}

PipeEnd end_from_flags(unsigned flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return PipeEnd::read;
    case O_WRONLY: return PipeEnd::write;
    case O_RDWR: return PipeEnd::read_write;
  }
  return PipeEnd::none;
}

std::optional<size_t> path_argument(long nr) {
#ifdef SYS_open  // x86_64; the generic table (arm64) has only openat
  if (nr == SYS_open) return 0;
#endif
  if (nr == SYS_openat) return 1;
  return std::nullopt;
}

std::optional<std::string> proc_relative_path(long nr, const std::vector<unsigned long>& args, std::string_view path) {
  const std::optional<size_t> at = path_argument(nr);
  if (!at || path.empty()) return std::nullopt;
  if (path.front() == '/') return "root" + std::string(path);
  // openat's dirfd is an int in the low 32 bits of the register; AT_FDCWD is -100.
  const int dirfd = *at == 1 && !args.empty() ? static_cast<int>(static_cast<std::uint32_t>(args[0])) : AT_FDCWD;
  if (dirfd == AT_FDCWD) return "cwd/" + std::string(path);
  if (dirfd < 0) return std::nullopt;
  return "fd/" + std::to_string(dirfd) + "/" + std::string(path);
}

std::optional<SysvQueueFields> parse_sysvipc_msg(std::string_view text, int id) {
  // key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime; a header first.
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t eol = std::min(text.find('\n', at), text.size());
    const auto w = words(text.substr(at, eol - at));
    at = eol + 1;
    if (w.size() < 5 || to_number<int>(w[1]) != id) continue;
    const auto bytes = to_number<std::int64_t>(w[3]), messages = to_number<std::int64_t>(w[4]);
    if (bytes && messages) return SysvQueueFields{*messages, *bytes};
  }
  return std::nullopt;
}

}  // namespace ipcg::proc_internal
