// `grader diff`'s logic on hand-made results.jsonl rows: what counts as changed, the order, the
// totals, rows on one side only, error rows, the three reasons; then the folder side: strict
// reading (file and line of a bad line) and --apply's archive, replacement and regrade.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "batch/regrade.hpp"
#include "batch/regrade_apply.hpp"

namespace fs = std::filesystem;
using namespace ipcg;
using Json = nlohmann::ordered_json;

namespace {

// A graded row: tests "a" (max 10) and "b" (max 5) with the given scores; full points pass.
ResultRow graded(const std::string& name, double a, double b, const std::string& spec = "s1",
                 const std::string& version = "1.0") {
  Json tests = Json::array({{{"name", "a"}, {"status", a == 10 ? "passed" : "failed"}, {"score", a}, {"max_score", 10}},
                            {{"name", "b"}, {"status", b == 5 ? "passed" : "timeout"}, {"score", b}, {"max_score", 5}}});
  Json doc = {{"submission", name}, {"score", a + b}, {"max_score", 15}, {"spec_hash", spec},
              {"grader_version", version}, {"tests", tests}};
  return *parse_row(doc.dump());
}

ResultRow error_row(const std::string& name) {
  return *parse_row(error_line(name, "could not copy the submission", "lab1", "s1", "1.0"));
}

TEST(RegradeDiff, ListsOnlyChangedScoresLargestFirstTiesByName) {
  const std::vector<ResultRow> before = {graded("amy", 10, 5), graded("bob", 0, 5), graded("cat", 10, 0),
                                         graded("dan", 10, 5), graded("eve", 10, 0)};
  const std::vector<ResultRow> after = {graded("amy", 10, 5), graded("bob", 10, 5), graded("cat", 10, 5),
                                        graded("dan", 0, 5), graded("eve", 10, 5)};
  const RegradeDiff diff = diff_results(before, after);
  ASSERT_EQ(diff.changed.size(), 4u);
  EXPECT_EQ(diff.changed[0].submission, "bob");  // +10
  EXPECT_EQ(diff.changed[1].submission, "dan");  // -10, after bob by name
  EXPECT_EQ(diff.changed[2].submission, "cat");  // +5
  EXPECT_EQ(diff.changed[3].submission, "eve");  // +5
  EXPECT_EQ(diff.up, 3);
  EXPECT_EQ(diff.down, 1);
  EXPECT_EQ(diff.equal, 1);
  EXPECT_DOUBLE_EQ(diff.changed[1].old_score, 15);
  EXPECT_DOUBLE_EQ(diff.changed[1].new_score, 5);
}

TEST(RegradeDiff, SaysWhichTestsChangedStatusAndPoints) {
  const RegradeDiff diff = diff_results({graded("amy", 10, 0)}, {graded("amy", 10, 5)});
  ASSERT_EQ(diff.changed.size(), 1u);
  ASSERT_EQ(diff.changed[0].tests.size(), 1u);  // "a" did not change
  const TestChange& t = diff.changed[0].tests[0];
  EXPECT_EQ(t.name, "b");
  EXPECT_EQ(t.old_status, "timeout");
  EXPECT_EQ(t.new_status, "passed");
  EXPECT_DOUBLE_EQ(t.old_score, 0);
  EXPECT_DOUBLE_EQ(t.new_score, 5);
  EXPECT_NE(regrade_text(diff).find("b: timeout 0/5 -> passed 5/5"), std::string::npos) << regrade_text(diff);
}

TEST(RegradeDiff, GivesTheReasonFromSpecHashAndGraderVersion) {
  const RegradeDiff diff = diff_results(
      {graded("a1", 0, 5, "s1", "1.0"), graded("a2", 0, 5, "s1", "1.0"), graded("a3", 0, 5, "s1", "1.0"),
       graded("a4", 0, 5, "s1", "1.0")},
      {graded("a1", 10, 5, "s2", "1.0"), graded("a2", 10, 5, "s1", "1.1"), graded("a3", 10, 5, "s1", "1.0"),
       graded("a4", 10, 5, "s2", "1.1")});
  ASSERT_EQ(diff.changed.size(), 4u);
  EXPECT_EQ(diff.changed[0].reason(), "spec changed");
  EXPECT_EQ(diff.changed[1].reason(), "grader changed");
  EXPECT_EQ(diff.changed[2].reason(), "same spec and grader: a flaky test?");
  EXPECT_EQ(diff.changed[3].reason(), "spec and grader changed");
  EXPECT_EQ(diff.old_origin.spec_hash, "s1");
  EXPECT_EQ(diff.new_origin.spec_hash, "mixed");
}

TEST(RegradeDiff, NewDroppedAndErrorRowsAreListedApartNeverCounted) {
  const RegradeDiff diff = diff_results({graded("gone", 10, 5), error_row("oops"), graded("was_ok", 10, 5)},
                                        {graded("fresh", 0, 5), graded("oops", 10, 5), error_row("was_ok")});
  EXPECT_TRUE(diff.changed.empty());
  EXPECT_EQ(diff.up + diff.down + diff.equal, 0);
  ASSERT_EQ(diff.added.size(), 1u);
  EXPECT_EQ(diff.added[0].submission, "fresh");
  ASSERT_EQ(diff.dropped.size(), 1u);
  EXPECT_EQ(diff.dropped[0].submission, "gone");
  ASSERT_EQ(diff.errors.size(), 2u);
  EXPECT_EQ(diff.errors[0].submission, "oops");
  EXPECT_EQ(diff.errors[0].old_status, "error: could not copy the submission");
  EXPECT_EQ(diff.errors[0].new_status, "15/15");
  EXPECT_EQ(diff.errors[1].new_status, "error: could not copy the submission");
  const Json doc = regrade_json(diff);
  EXPECT_EQ(doc["added"][0]["submission"], "fresh");
  EXPECT_EQ(doc["dropped"][0]["submission"], "gone");
  EXPECT_EQ(doc["errors"].size(), 2u);
  const std::string text = regrade_text(diff);
  EXPECT_NE(text.find("0 changed (0 up, 0 down), 0 equal; 1 new, 1 dropped, 2 with errors"), std::string::npos) << text;
}

class RegradeFolders : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ipcg-regrade-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    write_out("old", {graded("amy", 0, 5), graded("bob", 10, 5)}, "old csv\r\n", "old amy report");
    write_out("new", {graded("amy", 10, 5, "s2"), graded("bob", 10, 5, "s2")}, "new csv\r\n", "new amy report");
  }
  void TearDown() override { fs::remove_all(root_); }
  void write_out(const std::string& name, const std::vector<ResultRow>& rows, const std::string& csv,
                 const std::string& report) {
    fs::create_directories(root_ / name / "reports");
    std::ofstream jsonl(root_ / name / "results.jsonl");
    for (const auto& row : rows) jsonl << row.line << "\n";
    std::ofstream(root_ / name / "gradebook.csv") << csv;
    std::ofstream(root_ / name / "reports" / "amy.txt") << report;
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path root_;
};

TEST_F(RegradeFolders, AMalformedLineIsAConfigErrorNamingFileAndLine) {
  std::ofstream(root_ / "new" / "results.jsonl", std::ios::app) << "{not json\n";
  auto diff = diff_folders(root_ / "old", root_ / "new");
  ASSERT_FALSE(diff);
  EXPECT_EQ(diff.error().code, Errc::config);
  EXPECT_NE(diff.error().message.find("results.jsonl:3:"), std::string::npos) << diff.error().message;
  std::ofstream(root_ / "old" / "results.jsonl", std::ios::app) << R"({"submission":"cut)";
  auto cut = diff_folders(root_ / "old", root_ / "new");
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("results.jsonl:3: line cut off"), std::string::npos) << cut.error().message;
  auto missing = diff_folders(root_ / "nowhere", root_ / "new");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::usage);
  EXPECT_FALSE(fs::exists(root_ / "nowhere"));
}

TEST_F(RegradeFolders, ApplyKeepsTheOldResultsAndInstallsTheNewOnes) {
  const auto now = std::chrono::system_clock::from_time_t(1780000000);  // 2026-05-28T20:26:40Z
  auto applied = apply_regrade(root_ / "old", root_ / "new", now);
  ASSERT_TRUE(applied) << applied.error().message;
  const fs::path archive = root_ / "old" / "regrades" / "20260528T202640Z";
  EXPECT_EQ(applied->archive, archive);
  EXPECT_EQ(read(archive / "gradebook.csv"), "old csv\r\n");
  EXPECT_EQ(read(archive / "reports" / "amy.txt"), "old amy report");
  EXPECT_EQ(read(root_ / "old" / "gradebook.csv"), "new csv\r\n");
  EXPECT_EQ(read(root_ / "old" / "results.jsonl"), read(root_ / "new" / "results.jsonl"));
  EXPECT_EQ(read(root_ / "old" / "reports" / "amy.txt"), "new amy report");
  const auto record = Json::parse(read(root_ / "old" / "regrade.json"));
  EXPECT_EQ(record["when"], "2026-05-28T20:26:40Z");
  EXPECT_EQ(record["archive"], "regrades/20260528T202640Z");
  EXPECT_EQ(record["up"], 1);
  EXPECT_EQ(record["equal"], 1);
  EXPECT_EQ(record["changed"][0]["reason"], "spec changed");
  EXPECT_EQ(record["old"]["spec_hash"], "s1");
  for (const auto& entry : fs::directory_iterator(root_ / "old"))  // no staging leftovers
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  // A second apply in the same second gets a folder of its own and keeps regrade.json's history.
  auto again = apply_regrade(root_ / "old", root_ / "new", now);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->archive, archive.string() + "-2");
  EXPECT_TRUE(fs::exists(again->archive / "regrade.json"));
}

TEST_F(RegradeFolders, ApplyRefusesTheSameFolderTwice) {
  auto applied = apply_regrade(root_ / "old", root_ / "old" / ".", std::chrono::system_clock::now());
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, Errc::usage);
  EXPECT_FALSE(fs::exists(root_ / "old" / "regrades"));
}

}  // namespace
