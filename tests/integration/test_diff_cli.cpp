// `grader diff` as a TA runs it mid-term: three lab1 samples graded (under a copy of the labs
// folder, IPCGRADE_HOME, trimmed to three tests to stay quick), the course changes one test's
// points, the class regraded into a second folder; diff lists exactly the submissions whose score changed (old and new score, "spec
// changed"), and --apply keeps the old results in a dated folder and installs the new gradebook.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::kSource;
using ipcg::testing::read_file;
using ipcg::testing::run_grader;

namespace {

constexpr const char* kChangedTest = "children_reaped";

// submission -> "score/max_score" from a gradebook.csv (header first, CRLF lines).
std::map<std::string, std::string> gradebook_scores(const std::string& csv) {
  std::map<std::string, std::string> scores;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (cells.size() >= 3) scores[cells[0]] = cells[1] + "/" + cells[2];
  }
  return scores;
}

std::string points_text(const nlohmann::json& score, const nlohmann::json& max) {
  std::ostringstream out;
  out << score.get<double>() << "/" << max.get<double>();
  return out.str();
}

class DiffCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = ipcg::testing::make_lab1_class("diff-cli", {"dup2_no_close", "waits_last_only"});
    make_home("home-old", 10);
    make_home("home-new", 14);
    old_run_ = batch("home-old", "old");
    new_run_ = batch("home-new", "new");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  // A copy of the labs holding lab1 with three of its tests (a few seconds per batch), kChangedTest
  // worth `points`; the references are shared. ref passes all three, dup2_no_close fails
  // stages_hold_only_their_ends, waits_last_only fails children_reaped.
  static void make_home(const std::string& home, int points) {
    const fs::path lab = root_ / home / "labs" / "lab1-pipe";
    fs::create_directories(lab.parent_path());
    fs::copy(kSource + "/labs/lab1-pipe", lab, fs::copy_options::recursive);
    fs::create_directory_symlink(kSource + "/reference", root_ / home / "reference");
    const std::string text = read_file((lab / "lab.toml").string());
    const std::string marker = "\n[[tests]]\n";
    std::string kept = text.substr(0, text.find(marker));
    for (auto at = text.find(marker); at != std::string::npos;) {
      const auto next = text.find(marker, at + 1);
      std::string block = text.substr(at, next == std::string::npos ? std::string::npos : next - at);
      for (const char* name : {"pipeline_two_stages", "stages_hold_only_their_ends", kChangedTest})
        if (block.find(std::string("name = \"") + name + "\"") != std::string::npos) kept += block;
      at = next;
    }
    const auto test = kept.find(std::string("name = \"") + kChangedTest + "\"");
    const auto line = kept.find("points = 10", test);
    ASSERT_NE(line, std::string::npos);
    kept.replace(line, 11, "points = " + std::to_string(points));
    std::ofstream(lab / "lab.toml") << kept;
  }
  static ipcg::testing::GraderRun batch(const std::string& home, const std::string& out) {
    return run_grader({"batch", "lab1", (root_ / "subs").string(), "--jobs", "2", "--seed", "19", "--out", dir(out)},
                      {"IPCGRADE_HOME=" + dir(home)});
  }
  static std::string dir(const std::string& name) { return (root_ / name).string(); }

  static inline fs::path root_;
  static inline ipcg::testing::GraderRun old_run_, new_run_;
};

TEST_F(DiffCli, ListsExactlyTheSubmissionsWhoseScoreChangedWithSpecChanged) {
  ASSERT_EQ(old_run_.exit_code, 0) << old_run_.out << old_run_.err;
  ASSERT_EQ(new_run_.exit_code, 0) << new_run_.out << new_run_.err;
  const auto before = gradebook_scores(read_file(dir("old") + "/gradebook.csv"));
  const auto after = gradebook_scores(read_file(dir("new") + "/gradebook.csv"));
  ASSERT_EQ(before.size(), 3u);
  std::map<std::string, std::pair<std::string, std::string>> expected;  // score changed: old, new
  for (const auto& [name, score] : before)
    if (score.substr(0, score.find('/')) != after.at(name).substr(0, after.at(name).find('/')))
      expected[name] = {score, after.at(name)};
  // Those that pass kChangedTest gained its 4 points; waits_last_only fails it and stays.
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_TRUE(expected.count("ref") && expected.count("dup2_no_close"));

  auto json_run = run_grader({"diff", dir("old"), dir("new"), "--format", "json"});
  ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
  const auto doc = nlohmann::json::parse(json_run.out);
  std::map<std::string, std::pair<std::string, std::string>> listed;
  for (const auto& c : doc["changed"]) {
    listed[c["submission"]] = {points_text(c["old_score"], c["old_max_score"]), points_text(c["new_score"], c["new_max_score"])};
    EXPECT_EQ(c["reason"], "spec changed");
    ASSERT_FALSE(c["tests"].empty());
    EXPECT_EQ(c["tests"][0]["name"], kChangedTest) << c.dump();
  }
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(doc["up"], expected.size());
  EXPECT_EQ(doc["down"], 0);
  EXPECT_EQ(doc["equal"], before.size() - expected.size());
  EXPECT_NE(doc["old"]["spec_hash"], doc["new"]["spec_hash"]);

  auto text_run = run_grader({"diff", dir("old"), dir("new")});
  ASSERT_EQ(text_run.exit_code, 0) << text_run.err;
  for (const auto& [name, scores] : expected) {
    const auto row = text_run.out.find("\n" + name + " ");
    ASSERT_NE(row, std::string::npos) << text_run.out;
    const std::string line = text_run.out.substr(row + 1, text_run.out.find('\n', row + 1) - row - 1);
    EXPECT_NE(line.find(scores.first), std::string::npos) << line;
    EXPECT_NE(line.find(scores.second), std::string::npos) << line;
    EXPECT_NE(line.find("spec changed"), std::string::npos) << line;
  }
}

TEST_F(DiffCli, ApplyKeepsTheOldResultsAndInstallsTheNewGradebook) {
  ASSERT_EQ(old_run_.exit_code, 0) << old_run_.err;
  ASSERT_EQ(new_run_.exit_code, 0) << new_run_.err;
  // A copy, so the other test's diff still sees the untouched old folder.
  fs::copy(dir("old"), dir("applied"), fs::copy_options::recursive);
  ASSERT_EQ(run_grader({"report", dir("applied")}).exit_code, 0);
  const std::string old_csv = read_file(dir("old") + "/gradebook.csv");
  auto applied = run_grader({"diff", dir("applied"), dir("new"), "--apply"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(read_file(dir("applied") + "/gradebook.csv"), read_file(dir("new") + "/gradebook.csv"));
  EXPECT_EQ(read_file(dir("applied") + "/results.jsonl"), read_file(dir("new") + "/results.jsonl"));
  std::vector<fs::path> archives;
  for (const auto& entry : fs::directory_iterator(dir("applied") + "/regrades")) archives.push_back(entry.path());
  ASSERT_EQ(archives.size(), 1u);
  EXPECT_EQ(read_file((archives[0] / "gradebook.csv").string()), old_csv);
  EXPECT_TRUE(fs::exists(archives[0] / "reports" / "ref.txt"));
  EXPECT_NE(applied.out.find(archives[0].string()), std::string::npos) << applied.out;
  const auto record = nlohmann::json::parse(read_file(dir("applied") + "/regrade.json"));
  EXPECT_EQ(record["archive"], "regrades/" + archives[0].filename().string());
  EXPECT_FALSE(record["changed"].empty());
  // The page already there is redrawn with the regrade's summary.
  const std::string page = read_file(dir("applied") + "/gradebook.html");
  EXPECT_NE(page.find("id=\"regrade\""), std::string::npos);
  EXPECT_NE(page.find("spec changed"), std::string::npos);
}

// batch --preview: the class regraded under the fixed lab.toml beside the old folder, the diff
// printed, the old folder byte for byte as it was, and the old folder's seed reused.
TEST_F(DiffCli, PreviewGradesBesideTheOldFolderAndLeavesItUntouched) {
  ASSERT_EQ(old_run_.exit_code, 0) << old_run_.err;
  std::map<std::string, std::string> before;  // every file of the old folder and its bytes
  for (const auto& entry : fs::recursive_directory_iterator(dir("old")))
    if (entry.is_regular_file()) before[entry.path().string()] = read_file(entry.path().string());
  auto preview = run_grader({"batch", "lab1", (root_ / "subs").string(), "--jobs", "2", "--out", dir("old") + "/",
                             "--preview"},
                            {"IPCGRADE_HOME=" + dir("home-new")});
  ASSERT_EQ(preview.exit_code, 0) << preview.out << preview.err;
  std::map<std::string, std::string> after;
  for (const auto& entry : fs::recursive_directory_iterator(dir("old")))
    if (entry.is_regular_file()) after[entry.path().string()] = read_file(entry.path().string());
  EXPECT_EQ(after, before) << "--preview must not write into the old folder";
  const std::string regraded = dir("old") + ".preview";
  EXPECT_EQ(read_file(regraded + "/gradebook.csv"), read_file(dir("new") + "/gradebook.csv"))
      << "the preview is the same regrade as a batch into a new folder under the same seed";
  std::istringstream rows(read_file(regraded + "/results.jsonl"));
  for (std::string line; std::getline(rows, line);) EXPECT_EQ(nlohmann::json::parse(line)["seed"], 19) << line;
  EXPECT_NE(preview.out.find("2 changed (2 up, 0 down), 1 equal"), std::string::npos) << preview.out;
  EXPECT_NE(preview.out.find("\nref "), std::string::npos) << preview.out;
  EXPECT_NE(preview.out.find("to apply: grader diff " + dir("old") + " " + regraded + " --apply"), std::string::npos)
      << preview.out;
}

TEST(DiffCliUsage, PreviewNeedsAnOutputFolderToCompareWith) {
  const fs::path root = fs::temp_directory_path() / ("ipcg-preview-usage-" + std::to_string(::getpid()));
  auto run = run_grader({"batch", "lab1", kSource + "/tests/submissions/lab1", "--out", (root / "none").string(),
                         "--preview"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("grader batch --preview: no " + (root / "none" / "results.jsonl").string()), std::string::npos)
      << run.err;
  EXPECT_FALSE(fs::exists(root)) << "nothing graded, nothing written";
}

TEST(DiffCliUsage, AMalformedResultsFileIsExit2NamingFileAndLine) {
  const fs::path root = fs::temp_directory_path() / ("ipcg-diff-usage-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  std::ofstream(root / "a" / "results.jsonl") << R"({"submission":"amy","score":1,"max_score":2})" << "\n";
  std::ofstream(root / "b" / "results.jsonl") << R"({"submission":"amy","score":2,"max_score":2})" << "\n[1,2]\n";
  auto bad = run_grader({"diff", (root / "a").string(), (root / "b").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find((root / "b" / "results.jsonl").string() + ":2:"), std::string::npos) << bad.err;
  auto missing = run_grader({"diff", (root / "a").string(), (root / "none").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("not a batch output folder"), std::string::npos) << missing.err;
  EXPECT_EQ(run_grader({"diff", (root / "a").string()}).exit_code, 2);
  fs::remove_all(root);
}

}  // namespace
