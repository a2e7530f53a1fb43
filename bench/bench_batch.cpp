// What a batch of a lab's sample submissions costs before and after issue 16 (hangs ended at once,
// wall limits from the reference's own run, the reference built once), in one run: `grader batch
// LAB tests/submissions/LAB --jobs 2` with `--full-limits --no-build-cache` (every test waits for
// its lab.toml wall limit, the reference built per submission: what grading cost before) and
// without, under one seed; the wall times, their ratio, and every submission's scores and
// per-test statuses compared (a `timeout` that became `hung` is the same verdict, renamed), and
// where each batch's job time went.
// Run by hand: build/bin/bench_batch [lab ...] (default: every lab with samples). Not part of ctest.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* kSeed = "16016";

double run_batch(const std::string& lab, const fs::path& out, bool before) {
  std::vector<std::string> args{IPCG_GRADER, "batch", lab, (fs::path(IPCG_SOURCE_DIR) / "tests/submissions" / lab).string(),
                                "--jobs", "2", "--seed", kSeed, "--out", out.string()};
  if (before) args.insert(args.end(), {"--full-limits", "--no-build-cache"});
  fs::remove_all(out);
  const auto start = std::chrono::steady_clock::now();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// submission -> "score | test=status ..." with hung read as timeout.
std::map<std::string, std::string> verdicts(const fs::path& out) {
  std::map<std::string, std::string> by_submission;
  std::ifstream in(out / "results.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded()) continue;
    std::string v = std::to_string(r.value("score", 0.0)) + " |";
    for (const auto& t : r["tests"]) {
      std::string status = t.value("status", "");
      if (status == "hung") status = "timeout";
      v += " " + t.value("name", "") + "=" + status;
    }
    by_submission[fs::path(r.value("submission", "")).filename().string()] = v;
  }
  return by_submission;
}

// Where a batch's job time went (summed over its jobs, from results.jsonl): building the
// submissions, tests that ran to their limit or hung, every other test's first run, and the rest
// (the reference's build and own runs, reruns of failures, cells opened and closed).
struct Phases {
  double total = 0, builds = 0, at_limit = 0, other_tests = 0;
};

Phases phases(const fs::path& out) {
  Phases p;
  std::ifstream in(out / "results.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded()) continue;
    p.total += r.value("duration_seconds", 0.0);
    if (r.contains("build")) p.builds += r["build"].value("duration_seconds", 0.0);
    for (const auto& t : r["tests"]) {
      const std::string status = t.value("status", "");
      (status == "timeout" || status == "hung" ? p.at_limit : p.other_tests) += t.value("duration_seconds", 0.0);
    }
  }
  return p;
}

void print_phases(const char* which, const Phases& p) {
  std::printf("    %-6s job time %6.1f s: submission builds %5.1f, tests at their limit or hung %6.1f, other tests %5.1f, "
              "the rest (reference build and runs, reruns) %5.1f\n",
              which, p.total, p.builds, p.at_limit, p.other_tests, p.total - p.builds - p.at_limit - p.other_tests);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> labs(argv + 1, argv + argc);
  if (labs.empty())
    for (const auto& e : fs::directory_iterator(fs::path(IPCG_SOURCE_DIR) / "tests/submissions"))
      if (e.is_directory()) labs.push_back(e.path().filename().string());
  std::sort(labs.begin(), labs.end());
  const fs::path tmp = fs::temp_directory_path() / ("ipcg-bench-batch-" + std::to_string(::getpid()));
  int differences = 0;
  std::printf("%-6s %11s %9s %9s %7s  %s\n", "lab", "submissions", "before s", "after s", "ratio", "verdicts");
  for (const auto& lab : labs) {
    const double before = run_batch(lab, tmp / "before", true);
    const double after = run_batch(lab, tmp / "after", false);
    const auto a = verdicts(tmp / "before"), b = verdicts(tmp / "after");
    int changed = 0;
    for (const auto& [name, v] : a) {
      const auto it = b.find(name);
      if (it == b.end() || it->second != v) {
        ++changed;
        std::printf("  %s %s:\n    before %s\n    after  %s\n", lab.c_str(), name.c_str(), v.c_str(),
                    it == b.end() ? "(missing)" : it->second.c_str());
      }
    }
    differences += changed;
    std::printf("%-6s %11zu %9.1f %9.1f %6.2fx  %s\n", lab.c_str(), a.size(), before, after, before / after,
                changed == 0 ? "the same" : (std::to_string(changed) + " differ").c_str());
    print_phases("before", phases(tmp / "before"));
    print_phases("after", phases(tmp / "after"));
    std::fflush(stdout);
  }
  fs::remove_all(tmp);
  return differences == 0 ? 0 : 1;
}
