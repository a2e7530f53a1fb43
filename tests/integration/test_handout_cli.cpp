// `grader handout <lab> --out DIR`, for every lab: what students receive holds the skeleton,
// headers, every README*.md (English and Korean) and the public tests, and nothing secret: no
// hidden test's name, no line of the reference solution, none of the grading code. And each lab's
// two READMEs teach the same rules: their rule tables name the same tests, row by row, and every
// public test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "handout.hpp"
#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::read_file;
using ipcg::testing::kSource;
using ipcg::testing::run_grader;

namespace {

const std::string kLab1 = kSource + "/labs/lab1-pipe";

// Every lab with a reference: {"lab2", "lab2-fifo"}.
std::vector<std::pair<std::string, std::string>> every_lab() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : fs::directory_iterator(kSource + "/labs")) {
    const std::string folder = entry.path().filename().string();
    if (entry.is_directory() && fs::exists(kSource + "/reference/" + folder))
      out.emplace_back(folder.substr(0, folder.find('-')), folder);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string lab_dir(const std::string& folder) { return kSource + "/labs/" + folder; }

// build.sources or build.headers of a lab.toml.
std::vector<std::string> build_files(const std::string& folder, const char* key) {
  std::vector<std::string> files;
  auto doc = toml::parse_file(lab_dir(folder) + "/lab.toml");
  if (auto* list = doc["build"][key].as_array())
    for (const auto& f : *list) files.push_back(f.value_or(std::string()));
  return files;
}

std::vector<std::string> tests_with_visibility(const std::string& folder, const std::string& visibility) {
  std::vector<std::string> names;
  auto doc = toml::parse_file(lab_dir(folder) + "/lab.toml");
  for (const auto& node : *doc["tests"].as_array()) {
    const auto& t = *node.as_table();
    if (t["visibility"].value_or(std::string("public")) == visibility) names.push_back(*t["name"].value<std::string>());
  }
  return names;
}

// Lines of the reference solution long enough to be distinctive and not given to students anyway
// (the skeleton and the header share some declarations with it).
std::vector<std::string> reference_only_lines(const std::string& folder) {
  std::string given;
  for (const auto& source : build_files(folder, "sources")) given += read_file(lab_dir(folder) + "/skeleton/" + source);
  for (const auto& header : build_files(folder, "headers")) given += read_file(lab_dir(folder) + "/" + header);
  std::vector<std::string> lines;
  for (const auto& source : build_files(folder, "sources")) {
    std::istringstream in(read_file(kSource + "/reference/" + folder + "/" + source));
    for (std::string line; std::getline(in, line);) {
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      line = line.substr(first);
      if (line.size() >= 30 && given.find(line) == std::string::npos) lines.push_back(line);
    }
  }
  return lines;
}

// One row of a README's rule table: the backticked test names of its "Tests" column (the second),
// or none for a rule only hidden tests check, which the table marks "(hidden)".
struct RuleRow {
  std::vector<std::string> tests;
  bool hidden = false;
};

// The cells of a table row "| a | b | c |"; "\|" inside a cell (`yes \| head`) is not a border.
std::vector<std::string> table_cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < row.size(); ++i) {  // row[0] is the leading '|'
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell += "\\|";
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return cells;
}

std::vector<std::string> backticked(const std::string& text) {
  std::vector<std::string> names;
  for (auto open = text.find('`'); open != std::string::npos; open = text.find('`', open)) {
    const auto close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    names.push_back(text.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return names;
}

// The rule table is the README's first table: its rows after the header and the |---| line.
std::vector<RuleRow> rule_table(const std::string& readme_path) {
  std::istringstream in(read_file(readme_path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind('|', 0) == 0) lines.push_back(line);
    else if (!lines.empty()) break;
  }
  std::vector<RuleRow> rows;
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const auto cells = table_cells(lines[i]);
    if (cells.size() < 2) continue;
    const std::string& tests = cells[1];
    rows.push_back({backticked(tests), tests.find("(hidden)") != std::string::npos});
  }
  return rows;
}

std::set<std::string> tests_named(const std::vector<RuleRow>& rows) {
  std::set<std::string> names;
  for (const auto& row : rows) names.insert(row.tests.begin(), row.tests.end());
  return names;
}

class Handout : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fs::temp_directory_path() / ("ipcg-handout-" + std::to_string(::getpid())); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string everything_written() {
    std::string all;
    for (const auto& entry : fs::recursive_directory_iterator(dir_))
      if (entry.is_regular_file()) all += entry.path().string() + "\n" + read_file(entry.path().string()) + "\n";
    return all;
  }
  fs::path dir_;
};

class LabHandout : public Handout, public ::testing::WithParamInterface<std::pair<std::string, std::string>> {
 protected:
  const std::string& lab() const { return GetParam().first; }
  const std::string& folder() const { return GetParam().second; }
};

TEST_P(LabHandout, HoldsWhatStudentsNeed) {
  auto run = run_grader({"handout", lab(), "--out", dir_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string dir = lab_dir(folder());
  for (const auto& source : build_files(folder(), "sources"))
    EXPECT_EQ(read_file((dir_ / source).string()), read_file(dir + "/skeleton/" + source)) << source;
  for (const auto& header : build_files(folder(), "headers"))
    EXPECT_EQ(read_file((dir_ / header).string()), read_file(dir + "/" + header)) << header;
  EXPECT_EQ(read_file((dir_ / "README.md").string()), read_file(dir + "/README.md"));
  EXPECT_EQ(read_file((dir_ / "README.ko.md").string()), read_file(dir + "/README.ko.md"));
  EXPECT_NE(run.out.find((dir_ / "README.ko.md").string()), std::string::npos) << run.out;
  auto toml = toml::parse_file((dir_ / "lab.toml").string());
  std::vector<std::string> listed;
  for (const auto& node : *toml["tests"].as_array()) listed.push_back(*(*node.as_table())["name"].value<std::string>());
  EXPECT_EQ(listed, tests_with_visibility(folder(), "public"));
}

TEST_P(LabHandout, RevealsNoHiddenTestNoReferenceAndNoGradingCode) {
  auto run = run_grader({"handout", lab(), "--out", dir_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string all = everything_written();
  const auto hidden = tests_with_visibility(folder(), "hidden");
  ASSERT_FALSE(hidden.empty());  // else this test proves nothing
  for (const auto& name : hidden) EXPECT_EQ(all.find(name), std::string::npos) << "hidden test " << name;
  const auto secret = reference_only_lines(folder());
  ASSERT_GE(secret.size(), 5u);
  for (const auto& line : secret) EXPECT_EQ(all.find(line), std::string::npos) << "reference line: " << line;
  EXPECT_EQ(all.find("reference/"), std::string::npos);
  EXPECT_EQ(all.find("IPCG_REGISTER_CHECK"), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    EXPECT_NE(entry.path().extension(), ".cpp") << entry.path();
    EXPECT_EQ(entry.path().string().find("grading"), std::string::npos) << entry.path();
  }
}

// Not lab1's files by name: whatever README*.md a lab folder holds is shipped, nothing else of it.
TEST_F(Handout, ShipsEveryReadmeOfTheLabFolder) {
  const fs::path lab_copy = dir_ / "labs" / "lab1-pipe";
  fs::create_directories(lab_copy.parent_path());
  fs::copy(kLab1, lab_copy, fs::copy_options::recursive);
  std::ofstream(lab_copy / "README.fr.md") << "# TP 1 : tubes anonymes\n";
  std::ofstream(lab_copy / "NOTES.md") << "not a handout\n";
  auto lab = ipcg::load_lab_spec(lab_copy / "lab.toml", kSource + "/reference");
  ASSERT_TRUE(lab) << lab.error().message;
  auto written = ipcg::write_handout(*lab, dir_ / "out");
  ASSERT_TRUE(written) << written.error().message;
  for (const char* name : {"README.md", "README.ko.md", "README.fr.md"}) {
    EXPECT_EQ(read_file((dir_ / "out" / name).string()), read_file((lab_copy / name).string())) << name;
    EXPECT_NE(std::find(written->begin(), written->end(), fs::path(name)), written->end()) << name;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out" / "NOTES.md"));
}

class HandoutReadmes : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
 protected:
  const std::string& folder() const { return GetParam().second; }
};

TEST_P(HandoutReadmes, KoreanRuleTableNamesTheSameTestsRowByRow) {
  const auto en = rule_table(lab_dir(folder()) + "/README.md");
  const auto ko = rule_table(lab_dir(folder()) + "/README.ko.md");
  ASSERT_GE(en.size(), 5u);  // else the table was not found and this test proves nothing
  EXPECT_EQ(tests_named(ko), tests_named(en));
  ASSERT_EQ(ko.size(), en.size()) << "the two rule tables have different numbers of rows";
  for (std::size_t i = 0; i < en.size(); ++i) {
    EXPECT_EQ(ko[i].tests, en[i].tests) << "row " << i + 1;
    EXPECT_EQ(ko[i].hidden, en[i].hidden) << "row " << i + 1;
  }
}

// Every public test of lab.toml is named in each README's table; a row names no other test (no
// hidden one, no stale name), and a row that names none is a rule of hidden tests only, "(hidden)".
TEST_P(HandoutReadmes, RuleTablesNameEveryPublicTestAndNoHiddenOne) {
  const auto public_tests = tests_with_visibility(folder(), "public");
  const std::set<std::string> public_set(public_tests.begin(), public_tests.end());
  const bool lab_has_hidden = !tests_with_visibility(folder(), "hidden").empty();
  for (const char* readme : {"README.md", "README.ko.md"}) {
    const auto rows = rule_table(lab_dir(folder()) + "/" + readme);
    const auto named = tests_named(rows);
    for (const auto& name : public_tests) EXPECT_TRUE(named.count(name)) << readme << " does not name " << name;
    for (const auto& name : named) EXPECT_TRUE(public_set.count(name)) << readme << " names " << name << ", not a public test";
    bool hidden_row = false;
    for (const auto& row : rows) {
      EXPECT_TRUE(!row.tests.empty() || row.hidden) << readme << ": a row names no test and is not \"(hidden)\"";
      hidden_row = hidden_row || row.hidden;
    }
    EXPECT_TRUE(lab_has_hidden || !hidden_row) << readme << " has a (hidden) row but lab.toml no hidden test";
  }
}

TEST_F(Handout, RefusesAFolderThatIsNotEmpty) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "old.txt") << "stale\n";
  auto run = run_grader({"handout", "lab1", "--out", dir_.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not empty"), std::string::npos) << run.err;
}

const auto lab_name = [](const auto& info) { return info.param.first; };
INSTANTIATE_TEST_SUITE_P(Labs, LabHandout, ::testing::ValuesIn(every_lab()), lab_name);
INSTANTIATE_TEST_SUITE_P(Labs, HandoutReadmes, ::testing::ValuesIn(every_lab()), lab_name);

}  // namespace
