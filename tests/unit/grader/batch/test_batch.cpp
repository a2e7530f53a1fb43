// Batch grading's pure logic: the shard split, results.jsonl bookkeeping (cut-off lines, resume),
// gradebook.csv and merge. The batch loop runs with the grade() seam replaced, no processes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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
#include "batch/shard_manifest.hpp"

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
  EXPECT_EQ(parse_shard("auto/4", env_of({{"SLURM_ARRAY_TASK_ID", "3"}}))->index, 3);
  // Task 2 resubmitted alone (sbatch --array=2): Slurm sets the minimum to 2; it is still shard 2.
  auto resubmitted = env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_MIN", "2"}});
  EXPECT_EQ(parse_shard("auto/4", resubmitted)->index, 2);
}

TEST(Shard, RejectsMalformedShards) {
  auto none = env_of({});
  for (const char* bad : {"0/4", "5/4", "x/4", "4", "1/0", "1/", "auto/4"}) {
    auto parsed = parse_shard(bad, none);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, Errc::usage);
  }
  EXPECT_FALSE(parse_shard("auto/4", env_of({{"SLURM_ARRAY_TASK_ID", "5"}})));  // K = 5 > 4
  auto zero = parse_shard("auto/4", env_of({{"SLURM_ARRAY_TASK_ID", "0"}}));  // a 0-based array
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("--array=1-N"), std::string::npos) << zero.error().message;
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

// Six names of which each shard of 2 gets some (checked here, not assumed).
std::vector<std::string> class_of(int count) {
  std::vector<std::string> names;
  for (const char* name : {"alice", "bob", "carol", "dave", "erin", "frank"}) names.push_back(name);
  std::sort(names.begin(), names.end());
  EXPECT_FALSE(manifest_for(Shard{1, count}, names, "lab1", "h1", "1.0", 7).submissions.empty());
  EXPECT_FALSE(manifest_for(Shard{2, count}, names, "lab1", "h1", "1.0", 7).submissions.empty());
  return names;
}

// A shard folder as a finished batch leaves it: a complete manifest and a row per submission.
ShardFolder finished(const Shard& shard, const std::vector<std::string>& everyone, std::uint64_t seed = 7) {
  ShardFolder folder{.source = "shards/" + std::to_string(shard.index)};
  folder.manifest = manifest_for(shard, everyone, "lab1", "h1", "1.0", seed);
  folder.manifest->complete = true;
  for (const auto& name : folder.manifest->submissions) folder.rows.push_back(row(result_line(lab_result(10, 5), name)));
  return folder;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

TEST(ShardManifest, RoundTripsThroughItsJson) {
  const auto names = class_of(2);
  ShardManifest m = manifest_for(Shard{2, 2}, names, "lab1", "h1", "1.0", 7);
  auto parsed = parse_manifest(manifest_json(m));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->shard.label(), "2/2");
  EXPECT_EQ(parsed->everyone, names);
  EXPECT_EQ(parsed->submissions, m.submissions);
  EXPECT_EQ(parsed->seed, 7u);
  EXPECT_FALSE(parsed->complete);
  EXPECT_FALSE(parse_manifest(R"({"shard": "2/2"})"));
  EXPECT_FALSE(parse_manifest("{\"shard\": \"2/2\", \"lab\""));  // cut off while written
}

TEST(ShardManifest, EveryFinishedShardOnceIsTheWholeClass) {
  const auto names = class_of(2);
  EXPECT_TRUE(shard_problems({finished(Shard{2, 2}, names), finished(Shard{1, 2}, names)}).empty());
}

TEST(ShardManifest, AMissingShardIsNamedWithTheSubmissionsItShouldHold) {
  const auto names = class_of(2);
  const auto problems = shard_problems({finished(Shard{1, 2}, names)});
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  const auto expected = manifest_for(Shard{2, 2}, names, "lab1", "h1", "1.0", 7).submissions;
  EXPECT_NE(problems[0].find("shard 2/2 is missing"), std::string::npos) << problems[0];
  for (const auto& name : expected) EXPECT_NE(problems[0].find(name), std::string::npos) << name << ": " << problems[0];
}

TEST(ShardManifest, AShardKilledMidWayIsNamedWithWhatItLacks) {
  const auto names = class_of(2);
  ShardFolder killed = finished(Shard{2, 2}, names);
  killed.manifest->complete = false;
  const std::string lost = killed.rows.back().submission;
  killed.rows.pop_back();
  killed.cut_off_lines = 1;  // killed while writing the row of `lost`
  const auto problems = shard_problems({finished(Shard{1, 2}, names), killed});
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_NE(problems[0].find("shard 2/2 (shards/2) did not finish"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("no grade yet for " + lost + ";"), std::string::npos) << problems[0];
  for (const auto& name : killed.manifest->submissions)  // every one it should hold, graded or not
    EXPECT_NE(problems[0].find(name), std::string::npos) << name << ": " << problems[0];
  EXPECT_NE(problems[0].find("cut short"), std::string::npos) << problems[0];

  ShardFolder damaged = finished(Shard{2, 2}, names);  // complete, but a row is gone since
  damaged.rows.pop_back();
  EXPECT_EQ(shard_problems({finished(Shard{1, 2}, names), damaged}).size(), 1u);
}

TEST(ShardManifest, TwiceUnreadableOrGradedDifferentlyIsRefused) {
  const auto names = class_of(2);
  auto twice = shard_problems({finished(Shard{1, 2}, names), finished(Shard{1, 2}, names), finished(Shard{2, 2}, names)});
  ASSERT_EQ(twice.size(), 1u) << joined(twice);
  EXPECT_NE(twice[0].find("shard 1/2 is given twice"), std::string::npos) << twice[0];
  ShardFolder never{.source = "shards/2", .unreadable = "no such folder"};
  auto gone = shard_problems({finished(Shard{1, 2}, names), never});
  ASSERT_EQ(gone.size(), 2u) << joined(gone);  // the folder, and the shard it should have been
  EXPECT_NE(gone[0].find("shards/2: no such folder"), std::string::npos) << gone[0];
  EXPECT_NE(gone[1].find("shard 2/2 is missing"), std::string::npos) << gone[1];
  auto seeds = shard_problems({finished(Shard{1, 2}, names), finished(Shard{2, 2}, names, 8)});
  ASSERT_EQ(seeds.size(), 1u) << joined(seeds);
  EXPECT_NE(seeds[0].find("--seed 7"), std::string::npos) << seeds[0];
  auto counts = shard_problems({finished(Shard{1, 2}, names), finished(Shard{2, 3}, names)});
  ASSERT_EQ(counts.size(), 1u) << joined(counts);
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
  auto manifest = parse_manifest(*read_text_file(dir_ / "out" / "shard.json"));  // written last
  ASSERT_TRUE(manifest);
  EXPECT_TRUE(manifest->complete);
  EXPECT_EQ(manifest->submissions, (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(manifest->seed, 7u);

  options.seed.reset();  // a resumed batch reuses the seed its rows were graded with
  RecordingProgress second;
  ASSERT_TRUE(run_batch(lab, options, second));
  EXPECT_EQ(second.done, std::set<std::string>{"bob"});
  EXPECT_EQ(second.skipped, 2);
  EXPECT_EQ(second.seed, 7u);
}

// On disk: a shard whose task was killed while writing (manifest not complete, results.jsonl
// cut mid-line) is refused by merge, nothing written; its rerun resumes, and the merge then equals
// the unsharded gradebook.
TEST_F(TempDir, MergeRefusesAShardKilledWhileWritingAndTakesItsRerun) {
  for (const char* name : {"alice", "bob", "carol", "dave", "erin", "frank"}) fs::create_directories(dir_ / "subs" / name);
  LabSpec lab;
  lab.id = "lab1";
  lab.spec_hash = "h1";
  auto batch = [&](const Shard& shard, const std::string& out) {
    BatchOptions options{.folder = dir_ / "subs", .out = dir_ / out, .jobs = 2, .shard = shard, .seed = 7};
    options.grade_template.grader_version = "1.0";
    options.grade_fn = [](const LabSpec&, const GradeOptions& g) -> Result<LabResult> {
      return lab_result(g.submission.filename().string().size() % 2 ? 10 : 0, 5);
    };
    RecordingProgress progress;
    ASSERT_TRUE(run_batch(lab, options, progress));
  };
  batch(Shard{}, "all");
  batch(Shard{1, 2}, "1");
  batch(Shard{2, 2}, "2");
  auto manifest = parse_manifest(*read_text_file(dir_ / "2" / "shard.json"));
  ASSERT_TRUE(manifest);
  ASSERT_GE(manifest->submissions.size(), 2u);
  manifest->complete = false;
  ASSERT_TRUE(write_manifest(dir_ / "2", *manifest));
  const std::string rows = *read_text_file(dir_ / "2" / "results.jsonl");
  const auto second_line = rows.find('\n') + 1;
  std::ofstream(dir_ / "2" / "results.jsonl", std::ios::trunc) << rows.substr(0, second_line + 10);

  auto refused = merge_outputs({dir_ / "1", dir_ / "2"}, dir_ / "merged");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::usage);
  EXPECT_NE(refused.error().message.find("shard 2/2 (" + (dir_ / "2").string() + ") did not finish"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find(manifest->submissions.back()), std::string::npos) << refused.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "merged" / "gradebook.csv"));

  batch(Shard{2, 2}, "2");  // the rerun resumes
  auto merged = merge_outputs({dir_ / "1", dir_ / "2"}, dir_ / "merged");
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(*read_text_file(dir_ / "merged" / "gradebook.csv"), *read_text_file(dir_ / "all" / "gradebook.csv"));
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
