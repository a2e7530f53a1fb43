#include "scene.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

namespace lab7 {

Result<Board> Board::create(TestContext& ctx) {
  static std::atomic<unsigned> serial{0};
  Board b;
  const std::string file = fmt::format("lab7-board-{}-{}", ctx.cell.tag(), serial++);
  b.host_path_ = (ctx.sandbox.host_work_dir() / file).string();
  b.box_path_ = ctx.sandbox.to_box(ctx.sandbox.host_work_dir() / file).string();
  UniqueFd fd(::open(b.host_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
  if (!fd) return sys_fail("create " + b.host_path_);
  ::fchmod(fd.get(), 0666);  // every role's uid maps it
  if (::ftruncate(fd.get(), sizeof(lab7_board)) != 0) return sys_fail("ftruncate " + b.host_path_);
  void* p = ::mmap(nullptr, sizeof(lab7_board), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) return sys_fail("mmap " + b.host_path_);
  b.map_ = static_cast<lab7_board*>(p);
  b.ctx_ = &ctx;
  b.schedule_ = SyncSchedule::for_test(ctx, /*pct_ticked=*/true);  // every check drives the scene
  IPCG_TRY(SyncMonitor monitor, SyncMonitor::create(b.schedule_->mode()));
  b.monitor_.emplace(std::move(monitor));
  return b;
}

Board::Board(Board&& o) noexcept
    : host_path_(std::move(o.host_path_)),
      box_path_(std::move(o.box_path_)),
      map_(std::exchange(o.map_, nullptr)),
      schedule_(std::move(o.schedule_)),
      monitor_(std::move(o.monitor_)),
      ctx_(o.ctx_),
      pct_(std::move(o.pct_)) {}

void Board::drive(Scene& scene) { pct_ = drive_pct(*ctx_, scene, *schedule_, *monitor_); }

Board::~Board() {
  if (!map_) return;
  ::munmap(map_, sizeof(lab7_board));
  ::unlink(host_path_.c_str());
}

SpawnSpec role_spec(TestContext& ctx, const Board& board, const std::string& program, int actor,
                    std::vector<std::string> args) {
  std::vector<std::string> all{"--board", board.box_path(), "--seed", std::to_string(ctx.seed), "--actor",
                               std::to_string(actor)};
  all.insert(all.end(), args.begin(), args.end());
  return with_sync(program_spec(ctx, program, std::move(all)), board.schedule(), static_cast<unsigned>(actor),
                   board.monitor());
}

SpawnSpec semtool_spec(TestContext& ctx, std::vector<std::string> args, Role role) {
  return ipcg::tool_spec(ctx, "semtool", std::move(args), role);
}

Result<Actor*> run_one(Scene& scene, std::string label, SpawnSpec spec) {
  IPCG_TRY(Actor* a, scene.start(std::move(label), std::move(spec)));
  IPCG_TRY(bool done, scene.run_until([&] { return scene.exited(*a); }));
  (void)done;
  return a;
}

std::optional<CheckOutcome> unfinished(Scene& scene, const std::string& what) {
  for (const auto& a : scene.actors())
    if (!scene.exited(*a)) return scene.timed_out(what);
  return std::nullopt;
}

std::vector<std::string> monitor_evidence(const Board& board) {
  std::vector<std::string> out;
  for (const SyncViolation& v : board.monitor().violations()) out.push_back("sync monitor: " + describe(v));
  return out;
}

namespace {

constexpr int kNotMine = 3;  // semtool unlink/rmid: the object belongs to another uid

// Only the owner may remove (/dev/shm is sticky; IPC_RMID wants the creator or owner): semtool
// asks as the reference's uid, then as the student's.
void remove_object(TestContext& ctx, const std::vector<std::string>& args) {
  for (Role role : {Role::reference, Role::student}) {
    Scene scene(ctx);
    auto tool = scene.start("semtool " + args[0], semtool_spec(ctx, args, role));
    if (!tool) return;
    auto done = scene.run_until([&] { return scene.exited(**tool); });
    const std::optional<int> st = (*tool)->status;
    if (!done || !*done || !st || !WIFEXITED(*st) || WEXITSTATUS(*st) != kNotMine) return;
  }
}

}  // namespace

std::string hex_key(key_t key) { return fmt::format("{:#x}", static_cast<unsigned>(key)); }

CheckFn removing_own(CheckFn check, std::function<OwnSemaphores(const TestContext&)> own) {
  return [check = std::move(check), own = std::move(own)](TestContext& ctx) {
    CheckOutcome outcome = check(ctx);  // its Scene is gone: every role of the test has been killed
    const OwnSemaphores o = own(ctx);
    for (const auto& name : o.posix) remove_object(ctx, {"unlink", name});
    for (const auto& name : o.posix_prefix) remove_object(ctx, {"unlink-prefix", name});
    for (key_t key : o.sysv) remove_object(ctx, {"rmid", hex_key(key)});
    return outcome;
  };
}

}  // namespace lab7
