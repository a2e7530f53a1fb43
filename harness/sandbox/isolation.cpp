// Which isolation a Sandbox gets, and why: full (root, and clone may make namespaces) or reduced
// (not root, IPCGRADE_ISOLATION=reduced, --reduced, or a container that refuses namespaces).
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "harness/sandbox/sandbox.hpp"
#include "sandbox_internal.hpp"

namespace ipcg {
namespace {

constexpr const char* kReducedMeans = "no namespaces; isolation is rlimits, seccomp and process-group kill";

// 0 when a child can be cloned into new IPC, PID, mount, net and UTS namespaces, else errno.
// The answer does not change while we run: probe once.
int probe_namespaces() {
  static const int result = [] {
    const pid_t pid = internal::raw_clone(
        CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS, nullptr);
    if (pid < 0) return errno;
    if (pid == 0) ::_exit(0);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return 0;
  }();
  return result;
}

std::string refused_reason(int error) {
  const std::string why = error == EPERM ? "EPERM from clone: a container that forbids them"
                                         : std::string(std::strerror(error)) + " from clone";
  return "namespaces refused (" + why + "); " + kReducedMeans;
}

}  // namespace

IsolationInfo detect_isolation(bool allow_namespaces) {
  IsolationInfo info;
  if (::geteuid() != 0) {
    info.setting = "unprivileged";
    info.reason = std::string("not running as root: ") + kReducedMeans;
    return info;
  }
  info.setting = "root";
  const char* forced = std::getenv("IPCGRADE_ISOLATION");
  if (forced && std::string_view(forced) == "reduced") {
    info.reason = std::string("reduced isolation requested (IPCGRADE_ISOLATION=reduced): ") + kReducedMeans;
    return info;
  }
  if (!allow_namespaces) {
    info.reason = std::string("reduced isolation requested (namespaces disabled): ") + kReducedMeans;
    return info;
  }
  if (const int error = probe_namespaces(); error != 0) {
    info.setting = "container without namespaces";
    info.reason = refused_reason(error);
    return info;
  }
  info.level = IsolationLevel::full;
  return info;
}

}  // namespace ipcg
