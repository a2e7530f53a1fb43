#include "slots.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "sandbox_internal.hpp"

namespace ipcg::internal {
namespace {

// A root-owned folder for the lock files, refusing a symlink or someone else's folder.
bool usable_lock_dir(const char* path, mode_t mode) {
  if (::mkdir(path, mode) != 0 && errno != EEXIST) return false;
  struct stat st {};
  return ::lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
         (st.st_mode & 022) == 0;
}

Result<std::string> lock_dir() {
  if (usable_lock_dir("/run/ipcgrade", 0755)) return std::string("/run/ipcgrade");
  if (usable_lock_dir("/tmp/ipcgrade-slots", 0700)) return std::string("/tmp/ipcgrade-slots");
  return fail(Errc::system, "no usable folder for sandbox slot locks (/run/ipcgrade, /tmp/ipcgrade-slots)");
}

}  // namespace

Result<Slot> claim_slot() {
  IPCG_TRY(std::string dir, lock_dir());
  for (int n = 0; n < kSlotCount; ++n) {
    const std::string path = dir + "/slot-" + std::to_string(n) + ".lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return sys_fail("open " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    const uid_t uid = kSlotBase + static_cast<uid_t>(n);
    if (count_user_tasks(uid) > 0 || count_user_tasks(uid + kReferenceOffset) > 0) continue;
    return Slot{std::move(fd), uid, static_cast<gid_t>(uid)};
  }
  return fail(Errc::system, "all " + std::to_string(kSlotCount) + " sandbox slots are busy");
}

}  // namespace ipcg::internal
