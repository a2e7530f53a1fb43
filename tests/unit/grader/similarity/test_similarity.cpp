// The parts of `grader similarity` that need no lab: reading sim_c's output (names with spaces,
// '|' and non-ASCII letters, malformed lines), running a tool under a time limit and an output
// cap, comparing real files with the real sim_c (handout code taken out, percentages as
// `sim_c -p` prints them), and the HTML a hostile file name or line cannot break out of.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "similarity/sim_output.hpp"
#include "similarity/similarity.hpp"
#include "similarity/site.hpp"
#include "similarity/tool_run.hpp"

namespace fs = std::filesystem;
using namespace ipcg::similarity;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

TEST(SimOutput, ReadsFilesAndRunsWithAwkwardNames) {
  const std::vector<std::string> names = {"a b.c", "x|y: line 2.c", "é.c"};
  const std::string text =
      "File a b.c: 120 tokens, 30 lines\n"
      "File x|y: line 2.c: 1 token, 1 line\n"
      "File é.c: 80 tokens, 12 lines, 3 non-ASCII characters\n"
      "Total input: 3 files (3 new, 0 old), 201 tokens\n\n"
      "a b.c: line 3-9                 |é.c: line 1-5     [52]\n\n"
      "x|y: line 2.c: line 1-1|a b.c: line 4-4[30]\n";
  auto out = parse_sim_output(text, names);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->files.size(), 3u);
  EXPECT_EQ(out->files[0].tokens, 120);
  EXPECT_EQ(out->files[1].tokens, 1);
  EXPECT_EQ(out->files[2].tokens, 80);
  EXPECT_EQ(out->files[2].lines, 12);
  ASSERT_EQ(out->runs.size(), 2u);
  EXPECT_EQ(out->runs[0].a, 0);
  EXPECT_EQ(out->runs[0].a_first, 3);
  EXPECT_EQ(out->runs[0].a_last, 9);
  EXPECT_EQ(out->runs[0].b, 2);
  EXPECT_EQ(out->runs[0].b_last, 5);
  EXPECT_EQ(out->runs[0].tokens, 52);
  EXPECT_EQ(out->runs[1].a, 1);
  EXPECT_EQ(out->runs[1].b, 0);
  EXPECT_EQ(out->runs[1].b_first, 4);
}

TEST(SimOutput, RefusesWhatItDoesNotKnow) {
  const std::vector<std::string> names = {"a.c", "b.c"};
  for (const std::string bad : {"a.c: line 3-9|c.c: line 1-5[52]\n", "a.c: line 9-3|b.c: line 1-5[52]\n",
                                "a.c: line 3-9|b.c: line 1-5[52\n", "a.c: line 3-9|b.c: line 1-5[52] extra\n",
                                "something else\n"}) {
    auto out = parse_sim_output(bad, names);
    ASSERT_FALSE(out) << bad;
    EXPECT_THAT(out.error().message, HasSubstr("sim_c output line 1")) << bad;
  }
  auto missing = parse_sim_output("File b.c: >>>> cannot open <<<<\n", names);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("could not open b.c"));
}

TEST(ToolRun, ReturnsStdoutAndReportsFailures) {
  auto ok = run_tool({.argv = {"/bin/echo", "hello world"}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, "hello world\n");
  auto status = run_tool({.argv = {"/bin/sh", "-c", "echo why >&2; exit 3"}});
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message, HasSubstr("exited with status 3: why"));
  auto missing = run_tool({.argv = {"/nonexistent/tool"}});
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("cannot run /nonexistent/tool"));
}

TEST(ToolRun, KillsATimeOverrunAndAnOutputFlood) {
  auto slow = run_tool({.argv = {"/bin/sleep", "30"}, .time_limit = std::chrono::milliseconds(200)});
  ASSERT_FALSE(slow);
  EXPECT_THAT(slow.error().message, HasSubstr("did not finish within"));
  auto flood = run_tool({.argv = {"/usr/bin/yes"}, .output_cap = 100000});
  ASSERT_FALSE(flood);
  EXPECT_THAT(flood.error().message, HasSubstr("printed more than 100000 bytes"));
}

TEST(FindSimC, NamesThePackageWhenMissing) {
  auto missing = find_sim_c("/nonexistent-a:/nonexistent-b");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("similarity-tester"));
}

// A folder of submissions written by the test: each a map of file name to text.
class Compare : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ipcg-similarity-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "subs");
    const char* path = std::getenv("PATH");
    auto sim_c = find_sim_c(path ? path : "");
    if (!sim_c) GTEST_SKIP() << sim_c.error().message;
    sim_c_ = *sim_c;
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  fs::path root_;
  fs::path sim_c_;
};

// Long enough for several runs of 24 tokens, different enough to share none by chance.
std::string function_text(const std::string& name, int seed) {
  std::string body;
  for (int i = 0; i < 6; ++i)
    body += "    if (x > " + std::to_string(i + seed) + ") { y = y * x + f" + std::to_string(i) + "(x, y); } else { while (y < x) y += 2; }\n";
  return "int " + name + "(int x, int y) {\n" + body + "    return y;\n}\n";
}

std::string student_text(int variant) {
  if (variant == 0) return function_text("alpha", 1) + "static int beta(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i]; return s; }\n";
  std::string text = "struct s { int a; };\n";
  for (int i = 0; i < 3; ++i)
    text += "long g" + std::to_string(i) + "(long *v, unsigned n) { long m = v[0]; unsigned i = 1; do { if (v[i] < m) m = v[i]; } while (++i < n); return m; }\n";
  return text;
}

// The handout's own shape (a switch), which no student text has: sim_c ignores names and numbers.
std::string handout_text() {
  std::string text;
  for (int f = 0; f < 3; ++f) {
    text += "int given" + std::to_string(f) + "(int c) {\n    switch (c) {\n";
    for (int i = 0; i < 4; ++i) text += "    case " + std::to_string(i) + ": return c * " + std::to_string(i) + ";\n";
    text += "    default: break;\n    }\n    return -1;\n}\n";
  }
  return text;
}

TEST_F(Compare, HandoutCodeCountsForNobodyAndTheCopyRanksFirst) {
  const std::string handout = handout_text();
  write(root_ / "skeleton.c", handout);
  // a and b share only the handout; c copies a's own code; d is small and independent.
  write(root_ / "subs/a/main.c", handout + student_text(0));
  write(root_ / "subs/b/main.c", handout + student_text(1));
  write(root_ / "subs/c/main.c", student_text(0) + "int unrelated;\n");
  write(root_ / "subs/d/main.c", "int main(void) { return 0; }\n");
  SimilarityInput input{.submissions_dir = root_ / "subs", .names = {"a", "b", "c", "d"}, .sources = {"main.c"},
                        .handout_files = {root_ / "skeleton.c"}};
  auto report = compare_submissions(input, {.sim_c = sim_c_, .threshold = 50, .jobs = 2});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->pairs.size(), 6u);
  const PairResult& first = report->pairs[0];
  EXPECT_EQ(report->submissions[first.a].name, "a");
  EXPECT_EQ(report->submissions[first.b].name, "c");
  EXPECT_EQ(first.percent_a_in_b, 100);
  EXPECT_TRUE(first.flagged);
  EXPECT_EQ(report->flagged(), 1);
  for (const auto& p : report->pairs)
    if (report->submissions[p.a].name == "a" && report->submissions[p.b].name == "b") {
      EXPECT_EQ(p.top(), 0) << "a and b share only the handout";
      EXPECT_FALSE(p.flagged);
    }
  // The handout's lines are marked, the student's own are not.
  const auto& a = report->submissions[0];
  EXPECT_TRUE(a.handout[1]);
  EXPECT_FALSE(a.handout[a.line_count() - 1]);
}

TEST_F(Compare, WithoutAHandoutTheNumbersAreThoseOfSimCMinusP) {
  for (int i = 0; i < 5; ++i)
    write(root_ / "subs" / ("s" + std::to_string(i)) / "main.c",
          function_text("f", i % 2) + (i % 3 ? student_text(1) : "") + function_text("g", 3 + i));
  SimilarityInput input{.submissions_dir = root_ / "subs", .names = {"s0", "s1", "s2", "s3", "s4"}, .sources = {"main.c"}};
  auto report = compare_submissions(input, {.sim_c = sim_c_, .jobs = 3});
  ASSERT_TRUE(report) << report.error().message;
  std::vector<std::string> argv = {sim_c_.string(), "-p", "-a", "-e", "-s", "-t", "1"};
  for (const auto& n : input.names) argv.push_back((root_ / "subs" / n / "main.c").string());
  auto p = run_tool({.argv = argv});
  ASSERT_TRUE(p) << p.error().message;
  // "<dir>/s1/main.c consists for 87 % of <dir>/s3/main.c material"
  const std::regex line(R"(/(s\d)/main\.c consists for (\d+) % of .*/(s\d)/main\.c material)");
  int compared = 0;
  for (auto it = std::sregex_iterator(p->begin(), p->end(), line); it != std::sregex_iterator(); ++it) {
    const std::string from = (*it)[1], to = (*it)[3];
    const int percent = std::stoi((*it)[2]);
    for (const auto& pair : report->pairs) {
      const auto& a = report->submissions[pair.a].name;
      const auto& b = report->submissions[pair.b].name;
      if (a == from && b == to) {
        EXPECT_EQ(pair.percent_a_in_b, percent) << from << " in " << to;
      }
      if (b == from && a == to) {
        EXPECT_EQ(pair.percent_b_in_a, percent) << from << " in " << to;
      }
    }
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

// Code most of the class holds is a common source: taken out like the handout, so the pair that
// shares something else stands out.
TEST_F(Compare, CodeHeldByCommonLimitSubmissionsIsTakenOut) {
  const std::string everyone = handout_text();
  for (const std::string name : {"p", "q", "r", "s"})
    write(root_ / "subs" / name / "main.c", everyone + (name == "p" || name == "q" ? student_text(0) : ""));
  SimilarityInput input{.submissions_dir = root_ / "subs", .names = {"p", "q", "r", "s"}, .sources = {"main.c"}};
  auto kept = compare_submissions(input, {.sim_c = sim_c_, .common_limit = 0});
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->flagged(), 6) << "without the common pass every pair shares the common code";
  auto report = compare_submissions(input, {.sim_c = sim_c_, .common_limit = 3});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->flagged(), 1);
  const PairResult& first = report->pairs[0];
  EXPECT_EQ(report->submissions[first.a].name, "p");
  EXPECT_EQ(report->submissions[first.b].name, "q");
  EXPECT_EQ(first.percent_a_in_b, 100);
  EXPECT_TRUE(report->submissions[2].common[0]);
  EXPECT_FALSE(report->submissions[0].common.back()) << "p's own code is held by two submissions only";
}

TEST_F(Compare, AHostileFolderIsReadNotFollowed) {
  write(root_ / "subs/a/main.c", student_text(0));
  write(root_ / "subs/b/other.c", student_text(0));
  fs::create_directories(root_ / "subs/b");
  fs::create_symlink("/etc/passwd", root_ / "subs/b/main.c");
  SimilarityInput input{.submissions_dir = root_ / "subs", .names = {"a", "b"}, .sources = {"main.c"}};
  auto report = compare_submissions(input, {.sim_c = sim_c_});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->submissions[1].files[0].note, "a symbolic link, not read");
  EXPECT_EQ(report->pairs[0].top(), 0);
}

SimilarityReport hostile_report() {
  SimilarityReport r{.threshold = 50, .min_run = 24};
  SubmissionText a{.name = "<script>alert(1)</script>"};
  a.files.push_back({.name = "<script>x.c", .lines = {"int a; /* </pre><script>alert(2)</script> */", "\"&amp;\" '"}});
  a.handout = {false, false};
  SubmissionText b{.name = "b\" onmouseover=\"alert(3)"};
  b.files.push_back({.name = "main.c", .lines = {"<img src=x onerror=alert(4)>", "int b;"}});
  b.handout = {true, false};
  r.submissions = {a, b};
  PairResult p{.a = 0, .b = 1, .percent_a_in_b = 100, .percent_b_in_a = 90, .longest = {1, 2, 1, 2, 30},
               .runs = {{1, 2, 1, 2, 30}}, .flagged = true};
  r.pairs = {p};
  return r;
}

TEST(Site, EscapesEveryStudentWrittenText) {
  const SimilarityReport r = hostile_report();
  for (const std::string& html : {index_html(r, "lab1"), pair_html(r, "lab1", 1)}) {
    EXPECT_THAT(html, Not(HasSubstr("<script")));
    EXPECT_THAT(html, Not(HasSubstr("<img")));
    EXPECT_THAT(html, Not(HasSubstr("\" onmouseover")));
    EXPECT_THAT(html, HasSubstr("&lt;script&gt;"));
    EXPECT_THAT(html, Not(HasSubstr("://")));  // nothing fetched from anywhere
    EXPECT_THAT(html, HasSubstr("This page flags, it does not judge."));
  }
  const std::string pair = pair_html(r, "lab1", 1);
  EXPECT_THAT(pair, HasSubstr("&lt;img src=x onerror=alert(4)&gt;"));
  EXPECT_THAT(pair, HasSubstr("&quot;&amp;amp;&quot;"));
  // The run has one colour on both sides and anchors that point at each other.
  EXPECT_THAT(pair, HasSubstr("id=\"a0\" href=\"#b0\""));
  EXPECT_THAT(pair, HasSubstr("id=\"b0\" href=\"#a0\""));
  EXPECT_THAT(index_html(r, "lab1"), HasSubstr("<a href=\"pair-1.html\">"));
}

TEST(Site, TableAndCsvKeepNamesInTheirPlace) {
  SimilarityReport r = hostile_report();
  r.submissions[0].name = "evil\x1b[2J\nname";
  r.submissions[1].name = "with,comma \"quoted\"";
  const std::string table = similarity_table(r, "lab1", 10);
  EXPECT_THAT(table, Not(HasSubstr("\x1b")));
  EXPECT_THAT(table, HasSubstr("100%"));
  const std::string csv = pairs_csv(r);
  EXPECT_THAT(csv, HasSubstr("\"with,comma \"\"quoted\"\"\""));
  EXPECT_THAT(csv, HasSubstr(",100,90,30,<script>x.c:1-2,main.c:1-2,yes,pair-1.html\r\n"));
}

}  // namespace
