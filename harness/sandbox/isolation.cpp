// Which isolation a Sandbox gets, and why: full as root (namespaces and a uid per role); as an
// unprivileged user, the same namespaces inside a user namespace of its own, with a uid per role
// where newuidmap maps subordinate ids (full, "user namespace"), else every role one uid;
// reduced when namespaces are refused (a container, a sysctl) or not wanted
// (IPCGRADE_ISOLATION=reduced, --reduced). The answer is a CellPowers value: the rest of the
// sandbox asks it, never the euid.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>

#include "harness/sandbox/sandbox.hpp"
#include "sandbox_internal.hpp"

namespace ipcg {
namespace internal {
namespace {

constexpr const char* kReducedMeans = "no namespaces; isolation is rlimits, seccomp and process-group kill";
// What sharing one uid between roles costs, and what still holds (docs/threat-model.md).
constexpr const char* kSharedUidMeans =
    "roles share one uid: a student process can signal a reference process of its test, read its "
    "/proc files (memory, descriptors), read or replace the reference's programs (a replacement "
    "fails the test and stops the grading; the reference's sources are removed once built), and "
    "fill the work folder; namespaces, the read-only root, seccomp and rlimits still keep it from "
    "the host's processes and files, the keeper and other cells";

// What the level with subordinate ids means (docs/threat-model.md).
constexpr const char* kMappedMeans =
    "each cell is a user namespace of its own whose roles have uids of their own (subordinate ids from "
    "/etc/subuid and /etc/subgid, mapped by newuidmap): a student process cannot signal, trace or read a "
    "reference process nor replace its programs; cgroups only where a delegated one exists";

constexpr unsigned long kCellNamespaces = CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS;

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
}

// 0 when a child can be cloned into new IPC, PID, mount, net and UTS namespaces, else errno.
// The answer does not change while we run: probe once.
int probe_namespaces() {
  static const int result = [] {
    const pid_t pid = raw_clone(kCellNamespaces, nullptr);
    if (pid < 0) return errno;
    if (pid == 0) ::_exit(0);
    return wait_exit_code(pid);
  }();
  return result;
}

// The child of the user-namespace probe does what a cell's set-up does first
// (sandbox_child.cpp): its maps, then a mount. Raw calls only: a fork of a threaded process.
[[noreturn]] void try_user_namespace(const std::string& uid_map, const std::string& gid_map) {
  const auto write_file = [](const char* path, const std::string& text) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int error = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) ::_exit(error ? error : EIO);
  };
  write_file("/proc/self/uid_map", uid_map);
  write_file("/proc/self/setgroups", "deny");
  write_file("/proc/self/gid_map", gid_map);
  // A security module may let the clone through and refuse what it is for (Ubuntu's AppArmor).
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(errno);
  ::_exit(0);
}

// 0 when an unprivileged child can make a user namespace with a cell's namespaces inside and
// act as root in it; else errno. Cached per euid: a test drops to another uid after fork.
int probe_user_namespace() {
  static std::mutex mutex;
  static int cached_for = -1, result = 0;
  const std::lock_guard lock(mutex);
  if (cached_for == static_cast<int>(::geteuid())) return result;
  const std::string uid_map = one_id_map(kCellUid, ::geteuid()), gid_map = one_id_map(kCellUid, ::getegid());
  const pid_t pid = raw_clone(CLONE_NEWUSER | kCellNamespaces, nullptr);
  if (pid == 0) try_user_namespace(uid_map, gid_map);
  result = pid < 0 ? errno : wait_exit_code(pid);
  cached_for = static_cast<int>(::geteuid());
  return result;
}

// The subordinate ids, when newuidmap maps them into a user namespace of ours and a child there
// can take the roles' ids (setgroups, setresgid, setresuid); else why not. Cached per euid.
Result<RoleIdMap> probe_role_ids() {
  static std::mutex mutex;
  static int cached_for = -1;
  static Result<RoleIdMap> result = fail(Errc::internal, "not probed");
  const std::lock_guard lock(mutex);
  if (cached_for == static_cast<int>(::geteuid())) return result;
  cached_for = static_cast<int>(::geteuid());
  result = find_role_id_map();
  if (!result) return result;
  const auto take_role_ids = [] {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kMappedObserverGid, kMappedReferenceUid, kMappedReferenceUid) != 0 ||
        ::setresuid(kMappedReferenceUid, kMappedReferenceUid, kMappedReferenceUid) != 0)
      return errno;
    return 0;
  };
  if (auto tried = as_cell_root(*result, take_role_ids, "take a role's ids in a mapped user namespace"); !tried)
    result = tl::unexpected(tried.error());
  return result;
}

// A sysctl's value, or -1 when the host does not have it.
long sysctl_value(const char* path) {
  std::ifstream in(path);
  long value = -1;
  return in >> value ? value : -1;
}

// Why the kernel refused an unprivileged user namespace, in a few words.
std::string user_namespace_refusal(int error) {
  if (sysctl_value("/proc/sys/user/max_user_namespaces") == 0) return "user.max_user_namespaces is 0";
  if (sysctl_value("/proc/sys/kernel/unprivileged_userns_clone") == 0) return "kernel.unprivileged_userns_clone is 0";
  if (sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
    return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)";
  if (error == ENOSPC) return "the limit of user namespaces is reached (ENOSPC from clone)";
  if (error == EPERM) return "EPERM: a container's seccomp profile or a security module forbids them";
  return std::string(std::strerror(error));
}

std::string refused_reason(int error) {
  const std::string why = error == EPERM ? "EPERM from clone: a container that forbids them"
                                         : std::string(std::strerror(error)) + " from clone";
  return "namespaces refused (" + why + "); " + kReducedMeans;
}

Isolation reduced(std::string setting, std::string reason, bool role_uids) {
  return {{IsolationLevel::reduced, std::move(setting), std::move(reason)}, {false, false, role_uids, std::nullopt}};
}

Isolation as_root() {
  if (const int error = probe_namespaces(); error != 0)
    return reduced("container without namespaces", refused_reason(error), true);
  return {{IsolationLevel::full, "root", ""}, {true, false, true, std::nullopt}};
}

Isolation as_user() {
  if (const int error = probe_user_namespace(); error != 0) {
    const std::string why = user_namespace_refusal(error);
    return reduced("user namespaces refused", "not root, and no user namespace: " + why + "; " + kReducedMeans, false);
  }
  auto mapped = probe_role_ids();
  if (mapped) return {{IsolationLevel::full, "user namespace", kMappedMeans}, {true, true, true, *mapped}};
  return {{IsolationLevel::user_namespace_without_role_uids, "unprivileged",
           "no role uids (" + mapped.error().message + "); " + kSharedUidMeans},
          {true, true, false, std::nullopt}};
}

}  // namespace

Isolation decide_isolation(bool allow_namespaces) {
  const bool root = ::geteuid() == 0;
  const char* forced = std::getenv("IPCGRADE_ISOLATION");
  if (forced && std::string_view(forced) == "reduced")
    return reduced(root ? "root" : "unprivileged",
                   std::string("reduced isolation requested (IPCGRADE_ISOLATION=reduced): ") + kReducedMeans, root);
  if (!allow_namespaces)
    return reduced(root ? "root" : "unprivileged",
                   std::string("reduced isolation requested (namespaces disabled): ") + kReducedMeans, root);
  return root ? as_root() : as_user();
}

}  // namespace internal

IsolationInfo detect_isolation(bool allow_namespaces) { return internal::decide_isolation(allow_namespaces).info; }

}  // namespace ipcg
