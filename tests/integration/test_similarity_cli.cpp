// `grader similarity lab1 tests/submissions/lab1` as a TA runs it: the planted copy
// (renamed_copy_of_correct_alt: correct_alt with its identifiers renamed and its functions
// reordered) ranks first with its original; pairs that share only skeleton code (fork_bomb and
// loops_forever: the skeleton's stubs with one loop each) and the independent solution
// (correct_alt against the reference-derived samples) are not flagged; the site is written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::kSource;
using ipcg::testing::read_file;
using ipcg::testing::run_grader;

namespace {

struct Row {
  int rank = 0;
  std::string a, b;
  int a_in_b = 0, b_in_a = 0, longest = 0;
  bool flagged = false;
  std::string page;
};

// pairs.csv: the sample names hold no comma or quote, so a plain split reads them.
std::vector<Row> read_pairs(const std::string& csv) {
  std::vector<Row> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (cells.size() < 9) continue;
    auto unquote = [](std::string s) { return s.size() >= 2 && s.front() == '"' ? s.substr(1, s.size() - 2) : s; };
    rows.push_back({std::stoi(cells[0]), unquote(cells[1]), unquote(cells[2]), std::stoi(cells[3]),
                    std::stoi(cells[4]), std::stoi(cells[5]), cells[8] == "yes", cells.size() > 9 ? cells[9] : ""});
  }
  return rows;
}

bool is_pair(const Row& r, const std::string& x, const std::string& y) {
  return (r.a == x && r.b == y) || (r.a == y && r.b == x);
}

class SimilarityCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    out_ = fs::temp_directory_path() / ("ipcg-similarity-cli-" + std::to_string(::getpid()));
    fs::remove_all(out_);
    run_ = run_grader({"similarity", "lab1", kSource + "/tests/submissions/lab1", "--out", out_.string(), "--jobs", "2"});
    rows_ = read_pairs(read_file((out_ / "pairs.csv").string()));
  }
  static void TearDownTestSuite() { fs::remove_all(out_); }
  static const Row* find(const std::string& x, const std::string& y) {
    for (const auto& r : rows_)
      if (is_pair(r, x, y)) return &r;
    return nullptr;
  }
  static inline fs::path out_;
  static inline ipcg::testing::GraderRun run_;
  static inline std::vector<Row> rows_;
};

TEST_F(SimilarityCli, RanksThePlantedCopyFirstWithItsOriginal) {
  ASSERT_EQ(run_.exit_code, 0) << run_.err;
  const std::size_t samples = std::distance(fs::directory_iterator(kSource + "/tests/submissions/lab1"), fs::directory_iterator());
  ASSERT_EQ(rows_.size(), samples * (samples - 1) / 2) << "every pair is in pairs.csv";
  const Row& first = rows_.at(0);
  EXPECT_TRUE(is_pair(first, "correct_alt", "renamed_copy_of_correct_alt")) << first.a << " and " << first.b;
  EXPECT_GE(std::min(first.a_in_b, first.b_in_a), 90);
  EXPECT_TRUE(first.flagged);
  EXPECT_EQ(first.page, "pair-1.html");
  // The text table names it first too.
  EXPECT_NE(run_.out.find("correct_alt, renamed_copy_of_correct_alt"), std::string::npos) << run_.out;
  EXPECT_LT(run_.out.find("correct_alt, renamed_copy_of_correct_alt"), run_.out.find("\n    2 ")) << run_.out;
}

TEST_F(SimilarityCli, PairsSharingOnlySkeletonCodeAreNotFlagged) {
  ASSERT_EQ(run_.exit_code, 0) << run_.err;
  const Row* stubs = find("fork_bomb", "loops_forever");
  ASSERT_NE(stubs, nullptr);
  EXPECT_FALSE(stubs->flagged) << stubs->a_in_b << "% / " << stubs->b_in_a << "%";
  EXPECT_LT(std::max(stubs->a_in_b, stubs->b_in_a), 50);
}

TEST_F(SimilarityCli, TheIndependentSolutionIsNotFlaggedWithTheOthers) {
  ASSERT_EQ(run_.exit_code, 0) << run_.err;
  for (const auto& r : rows_) {
    const bool alt = r.a == "correct_alt" || r.b == "correct_alt";
    const bool copy = r.a == "renamed_copy_of_correct_alt" || r.b == "renamed_copy_of_correct_alt";
    if (alt != copy) {
      EXPECT_FALSE(r.flagged) << r.a << " and " << r.b << ": " << r.a_in_b << "% / " << r.b_in_a << "%";
    }
  }
}

TEST_F(SimilarityCli, WritesTheSiteThatFlagsAndDoesNotJudge) {
  ASSERT_EQ(run_.exit_code, 0) << run_.err;
  const std::string index = read_file((out_ / "index.html").string());
  EXPECT_NE(index.find("This page flags, it does not judge."), std::string::npos);
  EXPECT_NE(index.find("href=\"pair-1.html\""), std::string::npos);
  // The 22 reference-derived samples share the reference's text: common code, said so.
  EXPECT_NE(index.find("<p id=\"common\">"), std::string::npos);
  const std::string page = read_file((out_ / "pair-1.html").string());
  EXPECT_NE(page.find("renamed_copy_of_correct_alt"), std::string::npos);
  EXPECT_NE(page.find("class=\"c0 run\""), std::string::npos) << "shared runs are marked";
  EXPECT_NE(page.find("id=\"a0\" href=\"#b0\""), std::string::npos);
}

TEST(SimilarityCliErrors, AnUnknownLabOrFolderIsAUsageError) {
  const auto lab = run_grader({"similarity", "lab99", kSource + "/tests/submissions/lab1", "--out", "/nonexistent/x"});
  EXPECT_EQ(lab.exit_code, 2);
  EXPECT_NE(lab.err.find("no lab 'lab99'"), std::string::npos) << lab.err;
  const auto folder = run_grader({"similarity", "lab1", "/nonexistent/subs", "--out", "/nonexistent/x"});
  EXPECT_EQ(folder.exit_code, 2);
  EXPECT_NE(folder.err.find("no folder /nonexistent/subs"), std::string::npos) << folder.err;
}

}  // namespace
