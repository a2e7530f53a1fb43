// lab5 Part B: a file-backed MAP_SHARED region that unrelated processes update under the
// semaphore inside it. Writers and readers are separate roles of the test's cell (the student's
// code or the reference's behind trusted drivers); mmtool (trusted) holds the lock across a
// read-modify-write at a stop; the grader reads the region's file itself and asks the kernel
// (cachestat) whether its pages reached the disk.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <map>

#include "harness/sync/wait_for.hpp"
#include "region_file.hpp"

namespace lab5 {
namespace {

constexpr std::uint32_t kHolderWriter = 999;  // mmtool's record

struct Region {
  TestFolder folder;
  std::string box_path;
  std::filesystem::path host_path;
};

Result<Region> make_region(TestContext& ctx) {
  IPCG_TRY(TestFolder folder, TestFolder::make(ctx));
  const std::string file = ctx.ipc_names().name("region");
  std::string box = folder.box(file);
  auto host = folder.host(file);
  return Region{std::move(folder), std::move(box), std::move(host)};
}

std::string region_call_name(const Actor&, const std::string& step) {
  if (step == "create" || step == "open" || step == "close") return "mm_region_" + step;
  return "mm_" + step;  // add, sync
}

SpawnSpec reference_writer(TestContext& ctx, std::vector<std::string> args) {
  args.insert(args.begin(), ctx.reference_program("writer"));
  return ctx.spawn_spec(std::move(args));
}

// The region made by a reference writer (a student's later failure is then its own); the
// verdict when it could not be made.
std::optional<CheckOutcome> create_region(TestContext& ctx, Scene& scene, const Region& r) {
  auto creator = scene.start("writer (reference) creating the region", reference_writer(ctx, {"--create", r.box_path}));
  if (!creator) return CheckOutcome::with(Status::error, creator.error().message);
  auto done = scene.run_until([&] { return scene.exited(**creator); });
  if (!done) return CheckOutcome::with(Status::error, done.error().message);
  if (!*done) return scene.timed_out("the reference writer creating the region");
  return judge_actors({*creator}, region_call_name);
}

// mmtool hold: the lock taken, the count read, stopped until continued.
Result<Actor*> hold_lock(TestContext& ctx, Scene& scene, const Region& r) {
  IPCG_TRY(Actor * holder, scene.start("mmtool hold (reference)", tool_spec(ctx, "mmtool", {"hold", r.box_path})));
  IPCG_TRY(bool held, scene.run_until([&] {
    if (scene.exited(*holder) || !holder->reported("held")) return scene.exited(*holder);
    const auto snap = scene.snapshot(*holder);
    return snap && snap->state == 'T';
  }));
  (void)held;
  return holder;
}

CheckOutcome held_lock_failure(Actor& holder) {
  if (auto bad = judge_actors({&holder})) return *bad;
  return CheckOutcome::with(Status::error, "mmtool hold ended without holding the lock", {holder.err_data});
}

bool waits_for_lock(Scene& scene, const Actor& a) {
  const auto snap = scene.snapshot(a);
  return snap && blocked_in(*snap, {kSysFutex});
}

// The log checked against what the writers were asked to add: each (writer, seq) exactly once.
std::vector<std::string> log_problems(const RegionContent& c, const std::vector<std::uint32_t>& writers, long adds,
                                      bool holder) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> seen;
  for (const auto& rec : c.log) seen[{rec.writer, rec.seq}]++;
  std::vector<std::string> problems;
  if (c.records != c.count)
    problems.push_back(fmt::format("the log has {} records but the count is {}: they are updated together", c.records,
                                   c.count));
  for (std::uint32_t w : writers) {
    long missing = 0, twice = 0;
    for (long s = 0; s < adds; ++s) {
      const int n = seen[{w, static_cast<std::uint32_t>(s)}];
      missing += n == 0;
      twice += n > 1;
    }
    if (missing || twice)
      problems.push_back(fmt::format("writer {}: {} of its {} records missing from the log, {} there more than once",
                                     w, missing, adds, twice));
  }
  if (holder && seen[{kHolderWriter, 0}] != 1)
    problems.push_back("the record of the reference that held the lock is missing (overwritten by an update made "
                       "without the lock)");
  return problems;
}

// Several writers while a reference holds the lock across a read-modify-write; released together.
CheckOutcome no_lost_update(TestContext& ctx) {
  const auto& p = ctx.test.params;
  const int students = p.value("student_writers", 4), references = p.value("reference_writers", 0);
  const long adds = p.value("adds", 50L);
  IPCG_TRY_OUTCOME(Region r, make_region(ctx));
  Scene scene(ctx);
  if (auto bad = create_region(ctx, scene, r)) return *bad;
  IPCG_TRY_OUTCOME(Actor * holder, hold_lock(ctx, scene, r));
  if (scene.exited(*holder)) return held_lock_failure(*holder);
  std::vector<Actor*> writers;
  std::vector<std::uint32_t> ids;
  for (int k = 0; k < students + references; ++k) {
    const bool student = k < students;
    std::vector<std::string> args{"--id", std::to_string(k), "--adds", std::to_string(adds), r.box_path};
    const std::string who = fmt::format("writer {} ({})", k, student ? "student" : "reference");
    IPCG_TRY_OUTCOME(Actor * w, scene.start(who, student ? program_spec(ctx, "writer", args)
                                                         : reference_writer(ctx, args)));
    writers.push_back(w);
    ids.push_back(static_cast<std::uint32_t>(k));
  }
  // Every writer either waits in sem_wait for the lock the reference holds, or is done: a writer
  // done now added without the lock.
  IPCG_TRY_OUTCOME(bool settled, scene.run_until([&] {
    return std::all_of(writers.begin(), writers.end(),
                       [&](Actor* w) { return scene.exited(*w) || waits_for_lock(scene, *w); });
  }));
  if (!settled) return scene.timed_out("the writers, while the reference held the lock");
  std::vector<std::string> ignored_lock;
  for (Actor* w : writers)
    if (w->reported("added"))
      ignored_lock.push_back(fmt::format("{} finished its {} adds while the reference held the region's lock: it "
                                         "never waited for it (sem_wait)", w->label, adds));
  resume(*holder);
  std::vector<Actor*> all = writers;
  all.push_back(holder);
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited(all); }));
  if (!done) return scene.timed_out("the writers");
  if (auto bad = judge_actors(all, region_call_name)) return *bad;
  const auto content = read_region(r.host_path);
  if (!content) return CheckOutcome::fail("the region's file is shorter than struct mm_region");
  const std::uint64_t expected = static_cast<std::uint64_t>(students + references) * adds + 1;
  auto problems = log_problems(*content, ids, adds, true);
  const std::string context = fmt::format("{} of your writers and {} reference writers, {} adds each, while a "
                                          "reference held the lock across a read-modify-write",
                                          students, references, adds);
  if (content->count != expected || !problems.empty()) {
    problems.insert(problems.begin(), ignored_lock.begin(), ignored_lock.end());
    return CheckOutcome::fail(fmt::format("lost updates: the file's count is {}, expected {} ({} + 1 by the reference "
                                          "holding the lock); {}",
                                          content->count, expected, expected - 1, context),
                              problems);
  }
  if (!ignored_lock.empty())
    return CheckOutcome::fail(fmt::format("the region's lock was not respected: {}", context), ignored_lock);
  return CheckOutcome::pass();
}

// A reader maps the region and stops; a writer adds; the reader, continued, reads through the
// mapping it already had.
CheckOutcome visibility(TestContext& ctx) {
  const long adds = ctx.test.params.value("adds", 5L);
  IPCG_TRY_OUTCOME(Region r, make_region(ctx));
  Scene scene(ctx);
  if (auto bad = create_region(ctx, scene, r)) return *bad;
  IPCG_TRY_OUTCOME(Actor * reader, scene.start(label(ctx, "reader"), program_spec(ctx, "reader", {r.box_path})));
  IPCG_TRY_OUTCOME(bool open, run_to_gate(scene, *reader, "open"));
  if (!open) {
    if (auto bad = judge_actors({reader}, region_call_name)) return *bad;
    return scene.timed_out("the reader, opening the region");
  }
  IPCG_TRY_OUTCOME(Actor * writer, scene.start(label(ctx, "writer"),
                                               program_spec(ctx, "writer", {"--id", "1", "--adds",
                                                                            std::to_string(adds), r.box_path})));
  IPCG_TRY_OUTCOME(bool wrote, scene.run_until([&] { return scene.exited(*writer); }));
  if (!wrote) return scene.timed_out("the writer");
  if (auto bad = judge_actors({writer}, region_call_name)) return *bad;
  resume(*reader);
  IPCG_TRY_OUTCOME(bool read, scene.run_until([&] { return scene.exited(*reader); }));
  if (!read) return scene.timed_out("the reader, after the writer's adds");
  if (auto bad = judge_actors({reader}, region_call_name)) return *bad;
  std::vector<unsigned long long> counts;
  for (const auto& l : reader->lines())
    if (unsigned long long c = 0; std::sscanf(l.c_str(), "count %llu", &c) == 1) counts.push_back(c);
  const auto content = read_region(r.host_path);
  const std::uint64_t in_file = content ? content->count : 0;
  const std::string evidence = fmt::format("the region's file, read by the grader, holds count {}", in_file);
  if (in_file != static_cast<std::uint64_t>(adds))
    return CheckOutcome::fail(fmt::format("{}'s {} adds never reached the shared region: the file holds count {}",
                                          writer->label, adds, in_file),
                              {"a MAP_PRIVATE mapping (or a copy) keeps a process's writes to itself"});
  if (counts.size() < 2 || counts[1] != static_cast<std::uint64_t>(adds))
    return CheckOutcome::fail(fmt::format("{} mapped the region (count {}), then {} added {}: mm_count through the same "
                                          "mapping returned {}, expected {}",
                                          reader->label, counts.empty() ? 0 : counts[0], writer->label, adds,
                                          counts.size() < 2 ? 0 : counts[1], adds),
                              {evidence});
  return CheckOutcome::pass();
}

// The writer adds, mm_sync returns, and it is killed at once. While it is stopped right after
// mm_sync returned, its mappings of the region's file must hold no dirty page (/proc/PID/smaps:
// msync(MS_SYNC) writes them back and cleans them; every kernel says this, where cachestat(2)
// needs Linux 6.5 and is only added as evidence); then the file must hold every update.
CheckOutcome synced_before_kill(TestContext& ctx) {
  const long adds = ctx.test.params.value("adds", 9L);
  IPCG_TRY_OUTCOME(Region r, make_region(ctx));
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * writer, scene.start(label(ctx, "writer"),
                                               program_spec(ctx, "writer", {"--create", "--sync", "--id", "1",
                                                                            "--adds", std::to_string(adds),
                                                                            r.box_path})));
  IPCG_TRY_OUTCOME(bool synced, run_to_gate(scene, *writer, "synced"));
  if (!synced) {
    if (auto bad = judge_actors({writer}, region_call_name)) return *bad;
    return scene.timed_out("the writer, before mm_sync returned");
  }
  std::optional<std::uint64_t> dirty_bytes;
  struct stat file{};
  if (writer->proc && ::stat(r.host_path.c_str(), &file) == 0)
    if (auto smaps = read_regular_file(fmt::format("/proc/{}/smaps", writer->proc->pid())))
      dirty_bytes = dirty_mapped_bytes(*smaps, file.st_ino);
  const auto cache = cache_state(r.host_path);
  signal_actor(*writer, SIGKILL);
  IPCG_TRY_OUTCOME(bool dead, scene.run_until([&] { return scene.exited(*writer); }));
  if (!dead) return scene.timed_out("the writer, killed after mm_sync");
  const auto content = read_region(r.host_path);
  if (!content) return CheckOutcome::fail("the region's file is shorter than struct mm_region after mm_region_create");
  const std::string what = fmt::format("{} added {}, called mm_sync and was killed with SIGKILL when it returned",
                                       writer->label, adds);
  // On tmpfs nothing is ever written back: there the check cannot tell, and says nothing.
  if (dirty_bytes && *dirty_bytes > 0 && !r.folder.on_tmpfs()) {
    std::vector<std::string> evidence{
        fmt::format("/proc/{}/smaps of the writer, stopped right after mm_sync returned: {} kB of its mapping of "
                    "the region's file dirty (Shared_Dirty + Private_Dirty)",
                    writer->proc->pid(), *dirty_bytes / 1024)};
    if (cache)
      evidence.push_back(fmt::format("cachestat(2) of the file at that moment: nr_cache {}, nr_dirty {}, nr_writeback {}",
                                     cache->cached, cache->dirty, cache->writeback));
    evidence.push_back("a crash of the machine now loses those updates: mm_sync writes the region back with "
                       "msync(MS_SYNC)");
    return CheckOutcome::fail(fmt::format("{}: {} page(s) of the region were still dirty in memory, not on disk", what,
                                          (*dirty_bytes + 4095) / 4096),
                              evidence);
  }
  auto problems = log_problems(*content, {1}, adds, false);
  if (content->count != static_cast<std::uint64_t>(adds) || !problems.empty())
    return CheckOutcome::fail(fmt::format("{}: the file holds count {}, expected {}", what, content->count, adds),
                              problems);
  return CheckOutcome::pass();
}

// A writer waits for the lock a reference holds; SIGUSR1 (handler, no SA_RESTART) interrupts
// its sem_wait; it must wait again, then add once the lock is released.
CheckOutcome interrupted_lock_wait(TestContext& ctx) {
  const long adds = ctx.test.params.value("adds", 3L);
  IPCG_TRY_OUTCOME(Region r, make_region(ctx));
  Scene scene(ctx);
  if (auto bad = create_region(ctx, scene, r)) return *bad;
  IPCG_TRY_OUTCOME(Actor * holder, hold_lock(ctx, scene, r));
  if (scene.exited(*holder)) return held_lock_failure(*holder);
  IPCG_TRY_OUTCOME(Actor * writer, scene.start(label(ctx, "writer"),
                                               program_spec(ctx, "writer", {"--eintr", "--id", "1", "--adds",
                                                                            std::to_string(adds), r.box_path})));
  IPCG_TRY_OUTCOME(bool waiting, scene.run_until([&] { return scene.exited(*writer) || waits_for_lock(scene, *writer); }));
  if (!waiting) return scene.timed_out("the writer, while the reference held the lock");
  if (scene.exited(*writer)) {
    if (auto bad = judge_actors({writer}, region_call_name)) return *bad;
    return CheckOutcome::fail(fmt::format("{} finished its {} adds while the reference held the region's lock: it never "
                                          "waited for it (sem_wait)", writer->label, adds));
  }
  signal_actor(*writer, SIGUSR1);
  // Handled (no longer pending) and waiting in sem_wait again, or ended.
  IPCG_TRY_OUTCOME(bool handled, scene.run_until([&] {
    if (scene.exited(*writer)) return true;
    const auto snap = scene.snapshot(*writer);
    return snap && !snap->signals.is_pending(SIGUSR1) && blocked_in(*snap, {kSysFutex});
  }));
  if (!handled) return scene.timed_out("the writer, after SIGUSR1");
  const bool added_while_held = writer->reported("added");
  resume(*holder);
  IPCG_TRY_OUTCOME(bool done, scene.run_until([&] { return scene.all_exited({writer, holder}); }));
  if (!done) return scene.timed_out("the writer, after the lock was released");
  if (auto bad = judge_actors({writer}, region_call_name)) {
    bad->evidence.push_back("SIGUSR1 (a handler without SA_RESTART) interrupted sem_wait while the reference held the "
                            "lock: sem_wait then fails with EINTR and must be called again");
    return *bad;
  }
  if (auto bad = judge_actors({holder})) return *bad;
  const auto content = read_region(r.host_path);
  if (!content) return CheckOutcome::fail("the region's file is shorter than struct mm_region");
  auto problems = log_problems(*content, {1}, adds, true);
  if (added_while_held || content->count != static_cast<std::uint64_t>(adds) + 1 || !problems.empty()) {
    if (added_while_held)
      problems.insert(problems.begin(), "after SIGUSR1 the writer added without waiting for the lock any more");
    return CheckOutcome::fail(fmt::format("{} interrupted by SIGUSR1 while waiting for the lock: the file's count is {}, "
                                          "expected {}", writer->label, content->count, adds + 1),
                              problems);
  }
  return CheckOutcome::pass();
}

// A region left by a crashed run (its lock taken by a process that is gone, old updates in it):
// mm_region_create must make it anew. A writer that keeps it waits for a lock no one will release.
CheckOutcome stale_region(TestContext& ctx) {
  const long adds = ctx.test.params.value("adds", 4L);
  IPCG_TRY_OUTCOME(Region r, make_region(ctx));
  Scene scene(ctx);
  IPCG_TRY_OUTCOME(Actor * tool, scene.start("mmtool stale (reference)", tool_spec(ctx, "mmtool", {"stale", r.box_path})));
  IPCG_TRY_OUTCOME(bool made, scene.run_until([&] { return scene.exited(*tool); }));
  if (!made) return scene.timed_out("mmtool stale");
  if (auto bad = judge_actors({tool})) return *bad;
  IPCG_TRY_OUTCOME(Actor * writer, scene.start(label(ctx, "writer"),
                                               program_spec(ctx, "writer", {"--create", "--id", "1", "--adds",
                                                                            std::to_string(adds), r.box_path})));
  // No other process of the test is alive: a writer asleep in sem_wait waits forever.
  IPCG_TRY_OUTCOME(bool ended, scene.run_until([&] { return scene.exited(*writer) || waits_for_lock(scene, *writer); }));
  if (!ended) return scene.timed_out("the writer, on a region left by a crashed run");
  const std::string what = fmt::format("a region left by a crashed run (count 123, its lock taken by a process that "
                                       "is gone), then {} with --create and {} adds", writer->label, adds);
  if (!scene.exited(*writer))
    return CheckOutcome::fail(fmt::format("{}: the writer waits in sem_wait for a lock no live process holds", what),
                              {"mm_region_create kept the old file's lock: truncate the file and initialise the region "
                               "(sem_init) every time"});
  if (auto bad = judge_actors({writer}, region_call_name)) return *bad;
  const auto content = read_region(r.host_path);
  if (!content) return CheckOutcome::fail(what + ": the region's file is shorter than struct mm_region");
  auto problems = log_problems(*content, {1}, adds, false);
  if (content->count != static_cast<std::uint64_t>(adds) || !problems.empty())
    return CheckOutcome::fail(fmt::format("{}: the file holds count {}, expected {} (the old run's updates kept)", what,
                                          content->count, adds),
                              problems);
  return CheckOutcome::pass();
}

IPCG_REGISTER_CHECK("lab5.no_lost_update", no_lost_update);
IPCG_REGISTER_CHECK("lab5.stale_region", stale_region);
IPCG_REGISTER_CHECK("lab5.visibility", visibility);
IPCG_REGISTER_CHECK("lab5.synced_before_kill", synced_before_kill);
IPCG_REGISTER_CHECK("lab5.interrupted_lock_wait", interrupted_lock_wait);

}  // namespace
}  // namespace lab5
