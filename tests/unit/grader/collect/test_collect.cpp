// collect() end to end on small downloads: the folders, roster.csv and collect.json it writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "archive_builder.hpp"
#include "collect/collect.hpp"

namespace ipcg::collect {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveBuilder;
using testing::write_bytes;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Collect : public ::testing::Test {
 protected:
  testing::TestFolder folder_{"collect"};
  const fs::path& root_ = folder_.path();
};

TEST_F(Collect, CanvasDownloadBecomesOneFolderPerStudent) {
  ArchiveBuilder inner(ArchiveBuilder::zip);
  inner.folder("lab1/").file("lab1/pipeline.c", "int nested;").file("lab1/more.zip", "PK");
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("doejane_1001_5001_pipeline.c", "int jane;")
      .file("roebob_LATE_1002_5002_pipeline.c", "int old;")
      .file("roebob_LATE_1002_5002_pipeline-1.c", "int newer;")
      .file("smithann_1003_5003_pipe.c", "int renamed;")
      .file("leekim_1004_5004_answers.txt", "I did not do it")
      .file("parkmin_1005_5005_lab1.zip", inner.bytes());
  write_bytes(root_ / "canvas.zip", zip.bytes());
  auto s = collect({.input = root_ / "canvas.zip", .from = Lms::canvas, .out = root_ / "subs", .lab = "lab1",
                    .sources = {"pipeline.c"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(slurp(root_ / "subs" / "1001" / "pipeline.c"), "int jane;");
  EXPECT_EQ(slurp(root_ / "subs" / "1002" / "pipeline.c"), "int newer;");
  EXPECT_EQ(slurp(root_ / "subs" / "1003" / "pipeline.c"), "int renamed;");
  EXPECT_TRUE(fs::is_empty(root_ / "subs" / "1004"));
  EXPECT_EQ(slurp(root_ / "subs" / "1005" / "pipeline.c"), "int nested;");
  EXPECT_EQ(slurp(root_ / "subs" / "roster.csv"),
            "id,name,login,email,sis_user_id,section,lms_id\r\n1001,doejane,,,,,1001\r\n1002,roebob,,,,,1002\r\n"
            "1003,smithann,,,,,1003\r\n1004,leekim,,,,,1004\r\n1005,parkmin,,,,,1005\r\n");

  const auto doc = nlohmann::json::parse(slurp(root_ / "subs" / "collect.json"));
  EXPECT_EQ(doc["lab"], "lab1");
  EXPECT_EQ(doc["from"], "canvas");
  const auto& st = doc["students"];
  EXPECT_EQ(st["1001"]["status"], "collected");
  EXPECT_EQ(st["1002"]["late"], true);
  EXPECT_EQ(st["1002"]["kept"][0]["from"], "roebob_LATE_1002_5002_pipeline-1.c");
  EXPECT_EQ(st["1002"]["ignored"][0]["from"], "roebob_LATE_1002_5002_pipeline.c");
  EXPECT_EQ(st["1003"]["notes"][0], "smithann_1003_5003_pipe.c taken as pipeline.c (submitted under another name)");
  EXPECT_EQ(st["1004"]["status"], "not_submitted");
  EXPECT_EQ(st["1004"]["reason"], "no pipeline.c among the files submitted (answers.txt)");
  EXPECT_EQ(st["1005"]["notes"][0], "unpacked parkmin_1005_5005_lab1.zip (2 files)");
  EXPECT_EQ(st["1005"]["ignored"][0]["why"], "an archive inside an archive: only one level is unpacked");

  const std::string text = summary_text(*s, "subs");
  EXPECT_NE(text.find("collected 5 students"), std::string::npos) << text;
  EXPECT_NE(text.find("4 collected, 0 partial, 1 not submitted"), std::string::npos) << text;
  // Nothing but DIR itself beside the download: the temporary folder was renamed into place.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 2);
}

TEST_F(Collect, FolderOfRepositoriesSkipsSymlinksAndGit) {
  write_bytes(root_ / "dl" / "lab1-alice" / "pipeline.c", "int alice;");
  write_bytes(root_ / "dl" / "lab1-alice" / ".git" / "HEAD", "ref");
  write_bytes(root_ / "dl" / "lab1-bob" / "src" / "pipeline.c", "int bob;");
  fs::create_symlink("/etc/passwd", root_ / "dl" / "lab1-carol");
  fs::create_directories(root_ / "dl" / "lab1-dave");
  fs::create_symlink("/etc/passwd", root_ / "dl" / "lab1-dave" / "pipeline.c");
  auto s = collect({.input = root_ / "dl", .from = Lms::github_classroom, .out = root_ / "subs", .lab = "lab1",
                    .sources = {"pipeline.c"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(slurp(root_ / "subs" / "alice" / "pipeline.c"), "int alice;");
  EXPECT_EQ(slurp(root_ / "subs" / "bob" / "pipeline.c"), "int bob;");
  // A repository holding only a symlink still gets its folder, nothing in it, and the reason.
  EXPECT_TRUE(fs::is_empty(root_ / "subs" / "dave"));
  ASSERT_EQ(s->students.size(), 3u);
  EXPECT_EQ(s->students[2].status, kNotSubmitted);
  EXPECT_EQ(s->students[2].reason, "nothing submitted");
  EXPECT_EQ(s->notes, (std::vector<std::string>{"lab1-carol: a symbolic link, not followed",
                                                "lab1-dave/pipeline.c: a symbolic link, not followed"}));
  EXPECT_EQ(slurp(root_ / "subs" / "roster.csv"),
            "id,name,login,email,sis_user_id,section,lms_id\r\nalice,lab1-alice,alice,,,,\r\nbob,lab1-bob,bob,,,,\r\n"
            "dave,lab1-dave,dave,,,,\r\n");
}

TEST_F(Collect, MoodleNamesWithSpacesGiveParticipantIds) {
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("Jane Doe_201_assignsubmission_file_/pipeline.c", "int jane;")
      .file("Kim Lee_203_assignsubmission_onlinetext_/onlinetext.html", "<p>hi</p>");
  write_bytes(root_ / "moodle.zip", zip.bytes());
  auto s = collect({.input = root_ / "moodle.zip", .from = Lms::moodle, .out = root_ / "subs", .lab = "lab1",
                    .sources = {"pipeline.c"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(slurp(root_ / "subs" / "201" / "pipeline.c"), "int jane;");
  EXPECT_TRUE(fs::is_directory(root_ / "subs" / "203"));
  EXPECT_EQ(slurp(root_ / "subs" / "roster.csv"),
            "id,name,login,email,sis_user_id,section,lms_id\r\n201,Jane Doe,,,,,201\r\n203,Kim Lee,,,,,203\r\n");
}

}  // namespace
}  // namespace ipcg::collect
