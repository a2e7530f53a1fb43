// How often each buggy sample of a lab is caught, per schedule mode: for every sample of
// tests/submissions/<lab>/ and every test its expect.toml declares failing, `grader run <lab>
// --only TEST --seed S --schedule MODE --confirm 0` over seeds 1..N; prints the detection rate and
// the median duration of a detecting run (time to detection, the test's own time, build excluded).
// The default mode and budget of a lab are chosen from this table (docs/performance.md).
// Run by hand: build/bin/bench_lab_detection LAB [seeds] [modes, comma-separated] [sample]. Not
// part of ctest: a hundred seeds of a dozen samples take the better part of an hour.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The grader's JSON report of one run (null when there is none).
nlohmann::json grade(const std::vector<std::string>& args) {
  const std::string out_file = "/tmp/ipcg-bench-detect-" + std::to_string(::getpid()) + ".json";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::string> all{IPCG_GRADER};
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
        int caught = 0, runs = 0;
        std::vector<double> times;
        for (int seed = 1; seed <= seeds; ++seed) {
          const auto report = grade({"run", lab, "--submission", dir.string(), "--only", test, "--seed",
                                     std::to_string(seed), "--schedule", mode, "--confirm", "0", "--format", "json"});
          if (!report.is_object() || report["tests"].empty()) continue;
          ++runs;
          const auto& t = report["tests"][0];
          if (t.value("status", "") == "passed") continue;
          ++caught;
          times.push_back(t.value("duration_seconds", 0.0));
        }
        std::sort(times.begin(), times.end());
        std::printf("%-28s %-40s %-7s %4d/%-4d %12.3f\n", sample.c_str(), test.c_str(), mode.c_str(), caught, runs,
                    times.empty() ? 0.0 : times[times.size() / 2]);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
