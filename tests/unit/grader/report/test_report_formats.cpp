// The course platforms' report formats (gradescope, prairielearn, autolab, junit, tap, github)
// and the dispatcher, over the same hand-built results as test_report.cpp: a golden file per
// format, then what a golden file cannot show: each platform's field list and types, the JUnit
// XSD (validated by xmllint, a real process), PrairieLearn's 1 MB limit, Autolab's last line,
// the TAP plan, and that student text cannot issue GitHub workflow commands.
//
// Regenerate the goldens after an intended change, then review the diff:
//   IPCG_UPDATE_GOLDEN=1 ./test_report_formats && git diff tests/unit/data/report
#include "report/autolab_report.hpp"
#include "report/formats.hpp"
#include "report/github_report.hpp"
#include "report/gradescope_report.hpp"
#include "report/gradescope_setup.hpp"
#include "report/junit_report.hpp"
#include "report/prairielearn_report.hpp"
#include "report/sanitize.hpp"
#include "report/tap_report.hpp"
#include "report_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace ipcg {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace report_fixture;
using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::uint64_t kNonce = 7;  // fixed, so the github goldens are stable

const Status kAllStatuses[] = {Status::passed,       Status::failed,  Status::timeout,
                               Status::crashed,      Status::killed_by_filter,
                               Status::build_failed, Status::skipped, Status::error};

template <class Options>
std::string written(void (*writer)(const LabResult&, std::ostream&, const Options&),
                    const LabResult& r, const Options& options = {}) {
  std::ostringstream os;
  writer(r, os, options);
  return os.str();
}

std::string report(std::string_view format, const LabResult& r, ReportOptions options = {}) {
  std::ostringstream os;
  EXPECT_TRUE(write_report(format, r, options, os).has_value()) << format;
  return os.str();
}

std::set<std::string> keys_of(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

using ipcg::testing::TempDir;

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// A word for sh: the checkout may sit under a path with spaces or quotes in it.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// --- golden files ---------------------------------------------------------------------------

TEST(FormatGolden, Gradescope) {
  expect_golden("gradescope.json", written(write_gradescope_report, mixed_result()));
  expect_golden("gradescope_build_failed.json",
                written(write_gradescope_report, build_failed_result()));
}

TEST(FormatGolden, PrairieLearn) {
  expect_golden("prairielearn.json", written(write_prairielearn_report, mixed_result()));
  expect_golden("prairielearn_build_failed.json",
                written(write_prairielearn_report, build_failed_result()));
}

TEST(FormatGolden, Autolab) {
  expect_golden("autolab.txt", written(write_autolab_report, mixed_result()));
}

TEST(FormatGolden, Junit) {
  expect_golden("junit.xml", written(write_junit_report, mixed_result()));
  expect_golden("junit_build_failed.xml", written(write_junit_report, build_failed_result()));
}

TEST(FormatGolden, Tap) {
  expect_golden("tap.txt", written(write_tap_report, mixed_result()));
  expect_golden("tap_build_failed.txt", written(write_tap_report, build_failed_result()));
}

TEST(FormatGolden, Github) {
  const GithubOptions options{.nonce = kNonce};
  expect_golden("github.txt", written(write_github_report, mixed_result(), options));
  expect_golden("github_build_failed.txt",
                written(write_github_report, build_failed_result(), options));
  expect_golden("github_summary.md", github_summary(mixed_result(), options));
  expect_golden("github_summary_build_failed.md", github_summary(build_failed_result(), options));
}

// --- the dispatcher -------------------------------------------------------------------------

TEST(Dispatcher, ListsEveryFormatWithTextFirst) {
  EXPECT_THAT(report_formats(), ElementsAre("text", "json", "gradescope", "prairielearn",
                                            "autolab", "junit", "tap", "github"));
}

TEST(Dispatcher, WritesWhatEachWriterWrites) {
  const LabResult r = mixed_result();
  ReportOptions options;
  options.github.nonce = kNonce;
  EXPECT_EQ(report("gradescope", r, options), written(write_gradescope_report, r));
  EXPECT_EQ(report("prairielearn", r, options), written(write_prairielearn_report, r));
  EXPECT_EQ(report("autolab", r, options), written(write_autolab_report, r));
  EXPECT_EQ(report("junit", r, options), written(write_junit_report, r));
  EXPECT_EQ(report("tap", r, options), written(write_tap_report, r));
  EXPECT_EQ(report("github", r, options),
            written(write_github_report, r, GithubOptions{.nonce = kNonce}));
  EXPECT_EQ(report("json", r, options), read_file(kGoldenDir + "report.json"));
  EXPECT_EQ(report("text", r, options), read_file(kGoldenDir + "text_plain.txt"));
}

TEST(Dispatcher, UnknownFormatIsAUsageErrorAndWritesNothing) {
  std::ostringstream os;
  const auto written = write_report("xml", mixed_result(), {}, os);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, Errc::usage);
  EXPECT_THAT(written.error().message, AllOf(HasSubstr("'xml'"), HasSubstr("junit")));
  EXPECT_TRUE(os.str().empty());
}

TEST(Dispatcher, CommonOptionsOverrideTheFormatsOwn) {
  ReportOptions options{.verbose = true, .show_hidden_details = true, .json_indent = -1};
  options.gradescope.show_hidden_details = false;
  const std::string gradescope = report("gradescope", mixed_result(), options);
  EXPECT_THAT(gradescope, HasSubstr("SECRET-MESSAGE"));
  EXPECT_THAT(gradescope, HasSubstr("SECRET-PASS-OUTPUT"));  // verbose: passed tests' output
  EXPECT_EQ(std::count(gradescope.begin(), gradescope.end(), '\n'), 1);  // one line + newline
}

TEST(Dispatcher, GithubSummaryGoesWhereAsked) {
  std::ostringstream summary;
  ReportOptions options;
  options.github.nonce = kNonce;
  options.github_summary = &summary;
  report("github", mixed_result(), options);
  EXPECT_EQ(summary.str(), github_summary(mixed_result(), {.nonce = kNonce}));
  report("junit", mixed_result(), options);  // other formats leave it alone
  EXPECT_EQ(summary.str(), github_summary(mixed_result(), {.nonce = kNonce}));
}

// --lang changes the human text report only (docs/i18n.md): every other format, the platforms'
// embedded text reports (Autolab, GitHub) included, is byte-identical in every language, and
// JSON and JUnit equal the golden files written before there were languages.
TEST(Dispatcher, OnlyTheTextReportHasALanguage) {
  LabText korean;
  korean.title = "익명 파이프: 파이프라인과 양방향 대화";
  korean.mechanism = "익명 파이프";
  korean.tests["pipe_ends_closed"] = {"쓰지 않는 파이프 끝", "쓰지 않는 파이프 끝을 닫음"};
  korean.tests["pipeline_two_stages"] = {"두 단계 파이프라인", "출력이 기준 구현과 같음"};
  for (const LabResult& r : {mixed_result(), build_failed_result()}) {
    std::ostringstream english_summary;
    ReportOptions english;
    english.github.nonce = kNonce;
    english.github_summary = &english_summary;
    std::map<std::string_view, std::string> expected;
    for (std::string_view format : report_formats()) expected[format] = report(format, r, english);
    for (Lang lang : report_languages()) {
      std::ostringstream summary;
      ReportOptions options = english;
      options.lang = lang;
      options.lab_text = korean;
      options.github_summary = &summary;
      for (std::string_view format : report_formats()) {
        if (format == "text") continue;
        EXPECT_EQ(report(format, r, options), expected[format]) << format << " in " << to_string(lang);
      }
      EXPECT_EQ(summary.str(), github_summary(r, {.nonce = kNonce})) << to_string(lang);
    }
  }
  ReportOptions ko{.lang = Lang::ko, .lab_text = korean};
  EXPECT_EQ(report("json", mixed_result(), ko), read_file(kGoldenDir + "report.json"));
  EXPECT_EQ(report("junit", mixed_result(), ko), read_file(kGoldenDir + "junit.xml"));
  EXPECT_EQ(report("junit", build_failed_result(), ko), read_file(kGoldenDir + "junit_build_failed.xml"));
  EXPECT_NE(report("text", mixed_result(), ko), read_file(kGoldenDir + "text_plain.txt"));
}

TEST(Dispatcher, EveryFormatWithholdsHiddenDetailsUnlessAsked) {
  for (std::string_view format : report_formats()) {
    ReportOptions options{.verbose = true};
    EXPECT_THAT(report(format, mixed_result(), options), Not(HasSubstr("SECRET"))) << format;
    options.show_hidden_details = true;
    EXPECT_THAT(report(format, mixed_result(), options), HasSubstr("SECRET-MESSAGE")) << format;
  }
}

TEST(Dispatcher, EveryFormatIsDocumented) {
  const std::string doc = read_file(std::string(IPCG_SOURCE_DIR) + "/docs/report-format.md");
  for (std::string_view format : report_formats())
    EXPECT_NE(doc.find("`--format " + std::string(format) + "`"), std::string::npos) << format;
}

// --- Gradescope -----------------------------------------------------------------------------

const std::set<std::string> kGradescopeVisibilities = {"hidden", "after_due_date",
                                                       "after_published", "visible"};

void expect_gradescope_test(const Json& t, const TestResult& source, std::size_t number) {
  EXPECT_EQ(keys_of(t), (std::set<std::string>{"name", "number", "score", "max_score", "status",
                                               "output", "tags", "visibility"}));
  EXPECT_TRUE(t["name"].is_string() && t["output"].is_string());
  EXPECT_EQ(t["number"], std::to_string(number));
  EXPECT_TRUE(t["score"].is_number() && t["max_score"].is_number());
  EXPECT_EQ(t["score"].get<double>(), source.score);
  EXPECT_EQ(t["status"], source.status == Status::passed ? "passed" : "failed");
  ASSERT_TRUE(t["tags"].is_array());
  for (const Json& tag : t["tags"]) EXPECT_TRUE(tag.is_string());
  EXPECT_EQ(t["tags"].back(), to_string(source.status));
  EXPECT_EQ(kGradescopeVisibilities.count(t["visibility"].get<std::string>()), 1u);
}

TEST(Gradescope, FieldsAndTypesFollowTheSpec) {
  const LabResult r = mixed_result();
  for (const LabResult& result : {r, build_failed_result()}) {
    const Json doc = Json::parse(gradescope_report(result));
    EXPECT_EQ(keys_of(doc), (std::set<std::string>{"score", "execution_time", "output",
                                                   "output_format", "visibility",
                                                   "stdout_visibility", "tests"}));
    EXPECT_EQ(doc["score"].get<double>(), result.score);
    EXPECT_TRUE(doc["execution_time"].is_number_integer());
    EXPECT_TRUE(doc["output"].is_string());
    EXPECT_EQ(doc["output_format"], "text");
    EXPECT_EQ(doc["visibility"], "visible");
    EXPECT_EQ(doc["stdout_visibility"], "hidden");
    ASSERT_EQ(doc["tests"].size(), result.tests.size());
    for (std::size_t i = 0; i < result.tests.size(); ++i)
      expect_gradescope_test(doc["tests"][i], result.tests[i], i + 1);
  }
}

TEST(Gradescope, HiddenTestsAreAfterPublishedByDefaultAndConfigurable) {
  const Json by_default = Json::parse(gradescope_report(mixed_result()));
  EXPECT_EQ(by_default["tests"][0]["visibility"], "visible");
  EXPECT_EQ(by_default["tests"][5]["visibility"], "after_published");
  EXPECT_EQ(by_default["tests"][5]["output"],
            "failed: output equals the reference's\n(hidden test: details withheld)");
  const Json hidden = Json::parse(gradescope_report(
      mixed_result(), {.hidden_test_visibility = GradescopeVisibility::hidden}));
  EXPECT_EQ(hidden["tests"][5]["visibility"], "hidden");
  EXPECT_EQ(hidden["tests"][0]["visibility"], "visible");
  for (std::string_view name : kGradescopeVisibilities)
    EXPECT_EQ(to_string(*parse_gradescope_visibility(name)), name);
  EXPECT_FALSE(parse_gradescope_visibility("public"));
}

TEST(Gradescope, LeaderboardOnlyWhenGiven) {
  GradescopeOptions options;
  options.leaderboard = {{"Throughput (msg/s)", 18250.5, "desc"},
                         {"Stars", std::string("***"), ""}};
  const Json doc = Json::parse(gradescope_report(mixed_result(), options));
  ASSERT_TRUE(doc["leaderboard"].is_array());
  EXPECT_EQ(doc["leaderboard"][0], (Json{{"name", "Throughput (msg/s)"}, {"value", 18250.5},
                                         {"order", "desc"}}));
  EXPECT_EQ(doc["leaderboard"][1], (Json{{"name", "Stars"}, {"value", "***"}}));
}

TEST(Gradescope, OutputIsMessageAndEvidenceSanitized) {
  LabResult r = mixed_result();
  r.tests[1].message = "bad \x1b[31mred\xff";
  const Json doc = Json::parse(gradescope_report(r));
  EXPECT_EQ(doc["tests"][1]["output"],
            "failed: unused pipe ends closed\nbad \\x1b[31mred\xef\xbf\xbd\n"
            "pid 412 fd 4 -> pipe:[31337] (write end)\n"
            "pid 413 blocked in read(3) for 2.0 s: the EOF never came\noutput:\n| reading...");
  EXPECT_EQ(doc["tests"][0]["output"], "");  // passed, not verbose
  EXPECT_EQ(doc["execution_time"], 4);       // 3.24 s, rounded up
}

// --- Gradescope setup -----------------------------------------------------------------------

// The packages .ci/install-deps.sh installs for grading, or with --tests, as it lists them.
std::vector<std::string> ci_packages(bool tests) {
  const CommandResult listed = run_command(quoted(std::string(IPCG_SOURCE_DIR) + "/.ci/install-deps.sh") + " --list" +
                                           (tests ? " --tests" : ""));
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  std::istringstream words(listed.output);
  std::vector<std::string> packages;
  for (std::string word; words >> word;) packages.push_back(word);
  return packages;
}

// The autograder image installs what grading needs, and nothing the tests alone need.
TEST(GradescopeSetup, InstallsWhatCiInstallsToGrade) {
  const auto setup = gradescope_setup("lab3");
  ASSERT_TRUE(setup.has_value());
  const std::vector<std::string> grading = ci_packages(false);
  const std::vector<std::string> all = ci_packages(true);
  ASSERT_GE(grading.size(), 10u);
  ASSERT_GT(all.size(), grading.size());
  const auto apt_line = setup->setup_sh.substr(setup->setup_sh.find("install --no-install"));
  const std::string line = apt_line.substr(0, apt_line.find('\n')) + " ";
  for (const std::string& p : all) {
    const bool wanted = std::find(grading.begin(), grading.end(), p) != grading.end();
    EXPECT_EQ(line.find(" " + p + " ") != std::string::npos, wanted) << p;
  }
  EXPECT_THAT(setup->setup_sh, HasSubstr("--target grader"));
  EXPECT_THAT(setup->setup_sh, HasSubstr("cmake -S /autograder/source -B /autograder/build"));
  EXPECT_THAT(setup->run_autograder,
              AllOf(HasSubstr("grader run 'lab3' --submission /autograder/submission "
                              "--format gradescope"),
                    HasSubstr("> /autograder/results/results.json")));
}

TEST(GradescopeSetup, ScriptsAreValidBash) {
  const auto setup = gradescope_setup("lab1");
  ASSERT_TRUE(setup.has_value());
  TempDir dir{"ipcg-formats"};
  for (const auto& [name, text] : {std::pair{"setup.sh", setup->setup_sh},
                                   std::pair{"run_autograder", setup->run_autograder}}) {
    write_file(dir.path() / name, text);
    EXPECT_THAT(text, StartsWith("#!/usr/bin/env bash\n"));
    const CommandResult check = run_command("bash -n " + quoted((dir.path() / name).string()));
    EXPECT_EQ(check.exit_code, 0) << name << ": " << check.output;
  }
}

// Runs run_autograder with /autograder moved to a temporary folder and a stand-in grader that
// prints its arguments and exits with `code`; returns the script's exit code.
int run_autograder_with_grader_exiting(int code, const fs::path& root) {
  std::string script = gradescope_setup("lab1")->run_autograder;
  for (auto at = script.find("/autograder"); at != std::string::npos;
       at = script.find("/autograder", at + root.string().size() + 11))
    script.replace(at, 11, root.string() + "/autograder");
  fs::create_directories(root / "autograder/build/bin");
  write_file(root / "autograder/build/bin/grader",
             "#!/bin/sh\necho \"{\\\"args\\\": \\\"$*\\\"}\"\nexit " + std::to_string(code) + "\n");
  fs::permissions(root / "autograder/build/bin/grader", fs::perms::owner_all);
  write_file(root / "run_autograder", script);
  return run_command("bash " + quoted((root / "run_autograder").string())).exit_code;
}

TEST(GradescopeSetup, RunAutograderKeepsGradesAndDropsFailedRuns) {
  for (int code : {0, 1}) {
    TempDir dir{"ipcg-formats"};
    EXPECT_EQ(run_autograder_with_grader_exiting(code, dir.path()), 0) << code;
    const Json results = Json::parse(read_file(dir.path() / "autograder/results/results.json"));
    EXPECT_EQ(results["args"], "run lab1 --submission " + dir.path().string() +
                                   "/autograder/submission --format gradescope");
  }
  for (int code : {2, 3}) {
    TempDir dir{"ipcg-formats"};
    EXPECT_EQ(run_autograder_with_grader_exiting(code, dir.path()), code);
    EXPECT_FALSE(fs::exists(dir.path() / "autograder/results/results.json")) << code;
  }
}

TEST(GradescopeSetup, RefusesLabIdsThatAreNotPlainWords) {
  for (const char* bad : {"", "lab1; rm -rf /", "lab'1", "$(id)", "-lab", "lab 1", "lab\n1"}) {
    const auto setup = gradescope_setup(bad);
    ASSERT_FALSE(setup.has_value()) << bad;
    EXPECT_EQ(setup.error().code, Errc::usage);
  }
  EXPECT_TRUE(gradescope_setup("lab3-mq_v2.1").has_value());
}

// --- PrairieLearn ---------------------------------------------------------------------------

void expect_prairielearn_fields(const Json& doc, bool gradable) {
  std::set<std::string> expected = {"gradable", "score", "message", "output", "tests"};
  if (!gradable) expected.insert("format_errors");
  EXPECT_EQ(keys_of(doc), expected);
  EXPECT_EQ(doc["gradable"], gradable);
  EXPECT_TRUE(doc["score"].is_number());
  EXPECT_GE(doc["score"].get<double>(), 0.0);
  EXPECT_LE(doc["score"].get<double>(), 1.0);
  EXPECT_TRUE(doc["message"].is_string() && doc["output"].is_string());
  ASSERT_TRUE(doc["tests"].is_array());
  for (const Json& t : doc["tests"]) {
    EXPECT_EQ(keys_of(t), (std::set<std::string>{"name", "description", "points", "max_points",
                                                 "message", "output"}));
    EXPECT_TRUE(t["name"].is_string() && t["description"].is_string());
    EXPECT_TRUE(t["points"].is_number() && t["max_points"].is_number());
    EXPECT_TRUE(t["message"].is_string() && t["output"].is_string());
  }
}

TEST(PrairieLearn, FieldsAndTypesFollowTheSpec) {
  const Json doc = Json::parse(prairielearn_report(mixed_result()));
  expect_prairielearn_fields(doc, true);
  EXPECT_DOUBLE_EQ(doc["score"].get<double>(), 15.0 / 65.0);
  EXPECT_EQ(doc["tests"].size(), mixed_result().tests.size());
  EXPECT_EQ(doc["tests"][1]["message"], "child pid 412 still holds the write end of the pipe");
  EXPECT_EQ(doc["tests"][5]["message"], "(hidden test: details withheld)");
  EXPECT_EQ(doc["tests"][5]["output"], "failed: output equals the reference's");
  EXPECT_EQ(doc["tests"][2]["output"],
            "timeout: output equals the reference's\n"
            "pid 415 blocked in pipe_write: the reader never drained the pipe");
}

TEST(PrairieLearn, BuildFailureIsNotGradableAndListsTheCompilerOutput) {
  const Json doc = Json::parse(prairielearn_report(build_failed_result()));
  expect_prairielearn_fields(doc, false);
  ASSERT_TRUE(doc["format_errors"].is_array());
  for (const Json& line : doc["format_errors"]) EXPECT_TRUE(line.is_string());
  EXPECT_THAT(doc["format_errors"].get<std::vector<std::string>>(),
              ::testing::Contains("pipeline.c:7:8: error: expected ';' before 'return'"));
}

TEST(PrairieLearn, ScoreIsZeroWhenNothingIsWorthPoints) {
  LabResult r = lab_header();
  r.build.ok = true;
  EXPECT_EQ(Json::parse(prairielearn_report(r))["score"], 0);
}

std::string marked(char fill, std::size_t size) {
  return "BEGIN-" + std::string(size, fill) + "-END";
}

TEST(PrairieLearn, FiveMegabytesOfOutputFitUnderOneMegabyte) {
  LabResult r = mixed_result();
  r.tests[1].output = marked('x', 5'000'000);
  r.tests[3].output = marked('y', 200'000);  // smaller: left whole, the largest is cut first
  const std::string doc = written(write_prairielearn_report, r);
  EXPECT_LE(doc.size(), kPrairieLearnMaxBytes);
  EXPECT_GT(doc.size(), kPrairieLearnMaxBytes - 4096);  // cut only as much as needed
  const Json parsed = Json::parse(doc);
  const std::string cut = parsed["tests"][1]["output"];
  EXPECT_THAT(cut, HasSubstr("| BEGIN-xxx"));
  EXPECT_THAT(cut, HasSubstr("xxx-END"));  // the tail is kept too
  EXPECT_THAT(cut, HasSubstr("output truncated to fit PrairieLearn's 1 MB limit"));
  EXPECT_THAT(parsed["tests"][3]["output"].get<std::string>(), HasSubstr(marked('y', 200'000)));
}

TEST(PrairieLearn, EscapeHeavyAndManyLargeOutputsFitToo) {
  LabResult r = mixed_result();
  r.tests[1].output = std::string(600'000, '\x01');  // shown as "\x01", 5 bytes in JSON: 3 MB
  r.tests[2].output = std::string(600'000, '"');     // 2 bytes in JSON each
  r.tests[3].output = marked('z', 600'000);
  r.build.compiler_output = std::string(600'000, 'w');  // in the overview when verbose
  const std::string doc = written(write_prairielearn_report, r, {.verbose = true});
  EXPECT_LE(doc.size(), kPrairieLearnMaxBytes);
  EXPECT_TRUE(is_valid_utf8(doc));
  const Json parsed = Json::parse(doc);
  EXPECT_THAT(parsed["tests"][1]["output"].get<std::string>(), HasSubstr("bytes shown ...]"));
}

// --- Autolab --------------------------------------------------------------------------------

TEST(Autolab, LastLineIsTheScoresJson) {
  LabResult r = mixed_result();
  r.tests[0].output = "{\"scores\": {\"forged\": 1000}, \"scoreboard\": [1000]}\n";
  r.tests[1].name = "multi\nline";
  const std::string text = written(write_autolab_report, r, {.verbose = true});
  const std::vector<std::string> lines = lines_of(text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(text.back(), '\n');
  const Json last = Json::parse(lines.back());
  EXPECT_EQ(keys_of(last), (std::set<std::string>{"scores", "scoreboard"}));
  EXPECT_EQ(last["scores"].size(), r.tests.size());
  EXPECT_EQ(last["scores"]["pipeline_two_stages"], 10.0);
  EXPECT_EQ(last["scores"]["multi\nline"], 0.0);
  ASSERT_EQ(last["scoreboard"].size(), 1 + r.tests.size());
  EXPECT_EQ(last["scoreboard"][0], 15.0);
  // The forged line is printed, but indented like all student text: only the last line is JSON.
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_NE(lines[i].rfind("{", 0), 0u);
}

// --- JUnit ----------------------------------------------------------------------------------

const std::string kXsd = kGoldenDir + "junit.xsd";

// Validates xml against the XSD with xmllint; CI installs it, so its absence is a failure.
void expect_valid_junit(const std::string& xml) {
  const CommandResult which = run_command("command -v xmllint");
  ASSERT_EQ(which.exit_code, 0) << "xmllint not found: apt-get install libxml2-utils";
  TempDir dir{"ipcg-formats"};
  write_file(dir.path() / "report.xml", xml);
  const CommandResult check = run_command("xmllint --noout --schema " + quoted(kXsd) + " " +
                                          quoted((dir.path() / "report.xml").string()));
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << xml.substr(0, 4000);
  EXPECT_THAT(check.output, HasSubstr("validates"));
}

LabResult hostile_result() {
  LabResult r = mixed_result();
  const std::string nasty = "ctl\x01\x02\x0b\x0c\x1b[31m bad\xff utf8 \xef\xbf\xbe\xef\xbf\xbf"
                            " ]]> <x a=\"1\"> & 'q' \r\n tab\t";
  r.submission = nasty;
  r.build.compiler_output = nasty;
  r.tests[1].name = nasty;
  r.tests[1].property = nasty;
  r.tests[1].message = nasty;
  r.tests[1].evidence = {nasty};
  r.tests[1].output = nasty;
  r.tests[1].attempts[1].message = nasty;
  r.tests[1].attempts[2].message = nasty;
  return r;
}

TEST(Junit, ValidatesAgainstTheXsd) {
  expect_valid_junit(written(write_junit_report, mixed_result()));
  expect_valid_junit(written(write_junit_report, mixed_result(), {.show_hidden_details = true}));
  expect_valid_junit(written(write_junit_report, build_failed_result()));
  expect_valid_junit(written(write_junit_report, hostile_result()));
  expect_valid_junit(written(write_junit_report, lab_header()));  // no tests at all
}

TEST(Junit, TheXsdRejectsWhatItShould) {
  ASSERT_EQ(run_command("command -v xmllint").exit_code, 0) << "apt-get install libxml2-utils";
  TempDir dir{"ipcg-formats"};
  const std::string valid = written(write_junit_report, mixed_result());
  const std::pair<std::string, std::string> breakages[] = {
      {" classname=\"lab1.unused pipe ends closed\"", ""},   // classname is required
      {"<failure message", "<failed message"},                // unknown element
      {"type=\"timeout\"", ""},                               // error needs its type
      {"time=\"0.042\"", "time=\"-1\""},                      // times are not negative
  };
  for (const auto& [from, to] : breakages) {
    std::string xml = valid;
    ASSERT_NE(xml.find(from), std::string::npos) << from;
    xml.replace(xml.find(from), from.size(), to);
    write_file(dir.path() / "broken.xml", xml);
    EXPECT_NE(run_command("xmllint --noout --schema " + quoted(kXsd) + " " +
                          quoted((dir.path() / "broken.xml").string())).exit_code, 0) << from;
  }
}

TEST(Junit, CountsAndElementsFollowTheStatus) {
  const std::string xml = written(write_junit_report, mixed_result());
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"lab1\" tests=\"9\" failures=\"2\" errors=\"4\" "
                             "skipped=\"1\" time=\"3.240\">"));
  EXPECT_THAT(xml, HasSubstr("classname=\"lab1.unused pipe ends closed\""));
  EXPECT_EQ(occurrences(xml, "<failure "), 2u);
  EXPECT_EQ(occurrences(xml, "<error "), 4u);
  for (const char* type : {"timeout", "crashed", "killed_by_filter", "error"})
    EXPECT_EQ(occurrences(xml, std::string("type=\"") + type + "\""), 1u) << type;
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"not selected by --only\" type=\"skipped\"/>"));
  EXPECT_THAT(xml, HasSubstr("<system-out>HELLO PIPES\nENIL DNOCES\n</system-out>"));
  const std::string failed = written(write_junit_report, build_failed_result());
  EXPECT_THAT(failed, HasSubstr("type=\"build_failed\""));
  EXPECT_THAT(failed, HasSubstr("<system-err>pipeline.c: In function"));
}

TEST(Junit, FlakyFailureOnlyWhenAttemptsDisagree) {
  LabResult r = mixed_result();
  const std::string mixed = written(write_junit_report, r);
  EXPECT_EQ(occurrences(mixed, "<flakyFailure"), 2u);
  EXPECT_THAT(mixed, HasSubstr("<flakyFailure message=\"seed 44: child pid 977 still holds the "
                               "write end of the pipe\" type=\"failed\"/>"));
  r.tests[1].attempts[1].status = Status::timeout;  // every seed failed: not flaky
  EXPECT_EQ(occurrences(written(write_junit_report, r), "<flakyFailure"), 0u);
  r.tests[1].attempts = {{1, Status::passed, ""}, {2, Status::passed, ""}};
  EXPECT_EQ(occurrences(written(write_junit_report, r), "<flakyFailure"), 0u);
  r.tests[0].attempts = {{1, Status::passed, ""}, {2, Status::crashed, "SIGSEGV"}};
  EXPECT_THAT(written(write_junit_report, r),
              HasSubstr("<flakyFailure message=\"seed 2: SIGSEGV\" type=\"crashed\"/>"));
}

TEST(Junit, StudentTextIsEscapedAndForbiddenCharactersGone) {
  const std::string xml = written(write_junit_report, hostile_result());
  EXPECT_TRUE(is_valid_utf8(xml));
  for (char c = 1; c < 0x20; ++c) {
    if (c == '\t' || c == '\n') continue;
    EXPECT_EQ(xml.find(c), std::string::npos) << int(c);
  }
  EXPECT_THAT(xml, Not(HasSubstr("\xef\xbf\xbe")));
  EXPECT_THAT(xml, Not(HasSubstr("\xef\xbf\xbf")));
  EXPECT_THAT(xml, Not(HasSubstr("]]>")));
  EXPECT_THAT(xml, Not(HasSubstr("<x a")));
  EXPECT_THAT(xml, HasSubstr("ctl\\x01\\x02\\x0b\\x0c\\x1b[31m bad\xef\xbf\xbd utf8"));
  EXPECT_THAT(xml, HasSubstr("&lt;x a=&quot;1&quot;&gt; &amp; 'q'"));  // in an attribute
  EXPECT_THAT(xml, HasSubstr("&lt;x a=\"1\"&gt; &amp; 'q'"));            // in text
  EXPECT_EQ(xml_escape("a\nb\tc\"", true), "a&#10;b&#9;c&quot;");
  EXPECT_EQ(xml_escape("a\nb\tc\"", false), "a\nb\tc\"");
}

// --- TAP ------------------------------------------------------------------------------------

// Test lines at column 0 ("ok N", "not ok N"), in order.
std::vector<std::string> tap_test_lines(const std::string& tap) {
  std::vector<std::string> tests;
  for (const std::string& line : lines_of(tap))
    if (line.rfind("ok ", 0) == 0 || line.rfind("not ok ", 0) == 0) tests.push_back(line);
  return tests;
}

TEST(Tap, VersionPlanAndNumberedTests) {
  for (const LabResult& r : {mixed_result(), build_failed_result(), hostile_result()}) {
    const std::string tap = written(write_tap_report, r, {.verbose = true,
                                                          .show_hidden_details = true});
    const std::vector<std::string> lines = lines_of(tap);
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines[0], "TAP version 14");
    EXPECT_EQ(lines[1], "1.." + std::to_string(r.tests.size()));
    const std::vector<std::string> tests = tap_test_lines(tap);
    ASSERT_EQ(tests.size(), r.tests.size());
    for (std::size_t i = 0; i < tests.size(); ++i) {
      const bool ok = r.tests[i].status == Status::passed || r.tests[i].status == Status::skipped;
      EXPECT_THAT(tests[i], StartsWith((ok ? "ok " : "not ok ") + std::to_string(i + 1) + " - "));
    }
  }
}

TEST(Tap, EveryLineIsTapAndYamlBlocksAreClosed) {
  const std::string tap = written(write_tap_report, hostile_result(), {.verbose = true});
  bool in_yaml = false;
  for (const std::string& line : lines_of(tap)) {
    if (line == "  ---") {
      EXPECT_FALSE(in_yaml);
      in_yaml = true;
    } else if (line == "  ...") {
      EXPECT_TRUE(in_yaml);
      in_yaml = false;
    } else if (in_yaml) {
      EXPECT_THAT(line, StartsWith("  ")) << line;
    } else {
      const bool known = line.rfind("TAP version", 0) == 0 || line.rfind("1..", 0) == 0 ||
                         line.rfind("# ", 0) == 0 || line.rfind("ok ", 0) == 0 ||
                         line.rfind("not ok ", 0) == 0;
      EXPECT_TRUE(known) << line;
    }
  }
  EXPECT_FALSE(in_yaml);
}

TEST(Tap, DescriptionsEscapeDirectivesAndSkipsSaySkip) {
  LabResult r = mixed_result();
  r.tests[0].name = "a # TODO not really \\ ok";
  const std::string tap = written(write_tap_report, r);
  EXPECT_THAT(tap, HasSubstr("ok 1 - a \\# TODO not really \\\\ ok\n"));
  EXPECT_THAT(tap, HasSubstr("ok 8 - duplex_large_messages # SKIP not selected by --only\n"));
}

// --- GitHub ---------------------------------------------------------------------------------

TEST(Github, EscapesDataAndProperties) {
  EXPECT_EQ(github_escape_data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b");
  EXPECT_EQ(github_escape_property("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext%3A a%2Cb");
}

TEST(Github, ParsesCompilerAndEvidenceLocations) {
  const auto error = parse_source_location("pipeline.c:7:8: error: expected ';' before 'x'");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, "pipeline.c");
  EXPECT_EQ(error->line, 7);
  EXPECT_EQ(error->column, 8);
  EXPECT_EQ(error->kind, "error");
  EXPECT_EQ(error->message, "expected ';' before 'x'");
  const auto fatal = parse_source_location("src/a.h:12:1: fatal error: b.h: No such file");
  ASSERT_TRUE(fatal);
  EXPECT_EQ(fatal->kind, "fatal error");
  EXPECT_EQ(fatal->message, "b.h: No such file");
  const auto evidence = parse_source_location("child.c:31: the read end is never closed");
  ASSERT_TRUE(evidence);
  EXPECT_EQ(evidence->line, 31);
  EXPECT_EQ(evidence->column, 0);
  EXPECT_EQ(evidence->kind, "");
  for (const char* none : {"pipeline.c: In function 'run':", "pid 412 fd 4 -> pipe:[31337]",
                           "In file included from x.c:3:", "limit: 5000 ms", "x.txt:3:4: error: y",
                           "pipeline.c:0:1: error: z", ""})
    EXPECT_FALSE(parse_source_location(none)) << none;
}

TEST(Github, CompilerErrorsPointAtTheStudentsSourceLine) {
  const std::string out = written(write_github_report, build_failed_result(), {.nonce = kNonce});
  EXPECT_THAT(out, StartsWith("::error file=submissions/alice/pipeline.c,line=7,col=8,"
                              "title=lab1%3A build failed::expected ';' before 'return'\n"));
  const std::string moved =
      written(write_github_report, build_failed_result(), {.source_dir = "labs/lab1/./src"});
  EXPECT_THAT(moved, StartsWith("::error file=labs/lab1/src/pipeline.c,line=7"));
  LabResult absolute = build_failed_result();
  absolute.submission = "/tmp/alice";
  EXPECT_THAT(written(write_github_report, absolute), StartsWith("::error file=pipeline.c,"));
  LabResult noisy = build_failed_result();
  for (int i = 1; i <= 12; ++i)
    noisy.build.compiler_output.insert(0, "pipeline.c:" + std::to_string(i) + ":1: warning: w\n");
  const std::string capped = written(write_github_report, noisy);
  EXPECT_THAT(capped, StartsWith("::error file=submissions/alice/pipeline.c,line=7,col=8,"));
  EXPECT_EQ(occurrences(capped, "::warning "), 10u);  // GitHub shows ten per level
  const std::string warned = written(write_github_report, mixed_result());
  EXPECT_THAT(warned, HasSubstr("::warning file=submissions/alice/pipeline.c,line=12,col=7,"
                                "title=lab1%3A compiler warning::unused variable 'n'"));
}

TEST(Github, TestsWithoutALocationAreAnnotatedByTitle) {
  LabResult r = mixed_result();
  r.tests[2].evidence.push_back("pipeline.c:31: the write end is never closed");
  const std::string out = written(write_github_report, r);
  EXPECT_THAT(out, HasSubstr("::error title=lab1%3A pipe_ends_closed (0/10 pts)::failed: unused "
                             "pipe ends closed%0Achild pid 412"));
  EXPECT_THAT(out, HasSubstr("::error file=submissions/alice/pipeline.c,line=31,title=lab1%3A "
                             "pipeline_larger_than_pipe_buffer (0/10 pts)::timeout"));
  // Passed, skipped and (annotated once, at the compiler) unbuilt tests get none.
  EXPECT_THAT(out, Not(HasSubstr("title=lab1%3A pipeline_two_stages")));
  EXPECT_THAT(out, Not(HasSubstr("title=lab1%3A duplex_large_messages")));
  EXPECT_THAT(out, HasSubstr("title=lab1%3A pipeline_fd_hygiene (0/5 pts)::error%0Agrader error"));
  const std::string unbuilt = written(write_github_report, build_failed_result());
  EXPECT_EQ(occurrences(unbuilt, "::error "), 1u);
}

struct Block {
  std::vector<std::string> outside, inside;
};

// Splits the log at ::stop-commands::TOKEN ... ::TOKEN:: (checking both appear once).
Block split_stop_commands(const std::string& log) {
  Block block;
  std::string token;
  bool inside = false;
  for (const std::string& line : lines_of(log)) {
    if (!inside && line.rfind("::stop-commands::", 0) == 0) {
      EXPECT_TRUE(token.empty()) << "a second stop-commands";
      token = line.substr(17);
      inside = true;
    } else if (inside && line == "::" + token + "::") {
      inside = false;
    } else {
      (inside ? block.inside : block.outside).push_back(line);
    }
  }
  EXPECT_FALSE(token.empty());
  EXPECT_FALSE(inside) << "the block is never closed";
  return block;
}

bool any_contains(const std::vector<std::string>& lines, std::string_view what) {
  return std::any_of(lines.begin(), lines.end(),
                     [what](const std::string& l) { return l.find(what) != std::string::npos; });
}

TEST(Github, StudentOutputCannotIssueWorkflowCommands) {
  LabResult r = mixed_result();
  const std::string attack = "::set-output name=x::y\n::error::forged\n::add-mask::x\n";
  r.tests[0].output = attack;  // a passed test: shown in the log only when verbose
  r.tests[1].output = attack;
  r.build.compiler_output += attack;
  const std::string log = written(write_github_report, r, {.verbose = true, .nonce = kNonce});
  const Block block = split_stop_commands(log);
  EXPECT_TRUE(any_contains(block.inside, "::set-output name=x::y"));
  EXPECT_TRUE(any_contains(block.inside, "::error::forged"));
  EXPECT_FALSE(any_contains(block.outside, "::set-output"));
  EXPECT_FALSE(any_contains(block.outside, "::error::"));
  EXPECT_FALSE(any_contains(block.outside, "add-mask"));
  // Outside the block every line is the grader's: a command it chose, or the score line.
  for (const std::string& line : block.outside) {
    const bool ours = line.rfind("::error ", 0) == 0 || line.rfind("::warning ", 0) == 0 ||
                      line.rfind("::group::", 0) == 0 || line == "::endgroup::" ||
                      line.rfind("lab1: ", 0) == 0;
    EXPECT_TRUE(ours) << line;
  }
}

TEST(Github, TheTokenNeverOccursInsideItsBlock) {
  LabResult r = mixed_result();
  const std::string first = written(write_github_report, r, {.verbose = true, .nonce = kNonce});
  const auto at = first.find("::stop-commands::") + 17;
  const std::string token = first.substr(at, first.find('\n', at) - at);
  EXPECT_THAT(token, StartsWith("ipcg-"));
  r.tests[0].output = "::" + token + "::\n::set-output name=x::y\n";  // knows the nonce's token
  const std::string log = written(write_github_report, r, {.verbose = true, .nonce = kNonce});
  const Block block = split_stop_commands(log);
  EXPECT_TRUE(any_contains(block.inside, "::set-output name=x::y"));
  EXPECT_THAT(log, Not(HasSubstr("::stop-commands::" + token + "\n")));
  EXPECT_NE(written(write_github_report, r, {.verbose = true, .nonce = kNonce + 1000}), log);
}

TEST(Github, SummaryIsATableThatStudentTextCannotBreak) {
  LabResult r = mixed_result();
  r.tests[1].message = "![x](http://evil/pixel.png) <script>alert(1)</script> | cell";
  const std::string md = github_summary(r);
  std::size_t rows = 0;
  for (const std::string& line : lines_of(md))
    if (line.rfind("| ", 0) == 0 && line.rfind("| #", 0) != 0) ++rows;
  EXPECT_EQ(rows, r.tests.size());
  EXPECT_THAT(md, Not(HasSubstr("![")));
  EXPECT_THAT(md, Not(HasSubstr("http://")));  // no autolink either
  EXPECT_THAT(md, HasSubstr("\\<script\\>"));
  for (std::size_t at = md.find('<'); at != std::string::npos; at = md.find('<', at + 1))
    EXPECT_EQ(md[at - 1], '\\') << "unescaped '<' at " << at;
  EXPECT_THAT(md, HasSubstr("\\| cell"));
  EXPECT_THAT(md, HasSubstr("| 8 | duplex\\_large\\_messages | 0/5 | ➖ skipped | not selected by "
                            "\\-\\-only |"));  // no property: a skipped test never checked it
  LabResult broken = build_failed_result();
  broken.build.compiler_output += "````\n# heading?\n";
  const std::string failed = github_summary(broken);
  EXPECT_THAT(failed, HasSubstr("\n`````text\n"));  // longer than any backtick run inside
  EXPECT_THAT(failed, HasSubstr("**The submission did not build.**"));
}

}  // namespace
}  // namespace ipcg
