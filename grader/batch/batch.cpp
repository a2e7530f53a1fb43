#include "batch/batch.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "batch/gradebook.hpp"
#include "batch/not_submitted.hpp"
#include "batch/shard_manifest.hpp"
#include "report/text_report.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

struct Graded {
  std::string submission;
  Result<LabResult> result;
  double seconds = 0;
  std::string not_submitted;  // collect.json's reason: nothing was graded
};

using Absent = std::map<std::string, std::string>;  // read_not_submitted

// Results handed from worker threads to the one thread that writes files and progress.
class Mailbox {
 public:
  void put(Graded graded) {
    { std::lock_guard lock(mutex_); queue_.push_back(std::move(graded)); }
    ready_.notify_one();
  }
  Graded take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty(); });
    Graded graded = std::move(queue_.front());
    queue_.pop_front();
    return graded;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Graded> queue_;
};

Graded grade_one(const LabSpec& lab, const BatchOptions& options, std::uint64_t seed, const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  GradeOptions grade_options = options.grade_template;
  grade_options.submission = options.folder / name;
  grade_options.seed = seed;
  Result<LabResult> result = fail(Errc::internal, "not graded");
  try {
    result = options.grade_fn(lab, grade_options);
  } catch (const std::exception& e) {
    result = fail(Errc::internal, std::string("internal error: ") + e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {name, std::move(result), seconds};
}

std::uint64_t pick_seed(const BatchOptions& options, const std::vector<ResultRow>& rows) {
  if (options.seed) return *options.seed;
  // A resumed batch keeps its seed, so every submission is graded under the same one.
  for (const auto& row : rows)
    if (auto it = row.doc.find("seed"); it != row.doc.end() && it->is_number_unsigned()) return it->get<std::uint64_t>();
  return options.fallback_seed;
}

std::string text_of(const Graded& graded, const TextOptions& options) {
  if (!graded.not_submitted.empty()) return "not submitted: " + graded.not_submitted + "\n";
  if (!graded.result) return tr(options.lang, Msg::grader_error, graded.result.error().message) + "\n";
  std::ostringstream text;
  write_text_report(*graded.result, text, options);
  return text.str();
}

BatchOutcome outcome_of(const Graded& graded) {
  BatchOutcome o{.submission = graded.submission, .seconds = graded.seconds, .not_submitted = graded.not_submitted};
  if (!o.not_submitted.empty()) return o;
  if (!graded.result) {
    o.error = true;
    o.message = graded.result.error().message;
    return o;
  }
  o.passed = graded.result->all_passed();
  o.score = graded.result->score;
  o.max_score = graded.result->max_score;
  return o;
}

// Report first, then the results.jsonl line: a line present means the submission is done.
Result<void> record(const LabSpec& lab, const BatchOptions& options, ResultsLog& log, const Graded& graded) {
  IPCG_CHECK(write_file_atomically(options.out / "reports" / (graded.submission + ".txt"), text_of(graded, options.text)));
  const std::string& version = options.grade_template.grader_version;
  if (!graded.not_submitted.empty())
    return log.append(not_submitted_line(graded.submission, graded.not_submitted, lab.id, lab.spec_hash, version));
  return log.append(graded.result ? result_line(*graded.result, graded.submission)
                                  : error_line(graded.submission, graded.result.error().message, lab.id,
                                               lab.spec_hash, version));
}

Result<void> grade_all(const LabSpec& lab, const BatchOptions& options, std::uint64_t seed,
                       const std::vector<std::string>& pending, const Absent& absent, ResultsLog& log,
                       ProgressSink& progress, BatchSummary& summary) {
  Mailbox mailbox;
  std::atomic<std::size_t> next{0};
  const int slots = std::max(1, std::min<int>(options.jobs, static_cast<int>(pending.size())));
  std::vector<std::jthread> workers;
  for (int i = 0; i < slots && !pending.empty(); ++i)
    workers.emplace_back([&] {
      for (std::size_t k; (k = next++) < pending.size();) {
        auto it = absent.find(pending[k]);
        mailbox.put(it == absent.end() ? grade_one(lab, options, seed, pending[k])
                                       : Graded{pending[k], LabResult{}, 0, it->second});
      }
    });
  Result<void> status;
  for (std::size_t done = 0; done < pending.size(); ++done) {
    Graded graded = mailbox.take();
    if (status) status = record(lab, options, log, graded);  // after a write failure, only drain
    if (!graded.result) ++summary.errors;
    ++summary.graded;
    progress.finished_one(outcome_of(graded));
  }
  return status;
}

}  // namespace

Result<std::vector<std::string>> list_submissions(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return fail(Errc::usage, "no folder " + folder.string());
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with(".") && entry.is_directory(ec)) names.insert(name);
  }
  if (ec) return fail(Errc::io, "listing " + folder.string() + ": " + ec.message());
  return std::vector<std::string>(names.begin(), names.end());
}

std::vector<std::string> pending_submissions(const std::vector<std::string>& names, const Shard& shard,
                                             const std::vector<ResultRow>& rows, std::string_view spec_hash,
                                             std::string_view grader_version) {
  std::set<std::string> done;
  for (const auto& row : rows)
    if (already_graded(row, spec_hash, grader_version) && !is_not_submitted(row)) done.insert(row.submission);
  std::vector<std::string> pending;
  for (const auto& name : names)
    if (shard.contains(name) && !done.count(name)) pending.push_back(name);
  return pending;
}

Result<BatchSummary> run_batch(const LabSpec& lab, const BatchOptions& options, ProgressSink& progress) {
  IPCG_TRY(std::vector<std::string> names, list_submissions(options.folder));
  IPCG_TRY(const Absent absent, read_not_submitted(options.folder, lab.build.sources));
  std::error_code ec;
  fs::create_directories(options.out / "reports", ec);
  if (ec) return fail(Errc::io, "create " + (options.out / "reports").string() + ": " + ec.message());
  IPCG_TRY(ResultsLog log, ResultsLog::open(options.out / "results.jsonl"));
  const auto pending = pending_submissions(names, options.shard, log.rows(), lab.spec_hash,
                                           options.grade_template.grader_version);
  BatchSummary summary;
  summary.seed = pick_seed(options, log.rows());
  for (const auto& name : names) summary.skipped += options.shard.contains(name) ? 1 : 0;
  summary.skipped -= static_cast<int>(pending.size());
  // What this folder is to hold, first; that it holds it, last (`grader merge` checks both).
  ShardManifest manifest = manifest_for(options.shard, names, lab.id, lab.spec_hash,
                                        options.grade_template.grader_version, summary.seed);
  IPCG_CHECK(write_manifest(options.out, manifest));
  progress.started(static_cast<int>(pending.size()), summary.skipped, summary.seed);
  IPCG_CHECK(grade_all(lab, options, summary.seed, pending, absent, log, progress, summary));
  progress.finished_all();
  IPCG_CHECK(log.compact());
  IPCG_CHECK(write_file_atomically(options.out / "gradebook.csv", gradebook_csv(log.rows())));
  manifest.complete = true;
  IPCG_CHECK(write_manifest(options.out, manifest));
  return summary;
}

}  // namespace ipcg
