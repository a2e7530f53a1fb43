// What one sandboxed process costs, next to a plain fork+exec and to other sandboxes, on the
// same machine in one run (docs/performance.md):
//
//   build/bin/bench_spawn                     # all, then the ratios against the targets
//   build/bin/bench_spawn --benchmark_filter=Cell
//
// Every case starts the same small program (bench/true.c) and waits for its exit.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/sandbox/sandbox.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

using ipcg::Sandbox;

const std::string kProgram = IPCG_BENCH_TRUE;

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

std::optional<Sandbox> make_box(bool full, benchmark::State& state, bool prepare_cells = true) {
  auto box = Sandbox::create({.syscall_sets = {"process", "file", "pipe"},
                              .allow_namespaces = full,
                              .prepare_cells = prepare_cells,
                              .readonly_paths = {kProgram}});
  if (!box) {
    state.SkipWithError(box.error().message.c_str());
    return std::nullopt;
  }
  if (full && box->isolation().level != ipcg::IsolationLevel::full) {
    state.SkipWithError(("full isolation unavailable: " + box->isolation().reason).c_str());
    return std::nullopt;
  }
  return std::optional<Sandbox>(std::move(*box));
}

bool run_to_exit(ipcg::Launcher& where, benchmark::State& state) {
  auto proc = where.spawn({.argv = {kProgram}});
  if (!proc) {
    state.SkipWithError(proc.error().message.c_str());
    return false;
  }
  pollfd p{proc->exit_fd(), POLLIN, 0};
  ::poll(&p, 1, -1);
  const auto status = proc->wait_status();
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    state.SkipWithError("the program did not exit 0");
    return false;
  }
  return true;
}

void PlainForkExec(benchmark::State& state) {
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
}

// A whole cell per process: create (namespaces, root, cgroups), run, tear down (leftover scan).
// prepared:0 makes each cell on demand (the cold path); prepared:1 is how the grader opens them:
// the next cell is made by the Sandbox's thread while the current one runs.
void CellCreateRunTeardown(benchmark::State& state) {
  auto box = make_box(state.range(0) == 1, state, state.range(1) == 1);
  if (!box) return;
  for (auto _ : state) {
    auto cell = box->open_cell();
    if (!cell) return state.SkipWithError(cell.error().message.c_str());
    if (!run_to_exit(*cell, state)) break;
    cell->close();
  }
}

void Bwrap(benchmark::State& state) {
  if (!exists("/usr/bin/bwrap")) return state.SkipWithError("bwrap is not installed (apt install bubblewrap)");
  // The program is bound at a fixed path, as our box does: the build folder may lie under /tmp,
  // which the fresh tmpfs hides.
  const std::string in_box = "/run/ipcgrade/true";
  const std::vector<std::string> argv = {"/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                                         "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
                                         "--ro-bind", kProgram, in_box, in_box};
  for (auto _ : state)
    if (fork_exec_wait(argv) != 0) return state.SkipWithError("bwrap failed");
}

void Unshare(benchmark::State& state) {
  if (!exists("/usr/bin/unshare")) return state.SkipWithError("unshare is not installed");
  const std::vector<std::string> argv = {"/usr/bin/unshare", "--ipc", "--net", "--mount", "--pid", "--fork", kProgram};
  for (auto _ : state)
    if (fork_exec_wait(argv) != 0) return state.SkipWithError("unshare failed (not root?)");
}

void configure(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.5);
}

BENCHMARK(PlainForkExec)->Apply(configure);
BENCHMARK(SandboxedInExistingCell)->Arg(1)->Arg(0)->ArgName("full")->Apply(configure);
BENCHMARK(CellCreateRunTeardown)
    ->Args({1, 0})->Args({1, 1})->Args({0, 0})->Args({0, 1})->ArgNames({"full", "prepared"})->Apply(configure);
BENCHMARK(Bwrap)->Apply(configure);
BENCHMARK(Unshare)->Apply(configure);

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
  benchmark::Shutdown();
  return 0;
}
