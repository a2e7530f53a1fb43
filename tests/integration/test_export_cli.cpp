// `grader export` as a TA runs it after a batch: lab1's reference and a sample graded by the real
// grader, a hand-written roster (one student never submitted), exported for Canvas and Moodle;
// every exported score is gradebook.csv's, the absent student's cell is empty and named on
// stderr. The usage errors need no grading: a results.jsonl written here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "export/csv.hpp"
#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::read_file;
using ipcg::testing::run_grader;

namespace {

// first column's value -> the named column's value, for every row of a CSV file.
std::map<std::string, std::string> column(const std::string& path, const std::string& key, const std::string& name) {
  auto records = ipcg::lms::csv::parse(read_file(path), path);
  EXPECT_TRUE(records && !records->empty()) << path;
  std::map<std::string, std::string> values;
  if (!records || records->empty()) return values;
  const auto& header = (*records)[0].fields;
  const auto k = std::find(header.begin(), header.end(), key) - header.begin();
  const auto n = std::find(header.begin(), header.end(), name) - header.begin();
  EXPECT_LT(static_cast<std::size_t>(n), header.size()) << name << " not in " << path;
  for (std::size_t r = 1; r < records->size(); ++r) {
    const auto& f = (*records)[r].fields;
    if (static_cast<std::size_t>(std::max(k, n)) < f.size()) values[f[k]] = f[n];
  }
  return values;
}

TEST(ExportCli, CanvasAndMoodleFilesCarryGradebookCsvScores) {
  const fs::path root = ipcg::testing::make_lab1_class("export-cli", {"dup2_no_close"});
  const std::string out = (root / "grades").string();
  auto batch = run_grader({"batch", "lab1", (root / "subs").string(), "--jobs", "2", "--seed", "7", "--out", out});
  ASSERT_EQ(batch.exit_code, 0) << batch.out << batch.err;
  std::ofstream(root / "roster.csv") << "id,name,login,email,sis_user_id,section,lms_id\r\n"
                                     << "ref,Ré Ference,rference,ref@uni.example,S1,A,101\r\n"
                                     << "dup2_no_close,\"Dup, \"\"Two\"\"\",dtwo,dup@uni.example,S2,A,102\r\n"
                                     << "ghost,Gho St,gst,ghost@uni.example,S3,A,103\r\n";
  const auto gradebook = column(out + "/gradebook.csv", "submission", "score");
  ASSERT_EQ(gradebook.size(), 2u);
  const std::map<std::string, std::string> lms_id = {{"ref", "101"}, {"dup2_no_close", "102"}};

  auto canvas = run_grader({"export", out, "--to", "canvas", "--roster", (root / "roster.csv").string(), "--column",
                            "Lab 1 (4242)"});
  ASSERT_EQ(canvas.exit_code, 0) << canvas.err;
  EXPECT_NE(canvas.out.find("canvas-grades.csv (3 students"), std::string::npos) << canvas.out;
  EXPECT_NE(canvas.err.find("have no result (their cell is left empty, not 0): ghost"), std::string::npos)
      << canvas.err;
  const auto canvas_scores = column(out + "/canvas-grades.csv", "ID", "Lab 1 (4242)");
  for (const auto& [id, score] : gradebook) EXPECT_EQ(canvas_scores.at(lms_id.at(id)), score) << id;
  EXPECT_EQ(canvas_scores.at("103"), "");

  const std::string moodle_file = (root / "moodle upload.csv").string();
  auto moodle = run_grader({"export", out, "--to", "moodle", "--roster", (root / "roster.csv").string(), "--feedback",
                            "--out", moodle_file});
  ASSERT_EQ(moodle.exit_code, 0) << moodle.err;
  const auto moodle_scores = column(moodle_file, "Identifier", "Grade");
  for (const auto& [id, score] : gradebook) EXPECT_EQ(moodle_scores.at("Participant " + lms_id.at(id)), score) << id;
  EXPECT_EQ(moodle_scores.at("Participant 103"), "");
  const auto feedback = column(moodle_file, "Identifier", "Feedback comments");
  EXPECT_EQ(feedback.at("Participant 101").rfind("<pre>", 0), 0u);
  EXPECT_NE(feedback.at("Participant 101").find("points"), std::string::npos) << feedback.at("Participant 101");
  fs::remove_all(root);
}

TEST(ExportCliUsage, RefusalsAreExit2WithTheReason) {
  const fs::path root = fs::temp_directory_path() / ("ipcg-export-usage-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "grades");
  std::ofstream(root / "grades" / "results.jsonl") << R"({"submission":"amy","lab":"lab1","score":1,"max_score":2})"
                                                   << "\n";
  std::ofstream(root / "bad.csv") << "id,name\r\namy,Amy\r\n";
  const std::string grades = (root / "grades").string();
  auto feedback = run_grader({"export", grades, "--to", "canvas", "--feedback"});
  EXPECT_EQ(feedback.exit_code, 2);
  EXPECT_NE(feedback.err.find("no comment column"), std::string::npos) << feedback.err;
  auto roster = run_grader({"export", grades, "--to", "csv", "--roster", (root / "bad.csv").string()});
  EXPECT_EQ(roster.exit_code, 2);
  EXPECT_NE(roster.err.find((root / "bad.csv").string() + ":1: the header must be"), std::string::npos) << roster.err;
  auto missing = run_grader({"export", (root / "none").string(), "--to", "csv"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("not a batch output folder"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(root / "grades" / "csv-grades.csv")) << "nothing written on a refusal";
  auto plain = run_grader({"export", grades, "--to", "csv"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(read_file(grades + "/csv-grades.csv"), "id,name,score,max_score\r\namy,amy,1,2\r\n");
  fs::remove_all(root);
}

}  // namespace
