// `grader export`'s library: a small class (results as gradebook.csv has them, a roster built
// here) written in each LMS's format and checked against golden files, then what a golden file
// does not show: the warnings name the students, an empty cell is never a zero, the files parse
// back as RFC 4180 with the same scores, feedback is cut on a line boundary within the limit, and
// options a format cannot honour are refused.
//
// Regenerate the goldens after an intended change, then review the diff:
//   IPCG_UPDATE_GOLDEN=1 ./test_export && git diff tests/unit/data/export
#include "export/csv.hpp"
#include "export/export.hpp"
#include "export/roster.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "unit/grader/report/report_fixture.hpp"

namespace ipcg::lms {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using report_fixture::expect_golden;

const std::string kGoldens = std::string(IPCG_SOURCE_DIR) + "/tests/unit/data/export/";
constexpr const char* kWhen = "2026-12-06 02:31:00 UTC";

std::string long_report(const std::string& who) {
  std::string text = "lab1: Anonymous pipes, " + who + "\n";
  for (int k = 1; k <= 8; ++k) text += "  test_" + std::to_string(k) + ": failed <see> \"why\" & how\n";
  return text + "95/140 points\n";
}

// alice and bob graded, carol's row an error, dave graded but not in the roster; erin and frank
// are in the roster without a result (frank has no LMS id and no login either).
std::vector<GradeRow> class_rows() {
  return {
      {"alice", "95", "140", "", long_report("alice"), "reports/alice.txt"},
      {"bob", "12.5", "140", "", "lab1: bob\n12.5/140 points\n", "reports/bob.txt"},
      {"carol", "", "", "build sandbox failed", "", ""},
      {"dave", "140", "140", "", "lab1: dave\n140/140 points\n", "reports/dave.txt"},
  };
}

const char* kRosterText =
    "id,name,login,email,sis_user_id,section,lms_id\r\n"
    "alice,\"Müller, Jürgen \"\"JJ\"\"\",jmuller,jm@uni.example,S1001,Sec A,11\r\n"
    "bob,\"=HYPERLINK(\"\"http://x\"\")\",bob,bob@uni.example,S1002,-B,12\r\n"
    "carol,Чэнь Ли,cli,cl@uni.example,S1003,Sec A,13\r\n"
    "erin,Erin Ó Briain,eob,eob@uni.example,S1004,Sec A,14\r\n"
    "frank,Frank,,frank@uni.example,,Sec A,\r\n";

Roster class_roster() {
  auto roster = parse_roster(kRosterText, "roster.csv");
  EXPECT_TRUE(roster) << roster.error().message;
  return *roster;
}

Exported exported(const ExportOptions& options, bool with_roster = true) {
  auto out = export_grades(class_rows(), with_roster ? std::optional<Roster>(class_roster()) : std::nullopt, options);
  EXPECT_TRUE(out) << out.error().message;
  return out ? *out : Exported{};
}

std::string all_warnings(const Exported& out) {
  std::string text;
  for (const auto& w : out.warnings) text += w + "\n";
  return text;
}

// header cell -> (first cell of the row -> cell), from our own file parsed back as RFC 4180.
std::map<std::string, std::map<std::string, std::string>> columns_of(const std::string& text) {
  auto records = csv::parse(text, "export");
  EXPECT_TRUE(records) << records.error().message;
  std::map<std::string, std::map<std::string, std::string>> columns;
  const auto& header = records->front().fields;
  for (std::size_t r = 1; r < records->size(); ++r) {
    const auto& fields = (*records)[r].fields;
    EXPECT_EQ(fields.size(), header.size()) << "row " << r;
    for (std::size_t c = 0; c < header.size() && c < fields.size(); ++c) columns[header[c]][fields[0]] = fields[c];
  }
  return columns;
}

// --- golden files, one per format ---------------------------------------------------------------

TEST(ExportGolden, Canvas) {
  expect_golden("canvas.csv", exported({.to = Target::canvas, .column = "Lab 1 (12345)", .lab = "lab1"}).text,
                kGoldens);
}

TEST(ExportGolden, CanvasNewColumnWithoutRoster) {
  expect_golden("canvas_no_roster.csv", exported({.to = Target::canvas, .lab = "lab1"}, false).text, kGoldens);
}

TEST(ExportGolden, MoodleWorksheetWithFeedbackCut) {
  expect_golden("moodle.csv",
                exported({.to = Target::moodle, .lab = "lab1", .feedback = true, .feedback_limit = 300,
                          .exported_at = kWhen})
                    .text,
                kGoldens);
}

TEST(ExportGolden, Blackboard) {
  expect_golden("blackboard.csv", exported({.to = Target::blackboard, .column = "Lab 1 |123456", .lab = "lab1"}).text,
                kGoldens);
}

TEST(ExportGolden, PlainCsvWithFeedbackCut) {
  expect_golden("plain.csv",
                exported({.to = Target::csv, .lab = "lab1", .feedback = true, .feedback_limit = 120}).text, kGoldens);
}

// --- what the goldens do not show ----------------------------------------------------------------

TEST(Export, ScoresAreTheGradebookTextAndMissingResultsStayEmptyNeverZero) {
  for (Target to : {Target::canvas, Target::moodle, Target::csv}) {
    const auto out = exported({.to = to, .lab = "lab1", .exported_at = kWhen});
    auto columns = columns_of(out.text);
    const std::string grade = to == Target::canvas ? "lab1" : to == Target::moodle ? "Grade" : "score";
    const std::string key = to == Target::canvas ? "Student" : to == Target::moodle ? "Email address" : "id";
    std::map<std::string, std::string> by_key;  // the key column's value -> grade
    for (const auto& [first, value] : columns[grade]) by_key[columns[key][first]] = value;
    const std::string alice = to == Target::canvas ? "Müller, Jürgen \"JJ\"" : to == Target::moodle ? "jm@uni.example" : "alice";
    const std::string bob = to == Target::canvas ? "'=HYPERLINK(\"http://x\")" : to == Target::moodle ? "bob@uni.example" : "bob";
    const std::string erin = to == Target::canvas ? "Erin Ó Briain" : to == Target::moodle ? "eob@uni.example" : "erin";
    EXPECT_EQ(by_key[alice], "95");
    EXPECT_EQ(by_key[bob], "12.5");
    EXPECT_EQ(by_key.at(erin), "") << "no result must be an empty cell";
    EXPECT_EQ(out.rows, 6);  // five roster students and dave
  }
}

TEST(Export, WarningsNameTheStudentsConcerned) {
  const auto out = exported({.to = Target::canvas, .lab = "lab1"});
  const std::string text = all_warnings(out);
  EXPECT_THAT(text, HasSubstr("have no result (their cell is left empty, not 0): erin, frank"));
  EXPECT_THAT(text, HasSubstr("could not be graded (error rows of results.jsonl; cell left empty, not 0): carol"));
  EXPECT_THAT(text, HasSubstr("have no row in the roster (exported under the submission name only, which the LMS may "
                              "not match): dave"));
  EXPECT_THAT(text, HasSubstr("only by the Student name: frank, dave"));
}

TEST(Export, WithoutRosterEverySubmissionIsExportedAndTheGapsAreSaid) {
  const auto canvas = exported({.to = Target::canvas, .lab = "lab1"}, false);
  EXPECT_EQ(canvas.rows, 4);
  EXPECT_THAT(all_warnings(canvas), HasSubstr("no --roster: the Student column holds the submission name"));
  EXPECT_THAT(all_warnings(canvas), Not(HasSubstr("no row in the roster")));
  const auto moodle = exported({.to = Target::moodle, .lab = "lab1"}, false);
  EXPECT_THAT(all_warnings(moodle), HasSubstr("no Moodle participant number"));
}

TEST(Export, CanvasWritesPointsPossibleOnlyForANewColumn) {
  EXPECT_THAT(exported({.to = Target::canvas, .column = "Lab 1", .lab = "lab1"}).text,
              HasSubstr("\r\nPoints Possible,,,,,140\r\n"));
  EXPECT_THAT(exported({.to = Target::canvas, .column = "Lab 1 (12345)", .lab = "lab1"}).text,
              Not(HasSubstr("Points Possible")));
}

TEST(Export, BlackboardLeavesOutRowsWithoutUsernameAndSaysWho) {
  const auto out = exported({.to = Target::blackboard, .column = "Lab 1", .lab = "lab1"});
  EXPECT_THAT(out.text, HasSubstr("\"Username\",\"Lab 1 [Total Pts: 140 Score]\"\r\n"));
  EXPECT_THAT(out.text, Not(HasSubstr("frank")));
  EXPECT_THAT(all_warnings(out), HasSubstr("no login in the roster and are left out"));
  EXPECT_THAT(all_warnings(out), HasSubstr(": frank"));
}

TEST(Export, OptionsAFormatCannotHonourAreRefused) {
  for (Target to : {Target::canvas, Target::blackboard}) {
    auto out = export_grades(class_rows(), class_roster(), {.to = to, .lab = "lab1", .feedback = true});
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, Errc::usage);
    EXPECT_THAT(out.error().message, HasSubstr("--feedback"));
  }
  auto moodle = export_grades(class_rows(), class_roster(), {.to = Target::moodle, .column = "Lab 1"});
  ASSERT_FALSE(moodle);
  EXPECT_THAT(moodle.error().message, HasSubstr("`Grade`"));
}

std::string identity(std::string_view text) { return std::string(text); }

TEST(ShortenReport, CutsOnALineBoundaryWithinTheLimitAndNamesTheFullReport) {
  const std::string report = long_report("alice");
  EXPECT_EQ(shorten_report(report, report.size(), "reports/alice.txt", identity), report);
  for (std::size_t limit : {90u, 120u, 200u}) {
    const std::string cut = shorten_report(report, limit, "reports/alice.txt", identity);
    ASSERT_FALSE(cut.empty());
    EXPECT_LE(cut.size(), limit);
    const auto marker = cut.find("[... ");
    ASSERT_NE(marker, std::string::npos) << cut;
    EXPECT_THAT(cut, HasSubstr("the full report is reports/alice.txt]"));
    EXPECT_EQ(report.compare(0, marker, cut, 0, marker), 0) << "kept text is the report's start";
    EXPECT_TRUE(marker == 0 || cut[marker - 1] == '\n') << "cut on a line boundary";
  }
  // Korean text counts in characters, not bytes.
  const std::string korean = "가나다라마바사\n아자차카타파하\n";
  EXPECT_EQ(shorten_report(korean, 16, "r", identity), korean);
}

TEST(Roster, MalformedRostersNameFileAndLine) {
  EXPECT_TRUE(parse_roster("\xEF\xBB\xBFid,name,login,email,sis_user_id,section,lms_id\n", "r.csv"));
  auto header = parse_roster("id,name\n", "r.csv");
  ASSERT_FALSE(header);
  EXPECT_THAT(header.error().message, HasSubstr("r.csv:1: the header must be"));
  auto width = parse_roster(std::string(kRosterHeader) + "\nalice,A,a,a@x,1,S\n", "r.csv");
  ASSERT_FALSE(width);
  EXPECT_THAT(width.error().message, HasSubstr("r.csv:2: 6 fields, the header has 7"));
  auto twice = parse_roster(std::string(kRosterHeader) + "\na,,,,,,\n\"multi\nline\",,,,,,\na,,,,,,\n", "r.csv");
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error().message, HasSubstr("r.csv:5: id 'a' appears twice"));
  auto open = parse_roster(std::string(kRosterHeader) + "\n\"a,,,,,,\n", "r.csv");
  ASSERT_FALSE(open);
  EXPECT_THAT(open.error().message, HasSubstr("r.csv:2: a quote is never closed"));
}

TEST(Csv, FormulaLikeTextIsMadeInertAndQuotedCellsRoundTrip) {
  EXPECT_EQ(csv::inert("=1+2"), "'=1+2");
  EXPECT_EQ(csv::inert("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv::inert("Ana"), "Ana");
  const std::string line = csv::cell("a,\"b\"\r\nc") + "," + csv::cell("plain") + "\r\n";
  auto parsed = csv::parse(line, "t");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].fields, (std::vector<std::string>{"a,\"b\"\r\nc", "plain"}));
}

}  // namespace
}  // namespace ipcg::lms
