#include "similarity/tool_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "harness/core/unique_fd.hpp"

namespace ipcg::similarity {
namespace {

using Clock = std::chrono::steady_clock;

// Owns a started child: killed and reaped unless it was waited for.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait();
  }
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

struct Pipe {
  UniqueFd read_end, write_end;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_fail("pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<pid_t> spawn(const ToolRun& run, const Pipe& out, const Pipe& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out.write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write_end.get(), 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!run.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, run.cwd.c_str());
  std::vector<char*> argv;
  std::vector<std::string> args = run.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char lc_all[] = "LC_ALL=C";
  char* envp[] = {lc_all, nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args.at(0).c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(Errc::io, "cannot run " + run.argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Reads both pipes until both close, the deadline passes or stdout outgrows its cap.
struct Drained {
  std::string out, err;
  bool timed_out = false, over_cap = false;
};

Drained drain(UniqueFd out, UniqueFd err, const ToolRun& run) {
  Drained d;
  const auto deadline = Clock::now() + run.time_limit;
  UniqueFd* fds[2] = {&out, &err};
  std::string* texts[2] = {&d.out, &d.err};
  char buf[65536];
  while (out || err) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      d.timed_out = true;
      return d;
    }
    pollfd polled[2];
    nfds_t n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i)
      if (*fds[i]) {
        polled[n] = {fds[i]->get(), POLLIN, 0};
        which[n++] = i;
      }
    const int ready = ::poll(polled, n, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) return d;
    for (nfds_t k = 0; ready > 0 && k < n; ++k) {
      if (!polled[k].revents) continue;
      const int i = which[k];
      const ssize_t got = ::read(fds[i]->get(), buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        *fds[i] = UniqueFd();
        continue;
      }
      const std::size_t cap = i == 0 ? run.output_cap : 4096;
      const std::size_t room = cap - std::min(cap, texts[i]->size());
      texts[i]->append(buf, std::min(room, static_cast<std::size_t>(got)));
      if (i == 0 && static_cast<std::size_t>(got) > room) {
        d.over_cap = true;
        return d;
      }
    }
  }
  return d;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

Result<std::string> run_tool(const ToolRun& run) {
  if (run.argv.empty()) return fail(Errc::internal, "run_tool: no program");
  IPCG_TRY(Pipe out, make_pipe());
  IPCG_TRY(Pipe err, make_pipe());
  IPCG_TRY(pid_t pid, spawn(run, out, err));
  Child child(pid);
  out.write_end = UniqueFd();
  err.write_end = UniqueFd();
  Drained d = drain(std::move(out.read_end), std::move(err.read_end), run);
  const std::string& tool = run.argv[0];
  if (d.timed_out)
    return fail(Errc::io, tool + " did not finish within " + std::to_string(run.time_limit.count() / 1000.0) +
                              " s (killed)");
  if (d.over_cap)
    return fail(Errc::io, tool + " printed more than " + std::to_string(run.output_cap) + " bytes (killed)");
  const int status = child.wait();
  if (WIFSIGNALED(status))
    return fail(Errc::io, tool + " was killed by signal " + std::to_string(WTERMSIG(status)) + ": " + first_line(d.err));
  if (WEXITSTATUS(status) != 0)
    return fail(Errc::io, tool + " exited with status " + std::to_string(WEXITSTATUS(status)) + ": " + first_line(d.err));
  return std::move(d.out);
}

std::filesystem::path find_program(const std::string& name, const std::string& path_env) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  std::stringstream dirs(path_env);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace ipcg::similarity
