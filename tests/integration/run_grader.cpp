#include "run_grader.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace ipcg::testing {
namespace {

void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) (i == 0 ? out : err).append(buf, static_cast<size_t>(r));
      if (r == 0) { ::close(fds[i].fd); fds[i].fd = -1; --open; }
    }
  }
}

bool write_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) ::close(fd);
  return ok;
}

// In the forked child, as root: the rest runs in a grandchild in a new user namespace that maps
// the host's ids 0..65534 as they are (written from here, where root may map any range), with no
// user namespace allowed inside it. Returns in the grandchild; this child exits with its status.
bool forbid_user_namespaces() {
  int ready[2], mapped[2];
  if (::pipe(ready) != 0 || ::pipe(mapped) != 0) return false;
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  char byte = 0;
  if (pid == 0) {
    const bool unshared = ::unshare(CLONE_NEWUSER) == 0;
    if (::write(ready[1], &byte, unshared ? 1 : 0) < 0 || !unshared || ::read(mapped[0], &byte, 1) != 1) return false;
    return write_text("/proc/sys/user/max_user_namespaces", "0");
  }
  const std::string proc = "/proc/" + std::to_string(pid);
  if (::read(ready[0], &byte, 1) == 1 && write_text(proc + "/uid_map", "0 0 65535\n") &&
      write_text(proc + "/gid_map", "0 0 65535\n"))
    (void)!::write(mapped[1], &byte, 1);
  ::close(mapped[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

}  // namespace

GraderRun run_grader(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                     const std::string& grader, RunAs as) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> argv, envp;
  std::vector<std::string> full_args{grader};
  full_args.insert(full_args.end(), args.begin(), args.end());
  for (auto& a : full_args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (as.user_namespaces_forbidden && !forbid_user_namespaces()) ::_exit(125);
    if (as.uid >= 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(as.uid, as.uid, as.uid) != 0 ||
                        ::setresuid(as.uid, as.uid, as.uid) != 0))
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  GraderRun run;
  drain(out[0], err[0], run.out, run.err);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::vector<pid_t> leftover_children() {
  std::vector<pid_t> pids;
  const pid_t self = ::getpid();
  DIR* dir = ::opendir("/proc");
  while (dirent* e = ::readdir(dir)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::string stat = read_file("/proc/" + std::string(e->d_name) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 2));
    char state;
    pid_t ppid;
    rest >> state >> ppid;
    if (ppid == self) pids.push_back(pid);
  }
  ::closedir(dir);
  return pids;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string make_lab1_class(const std::string& tag, const std::vector<std::string>& samples) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("ipcg-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "subs");
  fs::copy(kSource + "/reference/lab1-pipe", root / "subs" / "ref", fs::copy_options::recursive);
  for (const auto& s : samples)
    fs::copy(kSource + "/tests/submissions/lab1/" + s, root / "subs" / s, fs::copy_options::recursive);
  return root.string();
}

}  // namespace ipcg::testing
