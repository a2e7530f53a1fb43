// Report writers: text and JSON over hand-built LabResults, checked against golden files, plus
// the properties a golden file cannot show (students cannot forge lines, hidden stays hidden,
// JSON is valid UTF-8 and its numbers round-trip).
//
// Golden files live in tests/unit/data/report/. After an intended change of the layout,
// regenerate them and review the diff before committing:
//   IPCG_UPDATE_GOLDEN=1 ./test_report && git diff tests/unit/data/report
// Without the variable a missing or different golden file fails the test.
#include "report/exit_code.hpp"
#include "report/format.hpp"
#include "report/feedback.hpp"
#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "report/messages.hpp"
#include "report/sanitize.hpp"
#include "report/text_report.hpp"
#include "report_fixture.hpp"

#include <fmt/args.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace ipcg {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace report_fixture;

std::string text_of(const LabResult& r, TextOptions options) {
  std::ostringstream os;
  write_text_report(r, os, options);
  return os.str();
}

// --- golden files -------------------------------------------------------------------------

TEST(TextReportGolden, PlainWithholdsHiddenDetails) {
  expect_golden("text_plain.txt", text_of(mixed_result(), {}));
}

TEST(TextReportGolden, Color) {
  expect_golden("text_color.txt", text_of(mixed_result(), {.color = true}));
}

TEST(TextReportGolden, Verbose) {
  expect_golden("text_verbose.txt", text_of(mixed_result(), {.verbose = true}));
}

TEST(TextReportGolden, HiddenDetailsForTeachingAssistants) {
  expect_golden("text_hidden_details.txt",
                text_of(mixed_result(), {.verbose = true, .show_hidden_details = true}));
}

TEST(TextReportGolden, BuildFailed) {
  expect_golden("text_build_failed.txt", text_of(build_failed_result(), {}));
}

TEST(JsonReportGolden, Default) {
  expect_golden("report.json", json_report(mixed_result()) + "\n");
}

TEST(JsonReportGolden, HiddenDetailsForTeachingAssistants) {
  expect_golden("report_hidden_details.json",
                json_report(mixed_result(), {.show_hidden_details = true}) + "\n");
}

TEST(JsonReportGolden, BuildFailed) {
  expect_golden("report_build_failed.json", json_report(build_failed_result()) + "\n");
}

// --- the status contract --------------------------------------------------------------------

const Status kAllStatuses[] = {Status::passed,       Status::failed,  Status::timeout, Status::hung,
                               Status::crashed,      Status::killed_by_filter,
                               Status::build_failed, Status::skipped, Status::error};

TEST(StatusContract, TagsAreDistinctTwelveColumnsAndDocumented) {
  std::set<std::string_view> tags;
  const std::string doc = read_file(std::string(IPCG_SOURCE_DIR) + "/docs/report-format.md");
  for (Status s : kAllStatuses) {
    EXPECT_EQ(text_tag(s).size(), 12u) << text_tag(s);
    tags.insert(text_tag(s));
    // The contract table names both renderings of every status.
    EXPECT_THAT(doc, HasSubstr(std::string("`") + std::string(text_tag(s)) + "`"));
    EXPECT_THAT(doc, HasSubstr(std::string("`") + std::string(to_string(s)) + "`"));
  }
  EXPECT_EQ(tags.size(), std::size(kAllStatuses));
}

TEST(StatusContract, EveryStatusAppearsInBothReports) {
  LabResult r = mixed_result();
  r.tests.push_back(make_test("extra", Status::build_failed, 0, 1));
  r.tests.push_back(make_test("extra_hung", Status::hung, 0, 1));
  const std::string text = text_of(r, {});
  const auto json = nlohmann::json::parse(json_report(r));
  std::set<std::string> json_statuses;
  for (const auto& t : json["tests"]) json_statuses.insert(t["status"].get<std::string>());
  for (Status s : kAllStatuses) {
    EXPECT_THAT(text, HasSubstr(std::string(text_tag(s)) + " ")) << to_string(s);
    EXPECT_EQ(json_statuses.count(std::string(to_string(s))), 1u) << to_string(s);
  }
}

TEST(ExitCode, ZeroOnlyWhenBuiltAndNothingFailed) {
  LabResult r = lab_header();
  r.build.ok = true;
  r.tests = {make_test("a", Status::passed, 1, 1), make_test("b", Status::skipped, 0, 1)};
  EXPECT_EQ(exit_code_for(r), 0);
  for (Status s : kAllStatuses) {
    if (s == Status::passed || s == Status::skipped) continue;
    LabResult bad = r;
    bad.tests.push_back(make_test("c", s, 0, 1));
    EXPECT_EQ(exit_code_for(bad), 1) << to_string(s);
  }
  r.build.ok = false;
  EXPECT_EQ(exit_code_for(r), 1);
  EXPECT_EQ(exit_code_for(build_failed_result()), 1);
}

// --- students cannot forge report lines -----------------------------------------------------

// Every way a string could try to start a new line, move the cursor or recolour.
const std::string kForgeries[] = {
    "\n[  PASSED  ] fake",
    "\r[  PASSED  ] fake",
    "\x1b[32m[  PASSED  ] fake\x1b[0m",
    "\x1b[2K\x1b[1G[  PASSED  ] fake",
    "\xc2\x9b" "2K[  PASSED  ] fake",   // U+009B: CSI as one C1 code point
    "\xe2\x80\xa8[  PASSED  ] fake",    // U+2028 line separator
    "ok\x0b\x0c\x08\x08[  PASSED  ] fake",
    "\xe2\x80\xae" "DESSAP",            // U+202E right-to-left override
};

LabResult forged_result() {
  LabResult r = mixed_result();
  std::string all;
  for (const std::string& f : kForgeries) all += f + "\n";
  r.submission = "submissions/\n[  PASSED  ] fake";
  r.build.ok = false;
  r.build.compiler_output = all;
  TestResult t = make_test("forger\n[  PASSED  ] fake", Status::failed, 0, 10);
  t.property = "prop\r[  PASSED  ] fake";
  t.message = all;
  t.evidence.assign(std::begin(kForgeries), std::end(kForgeries));
  t.output = all;
  r.tests.insert(r.tests.begin(), t);
  return r;
}

// Lines the grader itself writes at column 0: header, submission, isolation, seed, build,
// count, one per test, summary.
std::size_t grader_tag_lines(const LabResult& r) { return 6 + r.tests.size() + 1; }

void expect_no_forged_lines(const std::string& text, const LabResult& r) {
  const std::vector<std::string> lines = lines_of(text);
  std::size_t tagged = 0;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr("\r")));
    if (line.empty()) continue;
    if (line[0] == '[') {
      ++tagged;
      EXPECT_NE(line.rfind("[  PASSED  ] fake", 0), 0u) << line;
    } else if (&line != &lines.back()) {  // the last line is the grader's provenance line
      EXPECT_EQ(line.rfind("    ", 0), 0u) << "student text at column 0: " << line;
    }
  }
  EXPECT_EQ(tagged, grader_tag_lines(r)) << text;
  EXPECT_TRUE(is_valid_utf8(text));
}

TEST(TextReportSafety, StudentStringsCannotStartALineWithATag) {
  const LabResult r = forged_result();
  for (TextOptions options : {TextOptions{}, TextOptions{.verbose = true},
                              TextOptions{.verbose = true, .show_hidden_details = true}}) {
    const std::string text = text_of(r, options);
    expect_no_forged_lines(text, r);
    EXPECT_THAT(text, Not(HasSubstr("\x1b")));
    EXPECT_THAT(text, Not(HasSubstr("\xc2\x9b")));
    EXPECT_THAT(text, Not(HasSubstr("\xe2\x80\xa8")));
    EXPECT_THAT(text, Not(HasSubstr("\xe2\x80\xae")));
    // Escaped, not dropped: the TA can still see what the student tried.
    EXPECT_THAT(text, HasSubstr("\\x1b[32m[  PASSED  ] fake"));
    EXPECT_THAT(text, HasSubstr("\\r[  PASSED  ] fake"));
  }
}

TEST(TextReportSafety, WithColorTheOnlyEscapesAreTheGradersOwn) {
  const LabResult r = forged_result();
  std::string text = text_of(r, {.color = true, .verbose = true});
  for (const char* sgr : {"\x1b[0;31m", "\x1b[0;32m", "\x1b[0;33m", "\x1b[m"}) {
    for (auto at = text.find(sgr); at != std::string::npos; at = text.find(sgr))
      text.erase(at, std::string_view(sgr).size());
  }
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  expect_no_forged_lines(text, r);
}

TEST(TextReportSafety, MultiLineStudentTextIsIndentedLineByLine) {
  LabResult r = lab_header();
  r.build.ok = true;
  TestResult t = make_test("t", Status::failed, 0, 1);
  t.message = "first\nsecond\r\nthird\n";
  t.evidence = {"e1\n\ne2"};
  r.tests = {t};
  EXPECT_THAT(text_of(r, {}),
              HasSubstr("    first\n    second\n    third\n    e1\n    \n    e2\n[=========="));
}

// --- hidden tests ---------------------------------------------------------------------------

TEST(HiddenTests, TextWithholdsMessageEvidenceAndOutputUnlessAsked) {
  const std::string student = text_of(mixed_result(), {.verbose = true});
  EXPECT_THAT(student, Not(HasSubstr("SECRET")));
  EXPECT_THAT(student, HasSubstr("[  FAILED  ] pipeline_single_stage (0/5 pts"));
  EXPECT_THAT(student, HasSubstr("(hidden test: details withheld)"));
  const std::string ta = text_of(mixed_result(), {.verbose = true, .show_hidden_details = true});
  for (const char* secret : {"SECRET-MESSAGE", "SECRET-EVIDENCE", "SECRET-OUTPUT",
                             "SECRET-PASS-OUTPUT"})
    EXPECT_THAT(ta, HasSubstr(secret));
  EXPECT_THAT(ta, Not(HasSubstr("withheld")));
}

TEST(HiddenTests, JsonWithholdsMessageEvidenceAndOutputUnlessAsked) {
  EXPECT_THAT(json_report(mixed_result()), Not(HasSubstr("SECRET")));
  const auto doc = nlohmann::json::parse(json_report(mixed_result()));
  const auto& hidden = doc["tests"][5];
  ASSERT_EQ(hidden["visibility"], "hidden");
  EXPECT_EQ(hidden["details_withheld"], true);
  EXPECT_EQ(hidden["message"], "");
  EXPECT_TRUE(hidden["evidence"].is_array() && hidden["evidence"].empty());
  EXPECT_EQ(hidden["score"], 0);
  EXPECT_EQ(hidden["status"], "failed");
  const auto ta = nlohmann::json::parse(json_report(mixed_result(), {.show_hidden_details = true}));
  EXPECT_EQ(ta["tests"][5]["details_withheld"], false);
  EXPECT_EQ(ta["tests"][5]["evidence"][0], "SECRET-EVIDENCE");
  EXPECT_EQ(ta["tests"][6]["output"], "SECRET-PASS-OUTPUT\n");
}

// --- JSON -----------------------------------------------------------------------------------

TEST(JsonReport, NumbersRoundTripExactly) {
  LabResult r = mixed_result();
  r.seed = std::numeric_limits<std::uint64_t>::max();
  r.score = 0.1 + 0.2;
  r.max_score = 1e6 / 3;
  r.duration_seconds = 1e-9;
  r.tests[0].score = 7.25;
  r.tests[0].duration_seconds = 0.123456789012345;
  for (int indent : {2, -1}) {
    const auto doc = nlohmann::json::parse(json_report(r, {.indent = indent}));
    EXPECT_EQ(doc["schema_version"].get<int>(), kJsonSchemaVersion);
    EXPECT_EQ(doc["seed"].get<std::uint64_t>(), r.seed);
    EXPECT_EQ(doc["score"].get<double>(), r.score);
    EXPECT_EQ(doc["max_score"].get<double>(), r.max_score);
    EXPECT_EQ(doc["duration_seconds"].get<double>(), r.duration_seconds);
    EXPECT_EQ(doc["tests"][0]["score"].get<double>(), 7.25);
    EXPECT_EQ(doc["tests"][0]["duration_seconds"].get<double>(), r.tests[0].duration_seconds);
    EXPECT_EQ(doc["tests"].size(), r.tests.size());
  }
}

TEST(JsonReport, CompactIndentIsOneLine) {
  EXPECT_THAT(json_report(mixed_result(), {.indent = -1}), Not(HasSubstr("\n")));
}

TEST(JsonReport, InvalidUtf8BecomesReplacementCharacters) {
  LabResult r = mixed_result();
  const std::string bad = "a\xff" "b\xc0\xaf" "c\xe2\x82" "d\xed\xa0\x80" "e";
  r.submission = bad;
  r.build.compiler_output = bad;
  r.tests[1].message = bad;
  r.tests[1].evidence = {bad};
  r.tests[1].output = bad + "\x1b[31m";
  const std::string text = json_report(r);
  EXPECT_TRUE(is_valid_utf8(text));
  const auto doc = nlohmann::json::parse(text);  // throws on invalid UTF-8
  const std::string message = doc["tests"][1]["message"].get<std::string>();
  EXPECT_TRUE(is_valid_utf8(message));
  EXPECT_THAT(message, HasSubstr("a\xef\xbf\xbd"));
  EXPECT_EQ(message.front(), 'a');
  EXPECT_EQ(message.back(), 'e');
  // Control characters survive as JSON escapes: the document stays faithful to what ran.
  EXPECT_THAT(text, HasSubstr("\\u001b[31m"));
  EXPECT_TRUE(is_valid_utf8(text_of(r, {.verbose = true})));
}

// --- helpers --------------------------------------------------------------------------------

TEST(Sanitize, EscapesControlsAndRepairsUtf8) {
  EXPECT_EQ(sanitize_for_display("plain — ünïcode\tok\n"), "plain — ünïcode\tok\n");
  EXPECT_EQ(sanitize_for_display("a\x1b[31mb"), "a\\x1b[31mb");
  EXPECT_EQ(sanitize_for_display("a\rb\r\n"), "a\\rb\n");
  EXPECT_EQ(sanitize_for_display(std::string("nul\0x\x7f", 6)), "nul\\x00x\\x7f");
  EXPECT_EQ(sanitize_for_display("\xc2\x9b" "1m"), "\\u009b1m");
  EXPECT_EQ(sanitize_for_display("\xe2\x80\xae"), "\\u202e");
  EXPECT_EQ(sanitize_for_display("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(sanitize_for_display("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
  EXPECT_EQ(sanitize_for_display("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(sanitize_for_display("x\xe2\x82"), "x\xef\xbf\xbd\xef\xbf\xbd");  // cut short
  EXPECT_EQ(sanitize_for_display("\xf0\x9f\x99\x82"), "\xf0\x9f\x99\x82");   // U+1F642 kept
}

TEST(Sanitize, LinesAndOneLine) {
  EXPECT_TRUE(display_lines("").empty());
  EXPECT_EQ(display_lines("a\n"), std::vector<std::string>{"a"});
  EXPECT_EQ(display_lines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(display_one_line("a\nb\r\n"), "a\\nb\\n");
}

TEST(Sanitize, Utf8Validity) {
  EXPECT_TRUE(is_valid_utf8("ascii — ü 🙂"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
}

// --- languages (docs/i18n.md) ------------------------------------------------------------------

constexpr std::size_t kMessageCount = static_cast<std::size_t>(Msg::count_);

Msg msg_at(std::size_t i) { return static_cast<Msg>(i); }

// "<<0>>", "<<1>>", ...: an argument a pattern must print, whatever order it puts them in.
std::vector<std::string> markers(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("<<" + std::to_string(i) + ">>");
  return out;
}

std::string format_with(std::string_view pattern, const std::vector<std::string>& args) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const std::string& a : args) store.push_back(a);
  return fmt::vformat(fmt::string_view(pattern.data(), pattern.size()), store);
}

TEST(Messages, EveryIdHasEveryLanguageWithTheSameArguments) {
  std::set<std::string_view> ids;
  for (std::size_t i = 0; i < kMessageCount; ++i) {
    const Msg id = msg_at(i);
    EXPECT_FALSE(message_id(id).empty()) << i;
    EXPECT_TRUE(ids.insert(message_id(id)).second) << "duplicate id " << message_id(id);
    for (Lang lang : report_languages()) {
      const std::string_view pattern = message(lang, id);
      ASSERT_FALSE(pattern.empty()) << message_id(id) << " has no " << to_string(lang) << " text";
      EXPECT_TRUE(is_valid_utf8(pattern)) << message_id(id);
      std::string text;
      ASSERT_NO_THROW(text = format_with(pattern, markers(message_arity(id))))
          << message_id(id) << " in " << to_string(lang) << ": " << pattern;
      for (const std::string& m : markers(message_arity(id)))
        EXPECT_THAT(text, HasSubstr(m)) << message_id(id) << " in " << to_string(lang) << " drops an argument";
    }
    // Korean text is Korean: no message is left in English.
    EXPECT_NE(message(Lang::en, id), message(Lang::ko, id)) << message_id(id) << " is not translated";
  }
}

TEST(Messages, LanguageCodes) {
  EXPECT_EQ(to_string(Lang::en), "en");
  EXPECT_EQ(to_string(Lang::ko), "ko");
  EXPECT_EQ(parse_lang("ko"), Lang::ko);
  EXPECT_EQ(parse_lang("en"), Lang::en);
  EXPECT_EQ(parse_lang("kr"), std::nullopt);
  EXPECT_EQ(parse_lang(""), std::nullopt);
  EXPECT_EQ(report_languages().front(), Lang::en);
}

TEST(Messages, LocaleLcAllThenLcMessagesThenLang) {
  EXPECT_EQ(lang_from_locale("", "", ""), Lang::en);
  EXPECT_EQ(lang_from_locale("", "", "ko_KR.UTF-8"), Lang::ko);
  EXPECT_EQ(lang_from_locale("", "", "ko"), Lang::ko);
  EXPECT_EQ(lang_from_locale("", "", "ko.UTF-8"), Lang::ko);
  EXPECT_EQ(lang_from_locale("", "ko_KR.eucKR", "C.UTF-8"), Lang::ko);
  EXPECT_EQ(lang_from_locale("ko_KR.UTF-8", "en_US.UTF-8", "C"), Lang::ko);
  // The first variable that is set decides, even when a later one is Korean.
  EXPECT_EQ(lang_from_locale("C", "", "ko_KR.UTF-8"), Lang::en);
  EXPECT_EQ(lang_from_locale("", "en_US.UTF-8", "ko_KR.UTF-8"), Lang::en);
  EXPECT_EQ(lang_from_locale("", "", "kok_IN"), Lang::en);  // Konkani, not Korean
  EXPECT_EQ(lang_from_locale("", "", "C.UTF-8"), Lang::en);
}

TEST(Messages, DisplayWidthCountsHangulAsTwoColumns) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("PASSED"), 6u);
  EXPECT_EQ(display_width("통과"), 4u);
  EXPECT_EQ(display_width("a — ü"), 5u);
  EXPECT_EQ(display_width("파이프 pipe"), 11u);
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("ÿ"), 1u);
}

// The tags line up in a terminal in every language: 12 columns, distinct, the same shape.
TEST(Messages, TagsAreTwelveColumnsInEveryLanguage) {
  for (Lang lang : report_languages()) {
    std::set<std::string_view> tags;
    for (Status s : kAllStatuses) {
      const std::string_view tag = text_tag(s, lang);
      EXPECT_EQ(display_width(tag), 12u) << to_string(lang) << ": " << tag;
      EXPECT_EQ(tag.front(), '[');
      EXPECT_EQ(tag.back(), ']');
      tags.insert(tag);
    }
    EXPECT_EQ(tags.size(), std::size(kAllStatuses)) << to_string(lang);
  }
  for (Status s : kAllStatuses) EXPECT_EQ(text_tag(s, Lang::en), text_tag(s));
  EXPECT_EQ(message(Lang::en, Msg::hidden_withheld), kWithheldNote);
}

// Korean (Hangul syllables, U+AC00-U+D7A3, three bytes from 0xEA 0xB0 to 0xED 0x9E) in a source
// file of grader/ other than the catalogue: a writer growing its own translations.
bool holds_hangul(const std::string& text) {
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(text[i]), b1 = static_cast<unsigned char>(text[i + 1]);
    if ((b0 == 0xEA && b1 >= 0xB0) || b0 == 0xEB || b0 == 0xEC || (b0 == 0xED && b1 <= 0x9E)) return true;
  }
  return false;
}

TEST(Messages, NoWriterHoldsItsOwnKoreanText) {
  namespace fs = std::filesystem;
  const fs::path grader = fs::path(IPCG_SOURCE_DIR) / "grader";
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(grader)) {
    if (entry.path().extension() != ".cpp" || entry.path().filename() == "messages.cpp") continue;
    ++files;
    EXPECT_FALSE(holds_hangul(read_file(entry.path().string()))) << entry.path();
  }
  EXPECT_GT(files, 10);
  EXPECT_TRUE(holds_hangul(read_file((grader / "report/messages.cpp").string())));
}

// The golden fixture of the languages: a pass (with a leftover), a failure with evidence and a
// trace, a timeout whose property the lab did not translate, a grader error, a hidden failure and
// a skipped test; the lab's Korean strings for all but the timeout.
LabResult language_result() {
  LabResult r = lab_header();
  r.build = {true, "", 0.81};
  TestResult pass = make_test("pipeline_two_stages", Status::passed, 10, 10);
  pass.leftovers = {"SysV message queue (key 0x00001234, id 0)"};
  r.tests.push_back(pass);
  TestResult closed = make_test("pipe_ends_closed", Status::failed, 0, 10);
  closed.property = "unused pipe ends closed";
  closed.message = "child pid 412 still holds the write end of the pipe";
  closed.evidence = {"pid 412 fd 4 -> pipe:[31337] (write end)",
                     "pid 413 blocked in read(3) for 2.0 s: the EOF never came"};
  closed.trace_file = "traces/pipe_ends_closed.trace.json";
  r.tests.push_back(closed);
  TestResult slow = make_test("pipeline_larger_than_pipe_buffer", Status::timeout, 0, 10);
  slow.message = "wall-clock limit of 3000 ms exceeded; the process tree was killed";
  slow.evidence = {"pid 415 blocked in pipe_write on pipe:[9183]; no process holds its read end"};
  r.tests.push_back(slow);
  TestResult error = make_test("children_reaped", Status::error, 0, 5);
  error.message = "could not open the test's sandbox cell: Permission denied";
  r.tests.push_back(error);
  TestResult secret = make_test("pipeline_single_stage", Status::failed, 0, 5);
  secret.visibility = Visibility::hidden;
  secret.message = "SECRET-MESSAGE: expected 'abc' got 'ab'";
  secret.evidence = {"SECRET-EVIDENCE"};
  r.tests.push_back(secret);
  TestResult skipped = make_test("duplex_large_messages", Status::skipped, 0, 5);
  skipped.message = "not selected by --only";
  r.tests.push_back(skipped);
  r.score = 10;
  r.max_score = 45;
  return r;
}

LabText korean_lab_text() {
  LabText text;
  text.title = "익명 파이프: 파이프라인과 양방향 대화";
  text.mechanism = "익명 파이프";
  text.tests["pipeline_two_stages"] = {"upper | rev의 출력이 기준 구현과 같다", "출력이 기준 구현과 같음"};
  text.tests["pipe_ends_closed"] = {"각 프로세스는 쓰지 않는 파이프 끝을 닫는다", "쓰지 않는 파이프 끝을 닫음"};
  text.tests["children_reaped"] = {"", "모든 자식 프로세스를 회수함"};
  text.tests["pipeline_single_stage"] = {"", "출력이 기준 구현과 같음"};
  return text;
}

TEST(TextReportLanguageGolden, English) {
  expect_golden("text_report.en.txt", text_of(language_result(), {}), kLanguageGoldenDir);
}

TEST(TextReportLanguageGolden, Korean) {
  expect_golden("text_report.ko.txt",
                text_of(language_result(), {.lang = Lang::ko, .lab_text = korean_lab_text()}),
                kLanguageGoldenDir);
}

// English ignores nothing it is given: a LabText only replaces the lab's strings.
TEST(TextReportLanguage, EnglishFixedTextIsTheSameWithOrWithoutOptions) {
  EXPECT_EQ(text_of(mixed_result(), {}), text_of(mixed_result(), {.lang = Lang::en}));
}

TEST(TextReportLanguage, KoreanKeepsEvidenceAndNumbersAsGiven) {
  const LabResult r = language_result();
  const std::string ko = text_of(r, {.lang = Lang::ko, .lab_text = korean_lab_text()});
  for (const char* kept : {"    child pid 412 still holds the write end of the pipe\n",
                           "    pid 412 fd 4 -> pipe:[31337] (write end)\n", "(0/10점)", "(10/10점)",
                           "SysV message queue (key 0x00001234, id 0)", "traces/pipe_ends_closed.trace.json",
                           "\n[==========] 10/45점, 테스트 6개 중 1개 통과, 1개 건너뜀\n"})
    EXPECT_THAT(ko, HasSubstr(kept));
  EXPECT_THAT(ko, Not(HasSubstr("SECRET")));
  EXPECT_THAT(ko, Not(HasSubstr("pts")));
  // A property the lab did not translate falls back to its English.
  EXPECT_THAT(ko, HasSubstr("[ 시간초과 ] pipeline_larger_than_pipe_buffer (0/10점) — output equals the reference's"));
}

// A test whose reruns under one seed disagreed says so, in both languages, and JSON lists the runs.
TEST(SchedulingDependent, TextSaysHowManyRunsDidNotPassAndJsonListsThem) {
  LabResult r = mixed_result();
  TestResult& t = r.tests.front();
  t.status = Status::failed;
  t.attempts = {{5, Status::failed, "first"}, {5, Status::passed, ""}, {5, Status::failed, "third"}};
  EXPECT_THAT(text_of(r, {}), HasSubstr("    2 of 3 runs with this seed did not pass: this verdict depends on how "
                                        "the processes were scheduled, so --seed does not replay it\n"));
  EXPECT_THAT(text_of(r, {.lang = Lang::ko}), HasSubstr("같은 시드로 3번 실행해 2번 통과하지 못했습니다"));
  const auto doc = nlohmann::json::parse(json_report(r, {}));
  ASSERT_EQ(doc["tests"][0]["attempts"].size(), 3u);
  EXPECT_EQ(doc["tests"][0]["attempts"][1]["status"], "passed");
  EXPECT_EQ(doc["tests"][0]["attempts"][2]["message"], "third");
  EXPECT_TRUE(doc["tests"][2]["attempts"].empty());  // one verdict: nothing to list
}

// Runs that all failed are never called "did not pass depending on scheduling": either the
// failure came back every time (a perturbing schedule keeps its runs to say so) or it failed in
// different ways.
TEST(SchedulingDependent, RunsThatAllFailedSayTheFailureCameBackOrFailedDifferently) {
  LabResult r = mixed_result();
  TestResult& t = r.tests.front();
  t.status = Status::failed;
  t.attempts = {{5, Status::failed, "first"}, {5, Status::failed, ""}, {5, Status::failed, "third"}};
  EXPECT_THAT(text_of(r, {}), HasSubstr("    the failure came back in 3 of 3 runs with this seed\n"));
  EXPECT_THAT(text_of(r, {}), Not(HasSubstr("3 of 3 runs with this seed did not pass")));
  EXPECT_THAT(text_of(r, {.lang = Lang::ko}), HasSubstr("같은 시드로 3번 실행해 3번 같은 실패가 다시 나왔습니다"));
  t.attempts[1].status = Status::crashed;
  EXPECT_THAT(text_of(r, {}), HasSubstr("    all 3 runs with this seed failed, not all the same way"));
  EXPECT_THAT(text_of(r, {}), Not(HasSubstr("3 of 3 runs with this seed did not pass")));
}

// A lab that perturbs its synchronization calls prints the schedule beside the seed, and says
// whether the seed replays the processes' order or only the perturbations.
TEST(SyncSchedule, AFailingTestNamesItsScheduleAndHowExactlyTheSeedReplaysIt) {
  LabResult r = mixed_result();
  TestResult& t = r.tests.front();
  t.status = Status::failed;
  t.schedule = "delays";
  EXPECT_THAT(text_of(r, {}), HasSubstr(fmt::format("    schedule delays; best-effort replay: --seed {} --only {} applies "
                                                    "the same perturbations again",
                                                    r.seed, t.name)));
  EXPECT_THAT(text_of(r, {.lang = Lang::ko}), HasSubstr("스케줄 delays; 최선 노력 재현"));
  t.schedule = "pct";
  t.exact_replay = true;
  EXPECT_THAT(text_of(r, {}), HasSubstr("schedule pct; exact replay: --seed"));
  const auto doc = nlohmann::json::parse(json_report(r, {}));
  EXPECT_EQ(doc["tests"][0]["schedule"], "pct");
  EXPECT_EQ(doc["tests"][0]["replay"], "exact");
  EXPECT_FALSE(doc["tests"][1].contains("schedule"));  // a lab that does not perturb: no key
}

TEST(TextReportLanguage, KoreanVerboseAndBuildFailure) {
  LabResult r = mixed_result();
  const std::string verbose = text_of(r, {.verbose = true, .lang = Lang::ko});
  EXPECT_THAT(verbose, HasSubstr("\n    출력:\n    | HELLO PIPES\n"));
  EXPECT_THAT(verbose, HasSubstr("(10/10점, 42 ms)"));
  EXPECT_THAT(verbose, Not(HasSubstr("output:")));
  const std::string failed = text_of(build_failed_result(), {.lang = Lang::ko});
  EXPECT_THAT(failed, HasSubstr("[----------] 빌드: 실패 (350 ms)\n"));
  EXPECT_THAT(failed, HasSubstr("[----------] 격리: 축소 (unprivileged) — user namespaces"));
  EXPECT_THAT(failed, HasSubstr("[ 빌드실패 ] pipeline_two_stages (0/10점)\n"));
}

// A Korean report is exactly as safe: the forged lines stay indented.
TEST(TextReportLanguage, KoreanStudentStringsCannotStartALineWithATag) {
  const LabResult r = forged_result();
  expect_no_forged_lines(text_of(r, {.lang = Lang::ko}), r);
}

TEST(Format, PointsAndDurations) {
  EXPECT_EQ(format_points(10), "10");
  EXPECT_EQ(format_points(7.5), "7.5");
  EXPECT_EQ(format_points(0.1 + 0.2), "0.3");
  EXPECT_EQ(format_points(-1e-12), "0");
  EXPECT_EQ(format_duration(0.0421), "42 ms");
  EXPECT_EQ(format_duration(3.24), "3.2 s");
  EXPECT_EQ(format_duration(0.9999), "1.0 s");
}

}  // namespace
}  // namespace ipcg

namespace ipcg {
namespace {

// --- tests that hung the same way -------------------------------------------------------------

constexpr const char* kOwnInput = "a process keeps the write end of its own input pipe open";

TestResult hung_test(std::string name, Status status, std::string cause, pid_t pid) {
  TestResult t = make_test(std::move(name), status, 0, 10);
  t.message = "the pipeline did not finish within 3005 ms";
  t.hang_cause = std::move(cause);
  t.limit_note = "wall limit 3000 ms (the lab's limit)";
  t.evidence = {fmt::format("pid {} (stage) keeps fd 5 open, the write end of its own input pipe:[9{}]: its read on fd "
                            "0 can never see EOF",
                            pid, pid),
                fmt::format("pid {} (stage) blocked in read on fd 0 = pipe:[9{}] (read end)", pid, pid)};
  t.hint = "close the ends each process does not use";
  return t;
}

// Three tests (hung or timed out) with one cause, one with a cause of its own, a hidden one with
// the first cause, a failed one.
LabResult hung_result() {
  LabResult r = lab_header();
  r.max_score = 60;
  r.tests = {hung_test("pipeline_two_stages", Status::hung, kOwnInput, 101),
             hung_test("pipeline_empty_input", Status::timeout, kOwnInput, 201),
             make_test("pipeline_single_stage", Status::passed, 10, 10),
             hung_test("children_reaped", Status::hung, "a parent keeps the write end of a pipe open while it waits for "
                                                        "its children", 301),
             hung_test("pipeline_ends_when_input_ends", Status::hung, kOwnInput, 401),
             hung_test("secret_pipeline", Status::hung, kOwnInput, 501)};
  r.tests.back().visibility = Visibility::hidden;
  r.tests[2].hang_cause = kOwnInput;  // passed: not a hang, whatever it carries
  r.score = 10;
  return r;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HangCause, SeveralTestsThatHungTheSameWayHaveTheirCauseSaidOnceBeforeTheTests) {
  const std::string text = text_of(hung_result(), {});
  const std::string group = "[----------] 3 tests hung the same way (cause 1): " + std::string(kOwnInput) + "\n";
  EXPECT_THAT(text, HasSubstr(group));
  EXPECT_LT(text.find(group), text.find("pipeline_two_stages"));
  EXPECT_EQ(occurrences(text, kOwnInput), 1u) << text;  // said once, not per test
  EXPECT_EQ(occurrences(text, "    cause 1, said above: the same for 3 tests\n"), 3u) << text;
  // Each test keeps its own root cause with pids and fds, and the limit it ran under.
  for (int pid : {101, 201, 401})
    EXPECT_THAT(text, HasSubstr(fmt::format("    pid {} (stage) keeps fd 5 open, the write end of its own input", pid)));
  EXPECT_EQ(occurrences(text, "    wall limit 3000 ms (the lab's limit)\n"), 4u) << text;
  // A cause only one test has is not grouped: its evidence says it.
  EXPECT_THAT(text, Not(HasSubstr("while it waits for its children")));
  EXPECT_THAT(text, Not(HasSubstr("cause 2")));
  // The reference sits in the test's block, right after its message.
  EXPECT_THAT(text, HasSubstr("[   HUNG   ] pipeline_two_stages (0/10 pts) — output equals the reference's\n"
                              "    the pipeline did not finish within 3005 ms\n"
                              "    cause 1, said above: the same for 3 tests\n"
                              "    pid 101 (stage) keeps fd 5 open"));
  // A TA's view counts the hidden test too.
  EXPECT_THAT(text_of(hung_result(), {.show_hidden_details = true}),
              HasSubstr("[----------] 4 tests hung the same way (cause 1): "));
}

TEST(HangCause, TwoCausesAreNumberedInTheOrderTheTestsShowThem) {
  LabResult r = hung_result();
  r.tests.push_back(hung_test("only_own_children", Status::hung, r.tests[3].hang_cause, 601));
  const std::string text = text_of(r, {});
  EXPECT_LT(text.find("(cause 1): a process keeps the write end"), text.find("(cause 2): a parent keeps"));
  EXPECT_EQ(occurrences(text, "    cause 2, said above: the same for 2 tests\n"), 2u) << text;
}

TEST(HangCause, KoreanSaysTheGroupAndTheReferenceInKorean) {
  const std::string ko = text_of(hung_result(), {.lang = Lang::ko});
  EXPECT_THAT(ko, HasSubstr("[----------] 테스트 3개가 같은 방식으로 멈췄습니다 (원인 1): " + std::string(kOwnInput) + "\n"));
  EXPECT_THAT(ko, HasSubstr("    원인 1: 위에 적은 원인으로, 테스트 3개에 공통입니다\n"));
  EXPECT_THAT(ko, HasSubstr("[   멈춤   ] pipeline_two_stages (0/10점)"));
}

TEST(HangCause, JsonCarriesTheCauseAndTheLimitWhenSetAndWithholdsThemForAHiddenTest) {
  const auto doc = nlohmann::json::parse(json_report(hung_result()));
  EXPECT_EQ(doc["tests"][0]["status"], "hung");
  EXPECT_EQ(doc["tests"][0]["hang_cause"], kOwnInput);
  EXPECT_EQ(doc["tests"][0]["limit_note"], "wall limit 3000 ms (the lab's limit)");
  EXPECT_EQ(doc["tests"][1]["status"], "timeout");
  EXPECT_FALSE(doc["tests"][5].contains("hang_cause"));  // hidden, withheld
  EXPECT_FALSE(doc["tests"][5].contains("limit_note"));
  const auto plain = nlohmann::json::parse(json_report(mixed_result()));
  for (const auto& t : plain["tests"]) EXPECT_FALSE(t.contains("hang_cause") || t.contains("limit_note")) << t["name"];
  const auto ta = nlohmann::json::parse(json_report(hung_result(), {.show_hidden_details = true}));
  EXPECT_EQ(ta["tests"][5]["hang_cause"], kOwnInput);
}

TEST(HangCause, JunitCountsAHungTestAsAnErrorWithItsLimit) {
  std::ostringstream os;
  write_junit_report(hung_result(), os, {});
  const std::string xml = os.str();
  EXPECT_THAT(xml, HasSubstr("errors=\"5\""));
  EXPECT_THAT(xml, HasSubstr("<error message=\"the pipeline did not finish within 3005 ms\" type=\"hung\">"));
  EXPECT_THAT(xml, HasSubstr("wall limit 3000 ms (the lab's limit)</error>"));
}

}  // namespace
}  // namespace ipcg

namespace ipcg {
namespace {

using namespace report_fixture;

// Each isolation level names itself and how it was reached (docs/report-format.md), in the text
// line and in the JSON alike.
TEST(IsolationLine, NamesEveryLevelAndHowItWasReached) {
  EXPECT_EQ(isolation_line({IsolationLevel::full, "root", ""}), "isolation: full (root)");
  EXPECT_EQ(isolation_line({IsolationLevel::user_namespace_without_role_uids, "unprivileged", "roles share one uid"}),
            "isolation: user namespace without role uids (unprivileged) — roles share one uid");
  EXPECT_EQ(isolation_line({IsolationLevel::reduced, "user namespaces refused", "user.max_user_namespaces is 0"}),
            "isolation: reduced (user namespaces refused) — user.max_user_namespaces is 0");
  EXPECT_EQ(isolation_line({IsolationLevel::user_namespace_without_role_uids, "unprivileged", ""}, Lang::ko),
            "격리: 역할별 uid 없는 사용자 네임스페이스 (unprivileged)");
  LabResult r = mixed_result();
  r.isolation = {IsolationLevel::user_namespace_without_role_uids, "unprivileged", "roles share one uid"};
  const auto json = nlohmann::json::parse(json_report(r));
  EXPECT_EQ(json["isolation"]["level"], "user_namespace_without_role_uids");
  EXPECT_EQ(json["isolation"]["setting"], "unprivileged");
}

}  // namespace
}  // namespace ipcg
