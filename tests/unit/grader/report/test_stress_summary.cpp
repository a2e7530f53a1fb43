// `grader stress`'s tally over hand-built LabResults: counts per test, failing seeds in order, the
// first failure's message, medians, full marks per seed, and both writers' output.
#include "report/stress_summary.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace ipcg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TestResult test_result(std::string name, Status status, double seconds, std::string message = "") {
  TestResult t;
  t.name = std::move(name);
  t.status = status;
  t.max_score = 10;
  t.score = status == Status::passed ? 10 : 0;
  t.duration_seconds = seconds;
  t.message = std::move(message);
  t.schedule = "delays";
  return t;
}

LabResult lab_result(std::uint64_t seed, std::vector<TestResult> tests) {
  LabResult r;
  r.lab = "lab7-sem";
  r.submission = "tests/submissions/lab7/mutex_init_two";
  r.seed = seed;
  r.isolation.level = IsolationLevel::full;
  for (auto& t : tests) {
    r.max_score += t.max_score;
    r.score += t.score;
  }
  r.tests = std::move(tests);
  return r;
}

StressSummary three_seeds() {
  StressSummary s;
  s.add(lab_result(1, {test_result("mutual_exclusion", Status::failed, 0.4, "two inside at once\nevidence"),
                       test_result("no_lost_update", Status::passed, 1.0)}));
  s.add(lab_result(2, {test_result("mutual_exclusion", Status::passed, 1.2),
                       test_result("no_lost_update", Status::passed, 3.0)}));
  s.add(lab_result(3, {test_result("mutual_exclusion", Status::timeout, 0.8, "hung"),
                       test_result("no_lost_update", Status::skipped, 0)}));
  return s;
}

TEST(StressSummary, CountsEachTestAndTheSeedsWithFullMarks) {
  const StressSummary s = three_seeds();
  EXPECT_EQ(s.runs, 3);
  EXPECT_EQ(s.full_marks, 1);  // seed 3's skipped test does not count against it, its timeout does
  EXPECT_FALSE(s.all_passed());
  ASSERT_EQ(s.tests.size(), 2u);
  EXPECT_EQ(s.tests[0].name, "mutual_exclusion");
  EXPECT_EQ(s.tests[0].passed, 1);
  EXPECT_EQ(s.tests[0].not_passed, 2);
  EXPECT_THAT(s.tests[0].failing_seeds, ElementsAre(1, 3));
  EXPECT_EQ(s.tests[0].first_failure, "seed 1: failed: two inside at once");
  EXPECT_EQ(s.tests[1].passed, 2);
  EXPECT_EQ(s.tests[1].skipped, 1);
  EXPECT_EQ(s.schedule, "delays");
  EXPECT_THAT(s.seeds, ElementsAre(1, 2, 3));
}

TEST(StressSummary, MedianOfOddEvenAndEmpty) {
  EXPECT_DOUBLE_EQ(median_of({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median_of({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median_of({}), 0);
}

TEST(StressSummary, AllPassedOnlyWhenEverySeedHadFullMarks) {
  StressSummary s;
  s.add(lab_result(7, {test_result("a", Status::passed, 1)}));
  s.add(lab_result(8, {test_result("a", Status::passed, 1)}));
  EXPECT_TRUE(s.all_passed());
}

TEST(StressSummary, TextNamesRangeCountsMediansAndFirstFailure) {
  std::ostringstream out;
  write_stress_text(three_seeds(), out);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("lab7-sem: tests/submissions/lab7/mutex_init_two under seeds 1..3 (3 runs), "
                              "isolation full, schedule delays"));
  EXPECT_THAT(text, HasSubstr("mutual_exclusion"));
  EXPECT_THAT(text, HasSubstr("1/3"));   // passed
  EXPECT_THAT(text, HasSubstr("2/3"));   // not passed
  EXPECT_THAT(text, HasSubstr("600 ms"));  // median of the failing runs 0.4 and 0.8
  EXPECT_THAT(text, HasSubstr("1 3"));   // failing seeds
  EXPECT_THAT(text, HasSubstr("full marks under 1 of 3 seeds"));
  EXPECT_THAT(text, HasSubstr("first failure of mutual_exclusion: seed 1: failed: two inside at once"));
}

TEST(StressSummary, JsonCarriesTheSameFigures) {
  std::ostringstream out;
  write_stress_json(three_seeds(), out);
  const auto doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc["runs"], 3);
  EXPECT_EQ(doc["full_marks"], 1);
  EXPECT_EQ(doc["tests"][0]["failing_seeds"], nlohmann::json({1, 3}));
  EXPECT_DOUBLE_EQ(doc["tests"][0]["median_fail_seconds"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(doc["tests"][1]["median_pass_seconds"].get<double>(), 2.0);
}

TEST(StressSummary, ASeedLineNamesEveryTestThatDidNotPass) {
  const auto r = lab_result(1, {test_result("mutual_exclusion", Status::failed, 0.4, "two inside at once\nmore"),
                                test_result("no_lost_update", Status::passed, 1.0)});
  EXPECT_EQ(stress_seed_line(r), "seed 1: 10/20; mutual_exclusion failed: two inside at once");
}

}  // namespace
}  // namespace ipcg
