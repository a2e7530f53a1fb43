// `grader handout lab1 --out DIR`: what students receive holds the skeleton, headers, README and
// the public tests, and nothing secret: no hidden test's name, no line of the reference solution,
// none of the grading code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::read_file;
using ipcg::testing::kSource;
using ipcg::testing::run_grader;

namespace {

const std::string kLab = kSource + "/labs/lab1-pipe";

std::vector<std::string> tests_with_visibility(const std::string& visibility) {
  std::vector<std::string> names;
  auto doc = toml::parse_file(kLab + "/lab.toml");
  for (const auto& node : *doc["tests"].as_array()) {
    const auto& t = *node.as_table();
    if (t["visibility"].value_or(std::string("public")) == visibility) names.push_back(*t["name"].value<std::string>());
  }
  return names;
}

// Lines of the reference solution long enough to be distinctive and not given to students anyway
// (the skeleton and the header share some declarations with it).
std::vector<std::string> reference_only_lines() {
  const std::string given = read_file(kLab + "/skeleton/pipeline.c") + read_file(kLab + "/include/pipeline.h");
  std::istringstream in(read_file(kSource + "/reference/lab1-pipe/pipeline.c"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    if (line.size() >= 30 && given.find(line) == std::string::npos) lines.push_back(line);
  }
  return lines;
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

TEST_F(Handout, HoldsWhatStudentsNeed) {
  auto run = run_grader({"handout", "lab1", "--out", dir_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(read_file((dir_ / "pipeline.c").string()), read_file(kLab + "/skeleton/pipeline.c"));
  EXPECT_EQ(read_file((dir_ / "include/pipeline.h").string()), read_file(kLab + "/include/pipeline.h"));
  EXPECT_EQ(read_file((dir_ / "README.md").string()), read_file(kLab + "/README.md"));
  auto toml = toml::parse_file((dir_ / "lab.toml").string());
  std::vector<std::string> listed;
  for (const auto& node : *toml["tests"].as_array()) listed.push_back(*(*node.as_table())["name"].value<std::string>());
  EXPECT_EQ(listed, tests_with_visibility("public"));
}

TEST_F(Handout, RevealsNoHiddenTestNoReferenceAndNoGradingCode) {
  auto run = run_grader({"handout", "lab1", "--out", dir_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string all = everything_written();
  const auto hidden = tests_with_visibility("hidden");
  ASSERT_FALSE(hidden.empty());  // else this test proves nothing
  for (const auto& name : hidden) EXPECT_EQ(all.find(name), std::string::npos) << "hidden test " << name;
  const auto secret = reference_only_lines();
  ASSERT_GE(secret.size(), 5u);
  for (const auto& line : secret) EXPECT_EQ(all.find(line), std::string::npos) << "reference line: " << line;
  EXPECT_EQ(all.find("reference/"), std::string::npos);
  EXPECT_EQ(all.find("IPCG_REGISTER_CHECK"), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    EXPECT_NE(entry.path().extension(), ".cpp") << entry.path();
    EXPECT_EQ(entry.path().string().find("grading"), std::string::npos) << entry.path();
  }
}

TEST_F(Handout, RefusesAFolderThatIsNotEmpty) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "old.txt") << "stale\n";
  auto run = run_grader({"handout", "lab1", "--out", dir_.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not empty"), std::string::npos) << run.err;
}

}  // namespace
