// The grader's side of a spawn: clone the keeper, learn whether exec worked, hold pidfds of the
// keeper and the target, and tear the tree down (pid namespace kill, or a sweep of the keeper's
// descendants in reduced mode).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>

#include "sandbox_internal.hpp"

namespace ipcg {

struct SandboxedProcess::Impl {
  bool namespaces = false;
  std::string program;  // argv[0], for messages
  pid_t keeper = -1;
  UniqueFd keeper_pidfd;
  bool keeper_reaped = false;
  UniqueFd control;  // the grader's end of the control socket
  pid_t target = -1;
  UniqueFd target_pidfd;
  std::optional<int> status;
  // Reduced mode: every process seen in the tree (pid -> start time), to find one again if the
  // keeper was killed and it re-parented to the grader (a subreaper too).
  mutable std::map<pid_t, std::uint64_t> seen;
  // Reduced mode as root: the tree runs as a slot uid nobody else uses, so a kill(-1) made as
  // that uid reaches every process of it, seen or not (a fork bomb outruns any listing).
  std::optional<uid_t> slot_uid;
  bool oom_killed = false;
  std::vector<std::string> leaks;
};

namespace internal {
namespace {

constexpr int kStartTimeoutMs = 10000;

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

// Reads keeper messages until the target's status is known or none arrives within timeout.
void read_messages(SandboxedProcess::Impl& p, int timeout_ms) {
  while (!p.status && p.control && readable(p.control.get(), timeout_ms)) {
    KeeperMessage msg;
    const ssize_t n = ::recv(p.control.get(), &msg, sizeof msg, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n != static_cast<ssize_t>(sizeof msg)) return;  // EOF: the keeper is gone
    if (msg.kind == KeeperMessage::exited) p.status = msg.value;
  }
}

std::optional<std::string> read_small_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// The value of "Key:" in /proc/PID/status, whitespace-separated fields.
std::vector<std::string> status_field(pid_t pid, std::string_view key) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/status");
  std::vector<std::string> fields;
  if (!text) return fields;
  const std::string needle = "\n" + std::string(key) + ":";
  const size_t at = ("\n" + *text).find(needle);
  if (at == std::string::npos) return fields;
  size_t pos = at + needle.size() - 1;
  const size_t end = text->find('\n', pos);
  std::string line = text->substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i) fields.push_back(line.substr(i, j - i));
    i = j;
  }
  return fields;
}

// --- starting --------------------------------------------------------------------------------

std::vector<int> keeper_keep(const ChildPlan& plan) {
  std::vector<int> keep = {plan.control_fd, plan.report_fd};
  for (const FdMapping& m : plan.fds) keep.push_back(m.parent_fd);
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  return keep;
}

// EOF on the report pipe: the keeper closed its copy after forking and the target's copy closed
// on exec. A record instead names the step that failed.
Result<void> await_exec(int report_fd, const ChildPlan& plan, const std::string& program) {
  if (!readable(report_fd, kStartTimeoutMs))
    return fail(Errc::system, "spawn " + program + ": the sandbox did not start within 10 s");
  StepFailure failure;
  ssize_t n;
  while ((n = ::read(report_fd, &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (n == 0) return {};
  if (n != static_cast<ssize_t>(sizeof failure))
    return fail(Errc::internal, "spawn " + program + ": short report from the sandbox");
  const auto step = static_cast<Step>(failure.step);
  std::string what = step == Step::exec ? "exec " + program
                                        : "sandbox setup failed at '" + std::string(to_string(step)) + "'";
  if (failure.detail >= 0 && static_cast<size_t>(failure.detail) < plan.mounts.size())
    what += std::string(" (") + plan.mounts[static_cast<size_t>(failure.detail)].target + ")";
  return fail(Errc::system, "spawn " + program + ": " + what + ": " + std::strerror(failure.error));
}

// The last NSpid value is the pid as the keeper's namespace sees it.
Result<pid_t> host_pid_of(const SandboxedProcess::Impl& p, pid_t inner_pid) {
  if (!p.namespaces) return inner_pid;
  for (pid_t child : proc_children(p.keeper)) {
    const auto nspid = status_field(child, "NSpid");
    if (!nspid.empty() && nspid.back() == std::to_string(inner_pid)) return child;
  }
  return fail(Errc::internal, "spawn " + p.program + ": target pid " + std::to_string(inner_pid) +
                                  " not found among the keeper's children");
}

Result<void> attach_target(SandboxedProcess::Impl& p) {
  KeeperMessage msg;
  ssize_t n = -1;
  while (readable(p.control.get(), kStartTimeoutMs) &&
         (n = ::recv(p.control.get(), &msg, sizeof msg, 0)) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof msg) || msg.kind != KeeperMessage::forked)
    return fail(Errc::internal, "spawn " + p.program + ": the keeper did not report the fork");
  IPCG_TRY(p.target, host_pid_of(p, msg.value));
  // The keeper reaps nothing before our ack, so this pid is still the target (maybe a zombie).
  p.target_pidfd = UniqueFd(pidfd_open(p.target));
  if (!p.target_pidfd) return sys_fail("pidfd_open of the target");
  if (::send(p.control.get(), &kAck, 1, MSG_NOSIGNAL) != 1) return sys_fail("ack to the keeper");
  return {};
}

// --- the tree --------------------------------------------------------------------------------

// Descendants of the keeper, without the keeper's own zombies (it reaps them in a moment; the
// target after its exit is one of them).
std::vector<ProcStat> tree_of(pid_t keeper) {
  std::vector<ProcStat> out;
  std::vector<pid_t> queue = proc_children(keeper);
  for (size_t i = 0; i < queue.size(); ++i) {
    const auto stat = read_proc_stat(queue[i]);
    if (!stat || (stat->state == 'Z' && stat->ppid == keeper)) continue;
    out.push_back(*stat);
    for (pid_t child : proc_children(queue[i])) queue.push_back(child);
  }
  return out;
}

// SIGKILL through a pidfd, after checking the pid still names the process we listed: between
// the listing and the kill it may have been reaped and the pid reused.
void kill_verified(const ProcStat& listed) {
  UniqueFd fd(pidfd_open(listed.pid));
  if (!fd) return;
  const auto now = read_proc_stat(listed.pid);
  if (now && now->start_time == listed.start_time) pidfd_kill(fd.get());
}

// Backstop for reduced mode: if the keeper was killed (a student process of the same uid can),
// what it had adopted re-parented to the grader, a subreaper too.
void sweep_orphans(SandboxedProcess::Impl& p) {
  for (const auto& [pid, start] : p.seen) {
    const auto stat = read_proc_stat(pid);
    if (!stat || stat->start_time != start || stat->ppid != ::getpid()) continue;
    kill_verified(*stat);
    ::waitpid(pid, nullptr, 0);
  }
  p.seen.clear();
}

// kill(-1) from a child that took the slot uid: the kernel signals every process of that uid
// under the tasklist lock, so none can fork past it; a process with SIGKILL pending cannot
// finish a fork either. Twice, for a fork that was already past that check.
void kill_slot_uid(uid_t uid) {
  for (int round = 0; round < 2; ++round) {
    const pid_t killer = ::fork();
    if (killer == 0) {
      // Raw syscalls: the child of a threaded grader must not run glibc's all-threads setxid.
      if (::syscall(SYS_setresgid, uid, uid, uid) == 0 && ::syscall(SYS_setresuid, uid, uid, uid) == 0)
        ::kill(-1, SIGKILL);
      ::_exit(0);
    }
    if (killer < 0) return;
    while (::waitpid(killer, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

void reap_keeper(SandboxedProcess::Impl& p, int timeout_ms) {
  if (!readable(p.keeper_pidfd.get(), timeout_ms))
    pidfd_kill(p.keeper_pidfd.get());
  while (::waitpid(p.keeper, nullptr, 0) < 0 && errno == EINTR) {
  }
  p.keeper_reaped = true;
}

void kill_tree(SandboxedProcess::Impl& p) {
  if (p.keeper_reaped || p.keeper < 0) return;
  read_messages(p, 0);  // keep a status that already arrived
  if (p.namespaces) {
    // pid 1 dies, and the kernel kills and reaps everything else in the namespace before
    // the keeper can be waited for.
    pidfd_kill(p.keeper_pidfd.get());
    reap_keeper(p, -1);
    return;
  }
  p.control.reset();  // the keeper kills and reaps its descendants, then exits
  reap_keeper(p, 5000);
  if (p.slot_uid) kill_slot_uid(*p.slot_uid);
  sweep_orphans(p);
}

}  // namespace

Result<SandboxedProcess> launch(ChildPlan& plan) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return sys_fail("socketpair");
  UniqueFd grader_end(sv[0]), keeper_end(sv[1]);
  IPCG_TRY(PipePair report, make_pipe());
  plan.control_fd = keeper_end.get();
  plan.report_fd = report.write_end.get();
  plan.grader_pid = ::getpid();
  plan.keeper_keep = keeper_keep(plan);
  const unsigned long flags =
      plan.namespaces ? CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWUTS : 0;
  int pidfd = -1;
  const pid_t keeper = raw_clone(flags, &pidfd);
  if (keeper < 0) return sys_fail("clone the sandbox keeper");
  if (keeper == 0) keeper_main(plan);

  auto impl = std::make_unique<SandboxedProcess::Impl>();
  SandboxedProcess::Impl& p = *impl;
  p.namespaces = plan.namespaces;
  if (plan.change_ids && ::geteuid() == 0 && plan.uid != 0) p.slot_uid = plan.uid;
  p.program = plan.argv.empty() || !plan.argv[0] ? "" : plan.argv[0];
  p.keeper = keeper;
  p.keeper_pidfd = UniqueFd(pidfd);
  p.control = std::move(grader_end);
  SandboxedProcess proc(std::move(impl));  // from here on, an error kills and reaps the keeper
  keeper_end.reset();
  report.write_end.reset();
  IPCG_CHECK(await_exec(report.read_end.get(), plan, p.program));
  IPCG_CHECK(attach_target(p));
  return proc;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  ProcStat s;
  s.pid = pid;
  std::vector<std::string_view> fields;
  std::string_view rest(*text);
  rest.remove_prefix(close + 1);
  for (size_t i = 0; i < rest.size();) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = rest.find(' ', i);
    if (j == std::string_view::npos) j = rest.size();
    if (j > i) fields.push_back(rest.substr(i, j - i));
    i = j;
  }
  if (fields.size() < 20) return std::nullopt;  // state is field 3 of stat, starttime field 22
  s.state = fields[0].empty() ? '?' : fields[0][0];
  s.ppid = static_cast<pid_t>(std::stol(std::string(fields[1])));
  s.start_time = std::stoull(std::string(fields[19]));
  return s;
}

std::vector<pid_t> proc_children(pid_t pid) {
  std::vector<pid_t> out;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(task_dir.c_str());
  if (!dir) return out;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    auto text = read_small_file(task_dir + "/" + entry->d_name + "/children");
    if (!text) continue;
    for (size_t i = 0; i < text->size();) {
      size_t used = 0;
      try {
        out.push_back(static_cast<pid_t>(std::stol(text->substr(i), &used)));
      } catch (const std::exception&) {
        break;
      }
      i += used;
      while (i < text->size() && (*text)[i] == ' ') ++i;
    }
  }
  ::closedir(dir);
  return out;
}

int count_user_tasks(uid_t uid) {
  int count = 0;
  DIR* dir = ::opendir("/proc");
  if (!dir) return 0;
  while (dirent* entry = ::readdir(dir)) {
    if (!std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) continue;
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    const auto uids = status_field(pid, "Uid");
    if (uids.empty() || uids[0] != std::to_string(uid)) continue;
    const auto threads = status_field(pid, "Threads");
    count += threads.empty() ? 1 : std::atoi(threads[0].c_str());
  }
  ::closedir(dir);
  return count;
}

}  // namespace internal

SandboxedProcess::SandboxedProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SandboxedProcess::SandboxedProcess(SandboxedProcess&&) noexcept = default;
SandboxedProcess& SandboxedProcess::operator=(SandboxedProcess&& other) noexcept {
  if (this != &other) {
    kill_tree();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
SandboxedProcess::~SandboxedProcess() { kill_tree(); }

pid_t SandboxedProcess::pid() const { return impl_ ? impl_->target : -1; }
int SandboxedProcess::exit_fd() const { return impl_ ? impl_->target_pidfd.get() : -1; }

std::optional<int> SandboxedProcess::wait_status() {
  if (!impl_) return std::nullopt;
  if (impl_->status || !impl_->target_pidfd) return impl_->status;
  if (!internal::readable(impl_->target_pidfd.get(), 0)) return std::nullopt;  // still running
  // The keeper reaps the target and sends its status right after the pidfd fires.
  internal::read_messages(*impl_, 5000);
  return impl_->status;
}

std::vector<pid_t> SandboxedProcess::processes() const {
  std::vector<pid_t> pids;
  if (!impl_ || impl_->keeper_reaped || impl_->keeper < 0) return pids;
  for (const internal::ProcStat& s : internal::tree_of(impl_->keeper)) {
    pids.push_back(s.pid);
    if (!impl_->namespaces) impl_->seen[s.pid] = s.start_time;
  }
  return pids;
}

bool SandboxedProcess::oom_killed() const { return impl_ && impl_->oom_killed; }

const std::vector<std::string>& SandboxedProcess::leaks() const {
  static const std::vector<std::string> none;
  return impl_ ? impl_->leaks : none;
}

void SandboxedProcess::kill_tree() {
  if (impl_) internal::kill_tree(*impl_);
}

}  // namespace ipcg
