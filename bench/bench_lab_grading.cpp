// What grading one submission costs, end to end, for every lab: `grader run <lab> --submission
// reference/<lab>` as a TA types it (build included), a few runs each, the median beside lab1's as
// a ratio. A lab that costs more than 2x lab1 says where its time goes (build, slowest tests).
// Run by hand: build/bin/bench_lab_grading [runs] [--reduced]. Not part of ctest.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Run {
  double wall_seconds = 0;
  nlohmann::json report;
};

// The grader's JSON report of one run, and its wall time seen from here.
Run grade(const std::string& lab, const fs::path& reference, int seed, bool reduced) {
  const std::string out_file = "/tmp/ipcg-bench-lab-" + std::to_string(::getpid()) + ".json";
  std::vector<std::string> args{IPCG_GRADER, "run", lab, "--submission", reference.string(), "--format", "json",
                                "--seed", std::to_string(seed)};
  if (reduced) args.push_back("--reduced");
  const auto start = std::chrono::steady_clock::now();
  std::fflush(nullptr);  // the child must not print our buffered lines again
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen(out_file.c_str(), "w", stdout)) ::_exit(126);
    if (!std::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Run run;
  run.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::FILE* f = std::fopen(out_file.c_str(), "r");
  if (f) {
    run.report = nlohmann::json::parse(f, nullptr, false);
    std::fclose(f);
  }
  fs::remove(out_file);
  return run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const bool reduced = argc > 2 && std::string(argv[2]) == "--reduced";
  const fs::path source = IPCG_SOURCE_DIR;
  std::vector<std::pair<std::string, fs::path>> labs;
  for (const auto& entry : fs::directory_iterator(source / "labs")) {
    const std::string folder = entry.path().filename().string();
    if (entry.is_directory() && fs::exists(source / "reference" / folder))
      labs.emplace_back(folder.substr(0, folder.find('-')), source / "reference" / folder);
  }
  std::sort(labs.begin(), labs.end());
  std::printf("grading each lab's reference end to end (build included), %d runs, median%s\n", runs,
              reduced ? ", reduced isolation" : "");
  std::printf("%-6s %9s %9s %6s %9s %s\n", "lab", "wall s", "build s", "tests", "vs lab1", "score");
  double lab1 = 0;
  for (const auto& [lab, reference] : labs) {
    std::vector<double> walls, builds;
    nlohmann::json last;
    for (int i = 0; i < runs; ++i) {
      Run r = grade(lab, reference, i + 1, reduced);
      walls.push_back(r.wall_seconds);
      if (r.report.is_object()) {
        builds.push_back(r.report["build"].value("duration_seconds", 0.0));
        last = r.report;
      }
    }
    const double wall = median(walls);
    if (lab == "lab1") lab1 = wall;
    const auto tests = last.is_object() ? last["tests"].size() : 0;
    const std::string score = last.is_object() ? std::to_string(last.value("score", 0)) + "/" +
                                                     std::to_string(last.value("max_score", 0))
                                               : "no report";
    std::printf("%-6s %9.2f %9.2f %6zu %8.2fx %s\n", lab.c_str(), wall, median(builds), tests,
                lab1 > 0 ? wall / lab1 : 0.0, score.c_str());
    if (lab1 > 0 && wall > 2 * lab1 && last.is_object()) {
      std::vector<std::pair<double, std::string>> slow;
      for (const auto& t : last["tests"]) slow.emplace_back(t.value("duration_seconds", 0.0), t.value("name", ""));
      std::sort(slow.rbegin(), slow.rend());
      std::printf("       more than 2x lab1; where the time goes: build %.2f s;", median(builds));
      for (std::size_t i = 0; i < std::min<std::size_t>(5, slow.size()); ++i)
        std::printf(" %s %.2f s%s", slow[i].second.c_str(), slow[i].first, i + 1 < std::min<std::size_t>(5, slow.size()) ? "," : "");
      std::printf("\n");
    }
  }
  return 0;
}
