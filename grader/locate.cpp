#include "locate.hpp"

#include <cstdlib>

namespace ipcg {

Result<GraderPaths> locate_paths() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return fail(Errc::internal, "cannot find the grader's own executable: " + ec.message());
  const auto prefix = exe.parent_path().parent_path();
  std::filesystem::path share = prefix / "share" / "ipcgrade";
  std::filesystem::path libexec = prefix / "libexec" / "ipcgrade";
  if (const char* home = std::getenv("IPCGRADE_HOME"); home && *home) share = home;
  if (const char* dir = std::getenv("IPCGRADE_LIBEXEC"); dir && *dir) libexec = dir;
  if (!std::filesystem::is_directory(share / "labs"))
    return fail(Errc::config, "no labs folder at " + (share / "labs").string() +
                                  " (set IPCGRADE_HOME to the folder holding labs/ and reference/)");
  return GraderPaths{share / "labs", share / "reference", libexec};
}

}  // namespace ipcg
