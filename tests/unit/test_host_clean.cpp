// The suite's last word on the host: ctest runs HostState.Record before every other test and
// HostState.NothingLeft after all of them (fixture host_state, tests/CMakeLists.txt). Whatever a
// grader, a sandbox or a hostile submission left on the host shows up here: processes of the
// sandbox uids, ipcgrade-* cgroups, SysV objects, POSIX queues, /dev/shm entries, temp folders.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "support/host_ipc.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kBaseline = std::string(IPCG_BINARY_DIR) + "/host_state_baseline.txt";

// Each name of dir that starts with prefix, as "<tag> <dir>/<name>".
std::set<std::string> entries(const std::string& dir, const std::string& prefix, const std::string& tag) {
  std::set<std::string> out;
  for (const auto& name : ipcg::testing::dir_entries(dir, prefix)) out.insert(tag + " " + dir + "/" + name);
  return out;
}

std::set<std::string> sandbox_processes() {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(e.path() / "status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("Uid:", 0) != 0) continue;
      const long uid = std::stol(line.substr(4));
      if (uid >= 61000 && uid < 63000) out.insert("process " + name + " of uid " + std::to_string(uid));
      break;
    }
  }
  return out;
}

void find_cgroups(const fs::path& dir, int depth, std::set<std::string>& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
    const std::string name = e.path().filename().string();
    if (name.rfind("ipcgrade-", 0) == 0) out.insert("cgroup " + e.path().string());
    else if (depth > 0) find_cgroups(e.path(), depth - 1, out);
  }
}

std::set<std::string> host_state() {
  std::set<std::string> all;
  for (const auto& id : ipcg::testing::sysv_objects()) all.insert("sysv " + id);
  for (const auto& name : ipcg::testing::posix_queues()) all.insert("mqueue /dev/mqueue/" + name);
  all.merge(entries("/dev/shm", "", "shm"));
  all.merge(sandbox_processes());
  std::set<std::string> cgroups;
  find_cgroups("/sys/fs/cgroup", 4, cgroups);
  all.merge(cgroups);
  const char* tmpdir = std::getenv("TMPDIR");
  all.merge(entries(tmpdir && *tmpdir ? tmpdir : "/tmp", "ipcgrade-", "folder"));
  all.merge(entries("/tmp", "ipcgrade-", "folder"));
  all.merge(entries("/var/tmp", "ipcgrade-", "folder"));
  return all;
}

TEST(HostState, Record) {
  std::ofstream out(kBaseline);
  for (const auto& item : host_state()) out << item << '\n';
  ASSERT_TRUE(out.good()) << "cannot write " << kBaseline;
}

TEST(HostState, NothingLeft) {
  std::ifstream in(kBaseline);
  if (!in) GTEST_SKIP() << "no baseline (run through ctest: the host_state fixture records it first)";
  std::set<std::string> before;
  for (std::string line; std::getline(in, line);) before.insert(line);
  std::string left;
  for (const auto& item : host_state())
    if (!before.count(item) && item.find("/tmp/ipcgrade-slots") == std::string::npos) left += "  " + item + "\n";
  EXPECT_TRUE(left.empty()) << "the suite left on the host:\n" << left;
}

}  // namespace
