// What one sandboxed process costs, next to a plain fork+exec and to other sandboxes, on the
// same machine in one run (docs/performance.md):
//
//   build/bin/bench_spawn                     # all, then the ratios against the targets
//   build/bin/bench_spawn --benchmark_filter=Cell
//
// Every case starts the same small program (bench/true.c) and waits for its exit. Run as root,
// the Nobody* cases time the same work as uid and gid 65534 (a user namespace cell, bubblewrap
// unprivileged): a child drops to nobody and re-execs this binary in helper mode, which times
// the spawns and prints the total; the table shows the helper's time (manual time), and each
// row's label says which uid and isolation level it ran at. The NobodyRoleUids* cases do the
// same with a subordinate id range for nobody in /etc/subuid and /etc/subgid while they run
// (restored after): a cell at `full (user namespace)`, its ids mapped by newuidmap.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/sandbox/sandbox.hpp"
#include "support/subordinate_ids.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

namespace fs = std::filesystem;
using ipcg::Sandbox;

const std::string kProgram = IPCG_BENCH_TRUE;
const std::string kKeeper = IPCG_BENCH_KEEPER;
constexpr uid_t kNobody = 65534;
constexpr const char* kHelperFlag = "--ipcg-bench-as-nobody";

// fork + execve + waitpid: the baseline.
int fork_exec_wait(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool exists(const char* path) { return ::access(path, X_OK) == 0; }

// The same bwrap command as root and as nobody. The program is bound at a fixed path, as our box
// does: the build folder may lie under /tmp, which the fresh tmpfs hides.
std::vector<std::string> bwrap_argv(const std::string& program) {
  const std::string in_box = "/run/ipcgrade/true";
  return {"/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
          "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
          "--ro-bind", program, in_box, in_box};
}

// "full (root), uid 0": the row's label, so the table says where each case ran.
std::string level_label(const ipcg::IsolationInfo& info) {
  return fmt::format("{} ({}), uid {}", ipcg::to_string(info.level), info.setting, ::geteuid());
}

// The label of a cell case: its level and whether its cells had cgroups (a closed cell's note
// says "cgroups: <paths>" or "no cgroups: <why>").
std::string cell_label(const Sandbox& box, const ipcg::CellReport& closed) {
  const std::string& note = closed.cgroup;
  return level_label(box.isolation()) + ", " + (note.empty() ? "cgroups unknown" : note.substr(0, note.find(':')));
}

// The box every cell case uses. `wanted`: the level the case is about; anything else is an error
// (a case that silently ran at another level would make the table lie).
ipcg::Result<Sandbox> make_box(const std::string& program, bool namespaces, bool prepare_cells,
                               ipcg::IsolationLevel wanted) {
  auto box = Sandbox::create({.syscall_sets = {"process", "file", "pipe"},
                              .allow_namespaces = namespaces,
                              .prepare_cells = prepare_cells,
                              .readonly_paths = {program}});
  if (box && box->isolation().level != wanted)
    return ipcg::fail(ipcg::Errc::internal, fmt::format("wanted {}, got {}: {}", ipcg::to_string(wanted),
                                                        level_label(box->isolation()), box->isolation().reason));
  return box;
}

std::optional<Sandbox> make_box(bool full, benchmark::State& state, bool prepare_cells = true) {
  auto box = make_box(kProgram, full, prepare_cells, full ? ipcg::IsolationLevel::full : ipcg::IsolationLevel::reduced);
  if (!box) {
    state.SkipWithError(box.error().message.c_str());
    return std::nullopt;
  }
  return std::optional<Sandbox>(std::move(*box));
}

// Spawns the program and waits for its exit: "" when it exited 0, else what went wrong.
std::string spawn_to_exit(ipcg::Launcher& where, const std::string& program) {
  auto proc = where.spawn({.argv = {program}});
  if (!proc) return proc.error().message;
  pollfd p{proc->exit_fd(), POLLIN, 0};
  ::poll(&p, 1, -1);
  const auto status = proc->wait_status();
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) return "the program did not exit 0";
  return "";
}

bool run_to_exit(ipcg::Launcher& where, benchmark::State& state) {
  const std::string error = spawn_to_exit(where, kProgram);
  if (!error.empty()) state.SkipWithError(error.c_str());
  return error.empty();
}

void PlainForkExec(benchmark::State& state) {
  state.SetLabel(fmt::format("uid {}", ::geteuid()));
  for (auto _ : state) fork_exec_wait({kProgram});
}

// One process spawned into a cell that already exists (namespaces, mounts and cgroups made once):
// what each role of a test costs.
void SandboxedInExistingCell(benchmark::State& state) {
  auto box = make_box(state.range(0) == 1, state);
  if (!box) return;
  auto cell = box->open_cell();
  if (!cell) return state.SkipWithError(cell.error().message.c_str());
  for (auto _ : state)
    if (!run_to_exit(*cell, state)) break;
  state.SetLabel(cell_label(*box, cell->close()));
}

// A whole cell per process: create (namespaces, root, cgroups), run, tear down (leftover scan).
// prepared:0 makes each cell on demand (the cold path); prepared:1 is how the grader opens them:
// the next cell is made by the Sandbox's thread while the current one runs.
void CellCreateRunTeardown(benchmark::State& state) {
  auto box = make_box(state.range(0) == 1, state, state.range(1) == 1);
  if (!box) return;
  ipcg::CellReport closed;
  for (auto _ : state) {
    auto cell = box->open_cell();
    if (!cell) return state.SkipWithError(cell.error().message.c_str());
    if (!run_to_exit(*cell, state)) break;
    closed = cell->close();
  }
  state.SetLabel(cell_label(*box, closed));
}

void Bwrap(benchmark::State& state) {
  if (!exists("/usr/bin/bwrap")) return state.SkipWithError("bwrap is not installed (apt install bubblewrap)");
  state.SetLabel(fmt::format("uid {}", ::geteuid()));
  const auto argv = bwrap_argv(kProgram);
  for (auto _ : state)
    if (fork_exec_wait(argv) != 0) return state.SkipWithError("bwrap failed");
}

void Unshare(benchmark::State& state) {
  if (!exists("/usr/bin/unshare")) return state.SkipWithError("unshare is not installed");
  state.SetLabel(fmt::format("uid {}", ::geteuid()));
  const std::vector<std::string> argv = {"/usr/bin/unshare", "--ipc", "--net", "--mount", "--pid", "--fork", kProgram};
  for (auto _ : state)
    if (fork_exec_wait(argv) != 0) return state.SkipWithError("unshare failed (not root?)");
}

// ---- as nobody ----------------------------------------------------------------------------------
// Helper mode: `bench_spawn --ipcg-bench-as-nobody MODE PROGRAM N`, run by the cases below as uid
// and gid 65534. It does the untimed set-up (Sandbox::create, the cell of "cell"), times N spawns
// of PROGRAM and prints "label <uid, level>" and "seconds <total>", or "error <why>".

using Clock = std::chrono::steady_clock;

// The seconds n rounds of `once` (which returns "" or an error) took, or the first error.
struct Timed {
  double seconds = 0;
  std::string error;
};

template <typename Once>
Timed time_rounds(long n, Once once) {
  const auto start = Clock::now();
  for (long i = 0; i < n; ++i)
    if (std::string error = once(); !error.empty()) return {0, std::move(error)};
  return {std::chrono::duration<double>(Clock::now() - start).count(), ""};
}

// The protocol's lines; the exit code.
int report(const Timed& timed, const std::string& label) {
  if (!timed.error.empty()) return std::printf("error %s\n", timed.error.c_str()), 1;
  std::printf("label %s\nseconds %.9f\n", label.c_str(), timed.seconds);
  return 0;
}

int helper_main(const std::string& mode, const std::string& program, long n) {
  const std::string uid = fmt::format("uid {}", ::geteuid());
  if (mode == "fork_exec")
    return report(time_rounds(n, [&] { return fork_exec_wait({program}) == 0 ? "" : std::string("fork+exec failed"); }),
                  uid);
  if (mode == "bwrap") {
    struct stat st {};
    const bool setuid = ::stat("/usr/bin/bwrap", &st) == 0 && (st.st_mode & S_ISUID);
    const auto argv = bwrap_argv(program);
    return report(time_rounds(n, [&] { return fork_exec_wait(argv) == 0 ? "" : std::string("bwrap failed"); }),
                  uid + (setuid ? ", setuid bwrap" : ", bwrap's own user namespace"));
  }
  // A cell in a user namespace: Sandbox::create decides by our euid (nobody's) and, for the
  // role_* modes, the subordinate ids the parent gave nobody.
  const bool role_uids = mode.rfind("role_", 0) == 0;
  const std::string cell_mode = role_uids ? mode.substr(5) : mode;
  const bool existing = cell_mode == "cell", prepared = cell_mode == "cell_prepared";
  if (!existing && !prepared && cell_mode != "cell_cold") return std::printf("error unknown mode %s\n", mode.c_str()), 1;
  auto box = make_box(program, true, prepared,
                      role_uids ? ipcg::IsolationLevel::full : ipcg::IsolationLevel::user_namespace_without_role_uids);
  if (!box) return std::printf("error %s\n", box.error().message.c_str()), 1;
  if (existing) {
    auto cell = box->open_cell();
    if (!cell) return std::printf("error %s\n", cell.error().message.c_str()), 1;
    const auto timed = time_rounds(n, [&] { return spawn_to_exit(*cell, program); });
    return report(timed, cell_label(*box, cell->close()));
  }
  ipcg::CellReport closed;
  const auto timed = time_rounds(n, [&] {
    auto cell = box->open_cell();
    if (!cell) return cell.error().message;
    std::string error = spawn_to_exit(*cell, program);
    closed = cell->close();
    return error;
  });
  return report(timed, cell_label(*box, closed));
}

// Where nobody can run the helper from: this binary, the program and the keeper (found beside the
// binary, ../libexec/ipcgrade) as they are when every folder above them lets others through, else
// copies in a fresh 0755 folder under /tmp (as tests/integration/test_cli.cpp's Unprivileged
// fixture does), removed at exit.
struct NobodyFiles {
  std::string exe, program, copied_to, error;
  NobodyFiles() = default;
  NobodyFiles(const NobodyFiles&) = delete;  // one owner removes the copies
  NobodyFiles& operator=(const NobodyFiles&) = delete;
  ~NobodyFiles() {
    std::error_code ec;
    if (!copied_to.empty()) fs::remove_all(copied_to, ec);
  }
};

bool others_may_run(const fs::path& file) {
  struct stat st {};
  constexpr mode_t kRun = S_IROTH | S_IXOTH;
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & kRun) != kRun) return false;
  for (fs::path dir = file.parent_path();; dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
    if (dir == dir.root_path()) return true;
  }
}

void copy_for_nobody(NobodyFiles& files, const fs::path& self) {
  char dir[] = "/tmp/ipcg-bench-nobody-XXXXXX";
  if (!::mkdtemp(dir)) {
    files.error = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  files.copied_to = dir;
  const fs::path root = dir;
  const auto rwxr_xr_x = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec;
  std::error_code ec;
  fs::create_directories(root / "bin", ec);
  fs::create_directories(root / "libexec" / "ipcgrade", ec);
  const std::pair<fs::path, fs::path> copies[] = {{self, root / "bin" / "bench_spawn"},
                                                  {kProgram, root / "bin" / "bench_true"},
                                                  {kKeeper, root / "libexec" / "ipcgrade" / fs::path(kKeeper).filename()}};
  for (const auto& [from, to] : copies)
    if (!fs::copy_file(from, to, ec)) {
      files.error = "copy " + from.string() + " for nobody into " + root.string() + ": " + ec.message();
      return;
    }
  for (const auto& p : fs::recursive_directory_iterator(root)) fs::permissions(p.path(), rwxr_xr_x, ec);
  fs::permissions(root, rwxr_xr_x, ec);
  files.exe = root / "bin" / "bench_spawn";
  files.program = root / "bin" / "bench_true";
  std::fprintf(stderr, "bench_spawn: nobody cannot reach %s, %s or %s: the cases as nobody run copies in %s\n",
               self.c_str(), kProgram.c_str(), kKeeper.c_str(), dir);
}

void find_nobody_files(NobodyFiles& files) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    files.error = "readlink /proc/self/exe: " + ec.message();
  } else if (others_may_run(self) && others_may_run(kProgram) && others_may_run(kKeeper)) {
    files.exe = self;
    files.program = kProgram;
  } else {
    copy_for_nobody(files, self);
  }
}

const NobodyFiles& nobody_files() {
  static NobodyFiles files;
  static const bool found = (find_nobody_files(files), true);
  (void)found;
  return files;
}

struct HelperRun {
  double seconds = 0;
  std::string label, error;
};

// Forks a child that becomes nobody (setgroups, setresgid, setresuid, as `setpriv --reuid=65534
// --regid=65534 --clear-groups`) and execs the helper; the exec makes it an ordinary process of
// that user (dumpable, its /proc files its own), as a student's shell would start the grader.
HelperRun run_as_nobody(const std::string& mode, long n) {
  const NobodyFiles& files = nobody_files();
  if (!files.error.empty()) return {0, "", files.error};
  const std::string count = std::to_string(n);
  std::vector<const char*> argv = {files.exe.c_str(), kHelperFlag, mode.c_str(), files.program.c_str(),
                                   count.c_str(), nullptr};
  const char* env[] = {"PATH=/usr/bin:/bin", "TMPDIR=/tmp", "LANG=C", nullptr};
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {0, "", std::string("pipe: ") + std::strerror(errno)};
  const gid_t no_groups[1] = {};
  std::fflush(stdout);  // the child must not write our buffered table into its pipe
  const pid_t pid = ::fork();
  if (pid == 0) {
    const bool dropped = ::dup2(out[1], 1) == 1 && ::chdir("/") == 0 && ::setgroups(0, no_groups) == 0 &&
                         ::setresgid(kNobody, kNobody, kNobody) == 0 && ::setresuid(kNobody, kNobody, kNobody) == 0;
    if (dropped) ::execve(argv[0], const_cast<char* const*>(argv.data()), const_cast<char* const*>(env));
    ::dprintf(1, "error %s: %s\n", dropped ? "exec the helper" : "drop to nobody", std::strerror(errno));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = ::read(out[0], buffer, sizeof buffer)) != 0;)
    if (got > 0) text.append(buffer, static_cast<size_t>(got));
    else if (errno != EINTR) break;
  ::close(out[0]);
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  HelperRun run;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("label ", 0) == 0) run.label = line.substr(6);
    else if (line.rfind("seconds ", 0) == 0) run.seconds = std::strtod(line.c_str() + 8, nullptr);
    else if (line.rfind("error ", 0) == 0) run.error = "as nobody: " + line.substr(6);
  }
  // A signal most likely came from another process of the same uid: whatever else runs as nobody
  // may signal it (a submission run as nobody in reduced isolation can kill(-1, SIGKILL)).
  if (run.error.empty() && (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || run.label.empty()))
    run.error = pid < 0               ? std::string("fork: ") + std::strerror(errno)
                : WIFSIGNALED(status) ? fmt::format("the helper run as nobody was killed by signal {}", WTERMSIG(status))
                                      : "the helper run as nobody failed: " + text;
  return run;
}

// One repetition: the helper times as many spawns as Google Benchmark asks for; each iteration
// is given the mean of them (manual time), so the row is what nobody measured.
void as_nobody(benchmark::State& state, const std::string& mode) {
  if (::geteuid() != 0) return state.SkipWithError("run bench_spawn as root: the case drops to nobody");
  const long n = static_cast<long>(state.max_iterations);
  const HelperRun run = run_as_nobody(mode, n);
  if (!run.error.empty()) return state.SkipWithError(run.error.c_str());
  state.SetLabel(run.label);
  for (auto _ : state) state.SetIterationTime(run.seconds / static_cast<double>(n));
}

void NobodyPlainForkExec(benchmark::State& state) { as_nobody(state, "fork_exec"); }
void NobodyInExistingCell(benchmark::State& state) { as_nobody(state, "cell"); }
void NobodyCellCreateRunTeardown(benchmark::State& state) {
  as_nobody(state, state.range(0) == 1 ? "cell_prepared" : "cell_cold");
}
// The same cells at `full (user namespace)`: nobody has a subordinate range while the case runs.
void as_nobody_with_role_uids(benchmark::State& state, const std::string& mode) {
  if (::geteuid() != 0) return state.SkipWithError("run bench_spawn as root: the case drops to nobody");
  if (!exists("/usr/bin/newuidmap")) return state.SkipWithError("newuidmap is not installed (apt install uidmap)");
  const ipcg::testing::SubordinateIds ids;
  if (!ids.ok()) return state.SkipWithError("could not add nobody's range to /etc/subuid and /etc/subgid");
  as_nobody(state, mode);
}
void NobodyRoleUidsInExistingCell(benchmark::State& state) { as_nobody_with_role_uids(state, "role_cell"); }
void NobodyRoleUidsCellCreateRunTeardown(benchmark::State& state) {
  as_nobody_with_role_uids(state, state.range(0) == 1 ? "role_cell_prepared" : "role_cell_cold");
}
void NobodyBwrap(benchmark::State& state) {
  if (!exists("/usr/bin/bwrap")) return state.SkipWithError("bwrap is not installed (apt install bubblewrap)");
  as_nobody(state, "bwrap");
}

void configure(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.5);
}
void configure_nobody(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.5);
}

BENCHMARK(PlainForkExec)->Apply(configure);
BENCHMARK(SandboxedInExistingCell)->Arg(1)->Arg(0)->ArgName("full")->Apply(configure);
BENCHMARK(CellCreateRunTeardown)
    ->Args({1, 0})->Args({1, 1})->Args({0, 0})->Args({0, 1})->ArgNames({"full", "prepared"})->Apply(configure);
BENCHMARK(Bwrap)->Apply(configure);
BENCHMARK(Unshare)->Apply(configure);
BENCHMARK(NobodyPlainForkExec)->Apply(configure_nobody);
BENCHMARK(NobodyInExistingCell)->Apply(configure_nobody);
BENCHMARK(NobodyCellCreateRunTeardown)->Arg(0)->Arg(1)->ArgName("prepared")->Apply(configure_nobody);
BENCHMARK(NobodyRoleUidsInExistingCell)->Apply(configure_nobody);
BENCHMARK(NobodyRoleUidsCellCreateRunTeardown)->Arg(0)->Arg(1)->ArgName("prepared")->Apply(configure_nobody);
BENCHMARK(NobodyBwrap)->Apply(configure_nobody);
// Collects the medians for the ratio table, and prints as usual.
class MedianCollector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs)
      if (run.aggregate_name == "median" && !run.error_occurred)
        medians[run.run_name.function_name + (run.run_name.args.empty() ? "" : "/" + run.run_name.args)] =
            run.GetAdjustedRealTime();  // in the benchmark's unit (ms)
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> medians;
};

void print_ratio(const MedianCollector& c, const std::string& what, const std::string& num, const std::string& den,
                 double target_max, const char* target_text) {
  auto n = c.medians.find(num), d = c.medians.find(den);
  if (n == c.medians.end() || d == c.medians.end()) {
    std::printf("  %-58s  n/a (%s or %s did not run)\n", what.c_str(), num.c_str(), den.c_str());
    return;
  }
  const double ratio = n->second / d->second;
  std::printf("  %-58s %5.2fx  (%.2f / %.2f ms)  target %s: %s\n", what.c_str(), ratio, n->second, d->second,
              target_text, ratio <= target_max ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == kHelperFlag) return helper_main(argv[2], argv[3], std::atol(argv[4]));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  MedianCollector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nRatios of medians (same run, same machine, program %s):\n", kProgram.c_str());
  print_ratio(reporter, "process in an existing cell (full) / plain fork+exec",
              "SandboxedInExistingCell/full:1", "PlainForkExec", 1.5, "<= 1.5x");
  print_ratio(reporter, "process in an existing cell (reduced) / plain fork+exec",
              "SandboxedInExistingCell/full:0", "PlainForkExec", 1.5, "<= 1.5x");
  print_ratio(reporter, "whole cell, prepared (full) / bwrap --unshare-all",
              "CellCreateRunTeardown/full:1/prepared:1", "Bwrap", 0.5, "<= 0.5x");
  print_ratio(reporter, "whole cell, cold (full) / bwrap --unshare-all",
              "CellCreateRunTeardown/full:1/prepared:0", "Bwrap", 0.5, "<= 0.5x");
  print_ratio(reporter, "whole cell, cold (full) / unshare --ipc --net --mount --pid --fork",
              "CellCreateRunTeardown/full:1/prepared:0", "Unshare", 1e9, "(none)");
  std::printf("As nobody (uid 65534; a cell in a user namespace without role uids, bwrap unprivileged):\n");
  print_ratio(reporter, "process in an existing cell (user ns) / plain fork+exec",
              "NobodyInExistingCell", "PlainForkExec", 1.5, "<= 1.5x");
  print_ratio(reporter, "process in an existing cell (user ns) / (full, root)",
              "NobodyInExistingCell", "SandboxedInExistingCell/full:1", 1e9, "(none)");
  print_ratio(reporter, "whole cell, prepared (user ns) / bwrap as nobody",
              "NobodyCellCreateRunTeardown/prepared:1", "NobodyBwrap", 0.5, "<= 0.5x");
  print_ratio(reporter, "whole cell, cold (user ns) / bwrap as nobody",
              "NobodyCellCreateRunTeardown/prepared:0", "NobodyBwrap", 0.5, "<= 0.5x");
  print_ratio(reporter, "whole cell, cold (user ns) / whole cell, cold (full, root)",
              "NobodyCellCreateRunTeardown/prepared:0", "CellCreateRunTeardown/full:1/prepared:0", 1e9, "(none)");
  std::printf("As nobody with subordinate ids (full (user namespace): a uid per role, mapped by newuidmap):\n");
  print_ratio(reporter, "process in an existing cell (role uids) / (user ns, one uid)",
              "NobodyRoleUidsInExistingCell", "NobodyInExistingCell", 1e9, "(none)");
  print_ratio(reporter, "whole cell, prepared (role uids) / bwrap as nobody",
              "NobodyRoleUidsCellCreateRunTeardown/prepared:1", "NobodyBwrap", 0.5, "<= 0.5x");
  print_ratio(reporter, "whole cell, cold (role uids) / (user ns, one uid)",
              "NobodyRoleUidsCellCreateRunTeardown/prepared:0", "NobodyCellCreateRunTeardown/prepared:0", 1e9, "(none)");
  print_ratio(reporter, "whole cell, cold (role uids) / whole cell, cold (full, root)",
              "NobodyRoleUidsCellCreateRunTeardown/prepared:0", "CellCreateRunTeardown/full:1/prepared:0", 1e9, "(none)");
  print_ratio(reporter, "bwrap as nobody / bwrap as root", "NobodyBwrap", "Bwrap", 1e9, "(none)");
  print_ratio(reporter, "plain fork+exec as nobody / as root", "NobodyPlainForkExec", "PlainForkExec", 1e9, "(none)");
  benchmark::Shutdown();
  return 0;
}
