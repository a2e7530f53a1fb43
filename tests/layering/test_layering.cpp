// The layering check on hand-written trees: each rule of docs/architecture.md is broken once and
// must be reported, and the real rules file accepts the real tree (that run is ctest "layering").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "layering.hpp"

namespace ipcg::layering {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const std::string kRulesFile = std::string(IPCG_SOURCE_DIR) + "/tests/layering/rules.toml";

Rules real_rules() {
  auto rules = load_rules(kRulesFile);
  EXPECT_TRUE(rules.has_value()) << rules.error().message;
  return *rules;
}

// A tree shaped like ours, in which every include is allowed.
SourceTree allowed_tree() {
  return {
      {"harness/include/harness/core/error.hpp", "#pragma once\n#include <string>\n"},
      {"harness/include/harness/core/result.hpp", "#pragma once\n"},
      {"harness/include/harness/proc/proc_inspector.hpp", "#include \"harness/core/error.hpp\"\n"},
      {"harness/proc/proc_inspector.cpp", "#include \"harness/proc/proc_inspector.hpp\"\n#include \"parse.hpp\"\n"},
      {"harness/proc/parse.hpp", "#pragma once\n"},
      {"harness/include/harness/sandbox/sandbox.hpp", "#include \"harness/core/error.hpp\"\n"},
      {"harness/sandbox/sandbox.cpp", "#include \"harness/sandbox/sandbox.hpp\"\n#include \"keeper_protocol.hpp\"\n"
                                      "#include \"harness/proc/proc_inspector.hpp\"\n"},
      {"harness/keeper/keeper_protocol.hpp", "#include <linux/types.h>\n"},
      {"harness/keeper/keeper.cpp", "#include \"keeper_protocol.hpp\"\n"},
      {"grader/report/text_report.cpp", "#include \"report/text_report.hpp\"\n#include \"harness/core/result.hpp\"\n"},
      {"grader/report/text_report.hpp", "#pragma once\n"},
      {"grader/cli.cpp", "#include \"harness/sandbox/sandbox.hpp\"\n#include \"report/text_report.hpp\"\n"},
      {"labs/lab1-pipe/include/pipeline.h", "#include <stddef.h>\n"},
      {"labs/lab1-pipe/grading/checks.cpp", "#include \"harness/sandbox/sandbox.hpp\"\n#include \"common.hpp\"\n"},
      {"labs/lab1-pipe/grading/common.hpp", "#pragma once\n"},
      {"labs/lab1-pipe/grading/drivers/driver.c", "#include \"pipeline.h\"\n"},
      {"labs/lab1-pipe/skeleton/pipeline.c", "#include \"pipeline.h\"\n"},
      {"reference/lab1-pipe/pipeline.c", "#include \"pipeline.h\"\n"},
      {"tests/submissions/lab1/late_close/pipeline.c", "#include \"pipeline.h\"\n"},
      {"tests/unit/test_cgroup.cpp", "#include \"../../harness/sandbox/sandbox.cpp\"\n"},
  };
}

// The one violation a single added or changed file causes.
std::vector<Violation> with(const std::string& file, const std::string& text) {
  SourceTree tree = allowed_tree();
  tree[file] = text;
  return check_layering(real_rules(), tree);
}

TEST(Layering, AnAllowedTreePasses) { EXPECT_THAT(check_layering(real_rules(), allowed_tree()), IsEmpty()); }

TEST(Layering, HarnessMustNotIncludeTheGrader) {
  const auto found = with("harness/sandbox/sandbox.cpp", "#include \"report/text_report.hpp\"\n");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0].file, "harness/sandbox/sandbox.cpp");
  EXPECT_EQ(found[0].line, 1);
  EXPECT_THAT(found[0].message, HasSubstr("grader/report/text_report.hpp, a file of grader_report"));
}

TEST(Layering, HarnessMustNotIncludeTheGraderByRelativePath) {
  const auto found = with("harness/proc/proc_inspector.cpp", "\n\n#include \"../../grader/cli.cpp\"\n");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0].line, 3);
  EXPECT_THAT(found[0].message, HasSubstr("a file of grader_cli"));
}

TEST(Layering, ProcMustNotIncludeSandbox) {
  const auto found = with("harness/proc/proc_inspector.cpp", "#include \"harness/sandbox/sandbox.hpp\"\n");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_THAT(found[0].message, HasSubstr("harness_proc may include only harness_core"));
  EXPECT_THAT(found[0].message, HasSubstr("never starts or isolates"));
}

TEST(Layering, AModuleMustNotIncludeAnotherModulesPrivateHeader) {
  const auto found = with("harness/sandbox/sandbox.cpp", "#include \"../proc/parse.hpp\"\n");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_THAT(found[0].message, HasSubstr("what harness_proc offers others is harness/include/harness/proc/**"));
}

TEST(Layering, AReportWriterSeesOnlyTheResultModel) {
  EXPECT_THAT(with("grader/report/json_report.cpp", "#include \"harness/core/result.hpp\"\n"), IsEmpty());
  const auto found = with("grader/report/json_report.cpp", "#include \"harness/sandbox/sandbox.hpp\"\n");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_THAT(found[0].message, HasSubstr("report writers see only the result model"));
}

TEST(Layering, LabGradingReachesOnlyPublicHarnessHeaders) {
  const auto found = with("labs/lab1-pipe/grading/checks.cpp", "#include \"../../../harness/proc/parse.hpp\"\n");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_THAT(found[0].message, HasSubstr("a file of harness_proc"));
  EXPECT_THAT(found[0].message, HasSubstr("only the harness's public headers"));
}

TEST(Layering, ALabMustNotReachIntoAnotherLab) {
  SourceTree tree = allowed_tree();
  tree["labs/lab2-fifo/include/fifo.h"] = "";
  tree["labs/lab2-fifo/grading/checks.cpp"] = "#include \"../../lab1-pipe/grading/common.hpp\"\n";
  const auto found = check_layering(real_rules(), tree);
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_THAT(found[0].message, HasSubstr("a file of lab_grading (lab1-pipe); lab_grading (lab2-fifo)"));
}

TEST(Layering, StudentCodeMustNotIncludeTrustedCode) {
  const auto from_reference = with("reference/lab1-pipe/pipeline.c", "#include \"../../labs/lab1-pipe/grading/common.hpp\"\n");
  ASSERT_THAT(from_reference, SizeIs(1));
  EXPECT_THAT(from_reference[0].message, HasSubstr("never trusted grading code"));
  EXPECT_THAT(with("labs/lab1-pipe/skeleton/pipeline.c", "#include \"harness/core/error.hpp\"\n"), SizeIs(1));
  EXPECT_THAT(with("tests/submissions/lab1/late_close/pipeline.c", "#include \"harness/core/error.hpp\"\n"), SizeIs(1));
}

TEST(Layering, CommentedOutIncludesAreNotIncludes) {
  EXPECT_THAT(with("harness/proc/proc_inspector.cpp",
                   "// #include \"harness/sandbox/sandbox.hpp\"\n/*\n#include \"harness/sandbox/sandbox.hpp\"\n*/\n"),
              IsEmpty());
}

TEST(Layering, AFileOfNoPartIsReported) {
  const auto found = with("harness/syncheck/checker.cpp", "");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0].file, "harness/syncheck/checker.cpp");
  EXPECT_THAT(found[0].message, HasSubstr("belongs to no part"));
}

TEST(Layering, GlobsCaptureTheLab) {
  std::optional<std::string> lab;
  EXPECT_TRUE(glob_match("labs/{lab}/grading/**", "labs/lab3-mq/grading/tools/x.c", &lab));
  EXPECT_EQ(lab, "lab3-mq");
  EXPECT_TRUE(glob_match("grader/*.cpp", "grader/cli.cpp"));
  EXPECT_FALSE(glob_match("grader/*.cpp", "grader/report/text_report.cpp"));
  EXPECT_TRUE(glob_match("harness/core/**", "harness/core/error.cpp"));
  EXPECT_FALSE(glob_match("harness/core/**", "harness/corex/error.cpp"));
}

TEST(Layering, MalformedRulesNameTheFileLineAndKey) {
  auto bad = parse_rules("[[part]]\nname = \"x\"\nfiles = \"harness/**\"\n", "rules.toml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("rules.toml:3:"));
  EXPECT_THAT(bad.error().message, HasSubstr("key 'files'"));
  auto unknown = parse_rules("[[part]]\nname = \"x\"\nfiles = [\"a/**\"]\nmay_include = [\"nosuch\"]\n", "rules.toml");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message, HasSubstr("'nosuch', which is no part"));
}

}  // namespace
}  // namespace ipcg::layering
