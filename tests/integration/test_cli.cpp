// The grader's command line as a user meets it: listing, usage errors, malformed lab files,
// grading the working copy, text evidence and the isolation line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::leftover_children;
using ipcg::testing::kSource;
using ipcg::testing::run_grader;

namespace {


TEST(Cli, ListsLabsWithNumberNameAndMechanism) {
  auto run = run_grader({"list"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("lab1"), std::string::npos);
  EXPECT_NE(run.out.find("lab1-pipe"), std::string::npos);
  EXPECT_NE(run.out.find("anonymous pipe"), std::string::npos);
}

TEST(Cli, PolicyPrintsTheLabsSetsInWordsAndThePfcExport) {
  auto run = run_grader({"policy", "lab1"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* text : {"Sets in lab.toml [sandbox] syscalls: process, file, pipe", "  pipe: anonymous pipes",
                           "clone (no CLONE_NEW* namespace flags)", "Always killed with SIGSYS", "ptrace",
                           "Every other call fails with EPERM", "libseccomp PFC export", "KILL_PROCESS"})
    EXPECT_NE(run.out.find(text), std::string::npos) << text << " not in:\n" << run.out;
  EXPECT_EQ(run_grader({"policy", "lab99"}).exit_code, 2);
}

TEST(Cli, UnknownLabIsAUsageError) {
  auto run = run_grader({"run", "lab99"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("lab99"), std::string::npos) << run.err;
}

TEST(Cli, UnknownTestIsAUsageError) {
  auto run = run_grader({"run", "1", "--only", "no_such_test", "--submission", kSource + "/reference/lab1-pipe"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("no_such_test"), std::string::npos) << run.err;
}

TEST(Cli, MissingSubmissionFolderIsAUsageError) {
  auto run = run_grader({"run", "lab1", "--submission", "/nonexistent/folder"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("/nonexistent/folder"), std::string::npos) << run.err;
}

// A copy of the labs folder with lab1's lab.toml broken at a known line and key.
class MalformedLab : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("ipcg-cli-" + std::to_string(::getpid()));
    fs::create_directories(home_ / "labs");
    fs::copy(kSource + "/labs/lab1-pipe", home_ / "labs" / "lab1-pipe", fs::copy_options::recursive);
    fs::create_directory_symlink(kSource + "/reference", home_ / "reference");
  }
  void TearDown() override { fs::remove_all(home_); }
  void replace_line(const std::string& from, const std::string& to) {
    const auto path = home_ / "labs" / "lab1-pipe" / "lab.toml";
    std::string text = ipcg::testing::read_file(path.string());
    auto at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(path) << text;
  }
  fs::path home_;
};

TEST_F(MalformedLab, WrongTypeNamesFileLineAndKey) {
  replace_line("points = 10\nvisibility = \"public\"\ncheck = \"lab1.pipeline_output\"",
               "points = \"ten\"\nvisibility = \"public\"\ncheck = \"lab1.pipeline_output\"");
  auto run = run_grader({"list"}, {"IPCGRADE_HOME=" + home_.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("lab.toml:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("points"), std::string::npos) << run.err;
}

TEST_F(MalformedLab, SyntaxErrorNamesFileAndLine) {
  replace_line("[sandbox]", "[sandbox");
  auto run = run_grader({"run", "lab1"}, {"IPCGRADE_HOME=" + home_.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("lab1-pipe/lab.toml:"), std::string::npos) << run.err;
}

TEST(Cli, GradesTheWorkingCopyByDefault) {
  // Without --submission the student's working copy (the skeleton) is graded: it builds and fails.
  auto run = run_grader({"run", "lab1", "--only", "pipeline_two_stages", "--seed", "3"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.out.find("pipeline_two_stages"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("seed"), std::string::npos);
  EXPECT_NE(run.out.find("isolation:"), std::string::npos);
  EXPECT_TRUE(leftover_children().empty());
}

TEST(Cli, JsonReportHasTheDocumentedFields) {
  auto run = run_grader({"run", "lab1", "--submission", kSource + "/reference/lab1-pipe", "--format", "json",
                         "--only", "pipeline_two_stages", "--seed", "11"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  for (const char* key : {"lab", "score", "max_score", "seed", "isolation", "grader_version", "spec_hash", "tests"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["seed"], 11);
  EXPECT_EQ(j["spec_hash"].get<std::string>().size(), 64u);
}

TEST(Cli, TextEvidenceNamesPidFdAndEnd) {
  auto run = run_grader({"run", "lab1", "--submission", kSource + "/tests/submissions/lab1/child_keeps_write_end",
                         "--only", "stages_hold_only_their_ends", "--color", "never"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.out.find("pid "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("fd "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("write end"), std::string::npos) << run.out;
}

TEST(Cli, ReducedIsolationIsSaidWithItsReason) {
  auto run = run_grader({"run", "lab1", "--submission", kSource + "/reference/lab1-pipe", "--only",
                         "pipeline_two_stages", "--reduced", "--format", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["isolation"]["level"], "reduced");
  EXPECT_FALSE(j["isolation"]["reason"].get<std::string>().empty());
}

TEST(Cli, BuildFailureIsAVerdictWithCompilerOutput) {
  const auto dir = fs::temp_directory_path() / ("ipcg-broken-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "pipeline.c") << "#include \"pipeline.h\"\nint run_pipeline(oops) {\n";
  auto run = run_grader({"run", "lab1", "--submission", dir.string(), "--format", "json"});
  fs::remove_all(dir);
  ASSERT_EQ(run.exit_code, 1) << run.err;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_FALSE(j["build"]["ok"].get<bool>());
  EXPECT_NE(j["build"]["output"].get<std::string>().find("pipeline.c:2"), std::string::npos) << j["build"];
  for (const auto& t : j["tests"]) EXPECT_EQ(t["status"], "build_failed");
  EXPECT_EQ(j["score"], 0);
}

// A student's laptop: no root. The grader and its data are copied where any user can read them,
// then run as nobody; it must grade, and say the isolation is reduced and why.
TEST(Cli, GradesUnprivilegedWithReducedIsolation) {
  if (::geteuid() != 0) GTEST_SKIP() << "already unprivileged: every other test covers this setting";
  const fs::path root = fs::temp_directory_path() / ("ipcg-unpriv-" + std::to_string(::getpid()));
  const std::string build = IPCG_BINARY_DIR;
  fs::create_directories(root / "share" / "ipcgrade");
  fs::copy(build + "/bin", root / "bin", fs::copy_options::recursive);
  fs::copy(build + "/libexec", root / "libexec", fs::copy_options::recursive);
  fs::copy(kSource + "/labs", root / "share" / "ipcgrade" / "labs", fs::copy_options::recursive);
  fs::copy(kSource + "/reference", root / "share" / "ipcgrade" / "reference", fs::copy_options::recursive);
  for (const auto& entry : fs::recursive_directory_iterator(root))
    fs::permissions(entry.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  fs::permissions(root, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  constexpr int kNobody = 65534;
  auto run = run_grader({"run", "lab1", "--submission", (root / "share/ipcgrade/reference/lab1-pipe").string(),
                         "--only", "stages_hold_only_their_ends", "--format", "json"},
                        {"TMPDIR=/tmp"}, (root / "bin" / "grader").string(), kNobody);
  fs::remove_all(root);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["isolation"]["level"], "reduced");
  EXPECT_EQ(j["isolation"]["setting"], "unprivileged");
  EXPECT_FALSE(j["isolation"]["reason"].get<std::string>().empty());
  EXPECT_EQ(j["score"], j["max_score"]);
  EXPECT_TRUE(leftover_children().empty());
}

}  // namespace
