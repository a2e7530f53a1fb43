// Batch grading's pure logic: the shard split, results.jsonl bookkeeping (cut-off lines, resume),
// gradebook.csv and merge. The batch loop runs with the grade() seam replaced, no processes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "batch/batch.hpp"
#include "batch/gradebook.hpp"
#include "batch/merge.hpp"
#include "batch/results_log.hpp"
#include "batch/shard.hpp"

namespace fs = std::filesystem;
using namespace ipcg;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

LabResult lab_result(double a, double b, const std::string& hash = "h1") {
  LabResult r;
  r.lab = "lab1";
  r.spec_hash = hash;
  r.grader_version = "1.0";
  r.seed = 42;
  r.build.ok = true;
  TestResult t1{.name = "first", .status = a == 10 ? Status::passed : Status::failed, .score = a, .max_score = 10};
  TestResult t2{.name = "sec,ond", .status = b == 5 ? Status::passed : Status::timeout, .score = b, .max_score = 5};
  r.tests = {t1, t2};
  r.score = a + b;
  r.max_score = 15;
  return r;
}

ResultRow row(const std::string& line) { return *parse_row(line); }

TEST(Shard, Fnv1a64MatchesTheReferenceVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Shard, EverySubmissionIsInExactlyOneShard) {
  for (const char* name : {"alice", "bob", "carol", "dave", "ref", "no_waitpid"}) {
    int owners = 0;
    for (int k = 1; k <= 3; ++k) owners += Shard{k, 3}.contains(name) ? 1 : 0;
    EXPECT_EQ(owners, 1) << name;
  }
  const Shard owner{static_cast<int>(fnv1a64("alice") % 4) + 1, 4};
  EXPECT_TRUE(owner.contains("alice"));
}

TEST(Shard, ParsesExplicitAndEngineIndices) {
  auto none = env_of({});
  EXPECT_EQ(parse_shard("2/4", none)->index, 2);
  EXPECT_EQ(parse_shard("auto/4", env_of({{"JOB_COMPLETION_INDEX", "0"}}))->index, 1);
  EXPECT_EQ(parse_shard("auto/4", env_of({{"SLURM_ARRAY_TASK_ID", "3"}}))->index, 4);
  auto slurm_min = env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"}});
  EXPECT_EQ(parse_shard("auto/4", slurm_min)->index, 3);
}

TEST(Shard, RejectsMalformedShards) {
  auto none = env_of({});
  for (const char* bad : {"0/4", "5/4", "x/4", "4", "1/0", "1/", "auto/4"}) {
    auto parsed = parse_shard(bad, none);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, Errc::usage);
  }
  EXPECT_FALSE(parse_shard("auto/4", env_of({{"SLURM_ARRAY_TASK_ID", "9"}})));  // K = 10 > 4
}

TEST(ResultsFile, ResultLineNamesTheSubfolderOnOneLine) {
  LabResult r = lab_result(10, 5);
  r.submission = "/long/path/alice";
  const std::string line = result_line(r, "alice");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto parsed = parse_row(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->submission, "alice");
  EXPECT_EQ(parsed->field("spec_hash"), "h1");
  EXPECT_FALSE(parsed->is_error());
}

TEST(ResultsFile, CutOffAndGarbageLinesAreIgnoredAndLaterLinesWin) {
  const std::string a1 = result_line(lab_result(0, 0), "alice");
  const std::string a2 = result_line(lab_result(10, 5), "alice");
  const std::string b = error_line("bob", "boom", "lab1", "h1", "1.0");
  const std::string text = a1 + "\nnot json\n" + b + "\n" + a2 + "\n" + a2.substr(0, 30);
  ParsedResults parsed = parse_results(text);
  ASSERT_EQ(parsed.rows.size(), 2u);
  EXPECT_EQ(parsed.rows[0].submission, "alice");
  EXPECT_EQ(parsed.rows[0].doc["score"].get<double>(), 15);
  EXPECT_TRUE(parsed.rows[1].is_error());
  EXPECT_EQ(parsed.ignored_lines, 2);
  EXPECT_EQ(parsed.complete_bytes, text.size() - 30);
}

TEST(ResultsFile, ResumeSkipsOnlySameSpecAndVersionAndNeverErrors) {
  std::vector<ResultRow> rows = {row(result_line(lab_result(10, 5), "alice")),
                                 row(result_line(lab_result(10, 5, "old"), "bob")),
                                 row(error_line("carol", "boom", "lab1", "h1", "1.0"))};
  auto pending = pending_submissions({"alice", "bob", "carol", "dave"}, Shard{}, rows, "h1", "1.0");
  EXPECT_EQ(pending, (std::vector<std::string>{"bob", "carol", "dave"}));
  EXPECT_EQ(pending_submissions({"alice"}, Shard{}, rows, "h1", "2.0"), std::vector<std::string>{"alice"});
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipcg-batch-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TempDir, OpenTruncatesACutOffLineBeforeAppending) {
  const auto path = dir_ / "results.jsonl";
  const std::string a = result_line(lab_result(10, 5), "alice");
  std::ofstream(path) << a << "\n" << a.substr(0, 20);
  {
    auto log = ResultsLog::open(path);
    ASSERT_TRUE(log) << log.error().message;
    EXPECT_EQ(log->ignored_lines(), 1);
    ASSERT_TRUE(log->append(result_line(lab_result(0, 5), "bob")));
    EXPECT_EQ(log->rows().size(), 2u);
  }
  ParsedResults reread = parse_results(*read_text_file(path));
  EXPECT_EQ(reread.rows.size(), 2u);
  EXPECT_EQ(reread.ignored_lines, 0);
}

TEST_F(TempDir, ASecondWriterIsRefused) {
  auto first = ResultsLog::open(dir_ / "results.jsonl");
  ASSERT_TRUE(first);
  auto second = ResultsLog::open(dir_ / "results.jsonl");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::usage);
}

TEST(Gradebook, QuotesPerRfc4180) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(Gradebook, OneRowPerSubmissionOneColumnPerTest) {
  std::vector<ResultRow> rows = {row(result_line(lab_result(10, 2.5), "alice")),
                                 row(error_line("bob", "no, really", "lab1", "h1", "1.0"))};
  EXPECT_EQ(gradebook_csv(rows),
            "submission,score,max_score,first,\"sec,ond\",status\r\n"
            "alice,12.5,15,10,2.5,\"1 passed, 1 timeout\"\r\n"
            "bob,,,,,\"error: no, really\"\r\n");
}

TEST(Gradebook, BuildFailureIsItsOwnStatus) {
  LabResult r = lab_result(0, 0);
  r.build.ok = false;
  EXPECT_EQ(status_summary(row(result_line(r, "x"))), "build_failed");
}

TEST(Merge, JoinsShardsSortedAndRefusesMixedSpecs) {
  auto a = row(result_line(lab_result(10, 5), "alice"));
  auto b = row(result_line(lab_result(0, 5), "bob"));
  auto merged = merge_rows({{b}, {a}}, {"s1", "s2"});
  ASSERT_TRUE(merged);
  ASSERT_EQ(merged->size(), 2u);
  EXPECT_EQ((*merged)[0].submission, "alice");
  auto other = row(result_line(lab_result(0, 5, "other"), "carol"));
  auto refused = merge_rows({{a}, {other}}, {"s1", "s2"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::usage);
  EXPECT_NE(refused.error().message.find("s2"), std::string::npos);
}

TEST(Progress, PlainLineAndBar) {
  BatchOutcome o{.submission = "alice", .score = 120, .max_score = 140, .seconds = 2.06};
  EXPECT_EQ(progress_line(3, 12, o), "[3/12] alice: 120/140 (2.1 s)");
  EXPECT_EQ(progress_bar(3, 12, 2, 30.0, 12), "[###.........] 3/12  pass 66%  ETA 1:30");
}

struct RecordingProgress : ProgressSink {
  void started(int n, int skipped, std::uint64_t seed) override { to_grade = n, this->skipped = skipped, this->seed = seed; }
  void finished_one(const BatchOutcome& o) override { done.insert(o.submission); }
  void finished_all() override {}
  int to_grade = -1, skipped = -1;
  std::uint64_t seed = 0;
  std::set<std::string> done;
};

// The batch loop with grade() replaced: an Error never stops it, a rerun resumes, the seed sticks.
TEST_F(TempDir, BatchRecordsErrorsResumesAndKeepsItsSeed) {
  for (const char* name : {"alice", "bob", "carol", ".git"}) fs::create_directories(dir_ / "subs" / name);
  std::mutex mutex;
  std::set<std::uint64_t> seeds;
  BatchOptions options{.folder = dir_ / "subs", .out = dir_ / "out", .jobs = 2, .seed = 7};
  options.grade_template.grader_version = "1.0";
  options.grade_fn = [&](const LabSpec&, const GradeOptions& g) -> Result<LabResult> {
    { std::lock_guard lock(mutex); seeds.insert(g.seed); }
    if (g.submission.filename() == "bob") return fail(Errc::internal, "sandbox broke");
    LabResult r = lab_result(10, 5);
    r.seed = g.seed;  // as grade() does
    return r;
  };
  LabSpec lab;
  lab.id = "lab1";
  lab.spec_hash = "h1";
  RecordingProgress first;
  auto summary = run_batch(lab, options, first);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(first.done, (std::set<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(summary->errors, 1);
  EXPECT_EQ(seeds, std::set<std::uint64_t>{7});
  EXPECT_TRUE(fs::exists(dir_ / "out" / "reports" / "bob.txt"));
  const std::string csv = *read_text_file(dir_ / "out" / "gradebook.csv");
  EXPECT_NE(csv.find("bob,,,,,error: sandbox broke\r\n"), std::string::npos) << csv;

  options.seed.reset();  // a resumed batch reuses the seed its rows were graded with
  RecordingProgress second;
  ASSERT_TRUE(run_batch(lab, options, second));
  EXPECT_EQ(second.done, std::set<std::string>{"bob"});
  EXPECT_EQ(second.skipped, 2);
  EXPECT_EQ(second.seed, 7u);
}

// --lang reaches reports/<submission>.txt only: results.jsonl and gradebook.csv are the same in
// every language.
TEST_F(TempDir, ReportsAreInTheAskedLanguageTheGradebookIsNot) {
  for (const char* name : {"alice", "bob"}) fs::create_directories(dir_ / "subs" / name);
  LabSpec lab;
  lab.id = "lab1";
  lab.spec_hash = "h1";
  auto batch_in = [&](Lang lang, const std::string& out) {
    BatchOptions options{.folder = dir_ / "subs", .out = dir_ / out, .jobs = 1, .seed = 7};
    options.grade_template.grader_version = "1.0";
    options.text.lang = lang;
    if (lang == Lang::ko) options.text.lab_text.tests["first"] = {"", "첫 번째 속성"};
    options.grade_fn = [](const LabSpec&, const GradeOptions& g) -> Result<LabResult> {
      if (g.submission.filename() == "bob") return fail(Errc::internal, "sandbox broke");
      LabResult r = lab_result(0, 5);
      r.tests[0].property = "first property";
      return r;
    };
    RecordingProgress progress;
    ASSERT_TRUE(run_batch(lab, options, progress));
  };
  batch_in(Lang::en, "en");
  batch_in(Lang::ko, "ko");
  for (const char* file : {"results.jsonl", "gradebook.csv"})
    EXPECT_EQ(*read_text_file(dir_ / "en" / file), *read_text_file(dir_ / "ko" / file)) << file;
  const std::string en = *read_text_file(dir_ / "en/reports/alice.txt");
  const std::string ko = *read_text_file(dir_ / "ko/reports/alice.txt");
  EXPECT_NE(en.find("[  FAILED  ] first (0/10 pts) — first property\n"), std::string::npos) << en;
  EXPECT_NE(ko.find("[   실패   ] first (0/10점) — 첫 번째 속성\n"), std::string::npos) << ko;
  EXPECT_NE(ko.find("[   통과   ] sec,ond (5/5점)\n"), std::string::npos) << ko;
  EXPECT_EQ(*read_text_file(dir_ / "en/reports/bob.txt"), "grader error: sandbox broke\n");
  EXPECT_EQ(*read_text_file(dir_ / "ko/reports/bob.txt"), "채점기 오류: sandbox broke\n");
}

}  // namespace
