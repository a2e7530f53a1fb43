// Stress runs, outside the default suite (cmake -DIPCG_STRESS_TESTS=ON; ctest -L stress):
//   - the reference of a lab gets full marks for seeds 1..IPCG_STRESS_SEEDS (default 100);
//   - every sample submission of the lab, graded IPCG_STRESS_RUNS times (default 20) with one
//     seed, gets one verdict: the same tests fail with the same scores in every run.
// IPCG_STRESS_LOAD=1 keeps every CPU busy with spinning processes for the whole run, so that a
// verdict that leans on the scheduler shows up. IPCG_STRESS_LAB picks the lab (default lab1).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::kSource;
using ipcg::testing::run_grader;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string lab() {
  const char* v = std::getenv("IPCG_STRESS_LAB");
  return v && *v ? v : "lab1";
}

// Spinning children, one per CPU, for the life of the test program when IPCG_STRESS_LOAD=1.
class Load : public ::testing::Environment {
 public:
  void SetUp() override {
    if (env_int("IPCG_STRESS_LOAD", 0) == 0) return;
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < cpus; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        for (;;) asm volatile("" ::: "memory");  // spin without being optimized away
      }
      if (pid > 0) spinners_.push_back(pid);
    }
  }
  void TearDown() override {
    for (pid_t pid : spinners_) ::kill(pid, SIGKILL);
    for (pid_t pid : spinners_) ::waitpid(pid, nullptr, 0);
  }

 private:
  std::vector<pid_t> spinners_;
};
const auto* const load = ::testing::AddGlobalTestEnvironment(new Load);

nlohmann::json grade(const std::string& submission, int seed) {
  const auto run = run_grader({"run", lab(), "--submission", submission, "--format", "json", "--seed",
                               std::to_string(seed), "--show-hidden"});
  EXPECT_TRUE(run.exit_code == 0 || run.exit_code == 1)
      << submission << " seed " << seed << ": exit code " << run.exit_code << "\n" << run.err << run.out.substr(0, 2000);
  return nlohmann::json::parse(run.out, nullptr, false);
}

// One line per test that did not pass: name, status, score.
std::string verdict(const nlohmann::json& report) {
  if (report.is_discarded()) return "unreadable report";
  std::string text;
  for (const auto& t : report["tests"])
    if (t["status"] != "passed")
      text += t["name"].get<std::string>() + " " + t["status"].get<std::string>() + " " + t["score"].dump() + "\n";
  return text.empty() ? "all passed\n" : text;
}

std::string reference_dir() {
  for (const auto& entry : fs::directory_iterator(kSource + "/reference"))
    if (entry.path().filename().string().starts_with(lab() + "-")) return entry.path().string();
  return "";
}

TEST(Stress, ReferenceGetsFullMarksForEverySeed) {
  const std::string reference = reference_dir();
  ASSERT_FALSE(reference.empty()) << "no reference for " << lab();
  const int seeds = env_int("IPCG_STRESS_SEEDS", 100);
  for (int seed = 1; seed <= seeds; ++seed) {
    const auto report = grade(reference, seed);
    ASSERT_FALSE(report.is_discarded()) << "seed " << seed;
    EXPECT_EQ(report["score"], report["max_score"]) << "seed " << seed << ":\n" << verdict(report);
  }
}

class SameVerdict : public ::testing::TestWithParam<std::string> {};

TEST_P(SameVerdict, EveryRunWithOneSeedGivesOneVerdict) {
  const int runs = env_int("IPCG_STRESS_RUNS", 20);
  std::map<std::string, int> seen;  // verdict -> how many runs gave it
  for (int i = 0; i < runs; ++i) ++seen[verdict(grade(GetParam(), 1))];
  if (seen.size() == 1) return;
  std::string all;
  for (const auto& [v, n] : seen) all += "in " + std::to_string(n) + " runs:\n" + v;
  ADD_FAILURE() << seen.size() << " different verdicts in " << runs << " runs with seed 1:\n" << all;
}

std::vector<std::string> samples() {
  std::vector<std::string> dirs;
  const fs::path root = kSource + "/tests/submissions/" + lab();
  if (fs::exists(root))
    for (const auto& entry : fs::directory_iterator(root))
      if (entry.is_directory() && entry.path().filename() != "fork_bomb" && entry.path().filename() != "loops_forever")
        dirs.push_back(entry.path().string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

INSTANTIATE_TEST_SUITE_P(Samples, SameVerdict, ::testing::ValuesIn(samples()),
                         [](const auto& info) { return fs::path(info.param).filename().string(); });

}  // namespace
