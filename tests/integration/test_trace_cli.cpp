// `grader run --trace-out DIR`: a failed ordering test leaves a Perfetto trace of what the grader
// saw (valid trace-event JSON, one flow per delivered message, the violation marked) and the
// text report says where it is; a passing test leaves none.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::kSource;
using ipcg::testing::run_grader;
using Json = nlohmann::json;

namespace {


class TraceOut : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fs::temp_directory_path() / ("ipcg-trace-cli-" + std::to_string(::getpid())); }
  void TearDown() override { fs::remove_all(dir_); }
  ipcg::testing::GraderRun grade(const std::string& submission) {
    return run_grader({"run", "lab1", "--submission", submission, "--only", "strict_alternation",
                       "--trace-out", dir_.string(), "--seed", "7"});
  }
  fs::path dir_;
};

std::map<long, int> count_ids(const Json& doc, const std::string& ph) {
  std::map<long, int> ids;
  for (const auto& e : doc.at("traceEvents"))
    if (e.at("ph") == ph) ++ids[e.at("id").get<long>()];
  return ids;
}

TEST_F(TraceOut, FailedAlternationWritesAPerfettoTraceAndTheReportNamesIt) {
  auto run = grade(kSource + "/tests/submissions/lab1/no_alternation");
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
  const fs::path file = dir_ / "strict_alternation.trace.json";
  ASSERT_TRUE(fs::exists(file)) << run.out;
  EXPECT_NE(run.out.find("trace: " + file.string()), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("https://ui.perfetto.dev"), std::string::npos) << run.out;

  const Json doc = Json::parse(ipcg::testing::read_file(file.string()));
  ASSERT_TRUE(doc.at("traceEvents").is_array());
  // One flow per delivered message: every flow id starts once and ends once.
  const auto starts = count_ids(doc, "s");
  const auto ends = count_ids(doc, "f");
  EXPECT_EQ(starts, ends);
  EXPECT_GE(starts.size(), 2u);  // at least request 1 and reply 1
  for (const auto& [id, n] : starts) EXPECT_EQ(n, 1) << "flow " << id;
  int violations = 0, names = 0;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == "i" && e.at("cat") == "violation") ++violations;
    if (e.at("ph") == "M") ++names;
    if (e.at("ph") == "X") {
      EXPECT_GE(e.at("dur").get<long>(), 1);
    }
  }
  EXPECT_GE(violations, 1);
  EXPECT_EQ(names, 2);  // parent and responder tracks
}

TEST_F(TraceOut, PassingTestWritesNoTrace) {
  auto run = grade(kSource + "/reference/lab1-pipe");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_FALSE(fs::exists(dir_ / "strict_alternation.trace.json"));
  EXPECT_EQ(run.out.find("trace:"), std::string::npos) << run.out;
}

// A message-queue lab's ordering test draws the trusted message log: a producer that sends every
// job with priority 0 leaves a trace with a flow from each send to its receive and the priority
// inversion marked.
TEST_F(TraceOut, FailedPriorityOrderDrawsTheMessageLog) {
  auto run = run_grader({"run", "lab3", "--submission", kSource + "/tests/submissions/lab3/all_priority_zero", "--only",
                         "priority_order_student_producer", "--trace-out", dir_.string(), "--seed", "7"});
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
  const fs::path file = dir_ / "priority_order_student_producer.trace.json";
  ASSERT_TRUE(fs::exists(file)) << run.out;
  const Json doc = Json::parse(ipcg::testing::read_file(file.string()));
  const auto starts = count_ids(doc, "s");
  EXPECT_EQ(starts, count_ids(doc, "f"));
  EXPECT_GE(starts.size(), 4u);  // a flow per job the reference worker received
  int violations = 0;
  for (const auto& e : doc.at("traceEvents"))
    if (e.at("ph") == "i" && e.at("cat") == "violation") ++violations;
  EXPECT_GE(violations, 1);
}

}  // namespace
