#include "host_ipc.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ipcg::testing {

std::set<std::string> dir_entries(const std::string& dir, const std::string& prefix) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.insert(name);
  }
  return names;
}

std::set<std::string> sysv_objects() {
  std::set<std::string> ids;
  for (const char* kind : {"msg", "sem", "shm"}) {
    std::ifstream in(std::string("/proc/sysvipc/") + kind);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string key, id;
      if (fields >> key >> id) ids.insert(std::string(kind) + " key " + key + " id " + id);
    }
  }
  return ids;
}

std::set<std::string> posix_queues() {
  if (::access("/dev/mqueue", F_OK) == 0) return dir_entries("/dev/mqueue");
  std::set<std::string> names;
  if (::geteuid() != 0) return names;
  char dir[] = "/tmp/ipcg-test-mq-XXXXXX";
  if (!::mkdtemp(dir)) return names;
  int fds[2];
  if (::pipe(fds) != 0) {
    ::rmdir(dir);
    return names;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("mqueue", dir, "mqueue", 0, nullptr) != 0)
      ::_exit(1);
    std::string text;
    for (const auto& name : dir_entries(dir)) text += name + "\n";
    ::_exit(::write(fds[1], text.data(), text.size()) < 0 ? 2 : 0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  if (child > 0) ::waitpid(child, nullptr, 0);
  ::rmdir(dir);
  std::istringstream lines(text);
  for (std::string name; std::getline(lines, name);) names.insert(name);
  return names;
}

}  // namespace ipcg::testing
