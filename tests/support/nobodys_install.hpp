// A student's laptop for a test run as root: the grader, its helpers, the labs and references
// (and any submission folders given) copied where nobody may read them, since the checkout may
// sit in a folder nobody cannot enter, plus a build cache of nobody's own. Removed at the end.
// The grader then runs as uid kNobody (run_grader's RunAs, or a fork that drops to it) with
// env() added to its environment.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ipcg::testing {

class NobodysInstall {
 public:
  static constexpr uid_t kNobody = 65534;

  // `source`: the checkout (labs/, reference/); `build`: the build folder (libexec/);
  // `grader`: the grader binary; `submissions`: folders copied under submissions/ by name.
  NobodysInstall(const std::filesystem::path& source, const std::filesystem::path& build,
                 const std::filesystem::path& grader, const std::vector<std::filesystem::path>& submissions = {}) {
    namespace fs = std::filesystem;
    std::string name = (fs::temp_directory_path() / "ipcg-nobody-XXXXXX").string();
    if (!::mkdtemp(name.data())) return;
    root_ = name;
    std::error_code ec;
    fs::create_directories(root_ / "bin", ec);
    fs::create_directories(root_ / "share" / "ipcgrade", ec);
    fs::create_directories(root_ / "submissions", ec);
    fs::copy(grader, root_ / "bin" / "grader", ec);
    fs::copy(build / "libexec", root_ / "libexec", fs::copy_options::recursive, ec);
    fs::copy(source / "labs", root_ / "share" / "ipcgrade" / "labs", fs::copy_options::recursive, ec);
    fs::copy(source / "reference", root_ / "share" / "ipcgrade" / "reference", fs::copy_options::recursive, ec);
    for (const auto& s : submissions)  // as submitted: a symlink stays a symlink
      fs::copy(s, submission(s.filename().string()), fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    for (const auto& entry : fs::recursive_directory_iterator(root_, ec))
      if (!entry.is_symlink())
        fs::permissions(entry.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add, ec);
    fs::permissions(root_, fs::perms(0755), ec);
    fs::create_directory(cache(), ec);
    ok_ = ::chown(cache().c_str(), kNobody, kNobody) == 0 && ::chmod(cache().c_str(), 0700) == 0 &&
          fs::exists(grader_path());
  }
  NobodysInstall(const NobodysInstall&) = delete;
  NobodysInstall& operator=(const NobodysInstall&) = delete;
  ~NobodysInstall() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }

  bool ok() const { return ok_; }
  std::filesystem::path grader_path() const { return root_ / "bin" / "grader"; }
  std::filesystem::path submission(const std::string& name) const { return root_ / "submissions" / name; }
  std::filesystem::path cache() const { return root_ / "cache"; }
  // What the grader's environment needs as nobody: no root's HOME, the cache of nobody's own.
  std::vector<std::string> env() const { return {"HOME=/nonexistent", "IPCG_CACHE_DIR=" + cache().string()}; }

 private:
  std::filesystem::path root_;
  bool ok_ = false;
};

}  // namespace ipcg::testing
