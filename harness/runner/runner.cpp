#include "harness/runner/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <map>
#include <mutex>

#include <chrono>

#include "build.hpp"
#include "build_cache.hpp"
#include "harness/core/sha256.hpp"
#include "submission.hpp"
#include "harness/runner/check.hpp"
#include "harness/sandbox/sandbox.hpp"
#include "harness/trace/trace.hpp"

namespace ipcg {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Every test names a registered check: found before anything runs, so a typo is a config error.
Result<void> validate_checks(const LabSpec& lab) {
  for (const auto& test : lab.tests)
    if (!CheckRegistry::instance().find(test.check))
      return fail(Errc::config, fmt::format("{}:{}: tests '{}': check '{}' is not registered (known: {})",
                                            lab.toml_path.string(), test.line, test.name, test.check,
                                            fmt::join(CheckRegistry::instance().names(), ", ")));
  return {};
}

TestResult result_skeleton(const TestSpec& test) {
  TestResult r;
  r.name = test.name;
  r.description = test.description;
  r.property = test.property;
  r.hint = test.hint;
  r.visibility = test.visibility;
  r.max_score = test.points;
  return r;
}

// The build output that makes a test unrunnable: the first student program it needs that failed.
std::string build_failure_for(const TestSpec& test, const LabSpec& lab, const BuiltImpl& student) {
  if (!student.sources_ok) return student.output;
  for (const auto& [program, spec] : lab.programs) {
    auto role = test.roles.find(program);
    const bool student_runs = role == test.roles.end() || role->second == Impl::student;
    if (student_runs && !student.programs.at(program).ok) return student.programs.at(program).output;
  }
  return {};
}

// A failed test's timeline, written where --trace-out asked; a write error becomes evidence
// rather than a grader failure: the verdict stands without its trace.
void keep_trace(TestResult& r, const Trace& trace, const GradeOptions& options) {
  if (options.trace_dir.empty() || r.status == Status::passed || trace.empty()) return;
  const auto path = options.trace_dir / (r.name + ".trace.json");
  if (auto written = write_trace_file(trace, path); !written) {
    r.evidence.push_back(written.error().message);
    return;
  }
  r.trace_file = path.string();
}

// Copies the lab's trusted tools into a root-owned folder of the work folder: the slot uid can
// run them there (the install tree may sit under a private folder, a 0700 clone or /root) but
// cannot replace them. A lab without tools gets the path as it is.
Result<std::filesystem::path> stage_tools(Sandbox& box, const std::filesystem::path& from) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return from;
  const fs::path dir = box.host_work_dir() / "tools";
  fs::create_directory(dir, ec);
  if (ec) return fail(Errc::io, "create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms(0755), ec);
  for (const auto& entry : fs::directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const fs::path to = dir / entry.path().filename();
    IPCG_CHECK(copy_trusted_file(entry.path(), to));
    fs::permissions(to, fs::perms(0755), ec);
  }
  return dir;
}

// What the closed cell says: IPC objects left behind, and an OOM kill by its memory cgroup
// (which otherwise reads as a plain SIGKILL crash).
void note_cell_report(TestResult& r, const CellReport& cell) {
  r.leftovers = cell.leftovers;
  if (!cell.leftovers.empty())
    r.evidence.push_back(fmt::format("left behind after the test: {}", fmt::join(cell.leftovers, "; ")));
  if (cell.oom_killed) {
    r.evidence.push_back("the test's memory limit was hit: the kernel's OOM killer killed a process");
    if (r.status == Status::crashed) r.message += " (out of memory: the memory limit was hit)";
  }
}

// The schedule a test ran under, for the report beside its seed (labs that interpose only).
// Every mode replays the interposer's decisions, but none replays the processes' order exactly:
// measured (docs/performance.md), even pct with its priorities gave the same lost-update count
// for a seed in 11 runs of 20 (when each process starts still depends on the kernel). So replay
// is always reported best-effort; the verdict's own reruns (confirm_verdict) say how often it
// came back.
void note_schedule(TestResult& r, const TestContext& ctx) {
  r.schedule = std::string(to_string(ctx.schedule));
  if (!ctx.schedule_note.empty()) r.schedule += " (" + ctx.schedule_note + ")";
  r.exact_replay = false;
}

// ---- the wall limit a test runs under ------------------------------------------------------------

using Millis = std::chrono::milliseconds;

// How long the reference takes over a test on this machine now: the test run with the reference
// in every role, timed. Kept for a minute for every submission graded under the same lab spec,
// isolation and schedule (the jobs of a batch share it; a loaded machine is measured again soon).
class ReferencePace {
 public:
  static ReferencePace& shared() {
    static ReferencePace pace;
    return pace;
  }
  // The measured duration and how long ago, or nullopt when the reference's run did not pass
  // (the test then keeps lab.toml's wall limit). `measure` runs only when nothing fresh is kept;
  // threads asking for the same test at once wait for one measurement.
  // `disk`: the build cache whose "pace" shelf also keeps the measurement for the next grader
  // process (a student's next `grader run` within the minute), or null.
  std::optional<std::pair<Millis, Millis>> get(const std::string& key, BuildCache* disk,
                                               const std::function<std::optional<Millis>()>& measure) {
    std::shared_future<std::optional<Entry>> pending;
    std::promise<std::optional<Entry>> mine;
    bool measure_here = false;
    {
      std::lock_guard lock(mutex_);
      auto it = kept_.find(key);
      if (it == kept_.end() || (it->second.valid() && is_stale(it->second))) {
        pending = mine.get_future().share();
        kept_[key] = pending;
        measure_here = true;
      } else {
        pending = it->second;
      }
    }
    if (measure_here) {
      std::optional<Entry> entry = load(disk, key);
      if (!entry)
        if (auto d = measure()) {
          entry = Entry{*d, Clock::now()};
          store(disk, key, *d);
        }
      mine.set_value(entry);
    }
    const std::optional<Entry> entry = pending.get();
    if (!entry) return std::nullopt;
    return std::pair{entry->duration, std::chrono::duration_cast<Millis>(Clock::now() - entry->measured)};
  }

 private:
  struct Entry {
    Millis duration;
    Clock::time_point measured;
  };
  // A measurement another grader process kept less than kFresh ago.
  static std::optional<Entry> load(BuildCache* disk, const std::string& key) {
    if (!disk) return std::nullopt;
    const auto record = disk->read_record(kShelf, sha256_hex(key));
    if (!record || record->age < std::chrono::seconds(0) || record->age > kFresh) return std::nullopt;
    long long ms = 0;
    if (std::sscanf(record->text.c_str(), "%lld", &ms) != 1 || ms <= 0) return std::nullopt;
    return Entry{Millis{ms}, Clock::now() - std::chrono::duration_cast<Clock::duration>(record->age)};
  }
  static void store(BuildCache* disk, const std::string& key, Millis d) {
    if (disk) disk->write_record(kShelf, sha256_hex(key), std::to_string(d.count()) + "\n");
  }

  static bool is_stale(const std::shared_future<std::optional<Entry>>& f) {
    if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    const auto& e = f.get();
    return !e || Clock::now() - e->measured > kFresh;
  }
  static constexpr auto kFresh = std::chrono::seconds(60);
  static constexpr const char* kShelf = "pace";
  std::mutex mutex_;
  std::map<std::string, std::shared_future<std::optional<Entry>>> kept_;
};

// The test as the reference's own run plays it: every program the reference's.
TestSpec reference_only(const LabSpec& lab, const TestSpec& test) {
  TestSpec copy = test;
  for (const auto& [program, spec] : lab.programs) copy.roles[program] = Impl::reference;
  return copy;
}

SyncMode schedule_for(const LabSpec& lab, const TestSpec& test, const GradeOptions& options) {
  if (!lab.build.interpose_sync) return SyncMode::native;
  return options.schedule.value_or(test.schedule.value_or(lab.build.schedule));
}

// The test's check on `ctx`; an exception it throws is the grader's error, not a verdict.
CheckOutcome call_check(const TestSpec& test, TestContext& ctx) {
  try {
    return (*CheckRegistry::instance().find(test.check))(ctx);
  } catch (const std::exception& e) {
    return CheckOutcome::with(Status::error, std::string("internal error in check: ") + e.what());
  }
}

// Runs the reference's own run of `test` in a cell of its own: its duration when it passed.
std::optional<Millis> time_reference_run(const LabSpec& lab, const TestSpec& test, Sandbox& box,
                                         const GradeOptions& options, const BuiltImpl& reference,
                                         const std::filesystem::path& tools, std::uint64_t seed) {
  const TestSpec own = reference_only(lab, test);
  auto opened = box.open_cell({.limits = own.limits});
  if (!opened) return std::nullopt;
  TestContext ctx{lab, own, box, *opened, seed, std::mt19937_64(seed), reference.bin_dir, reference.bin_dir, tools,
                  false};
  ctx.schedule = schedule_for(lab, test, options);
  Trace trace;
  ctx.trace = &trace;
  const auto started = Clock::now();
  const CheckOutcome outcome = call_check(test, ctx);
  const auto took = std::chrono::duration_cast<Millis>(Clock::now() - started);
  opened->close();
  if (outcome.status != Status::passed) return std::nullopt;
  return std::max(took, Millis{1});
}

// The limits a test's run gets, and the words for the report on where its wall limit came from.
struct RunLimits {
  Limits limits;
  std::string note;
};

RunLimits limits_for(const LabSpec& lab, const TestSpec& test, Sandbox& box, const GradeOptions& options,
                     const BuiltImpl& reference, const std::filesystem::path& tools, std::uint64_t seed) {
  RunLimits run{test.limits, {}};
  const Millis cap = test.limits.wall;
  if (options.full_limits) {
    run.limits.hang_grace = Millis{0};
    run.note = fmt::format("wall limit {} ms (lab.toml's, --full-limits)", cap.count());
    return run;
  }
  const Limits& l = test.limits;
  if (l.wall_reference_factor <= 0 && l.settle_reference_factor <= 0) return run;
  const std::string key = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", lab.id, lab.spec_hash, reference_build_key(reference.bin_dir),
                                      test.name, to_string(box.isolation().level),
                                      to_string(schedule_for(lab, test, options)));
  // Kept on disk beside the reference's cached build (not with --no-build-cache), so that the
  // next grader within the minute measures nothing either.
  BuildCache* disk = options.build_cache ? &BuildCache::shared() : nullptr;
  const auto pace = ReferencePace::shared().get(
      key, disk, [&] { return time_reference_run(lab, test, box, options, reference, tools, seed); });
  if (!pace) {
    run.note = fmt::format("wall limit {} ms (lab.toml's cap: the reference's own run of this test did not pass, "
                           "so no limit was derived from it)", cap.count());
    return run;
  }
  const std::string reference_run = fmt::format("the reference's own run of this test ({} ms, measured {:.0f} s before)",
                                                pace->first.count(),
                                                std::chrono::duration<double>(pace->second).count());
  const auto times_reference = [&](double factor) {
    return Millis{static_cast<Millis::rep>(factor * static_cast<double>(pace->first.count()))};
  };
  std::string settle_note;
  if (l.settle_reference_factor > 0) {
    run.limits.settle_grace = std::min(l.settle_grace, std::max(l.settle_floor, times_reference(l.settle_reference_factor)));
    settle_note = fmt::format("; settle grace {} ms ({:g} x the reference's run, at least {} ms, at most {} ms)",
                              run.limits.settle_grace.count(), l.settle_reference_factor, l.settle_floor.count(),
                              l.settle_grace.count());
  }
  if (l.wall_reference_factor <= 0) {
    run.note = fmt::format("wall limit {} ms (lab.toml's){}", cap.count(), settle_note);
    return run;
  }
  const std::string reference_part = fmt::format("{:g} x {}", l.wall_reference_factor, reference_run);
  const Millis scaled = times_reference(l.wall_reference_factor);
  if (l.wall_plus_settle) {
    run.limits.wall = std::min(cap, scaled + run.limits.settle_grace);
    run.note = fmt::format("wall limit {} ms = {} + the settle grace ({} ms), at most {} ms{}", run.limits.wall.count(),
                           reference_part, run.limits.settle_grace.count(), cap.count(), settle_note);
  } else if (l.wall_extra.count() > 0) {
    run.limits.wall = std::min(cap, scaled + l.wall_extra);
    run.note = fmt::format("wall limit {} ms = {} + {} ms, at most {} ms{}", run.limits.wall.count(), reference_part,
                           l.wall_extra.count(), cap.count(), settle_note);
  } else {
    run.limits.wall = std::min(cap, std::max(l.wall_floor, scaled));
    run.note = fmt::format("wall limit {} ms = the larger of {} and {} ms, at most {} ms{}", run.limits.wall.count(),
                           reference_part, l.wall_floor.count(), cap.count(), settle_note);
  }
  return run;
}

TestResult run_one(const LabSpec& lab, const TestSpec& test, Sandbox& box, const GradeOptions& options,
                   const BuiltImpl& student, const BuiltImpl& reference, const std::filesystem::path& tools) {
  TestResult r = result_skeleton(test);
  const auto started = Clock::now();
  if (auto failure = build_failure_for(test, lab, student); !failure.empty()) {
    r.status = Status::build_failed;
    r.message = "the submission did not build; see the build output";
    return r;
  }
  const std::string reference_folder = reference.bin_dir.filename().string();
  if (auto broken = box.seal_broken(reference_folder)) {  // nothing to compare with any more
    r.status = Status::failed;
    r.message = "not run: the reference's folder was tampered with in an earlier test (" + *broken + ")";
    return r;
  }
  const std::uint64_t seed = test_seed(options.seed, test.name);
  const RunLimits limits = limits_for(lab, test, box, options, reference, tools, seed);
  TestSpec limited = test;
  limited.limits = limits.limits;
  r.limit_note = limits.note;
  r.wall_limit_seconds = std::chrono::duration<double>(limits.limits.wall).count();
  // One cell per test: every role of the test runs in it, and nothing of it outlives the test.
  auto opened = box.open_cell({.limits = limited.limits});
  if (!opened) {
    r.status = Status::error;
    r.message = "could not open the test's sandbox cell: " + opened.error().message;
    return r;
  }
  Cell& cell = *opened;
  TestContext ctx{lab, limited, box, cell, seed, std::mt19937_64(seed), student.bin_dir, reference.bin_dir, tools,
                  options.verbose};
  ctx.schedule = schedule_for(lab, test, options);
  Trace trace;
  ctx.trace = &trace;
  ctx.student_forbidden_uses = student.forbidden_used;
  CheckOutcome outcome = call_check(test, ctx);
  r.status = outcome.status;
  r.message = std::move(outcome.message);
  r.evidence = std::move(outcome.evidence);
  r.output = std::move(outcome.output);
  r.hang_cause = std::move(outcome.hang_cause);
  if (lab.build.interpose_sync) note_schedule(r, ctx);
  note_cell_report(r, cell.close());
  // Where roles share one uid nothing stops a submission from replacing the reference's programs:
  // the verdict of the test in which it did is void, and every later test is not run.
  if (auto broken = box.seal_broken(reference_folder)) {
    r.status = Status::failed;
    r.message = "the reference's folder was tampered with during this test (" + *broken +
                "): no verdict that compares with the reference can stand";
    r.evidence.insert(r.evidence.begin(), "the reference's folder is checked after every test against what it held "
                                          "when it was built (inode and change time of each entry)");
  }
  r.score = r.status == Status::passed ? test.points : 0;
  r.duration_seconds = seconds_since(started);
  keep_trace(r, trace, options);
  return r;
}

}  // namespace

std::uint64_t test_seed(std::uint64_t run_seed, std::string_view test_name) {
  // FNV-1a over the name, mixed with the run seed by splitmix64: stable everywhere.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : test_name) h = (h ^ c) * 1099511628211ull;
  std::uint64_t z = run_seed + h + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

TestResult confirm_verdict(TestResult first, const std::function<TestResult()>& rerun, std::uint64_t seed, int runs) {
  // A timeout or a hang is not rerun: each rerun would cost the whole wall limit again, and its hang report
  // (where every process was blocked) is its evidence.
  if (runs <= 0 || first.status == Status::passed || first.status == Status::build_failed ||
      first.status == Status::skipped || first.status == Status::timeout || first.status == Status::hung)
    return first;
  // Nor is a failure that took longer than one wall limit: a run of it ended at its limit, or it
  // waited out settle graces, so a rerun would cost as much again (a spinning submission's
  // four-run EINTR test: 3 x 7 s).
  if (first.wall_limit_seconds > 0 && first.duration_seconds > first.wall_limit_seconds) return first;
  std::vector<Attempt> attempts{{seed, first.status, first.message}};
  for (int i = 0; i < runs; ++i) {
    const TestResult again = rerun();
    attempts.push_back({seed, again.status, again.message});
  }
  const bool all_agree = std::all_of(attempts.begin(), attempts.end(),
                                     [&](const Attempt& a) { return a.status == first.status; });
  // A test under a perturbing schedule replays best-effort: its report says how often the failure
  // came back even when every run agrees.
  if (!all_agree || !first.schedule.empty()) first.attempts = std::move(attempts);
  return first;
}


Result<void> grade_seeds(const LabSpec& lab, const GradeOptions& options, const std::vector<std::uint64_t>& seeds,
                         const std::function<void(LabResult)>& on_result) {
  auto started = Clock::now();
  IPCG_CHECK(validate_checks(lab));
  if (options.only && !lab.find_test(*options.only))
    return fail(Errc::usage, fmt::format("{} has no test named '{}'", lab.id, *options.only));

  SandboxConfig config;
  config.syscall_sets = lab.syscall_sets;
  config.allow_namespaces = options.allow_namespaces;
  // The lab's trusted tools (build/libexec/ipcgrade/<lab>) are the only grader files the box sees.
  config.readonly_paths = {options.tools_root / lab.folder};
  IPCG_TRY(Sandbox box, Sandbox::create(config));

  IPCG_TRY(const std::filesystem::path tools, stage_tools(box, options.tools_root / lab.folder));
  IPCG_TRY(BuiltImpl reference, build_reference(box, lab, {.cache = options.build_cache,
                                                           .grader_version = options.grader_version,
                                                           .verbose = options.verbose}));
  if (!reference.all_ok())
    return fail(Errc::config, "the reference implementation of " + lab.id + " does not build:\n" +
                                  reference.feedback());
  IPCG_TRY(BuiltImpl student, build_impl(box, lab, options.submission, "student", Role::build));

  // The build does not depend on the seed: one build, then the tests under each seed in turn.
  for (const std::uint64_t seed : seeds) {
    GradeOptions seeded = options;
    seeded.seed = seed;
    LabResult result;
    result.lab = lab.id;
    result.title = lab.title;
    result.mechanism = lab.mechanism;
    result.submission = options.submission.string();
    result.seed = seed;
    result.isolation = box.isolation();
    result.grader_version = options.grader_version;
    result.spec_hash = lab.spec_hash;
    result.build.ok = student.all_ok();
    result.build.duration_seconds = student.seconds;
    result.build.compiler_output = student.feedback();

    for (const auto& test : lab.tests) {
      // With --only, the report and the score are about the selected test alone.
      if (seeded.only && test.name != *seeded.only) continue;
      result.tests.push_back(confirm_verdict(run_one(lab, test, box, seeded, student, reference, tools), [&] {
        GradeOptions again = seeded;
        again.trace_dir.clear();  // the first run's trace is the one the report points to
        return run_one(lab, test, box, again, student, reference, tools);
      }, test_seed(seed, test.name), seeded.confirm_runs));
      // A test the check reports as not run here (TCP without a network namespace) counts for
      // nothing: neither in the score nor in the maximum.
      if (result.tests.back().status != Status::skipped) result.max_score += test.points;
      result.score += result.tests.back().score;
    }
    // The first seed's duration includes the build, as a single run's always did.
    result.duration_seconds = seconds_since(started);
    started = Clock::now();
    on_result(std::move(result));
  }
  return {};
}

Result<LabResult> grade(const LabSpec& lab, const GradeOptions& options) {
  LabResult only_result;
  IPCG_CHECK(grade_seeds(lab, options, {options.seed}, [&](LabResult r) { only_result = std::move(r); }));
  return only_result;
}

}  // namespace ipcg
