// lab3's part of a scene (harness/labkit/scene.hpp): the mqtool role, its own queues removed
// after a test, and the verdicts named in lab3's words (dispatch_*, route_*, routing).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/labkit/scene.hpp"

namespace lab3 {

using namespace ipcg;

inline constexpr int kControlFd = kSceneControlFd, kLogFd = kSceneLogFd;
// x86_64 syscall numbers the checks wait on.
inline constexpr long kSysPoll = 7, kSysMsgsnd = 69, kSysMsgrcv = 70, kSysMqTimedsend = 242,
                      kSysMqTimedreceive = 243, kSysPpoll = 271;

// judge_actors with the failing step named as lab3's API function (dispatch_open, route_serve).
std::optional<CheckOutcome> judge_roles(const std::vector<Actor*>& who);
// standard_log_checks plus "routing" (System V: a client receives only its own replies).
std::optional<CheckOutcome> judge_messages(TestContext& ctx, const MessageLog& log, const std::vector<std::string>& checks,
                                      const std::string& context);

// mqtool, trusted: a reference role unless the test makes it play the student's earlier run.
SpawnSpec tool_spec(TestContext& ctx, std::vector<std::string> args, Role role = Role::reference);

// The queues a test made for itself (the names and keys it passed to the roles).
struct OwnQueues {
  std::vector<std::string> posix;  // mq_open names
  std::vector<key_t> sysv;         // msgget keys
};
// `check`, then its own queues removed by the trusted mqtool (unlink, rmid) once its roles are
// gone, so that a report's "left behind" lists only what the code under test made beside them.
// The verdict is check's. Tests that judge removal themselves (queue_unlinked,
// sysv_queue_removed) are registered without it: what the student failed to remove stays listed.
CheckFn removing_own_queues(CheckFn check, std::function<OwnQueues(const TestContext&)> own);

}  // namespace lab3
