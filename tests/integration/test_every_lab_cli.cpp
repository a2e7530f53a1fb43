// What a TA and a CI pipeline do with any lab, run on every lab the tree has (a new lab is picked
// up from its folders, with no change to the grader): one failing test reported as JSON,
// Gradescope, JUnit and text (the writers see only the result model, so the other formats, unit
// tested in test_report_formats, follow),
// and a class graded with `grader batch --jobs 2 --reduced` (no namespaces: IPC names are
// host-wide) in which two copies of the reference graded at the same time both get full marks, so
// no two cells met on a FIFO, queue or key; each score equals what `grader run` gives alone; and
// the gradebook page is written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <toml++/toml.h>

#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::kSource;
using ipcg::testing::leftover_children;
using ipcg::testing::read_file;
using ipcg::testing::run_grader;

namespace {

struct LabUnderTest {
  std::string id;      // "lab3"
  std::string folder;  // "lab3-mq"
  fs::path sample;     // a sample that fails some tests
  std::string failing_test;
};
void PrintTo(const LabUnderTest& lab, std::ostream* os) { *os << lab.folder; }

// Every lab with a reference and at least one sample that declares a failing test.
std::vector<LabUnderTest> labs_with_a_failing_sample() {
  std::vector<LabUnderTest> labs;
  for (const auto& entry : fs::directory_iterator(kSource + "/labs")) {
    const std::string folder = entry.path().filename().string();
    if (!entry.is_directory() || !fs::exists(kSource + "/reference/" + folder)) continue;
    LabUnderTest lab{folder.substr(0, folder.find('-')), folder, {}, {}};
    const fs::path samples = kSource + "/tests/submissions/" + lab.id;
    std::vector<fs::path> dirs;
    if (fs::exists(samples))
      for (const auto& s : fs::directory_iterator(samples)) dirs.push_back(s.path());
    std::sort(dirs.begin(), dirs.end());
    // The sample that fails the fewest tests: the cheapest to grade (hangs cost their deadline).
    std::size_t fewest = SIZE_MAX;
    for (const auto& dir : dirs) {
      if (!fs::exists(dir / "expect.toml")) continue;
      auto expect = toml::parse_file((dir / "expect.toml").string());
      auto* fails = expect["fails"].as_array();
      if (!fails || fails->empty() || expect["only"] || fails->size() >= fewest) continue;
      fewest = fails->size();
      lab.sample = dir;
      lab.failing_test = fails->front().value_or(std::string());
    }
    if (!lab.failing_test.empty()) labs.push_back(lab);
  }
  std::sort(labs.begin(), labs.end(), [](const LabUnderTest& a, const LabUnderTest& b) { return a.id < b.id; });
  return labs;
}

class EveryLab : public ::testing::TestWithParam<LabUnderTest> {};

TEST_P(EveryLab, ReportsAFailedTestInTheCiFormats) {
  const LabUnderTest& lab = GetParam();
  const std::vector<std::string> base{"run", lab.id, "--submission", lab.sample.string(), "--only", lab.failing_test,
                                      "--seed", "3", "--confirm", "0", "--format"};
  auto with = [&](const std::string& format) {
    auto args = base;
    args.push_back(format);
    auto run = run_grader(args);
    EXPECT_EQ(run.exit_code, 1) << format << ": " << run.err;
    return run.out;
  };
  const auto json = nlohmann::json::parse(with("json"));
  ASSERT_EQ(json["tests"].size(), 1u);
  EXPECT_EQ(json["tests"][0]["name"], lab.failing_test);
  EXPECT_EQ(json["tests"][0]["status"] != "passed", true);
  EXPECT_FALSE(json["tests"][0].value("message", "").empty());
  const auto gradescope = nlohmann::json::parse(with("gradescope"));
  EXPECT_EQ(gradescope["tests"][0]["status"], "failed");
  EXPECT_NE(with("junit").find("failures=\"1\""), std::string::npos);
  EXPECT_NE(with("text").find(lab.failing_test), std::string::npos);
  EXPECT_TRUE(leftover_children().empty());
}

TEST_P(EveryLab, BatchInReducedIsolationKeepsConcurrentSubmissionsApart) {
  const LabUnderTest& lab = GetParam();
  const fs::path root = fs::temp_directory_path() / ("ipcg-every-lab-" + lab.id + "-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "subs");
  // Two copies of the reference, graded at the same time by the two jobs: had they shared a name,
  // one's messages would reach the other and a test would fail.
  fs::copy(kSource + "/reference/" + lab.folder, root / "subs" / "a_reference", fs::copy_options::recursive);
  fs::copy(kSource + "/reference/" + lab.folder, root / "subs" / "b_reference", fs::copy_options::recursive);
  fs::copy(lab.sample, root / "subs" / "c_buggy", fs::copy_options::recursive);
  fs::remove(root / "subs" / "c_buggy" / "expect.toml");
  auto batch = run_grader({"batch", lab.id, (root / "subs").string(), "--jobs", "2", "--reduced", "--seed", "5",
                           "--out", (root / "out").string()});
  ASSERT_EQ(batch.exit_code, 0) << batch.out << batch.err;

  std::map<std::string, nlohmann::json> results;
  std::istringstream jsonl(read_file((root / "out" / "results.jsonl").string()));
  for (std::string line; std::getline(jsonl, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    if (j.contains("submission") && j.contains("score")) results[j["submission"]] = j;
  }
  ASSERT_EQ(results.size(), 3u) << read_file((root / "out" / "results.jsonl").string());
  for (const char* ref : {"a_reference", "b_reference"}) {
    EXPECT_EQ(results[ref]["score"], results[ref]["max_score"]) << ref << ": " << results[ref].dump();
  }
  auto alone = run_grader({"run", lab.id, "--submission", (root / "subs" / "c_buggy").string(), "--reduced", "--seed",
                           "5", "--format", "json"});
  ASSERT_EQ(alone.exit_code, 1) << alone.err;
  EXPECT_EQ(results["c_buggy"]["score"], nlohmann::json::parse(alone.out)["score"]);

  auto report = run_grader({"report", (root / "out").string()});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(read_file((root / "out" / "gradebook.html").string()).find(lab.id), std::string::npos);
  EXPECT_TRUE(leftover_children().empty());
  fs::remove_all(root);
}

INSTANTIATE_TEST_SUITE_P(Labs, EveryLab, ::testing::ValuesIn(labs_with_a_failing_sample()),
                         [](const auto& info) { return info.param.id; });

}  // namespace
