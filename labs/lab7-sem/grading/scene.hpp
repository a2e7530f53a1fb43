// lab7's part of a scene (harness/labkit/scene.hpp): the board every role of a test maps and the
// synchronization checker's schedule and monitor (harness/sync) every role runs under, the options
// every driver takes (board, seed, actor), and the test's own semaphores removed once its roles
// are gone.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/lab7_board.h"
#include "harness/labkit/scene.hpp"
#include "harness/sync/deadlock_watch.hpp"
#include "harness/sync/pct.hpp"
#include "harness/sync/sync.hpp"

namespace lab7 {

using namespace ipcg;

// x86_64 syscall numbers the checks wait on.
inline constexpr long kSysSemop = 65, kSysFutex = 202, kSysSemtimedop = 220;

// The board (drivers/lab7_board.h): a file in the sandbox's work folder that every role maps and
// the grader reads, removed with the object; and the test's sync schedule and monitor.
class Board {
 public:
  static Result<Board> create(TestContext& ctx);
  const SyncSchedule& schedule() const { return *schedule_; }
  const SyncMonitor& monitor() const { return *monitor_; }
  Board(Board&&) noexcept;
  Board& operator=(Board&&) = delete;
  ~Board();
  const std::string& box_path() const { return box_path_; }
  lab7_board* operator->() const { return map_; }
  // Under pct, the test's PctScheduler ticks on every tick of the scene (Scene::on_every_tick);
  // otherwise nothing. Call once, right after the scene is made.
  void drive(Scene& scene);
  lab7_board& operator*() const { return *map_; }

 private:
  Board() = default;
  std::string host_path_, box_path_;
  lab7_board* map_ = nullptr;
  std::optional<SyncSchedule> schedule_;
  std::optional<SyncMonitor> monitor_;
  TestContext* ctx_ = nullptr;
  std::unique_ptr<PctScheduler> pct_;       // made in drive(): it points into this board
};

// A role's spawn spec: the program as the test's roles say, with --board, --seed (the test's)
// and --actor, then args; under the test's sync schedule, with its monitor.
SpawnSpec role_spec(TestContext& ctx, const Board& board, const std::string& program, int actor,
                    std::vector<std::string> args);

// semtool, trusted: a reference role unless the test makes it play the student's crashed run.
SpawnSpec semtool_spec(TestContext& ctx, std::vector<std::string> args, Role role = Role::reference);

// Starts a role and waits for it to exit (or the test's deadline).
Result<Actor*> run_one(Scene& scene, std::string label, SpawnSpec spec);
// The verdict when some actor of the scene has not exited.
std::optional<CheckOutcome> unfinished(Scene& scene, const std::string& what);

// The monitor's violations in words (two processes inside section 0 at once ...), for evidence.
std::vector<std::string> monitor_evidence(const Board& board);

// The semaphores and sets a test made for itself (the names and keys it passed to the roles).
struct OwnSemaphores {
  std::vector<std::string> posix;         // sem_open names
  std::vector<std::string> posix_prefix;  // a barrier's: every semaphore named NAME...
  std::vector<key_t> sysv;                // semget keys
};
// `check`, then its own semaphores removed by the trusted semtool once its roles are gone, so
// that a report's "left behind" lists only what the code under test made beside them. The
// tests that judge removal themselves are registered without it.
CheckFn removing_own(CheckFn check, std::function<OwnSemaphores(const TestContext&)> own);

std::string hex_key(key_t key);

}  // namespace lab7
