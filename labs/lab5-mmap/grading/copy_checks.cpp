// lab5 Part A: mm_copy. The copier (the student's code behind a trusted driver) copies a file the
// grader wrote into the test's folder; the grader reads the destination itself, the copier's
// /proc/PID/io at a stop before and after the call (what the data cost in read and write calls),
// and its /proc/PID/maps at the stop after (what it still maps). The static half of "through the
// mapping" is the runner's: the lab's forbidden symbols looked up in the student's object.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "region_file.hpp"

namespace lab5 {
namespace {

constexpr std::size_t kPage = 4096, kWindow = MM_WINDOW;

// The source's size for params.size: seeded where it may be, never a multiple of the page size
// unless asked ("aligned").
std::size_t source_size(TestContext& ctx, const std::string& kind) {
  const std::size_t tail = 1 + ctx.rng() % (kPage - 1);
  if (kind == "empty") return 0;
  if (kind == "one") return 1;
  if (kind == "aligned") return 4 * kWindow;
  if (kind == "large") return (4u << 20) + (ctx.rng() % 512) * kPage + tail;  // 4 to 6 MiB
  return 2 * kWindow + (ctx.rng() % (kWindow / kPage)) * kPage + tail;      // three windows
}

std::string seeded_bytes(TestContext& ctx, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t x = ctx.rng();
    std::memcpy(s.data() + i, &x, std::min<std::size_t>(8, n - i));
  }
  return s;
}

Result<void> write_source(const std::filesystem::path& file, const std::string& bytes) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Errc::io, "create " + file.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done != bytes.size()) return fail(Errc::io, "write " + file.string());
  return {};
}

// "at byte 786433 (page 192, window 3): expected 0x5a, got 0x00", or nullopt when identical.
std::optional<std::string> first_difference(const std::string& expected, const std::string& got) {
  const std::size_t common = std::min(expected.size(), got.size());
  std::size_t i = 0;
  while (i < common && expected[i] == got[i]) ++i;
  if (i == common && expected.size() == got.size()) return std::nullopt;
  auto where = fmt::format("byte {} (page {}, window {})", i, i / kPage, i / kWindow);
  if (i == common)
    return fmt::format("the destination has {} bytes, the source {}: they differ from {} on", got.size(),
                       expected.size(), where);
  return fmt::format("the destination differs from the source (each byte XOR the key) at {}: expected {:#04x}, got "
                     "{:#04x}", where, static_cast<unsigned char>(expected[i]), static_cast<unsigned char>(got[i]));
}

// The lines of /proc/PID/maps that map one of the test's files.
std::vector<std::string> mappings_of(pid_t pid, const std::vector<std::string>& names) {
  std::vector<std::string> found;
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  for (std::string line; std::getline(maps, line);)
    if (std::any_of(names.begin(), names.end(), [&](const std::string& n) { return line.find(n) != std::string::npos; }))
      found.push_back(line);
  return found;
}

struct IoCounters {
  std::uint64_t rchar = 0, syscr = 0, wchar = 0, syscw = 0;
};
IoCounters io_of(pid_t pid) {
  return {bytes_read(pid).value_or(0), read_calls(pid).value_or(0), bytes_written(pid).value_or(0),
          write_calls(pid).value_or(0)};
}

// What the driver itself writes between its two stops: "call mm_copy\n" and "gate after\n".
constexpr std::uint64_t kDriverBytes = 24, kDriverWrites = 2;

std::optional<CheckOutcome> judge_io(const IoCounters& before, const IoCounters& after, std::size_t size) {
  const std::uint64_t read = after.rchar - before.rchar, reads = after.syscr - before.syscr;
  const std::uint64_t wrote = after.wchar - before.wchar - std::min(after.wchar - before.wchar, kDriverBytes);
  const std::uint64_t writes = after.syscw - before.syscw - std::min(after.syscw - before.syscw, kDriverWrites);
  // A copy through the mappings moves no file data by calls; a quarter of the file is far above
  // anything else the copier may read or write.
  const std::uint64_t allowed = size / 4;
  std::vector<std::string> evidence{
      fmt::format("/proc/PID/io of the copier across mm_copy: rchar +{} in syscr +{} read calls, wchar +{} in syscw "
                  "+{} write calls (the driver's own {} bytes in {} writes taken off)",
                  read, reads, wrote, writes, kDriverBytes, kDriverWrites)};
  if (read > allowed)
    return CheckOutcome::fail(fmt::format("the copier read {} bytes in {} read calls while copying a {}-byte file: the "
                                          "data went through read(), not the source's mapping",
                                          read, reads, size),
                              evidence);
  if (wrote > allowed)
    return CheckOutcome::fail(fmt::format("the copier wrote {} bytes in {} write calls while copying a {}-byte file: "
                                          "the data went through write(), not the destination's mapping",
                                          wrote, writes, size),
                              evidence);
  return std::nullopt;
}

std::string copy_call_name(const Actor&, const std::string& step) { return step == "copy" ? "mm_copy" : step; }

CheckOutcome copy(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const std::string kind = p.value("size", std::string("unaligned"));
  const auto checks = p.value("checks", std::vector<std::string>{"identical"});
  auto wants = [&](const char* c) { return std::find(checks.begin(), checks.end(), c) != checks.end(); };
  if (wants("through_mapping"))
    if (auto bad = judge_forbidden_symbols(ctx, "copier", "mm_copy must copy through the mappings")) return *bad;

  const std::size_t size = source_size(ctx, kind);
  const unsigned key = 1 + static_cast<unsigned>(ctx.rng() % 255);
  const std::string source = seeded_bytes(ctx, size);
  IPCG_TRY_OUTCOME(TestFolder folder, TestFolder::make(ctx));
  const std::string src = ctx.ipc_names().name("src"), dst = ctx.ipc_names().name("dst");
  if (auto written = write_source(folder.host(src), source); !written)
    return CheckOutcome::with(Status::error, written.error().message);

  std::vector<std::string> args;
  if (p.contains("spare_as")) args = {"--spare-as", std::to_string(p.value("spare_as", 0L))};
  args.insert(args.end(), {folder.box(src), folder.box(dst), std::to_string(key)});
  const std::string what = fmt::format("mm_copy of a {}-byte file (key {:#04x}{})", size, key,
                                       p.contains("spare_as") ? fmt::format(", {} bytes of address space left to map",
                                                                            p.value("spare_as", 0L))
                                                              : "");
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * copier, scene.start(label(ctx, "copier"), program_spec(ctx, "copier", args)));
  IPCG_TRY_OUTCOME(bool before, run_to_gate(scene, *copier, "before"));
  if (!before) {
    if (auto bad = judge_actors({copier}, copy_call_name)) return *bad;
    return scene.timed_out("the copier, before mm_copy");
  }
  const pid_t pid = copier->proc->pid();
  const IoCounters io_before = io_of(pid);
  resume(*copier);
  IPCG_TRY_OUTCOME(bool after, run_to_gate(scene, *copier, "after"));
  if (!after) {
    if (auto bad = judge_actors({copier}, copy_call_name)) return *bad;
    return scene.timed_out(what);
  }
  const IoCounters io_after = io_of(pid);
  const auto still_mapped = mappings_of(pid, {src, dst});
  resume(*copier);
  IPCG_TRY_OUTCOME(bool ended, scene.run_until([&] { return scene.exited(*copier); }));
  if (!ended) return scene.timed_out("the copier, after mm_copy");

  std::optional<int> copy_errno;
  for (const auto& l : copier->lines())
    if (int e = 0; std::sscanf(l.c_str(), "error copy %d", &e) == 1) copy_errno = e;
  if (wants("enomem_or_copy") && copy_errno) {
    if (*copy_errno != ENOMEM)
      return CheckOutcome::fail(fmt::format("{}: mm_copy failed with {}, expected ENOMEM from the failed mmap", what,
                                            strerror_name(*copy_errno)),
                                {"keep mmap's errno: release what you hold without letting another call change it"});
  } else if (auto bad = judge_actors({copier}, copy_call_name)) {
    bad->message = what + ": " + bad->message;
    if (copy_errno == ENOMEM && p.contains("spare_as"))
      bad->evidence.push_back(fmt::format("only {} bytes of address space were left to map (RLIMIT_AS), the file has {}: "
                                          "map windows of at most MM_WINDOW ({}) bytes and unmap each before the next",
                                          p.value("spare_as", 0L), size, kWindow));
    return *bad;
  }
  if (wants("unmapped") && !still_mapped.empty()) {
    auto evidence = still_mapped;
    evidence.insert(evidence.begin(), fmt::format("/proc/{}/maps at the stop after mm_copy returned:", pid));
    return CheckOutcome::fail(fmt::format("{}: {} mapping(s) of the files still there after mm_copy returned",
                                          what, still_mapped.size()),
                              evidence);
  }
  if (wants("through_mapping"))
    if (auto bad = judge_io(io_before, io_after, size)) {
      bad->message = what + ": " + bad->message;
      return *bad;
    }
  if (!copy_errno && (wants("identical") || wants("enomem_or_copy"))) {
    const auto got = read_regular_file(folder.host(dst));
    if (!got) return CheckOutcome::fail(fmt::format("{}: mm_copy returned 0 but there is no destination file", what));
    std::string expected = source;
    for (char& c : expected) c = static_cast<char>(static_cast<unsigned char>(c) ^ key);
    if (auto diff = first_difference(expected, *got))
      return CheckOutcome::fail(fmt::format("{}: output not identical", what), {*diff});
  }
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab5.copy", copy);

}  // namespace
}  // namespace lab5
