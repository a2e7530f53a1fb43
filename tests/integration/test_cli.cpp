// The grader's command line as a user meets it: listing, usage errors, malformed lab files,
// grading the working copy, text evidence, the isolation line and the report's language.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

#include "language.hpp"
#include "run_grader.hpp"

namespace fs = std::filesystem;
using ipcg::testing::leftover_children;
using ipcg::testing::kSource;
using ipcg::testing::run_grader;

namespace {


TEST(Cli, ListsLabsWithNumberNameAndMechanism) {
  auto run = run_grader({"list"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("lab1"), std::string::npos);
  EXPECT_NE(run.out.find("lab1-pipe"), std::string::npos);
  EXPECT_NE(run.out.find("anonymous pipe"), std::string::npos);
}

TEST(Cli, PolicyPrintsTheLabsSetsInWordsAndThePfcExport) {
  auto run = run_grader({"policy", "lab1"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* text : {"Sets in lab.toml [sandbox] syscalls: process, file, pipe", "  pipe: anonymous pipes",
                           "clone (no CLONE_NEW* namespace flags)", "Always killed with SIGSYS", "ptrace",
                           "Every other call fails with EPERM", "libseccomp PFC export", "KILL_PROCESS"})
    EXPECT_NE(run.out.find(text), std::string::npos) << text << " not in:\n" << run.out;
  EXPECT_EQ(run_grader({"policy", "lab99"}).exit_code, 2);
}

TEST(Cli, UnknownLabIsAUsageError) {
  auto run = run_grader({"run", "lab99"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("lab99"), std::string::npos) << run.err;
}

TEST(Cli, UnknownTestIsAUsageError) {
  auto run = run_grader({"run", "1", "--only", "no_such_test", "--submission", kSource + "/reference/lab1-pipe"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("no_such_test"), std::string::npos) << run.err;
}

TEST(Cli, MissingSubmissionFolderIsAUsageError) {
  auto run = run_grader({"run", "lab1", "--submission", "/nonexistent/folder"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("/nonexistent/folder"), std::string::npos) << run.err;
}

// A copy of the labs folder with lab1's lab.toml broken at a known line and key.
class MalformedLab : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("ipcg-cli-" + std::to_string(::getpid()));
    fs::create_directories(home_ / "labs");
    fs::copy(kSource + "/labs/lab1-pipe", home_ / "labs" / "lab1-pipe", fs::copy_options::recursive);
    fs::create_directory_symlink(kSource + "/reference", home_ / "reference");
  }
  void TearDown() override { fs::remove_all(home_); }
  void replace_line(const std::string& from, const std::string& to) {
    const auto path = home_ / "labs" / "lab1-pipe" / "lab.toml";
    std::string text = ipcg::testing::read_file(path.string());
    auto at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(path) << text;
  }
  fs::path home_;
};

TEST_F(MalformedLab, WrongTypeNamesFileLineAndKey) {
  replace_line("points = 10\nvisibility = \"public\"\ncheck = \"lab1.pipeline_output\"",
               "points = \"ten\"\nvisibility = \"public\"\ncheck = \"lab1.pipeline_output\"");
  auto run = run_grader({"list"}, {"IPCGRADE_HOME=" + home_.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("lab.toml:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("points"), std::string::npos) << run.err;
}

TEST_F(MalformedLab, SyntaxErrorNamesFileAndLine) {
  replace_line("[sandbox]", "[sandbox");
  auto run = run_grader({"run", "lab1"}, {"IPCGRADE_HOME=" + home_.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("lab1-pipe/lab.toml:"), std::string::npos) << run.err;
}

TEST(Cli, GradesTheWorkingCopyByDefault) {
  // Without --submission the student's working copy (the skeleton) is graded: it builds and fails.
  auto run = run_grader({"run", "lab1", "--only", "pipeline_two_stages", "--seed", "3"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.out.find("pipeline_two_stages"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("seed"), std::string::npos);
  EXPECT_NE(run.out.find("isolation:"), std::string::npos);
  EXPECT_TRUE(leftover_children().empty());
}

TEST(Cli, JsonReportHasTheDocumentedFields) {
  auto run = run_grader({"run", "lab1", "--submission", kSource + "/reference/lab1-pipe", "--format", "json",
                         "--only", "pipeline_two_stages", "--seed", "11"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  for (const char* key : {"lab", "score", "max_score", "seed", "isolation", "grader_version", "spec_hash", "tests"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["seed"], 11);
  EXPECT_EQ(j["spec_hash"].get<std::string>().size(), 64u);
}

TEST(Cli, TextEvidenceNamesPidFdAndEnd) {
  auto run = run_grader({"run", "lab1", "--submission", kSource + "/tests/submissions/lab1/child_keeps_write_end",
                         "--only", "stages_hold_only_their_ends", "--color", "never"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.out.find("pid "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("fd "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("write end"), std::string::npos) << run.out;
}

// lab1's `wall = "6x reference + settle"` with `settle = "5x reference, at least 300 ms"` (cap
// settle_ms 1000, wall_ms 3000): a spinning submission's test stops at the derived limit, and
// the report's arithmetic is the lab.toml's policy; --full-limits gives back the cap.
TEST(Cli, ASpinnerStopsAtTheWallLimitDerivedFromTheReferenceRunPlusItsSettleGrace) {
  const std::vector<std::string> base{"run", "lab1", "--submission", kSource + "/tests/submissions/lab1/loops_forever",
                                      "--only", "pipeline_returns_last_status", "--format", "json", "--no-build-cache"};
  auto run = run_grader(base);
  ASSERT_EQ(run.exit_code, 1) << run.err;
  const auto test = nlohmann::json::parse(run.out)["tests"][0];
  EXPECT_EQ(test["status"], "timeout");
  const std::string note = test["limit_note"];
  std::smatch m;
  ASSERT_TRUE(std::regex_search(note, m, std::regex(R"(^wall limit (\d+) ms = 6 x the reference's own run of this test \((\d+) ms.*\+ the settle grace \((\d+) ms\), at most 3000 ms)")))
      << note;
  const long wall = std::stol(m[1]), reference = std::stol(m[2]), settle = std::stol(m[3]);
  EXPECT_EQ(settle, std::clamp(5 * reference, 300L, 1000L)) << note;
  EXPECT_EQ(wall, std::min(6 * reference + settle, 3000L)) << note;

  auto full = base;
  full.push_back("--full-limits");
  auto capped = run_grader(full);
  ASSERT_EQ(capped.exit_code, 1) << capped.err;
  EXPECT_EQ(nlohmann::json::parse(capped.out)["tests"][0]["limit_note"], "wall limit 3000 ms (lab.toml's, --full-limits)");
  EXPECT_TRUE(leftover_children().empty());
}

TEST(Cli, ReducedIsolationIsSaidWithItsReason) {
  auto run = run_grader({"run", "lab1", "--submission", kSource + "/reference/lab1-pipe", "--only",
                         "pipeline_two_stages", "--reduced", "--format", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["isolation"]["level"], "reduced");
  EXPECT_FALSE(j["isolation"]["reason"].get<std::string>().empty());
}

// Folders and cgroups named after grader `pid` (ipcgrade-<pid>-...) under `tmp` and /sys/fs/cgroup.
std::vector<std::string> graders_leftovers(const fs::path& tmp, pid_t pid) {
  const std::string prefix = "ipcgrade-" + std::to_string(pid) + "-";
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tmp, ec)) found.push_back(e.path().string());
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it.depth() >= 2) it.disable_recursion_pending();
    if (it->path().filename().string().starts_with(prefix)) found.push_back(it->path().string());
  }
  return found;
}

// scancel, a CI job's cancel, Ctrl-C: the grader dies of the signal, and what it had made on the
// host (its work folder; as root its cells' cgroups) is removed by the `grader cleanup --after`
// it started, not left for the next grader.
TEST(Cli, AGraderStoppedBySigtermLeavesNothingBehind) {
  char tmpl[] = "/tmp/ipcg-sigterm-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path tmp = tmpl;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the cleanup outlives the grader: it comes back to us
  const pid_t grader = ::fork();
  if (grader == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setenv("TMPDIR", tmpl, 1);
    ::execl(IPCG_GRADER, "grader", "run", "lab1", "--submission", (kSource + "/reference/lab1-pipe").c_str(), nullptr);
    ::_exit(127);
  }
  ASSERT_GT(grader, 0);
  // The event: its work folder exists (made before its first cell).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (fs::is_empty(tmp) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(fs::is_empty(tmp)) << "the grader made no work folder in " << tmp;
  ASSERT_EQ(::kill(grader, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(grader, &status, 0), grader);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "wait status " << status;
  // What the grader left running came back to us: its keepers (ending by their parent-death
  // signal) and the cleanup, which waits for them all. Each must end by itself.
  std::vector<pid_t> left = leftover_children();
  EXPECT_FALSE(left.empty()) << "no `grader cleanup --after " << grader << "` was started";
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (pid_t p : left) {
    int st = 0;
    while (::waitpid(p, &st, WNOHANG) == 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(leftover_children(), std::vector<pid_t>{}) << "still running 30 s after the grader died";
  EXPECT_EQ(graders_leftovers(tmp, grader), std::vector<std::string>{});
  fs::remove_all(tmp);
}

TEST(Cli, BuildFailureIsAVerdictWithCompilerOutput) {
  const auto dir = fs::temp_directory_path() / ("ipcg-broken-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "pipeline.c") << "#include \"pipeline.h\"\nint run_pipeline(oops) {\n";
  auto run = run_grader({"run", "lab1", "--submission", dir.string(), "--format", "json"});
  fs::remove_all(dir);
  ASSERT_EQ(run.exit_code, 1) << run.err;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_FALSE(j["build"]["ok"].get<bool>());
  EXPECT_NE(j["build"]["output"].get<std::string>().find("pipeline.c:2"), std::string::npos) << j["build"];
  for (const auto& t : j["tests"]) EXPECT_EQ(t["status"], "build_failed");
  EXPECT_EQ(j["score"], 0);
}

// A student's laptop: no root. The grader and its data are copied where any user can read them
// (the checkout may not be), then run as nobody.
class Unprivileged : public ::testing::Test {
 protected:
  static constexpr int kNobody = 65534;
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "already unprivileged: every other test covers this setting";
    const std::string build = IPCG_BINARY_DIR;
    fs::create_directories(root_ / "share" / "ipcgrade");
    fs::create_directories(root_ / "bin");
    fs::copy(build + "/bin/grader", root_ / "bin" / "grader");
    fs::copy(build + "/libexec", root_ / "libexec", fs::copy_options::recursive);
    fs::copy(kSource + "/labs", root_ / "share" / "ipcgrade" / "labs", fs::copy_options::recursive);
    fs::copy(kSource + "/reference", root_ / "share" / "ipcgrade" / "reference", fs::copy_options::recursive);
    for (const auto& entry : fs::recursive_directory_iterator(root_))
      fs::permissions(entry.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(root_, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  }
  void TearDown() override { fs::remove_all(root_); }
  // lab1's reference, one test, as nobody; the JSON report.
  nlohmann::json grade(std::vector<std::string> extra, ipcg::testing::RunAs as = {.uid = kNobody}) {
    std::vector<std::string> args = {"run", "lab1", "--submission",
                                     (root_ / "share/ipcgrade/reference/lab1-pipe").string(),
                                     "--only", "stages_hold_only_their_ends", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto run = run_grader(args, {"TMPDIR=/tmp"}, (root_ / "bin" / "grader").string(), as);
    if (run.exit_code == 125) return {{"skip", "no user namespace of the test's own to forbid them in"}};
    EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_TRUE(leftover_children().empty());
    return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json::object();
  }
  const fs::path root_ = fs::temp_directory_path() / ("ipcg-unpriv-" + std::to_string(::getpid()));
};

// Where the kernel lets a user make user namespaces (Debian 12's default), each cell is one, and
// the report says the roles share a uid and what that costs.
TEST_F(Unprivileged, GradesInAUserNamespaceWithoutRoleUids) {
  auto j = grade({});
  ASSERT_TRUE(j.contains("isolation"));
  if (j["isolation"]["setting"] == "user namespaces refused")
    GTEST_SKIP() << "this host refuses unprivileged user namespaces: " << j["isolation"]["reason"];
  EXPECT_EQ(j["isolation"]["level"], "user_namespace_without_role_uids");
  EXPECT_EQ(j["isolation"]["setting"], "unprivileged");
  EXPECT_NE(j["isolation"]["reason"].get<std::string>().find("roles share one uid"), std::string::npos);
  EXPECT_EQ(j["score"], j["max_score"]);
}

TEST_F(Unprivileged, FallsBackToReducedWhenUserNamespacesAreForbidden) {
  auto j = grade({}, {.uid = kNobody, .user_namespaces_forbidden = true});
  if (j.contains("skip")) GTEST_SKIP() << j["skip"];
  ASSERT_TRUE(j.contains("isolation"));
  EXPECT_EQ(j["isolation"]["level"], "reduced");
  EXPECT_EQ(j["isolation"]["setting"], "user namespaces refused");
  EXPECT_NE(j["isolation"]["reason"].get<std::string>().find("user.max_user_namespaces is 0"), std::string::npos)
      << j["isolation"]["reason"];
  EXPECT_EQ(j["score"], j["max_score"]);
}

TEST_F(Unprivileged, GradesWithReducedIsolationOnRequest) {
  auto j = grade({"--reduced"});
  ASSERT_TRUE(j.contains("isolation"));
  EXPECT_EQ(j["isolation"]["level"], "reduced");
  EXPECT_EQ(j["isolation"]["setting"], "unprivileged");
  EXPECT_FALSE(j["isolation"]["reason"].get<std::string>().empty());
  EXPECT_EQ(j["score"], j["max_score"]);
}

// ---- the report's language (docs/i18n.md) -----------------------------------------------------

// The locale variables unset in this process while it lives: run_grader hands the test's
// environment on, and a variable given twice is read where it first appears.
class NoLocale {
 public:
  NoLocale() {
    for (const char* name : kNames) {
      if (const char* value = std::getenv(name)) saved_.emplace_back(name, value);
      ::unsetenv(name);
    }
  }
  ~NoLocale() {
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  NoLocale(const NoLocale&) = delete;
  NoLocale& operator=(const NoLocale&) = delete;

 private:
  static constexpr const char* kNames[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
  std::vector<std::pair<std::string, std::string>> saved_;
};

// What a text report says in numbers, whatever its language: each test's "score/max" by name,
// and the total's.
struct Scores {
  std::map<std::string, std::string> tests;
  std::string total;
};

Scores scores_of(const std::string& report) {
  // "[  FAILED  ] name (0/10 pts) — ..." and "[   실패   ] name (0/10점) — ..."
  static const std::regex test_line(R"(^\[[^\]]+\] (\S+) \(([0-9.]+/[0-9.]+)(?: pts|점)[,)])");
  static const std::regex total_line(R"(^\[==========\] ([0-9.]+/[0-9.]+)(?: points|점), )");
  Scores s;
  std::istringstream in(report);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, m, total_line)) s.total = m[1];
    else if (std::regex_search(line, m, test_line)) s.tests[m[1]] = m[2];
  }
  return s;
}

bool has_hangul(const std::string& text) {
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(text[i]), b1 = static_cast<unsigned char>(text[i + 1]);
    if ((b0 == 0xEA && b1 >= 0xB0) || b0 == 0xEB || b0 == 0xEC || (b0 == 0xED && b1 <= 0x9E)) return true;
  }
  return false;
}

void expect_korean_headers(const std::string& out) {
  for (const char* header : {"\n[----------] 제출물: ", "\n[----------] 격리: ", "\n[----------] 시드: ",
                             "\n[----------] 빌드: ", "\n[----------] 테스트 ", "\n[==========] "})
    EXPECT_NE(out.find(header), std::string::npos) << header << " not in:\n" << out;
  EXPECT_NE(out.find("점, 테스트 "), std::string::npos) << out;
  EXPECT_EQ(out.find("seed:"), std::string::npos) << out;
}

void expect_english_headers(const std::string& out) {
  for (const char* header : {"\n[----------] submission: ", "\n[----------] isolation: ", "\n[----------] seed: ",
                             "\n[----------] build: "})
    EXPECT_NE(out.find(header), std::string::npos) << header << " not in:\n" << out;
  EXPECT_FALSE(has_hangul(out)) << out;
}

TEST(CliLanguage, KoreanReportHasTheEnglishReportsScores) {
  NoLocale no_locale;
  // Six tests fail, none by timeout: quick, and every failing line carries a property.
  const std::string submission = kSource + "/tests/submissions/lab1/no_alternation";
  auto en = run_grader({"run", "lab1", "--submission", submission, "--seed", "5", "--color", "never"});
  auto ko = run_grader({"run", "lab1", "--submission", submission, "--seed", "5", "--color", "never", "--lang", "ko"});
  ASSERT_NE(en.exit_code, 2) << en.err;
  EXPECT_EQ(ko.exit_code, en.exit_code) << ko.err;
  expect_english_headers(en.out);
  expect_korean_headers(ko.out);
  const Scores en_scores = scores_of(en.out), ko_scores = scores_of(ko.out);
  EXPECT_FALSE(en_scores.tests.empty()) << en.out;
  EXPECT_FALSE(en_scores.total.empty()) << en.out;
  EXPECT_EQ(ko_scores.tests, en_scores.tests) << en.out << "\n" << ko.out;
  EXPECT_EQ(ko_scores.total, en_scores.total) << en.out << "\n" << ko.out;
  // lab1's own Korean (lab.toml's title_ko and property_ko), not only the catalogue's.
  EXPECT_NE(ko.out.find("익명 파이프: 파이프라인과 양방향 대화"), std::string::npos) << ko.out;
  EXPECT_NE(ko.out.find("[   실패   ] strict_alternation (0/10점) — 요청과 응답이 엄격히 번갈아 오감"), std::string::npos)
      << ko.out;
  EXPECT_TRUE(leftover_children().empty());
}

// A submission that does not compile: every header, no test run, in a second.
class LanguageFromLocale : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipcg-lang-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "pipeline.c") << "#include \"pipeline.h\"\nint run_pipeline(oops) {\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  ipcg::testing::GraderRun run(std::vector<std::string> extra_args, std::vector<std::string> env) {
    std::vector<std::string> args{"run", "lab1", "--submission", dir_.string(), "--seed", "9"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return run_grader(args, env);
  }
  NoLocale no_locale_;
  fs::path dir_;
};

TEST_F(LanguageFromLocale, KoreanLangIsKoreanAndDashDashLangEnOverridesIt) {
  auto ko = run({}, {"LANG=ko_KR.UTF-8"});
  EXPECT_EQ(ko.exit_code, 1) << ko.err;
  expect_korean_headers(ko.out);
  EXPECT_NE(ko.out.find("[ 빌드실패 ] "), std::string::npos) << ko.out;
  auto en = run({"--lang", "en"}, {"LANG=ko_KR.UTF-8"});
  EXPECT_EQ(en.exit_code, 1) << en.err;
  expect_english_headers(en.out);
  EXPECT_EQ(scores_of(ko.out).tests, scores_of(en.out).tests);
}

TEST_F(LanguageFromLocale, LcAllThenLcMessagesThenLang) {
  expect_english_headers(run({}, {}).out);
  expect_english_headers(run({}, {"LANG=C.UTF-8"}).out);
  expect_korean_headers(run({}, {"LC_MESSAGES=ko_KR.UTF-8", "LANG=en_US.UTF-8"}).out);
  expect_english_headers(run({}, {"LC_ALL=C", "LANG=ko_KR.UTF-8"}).out);
  expect_korean_headers(run({"--lang", "ko"}, {"LC_ALL=en_US.UTF-8"}).out);
}

TEST_F(LanguageFromLocale, JsonIsTheSameDocumentInKorean) {
  auto en = run({"--format", "json", "--lang", "en"}, {});
  auto ko = run({"--format", "json"}, {"LANG=ko_KR.UTF-8"});
  ASSERT_EQ(ko.exit_code, en.exit_code) << ko.err;
  auto j_en = nlohmann::json::parse(en.out), j_ko = nlohmann::json::parse(ko.out);
  // Timings differ from run to run; everything else is the same.
  for (auto* j : {&j_en, &j_ko}) {
    j->erase("duration_seconds");
    (*j)["build"].erase("duration_seconds");
    (*j)["build"].erase("output");  // the compiler's temporary paths
    for (auto& t : (*j)["tests"]) t.erase("duration_seconds");
  }
  EXPECT_EQ(j_ko, j_en);
  EXPECT_FALSE(has_hangul(ko.out));
}

// The CLI's half of the path: the spec's `_ko` keys become the text writer's LabText.
TEST(CliLanguage, LabTextComesFromTheSpecsKoreanKeys) {
  ipcg::LabSpec lab;
  lab.title = "Pipes";
  lab.title_i18n = {{"ko", "파이프"}};
  lab.mechanism = "pipe";
  ipcg::TestSpec translated, english_only;
  translated.name = "closed";
  translated.property = "ends closed";
  translated.property_i18n = {{"ko", "끝을 닫음"}};
  translated.description_i18n = {{"ko", "설명"}};
  english_only.name = "plain";
  english_only.property = "plain property";
  lab.tests = {translated, english_only};
  const ipcg::LabText ko = ipcg::lab_text_for(lab, ipcg::Lang::ko);
  EXPECT_EQ(ko.title, "파이프");
  EXPECT_EQ(ko.mechanism, "");  // no mechanism_ko: the writer shows the English
  ASSERT_EQ(ko.tests.size(), 1u);
  EXPECT_EQ(ko.tests.at("closed").property, "끝을 닫음");
  EXPECT_EQ(ko.tests.at("closed").description, "설명");
  const ipcg::LabText en = ipcg::lab_text_for(lab, ipcg::Lang::en);
  EXPECT_TRUE(en.title.empty() && en.mechanism.empty() && en.tests.empty());
  EXPECT_EQ(ipcg::report_language("ko"), ipcg::Lang::ko);
  EXPECT_EQ(ipcg::report_language("en"), ipcg::Lang::en);
  EXPECT_EQ(ipcg::report_language_codes(), (std::vector<std::string>{"en", "ko"}));
}

TEST(CliLanguage, UnknownLanguageIsAUsageError) {
  auto run = run_grader({"run", "lab1", "--lang", "fr"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--lang"), std::string::npos) << run.err;
  EXPECT_EQ(run_grader({"batch", "lab1", "subs", "--lang", "jp"}).exit_code, 2);
}

}  // namespace

// `grader stress`: built once, graded under each seed, tallied; exit 0 only when every seed had
// full marks. A deterministic failure is counted under every seed and its seeds listed.
TEST(CliStress, TalliesAPassingAndAFailingSubmissionOverSeeds) {
  auto ok = run_grader({"stress", "lab1", "--submission", kSource + "/reference/lab1-pipe", "--seeds", "1..3",
                        "--only", "failed_exec_exits_127"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("under seeds 1..3 (3 runs)"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("full marks under 3 of 3 seeds"), std::string::npos) << ok.out;

  auto bad = run_grader({"stress", "lab1", "--submission", kSource + "/tests/submissions/lab1/exec_failure_unreported",
                         "--seeds", "4,9", "--only", "failed_exec_exits_127", "--format", "json"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  const auto doc = nlohmann::json::parse(bad.out);
  EXPECT_EQ(doc["runs"], 2);
  EXPECT_EQ(doc["full_marks"], 0);
  ASSERT_EQ(doc["tests"].size(), 1u);
  EXPECT_EQ(doc["tests"][0]["not_passed"], 2);
  EXPECT_EQ(doc["tests"][0]["failing_seeds"], nlohmann::json({4, 9}));
  // Each seed without full marks was said while the run went on (stderr with --format json).
  EXPECT_NE(bad.err.find("seed 4: 0/"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("seed 9: 0/"), std::string::npos) << bad.err;
}

TEST(CliStress, BadSeedListsAreUsageErrors) {
  for (const char* seeds : {"9..3", "1..x", "", "1,,2", "abc"}) {
    auto run = run_grader({"stress", "lab1", "--seeds", seeds});
    EXPECT_EQ(run.exit_code, 2) << seeds;
    EXPECT_NE(run.err.find("--seeds"), std::string::npos) << seeds << ": " << run.err;
  }
}
