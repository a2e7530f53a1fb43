// The gradebook page: aggregation over a results.jsonl made by the real grader
// (tests/unit/data/gradebook/results.jsonl: five lab1 samples graded with --show-hidden
// --seed 42, plus one submission the grader could not grade), escaping of student-controlled
// names, the `grader report` command, and the page loaded in headless Chromium (Debian's
// `chromium`, which CI installs: the test fails without it) with its totals read from the DOM.
#include "cli.hpp"
#include "gradebook/gradebook.hpp"
#include "gradebook/html.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace ipcg::gradebook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

const fs::path kFixture = fs::path(IPCG_SOURCE_DIR) / "tests/unit/data/gradebook/results.jsonl";

using ipcg::testing::TempDir;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Gradebook parsed(const std::string& text) {
  std::istringstream in(text);
  return parse_results(in);
}

// What the fixture says, computed straight from its JSON, independently of the library.
struct Expected {
  std::map<std::string, std::pair<int, int>> passed_total;
};
Expected expected_from_fixture() {
  Expected e;
  std::ifstream in(kFixture);
  for (std::string line; std::getline(in, line);) {
    const auto doc = nlohmann::json::parse(line);
    if (!doc.contains("tests")) continue;
    for (const auto& t : doc["tests"]) {
      auto& [passed, total] = e.passed_total[t["name"].get<std::string>()];
      passed += t["status"] == "passed";
      ++total;
    }
  }
  return e;
}

TEST(Gradebook, ReadsTheFixtureTheRealGraderWrote) {
  auto book = read_results(kFixture);
  ASSERT_TRUE(book.has_value()) << book.error().message;
  EXPECT_EQ(book->lab, "lab1");
  EXPECT_EQ(book->submissions.size(), 5u);
  ASSERT_EQ(book->errors.size(), 1u);
  EXPECT_EQ(book->errors[0].submission, "empty_folder");
  EXPECT_EQ(book->submissions[0].name, "correct_alt");
  EXPECT_EQ(book->submissions[0].tests.size(), expected_from_fixture().passed_total.size());
}

TEST(Gradebook, MissingFileIsAnIoError) {
  auto book = read_results("/nonexistent/results.jsonl");
  ASSERT_FALSE(book.has_value());
  EXPECT_EQ(book.error().code, Errc::io);
}

TEST(Gradebook, SummaryOfTheFixture) {
  const Summary s = summarize(*read_results(kFixture));
  EXPECT_EQ(s.submissions, 6);
  EXPECT_EQ(s.graded, 5);
  EXPECT_DOUBLE_EQ(s.max_score, 140);
  EXPECT_DOUBLE_EQ(s.mean, (95 + 95 + 80 + 0 + 0) / 5.0);
  EXPECT_DOUBLE_EQ(s.median, 80);
  // 95/140 = 67.9% (bin 6, twice), 80/140 = 57.1% (bin 5), 0 (bin 0, twice).
  EXPECT_THAT(s.histogram, ElementsAre(2, 0, 0, 0, 0, 1, 2, 0, 0, 0));
  EXPECT_EQ(s.outcomes.timeout, 2);  // loops_forever and fork_bomb
  EXPECT_EQ(s.outcomes.build_failed, 0);
}

TEST(Gradebook, PassRatesMatchTheFileAndLeadWithTheMostFailed) {
  const Summary s = summarize(*read_results(kFixture));
  const Expected e = expected_from_fixture();
  ASSERT_EQ(s.tests.size(), e.passed_total.size());
  for (std::size_t i = 0; i < s.tests.size(); ++i) {
    const TestRate& t = s.tests[i];
    EXPECT_EQ(std::make_pair(t.passed, t.total), e.passed_total.at(t.name)) << t.name;
    if (i > 0) {
      EXPECT_LE(s.tests[i - 1].pass_rate(), t.pass_rate()) << "not sorted by failure rate at " << t.name;
    }
  }
  EXPECT_LT(s.tests.front().pass_rate(), s.tests.back().pass_rate());
}

TEST(Gradebook, HistogramBinsAreTenthsOfTheMaximum) {
  EXPECT_EQ(histogram_bin(0, 10), 0);
  EXPECT_EQ(histogram_bin(0.99, 10), 0);
  EXPECT_EQ(histogram_bin(1, 10), 1);
  EXPECT_EQ(histogram_bin(7, 10), 7);   // 10 * 0.7 must not round down into bin 6
  EXPECT_EQ(histogram_bin(70, 100), 7);
  EXPECT_EQ(histogram_bin(9.99, 10), 9);
  EXPECT_EQ(histogram_bin(10, 10), 9);  // a full score is in the last bin, not an eleventh
  EXPECT_EQ(histogram_bin(3, 0), 0);    // a lab with no points does not divide by zero
}

TEST(Gradebook, MedianOfAnEvenCountIsTheMiddlePairsMean) {
  const Gradebook book = parsed(
      R"({"submission":"a","lab":"l","score":1,"max_score":10,"tests":[]})" "\n"
      R"({"submission":"b","lab":"l","score":4,"max_score":10,"tests":[]})" "\n"
      R"({"submission":"c","lab":"l","score":9,"max_score":10,"tests":[]})" "\n"
      R"({"submission":"d","lab":"l","score":6,"max_score":10,"tests":[]})" "\n");
  const Summary s = summarize(book);
  EXPECT_DOUBLE_EQ(s.median, 5);
  EXPECT_DOUBLE_EQ(s.mean, 5);
}

TEST(Gradebook, LastLineOfASubmissionWinsAndBadLinesAreListed) {
  const Gradebook book = parsed(
      R"({"submission":"a","error":"boom","lab":"l","grader_version":"1"})" "\n"
      "{\"submission\":\"b\",\"lab\":\"l\",\"score\":2\n"  // truncated: a batch killed mid-write
      R"({"submission":"a","lab":"l","score":3,"max_score":4,"build":{"ok":false},"tests":[{"name":"t","status":"build_failed"}]})" "\n"
      R"({"submission":"x","lab":"other","score":3,"max_score":4,"tests":[]})" "\n");
  ASSERT_EQ(book.submissions.size(), 1u);
  EXPECT_EQ(book.submissions[0].name, "a");
  EXPECT_FALSE(book.submissions[0].built);
  ASSERT_EQ(book.errors.size(), 2u);
  EXPECT_THAT(book.errors[0].message, HasSubstr("line 2: unreadable"));
  EXPECT_THAT(book.errors[1].message, HasSubstr("line 4: a result of other, not l"));
  EXPECT_EQ(summarize(book).outcomes.build_failed, 1);
}

TEST(GradebookHtml, EscapesStudentControlledNamesAndMessages) {
  const std::string evil = "<script>alert(1)</script>";
  const Gradebook book = parsed(
      R"({"submission":"<script>alert(1)</script>","lab":"lab1","score":1,"max_score":2,)"
      R"("tests":[{"name":"t\"><img onerror=x>","property":"p","status":"passed","score":1,"max_score":1}]})" "\n"
      R"({"submission":"'\" onmouseover=\"x","error":"<script>alert(1)</script>\u001b[31m","lab":"lab1"})" "\n");
  const std::string html = gradebook_html(book, summarize(book));
  EXPECT_THAT(html, Not(HasSubstr(evil)));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("\" onmouseover")));
  EXPECT_THAT(html, Not(HasSubstr("\x1b")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("href=\"reports/%3Cscript%3Ealert%281%29%3C%2Fscript%3E.txt\""));
  EXPECT_EQ(html_escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
}

TEST(GradebookHtml, IsSelfContained) {
  const Gradebook book = *read_results(kFixture);
  const std::string html = gradebook_html(book, summarize(book));
  for (const char* outside : {"http:", "https:", "<script", "<link", "src=", "@import", "url("})
    EXPECT_THAT(html, Not(HasSubstr(outside))) << outside;
  EXPECT_THAT(html, HasSubstr("<svg id=\"histogram\""));
  EXPECT_THAT(html, HasSubstr("<svg id=\"pass-rates\""));
  EXPECT_THAT(html, HasSubstr("href=\"reports/correct_alt.txt\""));
}

// --- the command -------------------------------------------------------------------------

int grader(std::vector<std::string> args, std::string* out_text = nullptr) {
  args.insert(args.begin(), "grader");
  std::ostringstream out, err;
  const int code = run_cli(args, out, err);
  if (out_text) *out_text = out.str() + err.str();
  return code;
}

TEST(GraderReport, WritesGradebookHtmlIntoTheOutDir) {
  TempDir dir{"ipcg-gradebook"};
  fs::copy_file(kFixture, dir.path() / "results.jsonl");
  std::string said;
  ASSERT_EQ(grader({"report", dir.path().string()}, &said), 0) << said;
  EXPECT_THAT(said, HasSubstr("6 submissions"));
  EXPECT_THAT(read_all(dir.path() / "gradebook.html"), HasSubstr("id=\"submission-count\" data-count=\"6\""));
}

TEST(GraderReport, LinksStayRelativeWhenThePageIsElsewhere) {
  TempDir dir{"ipcg-gradebook"};
  fs::create_directories(dir.path() / "batch");
  fs::create_directories(dir.path() / "site");
  fs::copy_file(kFixture, dir.path() / "batch/results.jsonl");
  const fs::path page = dir.path() / "site/class.html";
  ASSERT_EQ(grader({"report", (dir.path() / "batch").string(), "--out", page.string()}), 0);
  EXPECT_THAT(read_all(page), HasSubstr("href=\"../batch/reports/no_waitpid.txt\""));
}

TEST(GraderReport, NoResultsIsAnError) {
  TempDir dir{"ipcg-gradebook"};
  EXPECT_EQ(grader({"report", dir.path().string()}), 3);
  EXPECT_FALSE(fs::exists(dir.path() / "gradebook.html"));
}

TEST(GraderReport, ShowsTheLastRegradeWhenRegradeJsonIsThere) {
  TempDir dir{"ipcg-gradebook"};
  fs::copy_file(kFixture, dir.path() / "results.jsonl");
  ASSERT_EQ(grader({"report", dir.path().string()}), 0);
  EXPECT_THAT(read_all(dir.path() / "gradebook.html"), Not(HasSubstr("id=\"regrade\"")));
  std::ofstream(dir.path() / "regrade.json") << R"({"when":"2026-12-06T00:19:36Z","archive":"regrades/20261206T001936Z",
    "old":{"spec_hash":"aa","grader_version":"1.0"},"new":{"spec_hash":"bb","grader_version":"1.0"},
    "up":1,"down":0,"equal":4,"changed":[{"submission":"<b>x</b>","old_score":90,"new_score":94,
    "reason":"spec changed","tests":[]}],"added":[],"dropped":[],"errors":[]})";
  ASSERT_EQ(grader({"report", dir.path().string()}), 0);
  const std::string html = read_all(dir.path() / "gradebook.html");
  EXPECT_THAT(html, HasSubstr("<section id=\"regrade\" data-when=\"2026-12-06T00:19:36Z\" data-up=\"1\" "
                              "data-down=\"0\" data-equal=\"4\">"));
  EXPECT_THAT(html, HasSubstr("spec_hash aa → bb, same grader (1.0)"));
  EXPECT_THAT(html, HasSubstr("<tr data-submission=\"&lt;b&gt;x&lt;/b&gt;\">"));
  EXPECT_THAT(html, HasSubstr("<td>spec changed</td>"));
}

TEST(GraderReport, ARegradeJsonThatIsNotJsonIsAConfigError) {
  TempDir dir{"ipcg-gradebook"};
  fs::copy_file(kFixture, dir.path() / "results.jsonl");
  std::ofstream(dir.path() / "regrade.json") << "{cut";
  std::string said;
  EXPECT_EQ(grader({"report", dir.path().string()}, &said), 2);
  EXPECT_THAT(said, HasSubstr("regrade.json"));
}

// --- headless Chromium ---------------------------------------------------------------------

// Runs argv with stdout to out_file, in its own process group, killed whole at the deadline
// or when it is done (Chromium leaves helper processes behind). Returns the exit status or -1.
int run_bounded(const std::vector<std::string>& argv, const fs::path& out_file, int deadline_ms) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before we might kill it
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{pidfd, POLLIN, 0};
  const bool exited = pidfd >= 0 && ::poll(&p, 1, deadline_ms) == 1;
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (pidfd >= 0) ::close(pidfd);
  return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string chromium_dump_dom(const fs::path& page, const fs::path& profile) {
  const fs::path dom = profile.parent_path() / "dom.html";
  const int code = run_bounded({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                "--disable-sync", "--user-data-dir=" + profile.string(), "--dump-dom",
                                "file://" + page.string()},
                               dom, 60000);
  EXPECT_NE(code, 127) << "chromium is not installed: apt-get install chromium (.ci/install-deps.sh)";
  EXPECT_EQ(code, 0) << "chromium failed or did not finish in 60 s";
  return read_all(dom);
}

// The text Chromium shows in the element whose opening tag matches `tag_pattern`.
std::string shown(const std::string& dom, const std::string& tag_pattern) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex(tag_pattern + "[^>]*>([^<]*)<"))) return "(not found: " + tag_pattern + ")";
  return m[1];
}

TEST(GradebookChromium, ShowsTheTotalsOfTheFixture) {
  TempDir dir{"ipcg-gradebook"};
  fs::copy_file(kFixture, dir.path() / "results.jsonl");
  ASSERT_EQ(grader({"report", dir.path().string()}), 0);
  const std::string dom = chromium_dump_dom(dir.path() / "gradebook.html", dir.path() / "profile");
  ASSERT_THAT(dom, HasSubstr("</html>"));
  EXPECT_EQ(shown(dom, "id=\"submission-count\""), "6");
  EXPECT_EQ(shown(dom, "id=\"graded-count\""), "5");
  EXPECT_EQ(shown(dom, "id=\"mean-score\""), "54 / 140");
  EXPECT_EQ(shown(dom, "id=\"median-score\""), "80 / 140");
  EXPECT_EQ(shown(dom, "id=\"count-timeout\""), "2");
  // Every test's pass rate, as the chart's label shows it.
  for (const auto& [name, counts] : expected_from_fixture().passed_total) {
    const auto [passed, total] = counts;
    const std::string want = fmt::format("{:.1f}% ({}/{})", 100.0 * passed / total, passed, total);
    EXPECT_EQ(shown(dom, "data-test=\"" + name + "\"[^>]*>.*?class=\"rate\""), want) << name;
  }
  // Rows rendered: one per graded submission.
  const std::regex row("<tr class=\"submission\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(dom.begin(), dom.end(), row), std::sregex_iterator()), 5);
}

}  // namespace
}  // namespace ipcg::gradebook
