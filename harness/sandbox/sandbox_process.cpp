// A spawned process's handle: its pidfd, its pid on the host (for /proc) and in the cell (for the
// keeper's reports), and the tree walk that finds its descendants and orphans.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "harness/proc/proc_parse.hpp"
#include "sandbox_internal.hpp"

namespace ipcg {

struct SandboxedProcess::Impl {
  std::shared_ptr<Cell::Core> cell;
  bool owns_cell = false;  // Sandbox::spawn: the cell is this process's alone
  std::string program;     // argv[0], for messages
  pid_t cell_pid = -1;     // as the keeper sees it
  pid_t host_pid = -1;     // -1 if it had already been reaped when we asked
  UniqueFd pidfd;
  std::optional<int> status;
};

namespace internal {
namespace {

std::optional<std::string> read_small_file(const std::string& path) { return read_file_at(AT_FDCWD, path.c_str()); }

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

// The host pid a pidfd refers to: "Pid:" of its fdinfo, in the pid namespace of our /proc.
pid_t pid_of_pidfd(int pidfd) {
  auto text = read_small_file("/proc/self/fdinfo/" + std::to_string(pidfd));
  if (!text) return -1;
  const size_t at = text->find("\nPid:");
  if (at == std::string::npos) return -1;
  return static_cast<pid_t>(std::atol(text->c_str() + at + 5));
}

// The session id as the cell sees it (last NSsid value): a spawned process leads its session.
pid_t cell_session_of(pid_t host_pid) {
  const auto ns = status_field(host_pid, "NSsid");
  return ns.empty() ? -1 : static_cast<pid_t>(std::atol(ns.back().c_str()));
}

// Descendants of `roots` (included), skipping the keeper's zombies (it reaps them in a moment).
std::vector<ProcStat> subtrees(pid_t keeper, std::vector<pid_t> queue) {
  std::vector<ProcStat> out;
  for (size_t i = 0; i < queue.size(); ++i) {
    const auto stat = read_proc_stat(queue[i]);
    if (!stat || (stat->state == 'Z' && stat->ppid == keeper)) continue;
    out.push_back(*stat);
    for (pid_t child : proc_children(queue[i])) queue.push_back(child);
  }
  return out;
}

// The process's tree: in its own cell, everything under the keeper; in a shared cell, the
// keeper's children that are the process or orphans of its session, and their descendants.
std::vector<ProcStat> tree_of(const SandboxedProcess::Impl& p) {
  const Cell::Core& c = *p.cell;
  if (c.keeper_reaped || c.keeper < 0) return {};
  std::vector<pid_t> roots = proc_children(c.keeper);
  if (!p.owns_cell) {
    std::erase_if(roots, [&](pid_t pid) { return pid != p.host_pid && cell_session_of(pid) != p.cell_pid; });
  }
  return subtrees(c.keeper, std::move(roots));
}

}  // namespace

UniqueFd kill_verified(const ProcStat& listed) {
  UniqueFd fd(pidfd_open(listed.pid));
  if (!fd) return fd;
  const auto now = read_proc_stat(listed.pid);
  if (now && now->start_time == listed.start_time) pidfd_kill(fd.get());
  return fd;
}

SandboxedProcess make_process(const std::shared_ptr<Cell::Core>& core, pid_t cell_pid, UniqueFd pidfd,
                              const std::string& program, bool owns_cell) {
  auto impl = std::make_unique<SandboxedProcess::Impl>();
  impl->cell = core;
  impl->owns_cell = owns_cell;
  impl->program = program;
  impl->cell_pid = cell_pid;
  impl->host_pid = pid_of_pidfd(pidfd.get());
  impl->pidfd = std::move(pidfd);
  return SandboxedProcess(std::move(impl));
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  const auto f = proc_internal::parse_stat(*text);
  if (!f) return std::nullopt;
  return ProcStat{.pid = pid, .state = f->state, .ppid = f->ppid, .start_time = f->start_time};
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

pid_t SandboxedProcess::pid() const { return impl_ ? impl_->host_pid : -1; }
int SandboxedProcess::exit_fd() const { return impl_ ? impl_->pidfd.get() : -1; }

std::optional<int> SandboxedProcess::wait_status() {
  if (!impl_) return std::nullopt;
  if (impl_->status || !impl_->pidfd) return impl_->status;
  if (!internal::readable(impl_->pidfd.get(), 0)) return std::nullopt;  // still running
  // The keeper reaps it and sends its status right after the pidfd fires.
  Cell::Core& c = *impl_->cell;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!c.statuses.count(impl_->cell_pid) && std::chrono::steady_clock::now() < deadline &&
         c.pump(1000) != Cell::Core::Pump::gone) {
  }
  if (auto it = c.statuses.find(impl_->cell_pid); it != c.statuses.end()) {
    impl_->status = it->second;
    c.statuses.erase(it);
  }
  return impl_->status;
}

std::vector<pid_t> SandboxedProcess::processes() const {
  std::vector<pid_t> pids;
  if (!impl_) return pids;
  for (const internal::ProcStat& s : internal::tree_of(*impl_)) {
    pids.push_back(s.pid);
    if (!impl_->cell->namespaces) impl_->cell->seen[s.pid] = s.start_time;
  }
  return pids;
}

std::vector<pid_t> Cell::processes() const {
  std::vector<pid_t> pids;
  if (!core_ || core_->keeper_reaped || core_->keeper < 0) return pids;
  for (const internal::ProcStat& s : internal::subtrees(core_->keeper, internal::proc_children(core_->keeper))) {
    pids.push_back(s.pid);
    if (!core_->namespaces) core_->seen[s.pid] = s.start_time;
  }
  return pids;
}

void SandboxedProcess::kill_tree() {
  if (!impl_ || !impl_->cell) return;
  if (impl_->owns_cell) {
    impl_->cell->close();
  } else {
    // Layer by layer: a process forking while we list is caught in the next round.
    for (int round = 0; round < 50; ++round) {
      const auto tree = internal::tree_of(*impl_);
      if (tree.empty()) break;
      std::vector<UniqueFd> killed;
      for (const auto& s : tree) {
        if (!impl_->cell->namespaces) impl_->cell->seen[s.pid] = s.start_time;
        killed.push_back(internal::kill_verified(s));
      }
      for (const auto& fd : killed)
        if (fd) internal::readable(fd.get(), 1000);  // exited (the keeper reaps it)
    }
  }
  if (impl_->pidfd) internal::readable(impl_->pidfd.get(), 1000);
  wait_status();
}

}  // namespace ipcg
