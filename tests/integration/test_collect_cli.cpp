// `grader collect`, `grader batch`, then `grader export`, as a TA runs them on a Canvas-style and a
// Moodle-style download built here with the `zip` tool from the lab1 samples: every student gets
// a gradebook row, the one who submitted nothing with the reason, the one who used another name
// graded, and the files for the LMS carry gradebook.csv's scores (no score: an empty cell).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "export/csv.hpp"
#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::kSource;
using ipcg::testing::read_file;
using ipcg::testing::run_grader;

extern char** environ;

namespace {

// Runs a tool in `dir` and returns its exit status.
int run_in(const fs::path& dir, std::vector<std::string> argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void put(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}
std::string sample(const std::string& name) { return read_file(kSource + "/tests/submissions/lab1/" + name + "/pipeline.c"); }
std::string reference() { return read_file(kSource + "/reference/lab1-pipe/pipeline.c"); }

// gradebook.csv's rows by submission: the whole line.
std::map<std::string, std::string> rows_of(const std::string& csv) {
  std::map<std::string, std::string> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) rows[line.substr(0, line.find(','))] = line;
  return rows;
}

std::vector<std::string> roster_ids(const std::string& csv) {
  std::vector<std::string> ids;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) ids.push_back(line.substr(0, line.find(',')));
  return ids;
}

class CollectCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("ipcg collect cli " + std::to_string(::getpid()));  // a space on purpose
    fs::remove_all(root_);
    // Canvas: flat, lastfirst[_LATE]_<user id>_<submission id>_<name>[-N].
    const fs::path canvas = root_ / "canvas";
    put(canvas / "doejane_1001_5001_pipeline.c", reference());
    put(canvas / "roebob_LATE_1002_5002_pipeline.c", "this old version does not compile\n");
    put(canvas / "roebob_LATE_1002_5002_pipeline-1.c", sample("correct_alt"));
    put(canvas / "smithann_1003_5003_pipe.c", sample("dup2_no_close"));
    put(canvas / "leekim_1004_5004_answers.txt", "I ran out of time\n");
    put(root_ / "inner" / "lab1" / "pipeline.c", sample("waits_last_only"));
    ASSERT_EQ(run_in(root_ / "inner", {"zip", "-q", "-r", (canvas / "parkmin_1005_5005_lab1.zip").string(), "lab1"}), 0);
    ASSERT_EQ(run_in(canvas, {"zip", "-q", "-r", (root_ / "canvas.zip").string(), "."}), 0);
    // Moodle: one folder per participant, "Full Name_<participant id>_assignsubmission_<plugin>_".
    const fs::path moodle = root_ / "moodle";
    put(moodle / "Jane Doe_201_assignsubmission_file_" / "pipeline.c", reference());
    put(moodle / "Bob Roe_202_assignsubmission_file_" / "src" / "my_pipeline.c", sample("no_waitpid"));
    put(moodle / "Kim Lee_203_assignsubmission_onlinetext_" / "onlinetext.html", "<p>see attached</p>");
    ASSERT_EQ(run_in(moodle, {"zip", "-q", "-r", (root_ / "moodle.zip").string(), "."}), 0);

    canvas_collect_ = run_grader({"collect", (root_ / "canvas.zip").string(), "--lab", "lab1", "--from", "canvas",
                                  "--out", (root_ / "canvas-subs").string()});
    moodle_collect_ = run_grader({"collect", (root_ / "moodle.zip").string(), "--lab", "lab1", "--from", "moodle",
                                  "--out", (root_ / "moodle-subs").string()});
    canvas_batch_ = run_grader({"batch", "lab1", (root_ / "canvas-subs").string(), "--jobs", "2", "--seed", "7",
                                "--out", (root_ / "canvas-grades").string()});
    moodle_batch_ = run_grader({"batch", "lab1", (root_ / "moodle-subs").string(), "--jobs", "2", "--seed", "7",
                                "--out", (root_ / "moodle-grades").string()});
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  // The steps of the round trip, checked in one test: ctest runs every test in a process of its
  // own, and the downloads, collects and batches above take most of the time.
  void CanvasDownloadIsCollectedAndReported();
  void EveryCanvasStudentHasAGradebookRow();
  void EveryMoodleParticipantHasAGradebookRow();
  void CanvasImportFileCarriesTheGradebooksScores();
  void MoodleWorksheetCarriesTheGradebooksScores();

  static inline fs::path root_;
  static inline ipcg::testing::GraderRun canvas_collect_, moodle_collect_, canvas_batch_, moodle_batch_;
};

void CollectCli::CanvasDownloadIsCollectedAndReported() {
  ASSERT_EQ(canvas_collect_.exit_code, 0) << canvas_collect_.out << canvas_collect_.err;
  const std::string& out = canvas_collect_.out;
  EXPECT_NE(out.find("collected 5 students"), std::string::npos) << out;
  EXPECT_NE(out.find("4 collected, 0 partial, 1 not submitted"), std::string::npos) << out;
  EXPECT_NE(out.find("smithann_1003_5003_pipe.c taken as pipeline.c"), std::string::npos) << out;
  EXPECT_NE(out.find("unpacked parkmin_1005_5005_lab1.zip (1 files)"), std::string::npos) << out;
  EXPECT_NE(out.find("LATE"), std::string::npos) << out;
  EXPECT_EQ(read_file((root_ / "canvas-subs" / "1002" / "pipeline.c").string()), sample("correct_alt"));
  EXPECT_EQ(roster_ids(read_file((root_ / "canvas-subs" / "roster.csv").string())),
            (std::vector<std::string>{"1001", "1002", "1003", "1004", "1005"}));
}

void CollectCli::EveryCanvasStudentHasAGradebookRow() {
  ASSERT_EQ(canvas_batch_.exit_code, 0) << canvas_batch_.out << canvas_batch_.err;
  const auto rows = rows_of(read_file((root_ / "canvas-grades" / "gradebook.csv").string()));
  for (const auto& id : roster_ids(read_file((root_ / "canvas-subs" / "roster.csv").string())))
    EXPECT_TRUE(rows.count(id)) << "no gradebook row for " << id;
  ASSERT_EQ(rows.size(), 5u);
  // Nothing to grade: the reason, no score (not a zero), no compiler error.
  EXPECT_TRUE(rows.at("1004").starts_with("1004,,,")) << rows.at("1004");
  EXPECT_TRUE(rows.at("1004").ends_with(",not submitted: no pipeline.c among the files submitted (answers.txt)\r"))
      << rows.at("1004");
  EXPECT_NE(canvas_batch_.out.find("1004: not submitted"), std::string::npos) << canvas_batch_.out;
  for (const auto* id : {"1001", "1002", "1003", "1005"}) {
    EXPECT_EQ(rows.at(id).find("build_failed"), std::string::npos) << rows.at(id);
    EXPECT_EQ(rows.at(id).find("not submitted"), std::string::npos) << rows.at(id);
  }
  // The reference and the newest (correct) version pass everything; the renamed sample is graded.
  EXPECT_NE(rows.at("1001").find("passed"), std::string::npos) << rows.at("1001");
  EXPECT_EQ(rows.at("1001").find("failed"), std::string::npos) << rows.at("1001");
  EXPECT_EQ(rows.at("1002").find("failed"), std::string::npos) << rows.at("1002");
  EXPECT_NE(rows.at("1003").find("failed"), std::string::npos) << rows.at("1003");  // dup2_no_close's defect
}

void CollectCli::EveryMoodleParticipantHasAGradebookRow() {
  ASSERT_EQ(moodle_collect_.exit_code, 0) << moodle_collect_.out << moodle_collect_.err;
  EXPECT_EQ(read_file((root_ / "moodle-subs" / "roster.csv").string()),
            "id,name,login,email,sis_user_id,section,lms_id\r\n201,Jane Doe,,,,,201\r\n202,Bob Roe,,,,,202\r\n"
            "203,Kim Lee,,,,,203\r\n");
  ASSERT_EQ(moodle_batch_.exit_code, 0) << moodle_batch_.out << moodle_batch_.err;
  const auto rows = rows_of(read_file((root_ / "moodle-grades" / "gradebook.csv").string()));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.at("202").find("build_failed"), std::string::npos) << rows.at("202");
  EXPECT_TRUE(rows.at("203").ends_with(",not submitted: no pipeline.c among the files submitted (onlinetext.html)\r"))
      << rows.at("203");
  const auto doc = nlohmann::json::parse(read_file((root_ / "moodle-subs" / "collect.json").string()));
  EXPECT_EQ(doc["students"]["202"]["notes"][0],
            "Bob Roe_202_assignsubmission_file_/src/my_pipeline.c taken as pipeline.c (submitted under another name)");
}

// Records of a CSV file written by the grader, by the value of column `key` (the header's name).
std::map<std::string, std::map<std::string, std::string>> csv_by(const fs::path& file, const std::string& key) {
  auto records = ipcg::lms::csv::parse(read_file(file.string()), file.string());
  EXPECT_TRUE(records.has_value()) << file;
  std::map<std::string, std::map<std::string, std::string>> by;
  if (!records || records->empty()) return by;
  const auto& header = records->front().fields;
  for (std::size_t r = 1; r < records->size(); ++r) {
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < header.size() && c < (*records)[r].fields.size(); ++c) row[header[c]] = (*records)[r].fields[c];
    by[row[key]] = row;
  }
  return by;
}

// What the LMS receives equals gradebook.csv: `lms_key(id)` is how the export names student `id`.
void expect_export_equals_gradebook(const fs::path& grades, const fs::path& exported, const std::string& key_column,
                                    const std::string& score_column,
                                    const std::function<std::string(const std::string&)>& lms_key) {
  const auto gradebook = csv_by(grades / "gradebook.csv", "submission");
  const auto lms = csv_by(exported, key_column);
  ASSERT_FALSE(gradebook.empty());
  for (const auto& [id, row] : gradebook) {
    ASSERT_TRUE(lms.count(lms_key(id))) << "no row for " << id << " in " << exported;
    EXPECT_EQ(lms.at(lms_key(id)).at(score_column), row.at("score")) << id;  // "" for not submitted
  }
}

void CollectCli::CanvasImportFileCarriesTheGradebooksScores() {
  ASSERT_EQ(canvas_batch_.exit_code, 0) << canvas_batch_.err;
  const fs::path file = root_ / "canvas-import.csv";
  const auto run = run_grader({"export", (root_ / "canvas-grades").string(), "--to", "canvas", "--roster",
                               (root_ / "canvas-subs" / "roster.csv").string(), "--column", "Lab 1 (777)", "--out",
                               file.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_export_equals_gradebook(root_ / "canvas-grades", file, "ID", "Lab 1 (777)", [](const std::string& id) { return id; });
  EXPECT_EQ(csv_by(file, "ID").at("1001").at("Student"), "doejane");
  EXPECT_EQ(csv_by(file, "ID").at("1004").at("Lab 1 (777)"), "") << "not submitted: an empty cell, never a 0";
}

void CollectCli::MoodleWorksheetCarriesTheGradebooksScores() {
  ASSERT_EQ(moodle_batch_.exit_code, 0) << moodle_batch_.err;
  const fs::path file = root_ / "moodle-worksheet.csv";
  const auto run = run_grader({"export", (root_ / "moodle-grades").string(), "--to", "moodle", "--roster",
                               (root_ / "moodle-subs" / "roster.csv").string(), "--out", file.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_export_equals_gradebook(root_ / "moodle-grades", file, "Identifier", "Grade",
                                 [](const std::string& id) { return "Participant " + id; });
  EXPECT_EQ(csv_by(file, "Identifier").at("Participant 202").at("Full name"), "Bob Roe");
}

TEST_F(CollectCli, TheTaRoundTrip) {
  {
    SCOPED_TRACE("CanvasDownloadIsCollectedAndReported");
    CanvasDownloadIsCollectedAndReported();
  }
  {
    SCOPED_TRACE("EveryCanvasStudentHasAGradebookRow");
    EveryCanvasStudentHasAGradebookRow();
  }
  {
    SCOPED_TRACE("EveryMoodleParticipantHasAGradebookRow");
    EveryMoodleParticipantHasAGradebookRow();
  }
  {
    SCOPED_TRACE("CanvasImportFileCarriesTheGradebooksScores");
    CanvasImportFileCarriesTheGradebooksScores();
  }
  {
    SCOPED_TRACE("MoodleWorksheetCarriesTheGradebooksScores");
    MoodleWorksheetCarriesTheGradebooksScores();
  }
}

// Without the class fixture: nothing is graded.
TEST(CollectRefusal, ASymlinkInTheZipIsRefusedAndNothingIsWritten) {
  const fs::path root = fs::temp_directory_path() / ("ipcg collect evil " + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path dir = root / "evil";
  fs::create_directories(dir);
  fs::create_symlink("/etc/passwd", dir / "doejane_1001_5001_pipeline.c");
  ASSERT_EQ(run_in(dir, {"zip", "-q", "--symlinks", (root / "evil.zip").string(), "doejane_1001_5001_pipeline.c"}), 0);
  auto run = run_grader({"collect", (root / "evil.zip").string(), "--lab", "lab1", "--from", "canvas", "--out",
                         (root / "evil-subs").string()});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("grader: error: grader collect: " + (root / "evil.zip").string() +
                         ": entry \"doejane_1001_5001_pipeline.c\" refused: a symbolic link"),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(fs::exists(root / "evil-subs"));
  for (const auto& e : fs::directory_iterator(root))
    EXPECT_FALSE(e.path().filename().string().starts_with(".evil-subs")) << e.path();
  fs::remove_all(root);
}

}  // namespace
