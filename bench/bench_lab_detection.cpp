// How often each buggy sample of a lab is caught, per schedule mode: for every sample of
// tests/submissions/<lab>/ and every test its expect.toml declares failing, `grader stress <lab>
// --only TEST --seeds 1..N --schedule MODE` (built once, no reruns); prints the detection rate,
// the median duration of a detecting run (time to detection, the test's own time, build excluded)
// and the first seeds that missed.
// The default mode and budget of a lab are chosen from this table (docs/performance.md).
// Run by hand: build/bin/bench_lab_detection LAB [seeds] [modes, comma-separated] [sample] (the
// grader: this build's, or IPCG_BENCH_GRADER). Not
// part of ctest: a hundred seeds of a dozen samples take the better part of an hour.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The grader's JSON output of one command (null when there is none).
nlohmann::json grade(const std::vector<std::string>& args) {
  const std::string out_file = "/tmp/ipcg-bench-detect-" + std::to_string(::getpid()) + ".json";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // IPCG_BENCH_GRADER: another build's grader (a snapshot, while this tree is being edited).
    const char* other = std::getenv("IPCG_BENCH_GRADER");
    std::vector<std::string> all{other && *other ? other : IPCG_GRADER};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen(out_file.c_str(), "w", stdout) || !std::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  nlohmann::json report;
  if (std::FILE* f = std::fopen(out_file.c_str(), "r")) {
    report = nlohmann::json::parse(f, nullptr, false);
    std::fclose(f);
  }
  fs::remove(out_file);
  return report;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_lab_detection LAB [seeds=100] [modes=native,delays] [sample]\n");
    return 2;
  }
  const std::string lab = argv[1];
  const int seeds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 100;
  const auto modes = split(argc > 3 ? argv[3] : "native,delays", ',');
  const std::string only_sample = argc > 4 ? argv[4] : "";
  const fs::path samples = fs::path(IPCG_SOURCE_DIR) / "tests" / "submissions" / lab;
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(samples))
    if (entry.is_directory() && fs::exists(entry.path() / "expect.toml")) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  std::printf("%s: each sample's declared tests over seeds 1..%d (--confirm 0)\n", lab.c_str(), seeds);
  std::printf("%-28s %-40s %-7s %9s %12s\n", "sample", "test", "mode", "detected", "median s");
  for (const auto& dir : dirs) {
    const std::string sample = dir.filename().string();
    if (!only_sample.empty() && sample != only_sample) continue;
    auto expect = toml::parse_file((dir / "expect.toml").string());
    const auto* fails = expect["fails"].as_array();
    if (!fails) continue;
    for (const auto& f : *fails) {
      const std::string test = f.value_or(std::string());
      for (const auto& mode : modes) {
        const auto tally = grade({"stress", lab, "--submission", dir.string(), "--only", test, "--seeds",
                                  "1.." + std::to_string(seeds), "--schedule", mode, "--format", "json", "--quiet"});
        if (!tally.is_object() || tally["tests"].empty()) {
          std::printf("%-28s %-40s %-7s %9s\n", sample.c_str(), test.c_str(), mode.c_str(), "no report");
          continue;
        }
        const auto& t = tally["tests"][0];
        const int caught = t.value("not_passed", 0), runs = caught + t.value("passed", 0);
        std::string missed;
        if (t.value("passed", 0) > 0) {
          // The seeds that passed: every seed of the range not among the failing ones.
          std::vector<int> failing;
          for (const auto& f : t["failing_seeds"]) failing.push_back(f.get<int>());
          int shown = 0;
          for (int seed = 1; seed <= seeds && shown < 5; ++seed)
            if (std::find(failing.begin(), failing.end(), seed) == failing.end()) {
              missed += (shown ? "," : " missed ") + std::to_string(seed);
              ++shown;
            }
        }
        std::printf("%-28s %-40s %-7s %4d/%-4d %12.3f%s\n", sample.c_str(), test.c_str(), mode.c_str(), caught, runs,
                    t.value("median_fail_seconds", 0.0), missed.c_str());
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
