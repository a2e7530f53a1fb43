// Each LMS layout recognized from file names alone, and the choice of a student's sources.
#include <gtest/gtest.h>

#include "collect/layouts.hpp"
#include "collect/match.hpp"
#include "collect/roster.hpp"

namespace ipcg::collect {
namespace {

std::vector<InputFile> files_of(std::initializer_list<std::string> paths) {
  std::vector<InputFile> files;
  for (const auto& p : paths) files.push_back({p, "content of " + p, 0});
  return files;
}

TEST(CanvasName, UserIdSubmissionIdAndUploadedName) {
  auto n = parse_canvas_name("doejane_1001_5001_pipeline.c");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->name, "doejane");
  EXPECT_EQ(n->user_id, "1001");
  EXPECT_EQ(n->submission_id, "5001");
  EXPECT_EQ(n->uploaded, "pipeline.c");
  EXPECT_FALSE(n->late);
  EXPECT_EQ(n->version, 0);
}

TEST(CanvasName, LateMarkerAndResubmissionSuffix) {
  auto n = parse_canvas_name("roebob_LATE_1002_5002_my_pipe-2.c");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->late);
  EXPECT_EQ(n->user_id, "1002");
  EXPECT_EQ(n->uploaded, "my_pipe.c");  // underscores of the uploaded name survive
  EXPECT_EQ(n->version, 2);
  EXPECT_TRUE(parse_canvas_name("roebob_late_1002_5002_x.c")->late);
}

TEST(CanvasName, OtherNamesAreNotCanvasFiles) {
  EXPECT_FALSE(parse_canvas_name("pipeline.c"));
  EXPECT_FALSE(parse_canvas_name("readme_first.txt"));
  EXPECT_FALSE(parse_canvas_name("doejane_1001_"));
}

TEST(VersionSuffix, OnlyADashAndDigitsBeforeTheExtension) {
  EXPECT_EQ(split_version_suffix("hello-1.c"), (std::pair<std::string, int>{"hello.c", 1}));
  EXPECT_EQ(split_version_suffix("hello.c"), (std::pair<std::string, int>{"hello.c", 0}));
  EXPECT_EQ(split_version_suffix("lab-one.c"), (std::pair<std::string, int>{"lab-one.c", 0}));
  EXPECT_EQ(split_version_suffix("Makefile-3"), (std::pair<std::string, int>{"Makefile", 3}));
}

TEST(Canvas, GroupsFilesByUserIdAndKeepsTheLateMarker) {
  auto r = recognize(Lms::canvas, files_of({"doejane_1001_5001_pipeline.c", "roebob_LATE_1002_5002_pipeline-1.c",
                                            "roebob_LATE_1002_5002_pipeline.c", "notes.txt", "__MACOSX/._x"}));
  ASSERT_EQ(r.students.size(), 2u);
  EXPECT_EQ(r.students[0].key, "1001");
  EXPECT_EQ(r.students[0].lms_id, "1001");
  EXPECT_EQ(r.students[0].name, "doejane");
  EXPECT_FALSE(r.students[0].late);
  EXPECT_EQ(r.students[1].key, "1002");
  EXPECT_TRUE(r.students[1].late);
  ASSERT_EQ(r.students[1].files.size(), 2u);
  ASSERT_EQ(r.unmatched.size(), 1u);  // the Mac junk is dropped, notes.txt is reported
  EXPECT_EQ(r.unmatched[0].source, "notes.txt");
}

TEST(MoodleName, FolderAndFlatForms) {
  auto folder = parse_moodle_name("Jane Doe_201_assignsubmission_file_");
  ASSERT_TRUE(folder);
  EXPECT_EQ(folder->name, "Jane Doe");
  EXPECT_EQ(folder->participant_id, "201");
  EXPECT_EQ(folder->plugin, "file");
  EXPECT_EQ(folder->rest, "");
  auto flat = parse_moodle_name("Jane Doe_201_assignsubmission_file_pipeline.c");
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->rest, "pipeline.c");
  EXPECT_FALSE(parse_moodle_name("Jane Doe_assignsubmission_file_"));
  EXPECT_FALSE(parse_moodle_name("Jane Doe_201"));
}

TEST(Moodle, OneStudentPerParticipantIdAcrossPluginFolders) {
  auto r = recognize(Lms::moodle, files_of({"Jane Doe_201_assignsubmission_file_/pipeline.c",
                                            "Jane Doe_201_assignsubmission_onlinetext_/onlinetext.html",
                                            "Kim Lee_203_assignsubmission_file_/src/lab/pipe.c", "stray.c"}));
  ASSERT_EQ(r.students.size(), 2u);
  EXPECT_EQ(r.students[0].key, "201");
  EXPECT_EQ(r.students[0].name, "Jane Doe");
  EXPECT_EQ(r.students[0].lms_id, "201");
  EXPECT_EQ(r.students[0].files.size(), 2u);
  EXPECT_EQ(r.students[1].files[0].name, "pipe.c");
  EXPECT_EQ(r.students[1].files[0].source, "Kim Lee_203_assignsubmission_file_/src/lab/pipe.c");
  ASSERT_EQ(r.unmatched.size(), 1u);
}

TEST(Moodle, AWrappingFolderIsUnwrapped) {
  auto r = recognize(Lms::moodle, files_of({"download/Jane Doe_201_assignsubmission_file_/pipeline.c"}));
  ASSERT_EQ(r.students.size(), 1u);
  EXPECT_EQ(r.students[0].key, "201");
  ASSERT_FALSE(r.notes.empty());
}

TEST(GithubClassroom, TheAssignmentPrefixIsCutToGiveTheLogin) {
  auto r = recognize(Lms::github_classroom,
                     files_of({"lab1-alice/pipeline.c", "lab1-alice/.git/config", "lab1-bob-smith/src/pipeline.c"}));
  ASSERT_EQ(r.students.size(), 2u);
  EXPECT_EQ(r.students[0].key, "alice");
  EXPECT_EQ(r.students[0].login, "alice");
  EXPECT_EQ(r.students[0].files.size(), 1u);  // .git is not a submission
  EXPECT_EQ(r.students[1].key, "bob-smith");
  EXPECT_EQ(r.students[1].name, "lab1-bob-smith");
  EXPECT_TRUE(r.students[1].lms_id.empty());
}

TEST(Folders, EachTopFolderIsAStudent) {
  auto r = recognize(Lms::folders, files_of({"subs/alice/pipeline.c", "subs/bob/pipeline.c"}));
  ASSERT_EQ(r.students.size(), 2u);  // "subs/" unwrapped
  EXPECT_EQ(r.students[0].key, "alice");
  EXPECT_EQ(r.students[1].key, "bob");
  auto loose = recognize(Lms::folders, files_of({"alice/pipeline.c", "pipeline.c"}));
  ASSERT_EQ(loose.unmatched.size(), 1u);
  EXPECT_EQ(loose.unmatched[0].why, "not in a student's folder");
}

Candidate file(const std::string& name, int version = 0, std::int64_t mtime = 0) {
  return {"dl/" + name + (version ? "#" + std::to_string(version) : ""), name, version, mtime, "bytes of " + name};
}

TEST(Match, ExactNameKeptOthersIgnored) {
  auto s = select_sources({"pipeline.c"}, {file("pipeline.c"), file("notes.txt")});
  ASSERT_EQ(s.kept.size(), 1u);
  EXPECT_EQ(s.kept[0].file, "pipeline.c");
  EXPECT_EQ(s.kept[0].bytes, "bytes of pipeline.c");
  ASSERT_EQ(s.ignored.size(), 1u);
  EXPECT_EQ(s.ignored[0].why, "not a source of the lab");
  EXPECT_TRUE(s.notes.empty());
}

TEST(Match, NewestVersionBySuffixThenMtime) {
  auto s = select_sources({"pipeline.c"}, {file("pipeline.c", 0, 50), file("pipeline.c", 2, 10), file("pipeline.c", 1, 90)});
  ASSERT_EQ(s.kept.size(), 1u);
  EXPECT_EQ(s.kept[0].from, "dl/pipeline.c#2");
  EXPECT_EQ(s.ignored.size(), 2u);
  auto by_time = select_sources({"pipeline.c"}, {Candidate{"old/pipeline.c", "pipeline.c", 0, 50, "old"},
                                                  Candidate{"new/pipeline.c", "pipeline.c", 0, 90, "new"}});
  EXPECT_EQ(by_time.kept[0].bytes, "new");
  ASSERT_EQ(by_time.ignored.size(), 1u);
  EXPECT_NE(by_time.ignored[0].why.find("older version"), std::string::npos);
}

TEST(Match, AnotherNameIsTakenWhenUnambiguousAndNoted) {
  auto s = select_sources({"pipeline.c"}, {file("pipe.c"), file("report.pdf")});
  ASSERT_EQ(s.kept.size(), 1u);
  EXPECT_EQ(s.kept[0].from, "dl/pipe.c");
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0], "dl/pipe.c taken as pipeline.c (submitted under another name)");
  auto cased = select_sources({"pipeline.c"}, {file("Pipeline.C"), file("x.c")});
  ASSERT_EQ(cased.kept.size(), 1u);
  EXPECT_EQ(cased.kept[0].from, "dl/Pipeline.C");
}

TEST(Match, AmongSeveralOnlyOneThatResemblesIsTaken) {
  auto s = select_sources({"pipeline.c"}, {file("pipe_v2.c"), file("util.c")});
  ASSERT_EQ(s.kept.size(), 1u);
  EXPECT_EQ(s.kept[0].from, "dl/pipe_v2.c");
}

TEST(Match, AmbiguousNamesAreNotGuessed) {
  auto s = select_sources({"pipeline.c"}, {file("a.c"), file("b.c")});
  EXPECT_TRUE(s.kept.empty());
  EXPECT_EQ(s.missing, std::vector<std::string>{"pipeline.c"});
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0], "no pipeline.c, and several files could be it (a.c, b.c): none taken");
}

TEST(Match, AnExactNameIsNeverTakenForAnotherSource) {
  auto s = select_sources({"server.c", "client.c"}, {file("client.c"), file("srv.c")});
  ASSERT_EQ(s.kept.size(), 2u);
  EXPECT_EQ(s.kept[0].from, "dl/srv.c");
  EXPECT_EQ(s.kept[1].from, "dl/client.c");
}

TEST(Roster, HeaderAndRfc4180Cells) {
  const std::string csv = roster_csv({{.id = "201", .name = "Doe, \"JJ\" Jane", .lms_id = "201"},
                                      {.id = "alice", .name = "lab1-alice", .login = "alice"}});
  EXPECT_EQ(csv,
            "id,name,login,email,sis_user_id,section,lms_id\r\n"
            "201,\"Doe, \"\"JJ\"\" Jane\",,,,,201\r\n"
            "alice,lab1-alice,alice,,,,\r\n");
}

TEST(Roster, IdsAreSafeFolderNames) {
  EXPECT_EQ(sanitize_id("alice"), "alice");
  EXPECT_EQ(sanitize_id("Jane Doe/../x"), "Jane_Doe_.._x");
  EXPECT_EQ(sanitize_id(".hidden"), "_.hidden");
  EXPECT_EQ(sanitize_id(""), "_");
  EXPECT_EQ(sanitize_id("jos\xc3\xa9"), "jos__");
}

}  // namespace
}  // namespace ipcg::collect
