// The suite's last word on the host: ctest runs HostState.Record before every other test and
// HostState.NothingLeft after all of them (fixture host_state, tests/CMakeLists.txt). Whatever a
// grader, a sandbox or a hostile submission left on the host shows up here: processes of the
// sandbox uids, ipcgrade-* cgroups, SysV objects, POSIX queues, /dev/shm entries, temp folders.
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const std::string kBaseline = std::string(IPCG_BINARY_DIR) + "/host_state_baseline.txt";

std::set<std::string> entries(const std::string& dir, const std::string& prefix, const std::string& tag) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.insert(tag + " " + e.path().string());
  }
  return out;
}

std::set<std::string> sysv_objects() {
  std::set<std::string> out;
  for (const std::string kind : {"msg", "sem", "shm"}) {
    std::ifstream in("/proc/sysvipc/" + kind);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string key, id;
      f >> key >> id;
      out.insert("sysv-" + kind + " key " + key + " id " + id);
    }
  }
  return out;
}

// POSIX queues live in the kernel whether or not the host mounts mqueue: look through a
// private mount (root) when /dev/mqueue is not one.
std::set<std::string> posix_queues() {
  std::set<std::string> out = entries("/dev/mqueue", "", "mqueue");
  if (!out.empty() || ::geteuid() != 0) return out;
  char dir[] = "/tmp/ipcg-hostclean-XXXXXX";
  if (!::mkdtemp(dir)) return out;
  int fds[2];
  if (::pipe(fds) != 0) return out;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("mqueue", dir, "mqueue", 0, nullptr) != 0)
      ::_exit(1);
    std::string names;
    for (const auto& e : fs::directory_iterator(dir)) names += e.path().filename().string() + "\n";
    if (::write(fds[1], names.data(), names.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  ::rmdir(dir);
  std::istringstream lines(text);
  for (std::string name; std::getline(lines, name);) out.insert("mqueue /dev/mqueue/" + name);
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
  std::set<std::string> all = sysv_objects();
  all.merge(posix_queues());
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
