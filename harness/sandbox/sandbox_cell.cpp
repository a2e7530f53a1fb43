// The grader's side of a cell: clone the keeper, send it spawn requests, file what it reports
// (exit statuses, leftovers, listings), list the IPC objects that exist in the cell while it
// runs, and close the cell: everything killed and checked gone, leftovers listed (and, in reduced
// mode, removed from the host), cgroups read and removed.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "cgroup.hpp"
#include "harness/core/ipc_names.hpp"
#include "leaks.hpp"
#include "sandbox_internal.hpp"

namespace ipcg {
namespace internal {


namespace {

constexpr int kStartTimeoutMs = 10000;

std::string failure_text(const StepFailure& f, const std::string& program, const KeeperPlan* plan) {
  const auto step = static_cast<Step>(f.step);
  std::string what = step == Step::exec ? "exec " + program
                                        : "sandbox setup failed at '" + std::string(to_string(step)) + "'";
  if (plan && f.detail >= 0 && static_cast<size_t>(f.detail) < plan->mounts.size())
    what += std::string(" (") + plan->mounts[static_cast<size_t>(f.detail)].target + ")";
  return what + ": " + std::strerror(f.error);
}

// EOF on the report pipe: the keeper is ready. A record instead names the step that failed.
Result<void> await_ready(int report_fd, const KeeperPlan& plan) {
  if (!readable(report_fd, kStartTimeoutMs)) return fail(Errc::system, "the sandbox cell did not start within 10 s");
  StepFailure failure;
  ssize_t n;
  while ((n = ::read(report_fd, &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (n == 0) return {};
  if (n != static_cast<ssize_t>(sizeof failure)) return fail(Errc::internal, "short report from the sandbox keeper");
  return fail(Errc::system, "start the sandbox cell: " + failure_text(failure, "", &plan));
}

std::vector<int> keeper_keep(const KeeperPlan& plan) {
  std::vector<int> keep = {plan.control_fd, plan.report_fd, plan.filters_fd, plan.keeper_exe_fd};
  if (plan.map_ready_fd >= 0) keep.insert(keep.end(), {plan.map_ready_fd, plan.map_go_fd});
  keep.insert(keep.end(), plan.cgroup_procs.begin(), plan.cgroup_procs.end());
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  return keep;
}

// kill(-1) from a child that took a slot uid: the kernel signals every process of that uid
// under the tasklist lock, so none can fork past it; a process with SIGKILL pending cannot
// finish a fork either. One child for all the uids: it keeps root as its saved uid to switch
// between them, which gives it no right to signal anyone else (kill checks the real and
// effective uids, and effective capabilities are dropped while the effective uid is not 0).
// Its exit code says which uids still had processes; those get a second round, for a fork that
// was already past the check.
struct KillAsUids {
  const uid_t* uids;
  size_t count;
};

// Raw syscalls only: the child shares the grader's memory (clone_vfork).
int kill_as_uids(void* arg) {
  const auto& k = *static_cast<const KillAsUids*>(arg);
  int found = 0;
  for (size_t i = 0; i < k.count && i < 8; ++i) {
    if (::syscall(SYS_setresuid, k.uids[i], k.uids[i], 0) != 0) ::_exit(255);
    if (::syscall(SYS_kill, -1, SIGKILL) == 0) found |= 1 << i;
    if (::syscall(SYS_setresuid, 0, 0, 0) != 0) ::_exit(255);
  }
  ::_exit(found);
}

void kill_uids(const std::vector<uid_t>& uids) {
  std::vector<uid_t> pending = uids;
  for (int round = 0; round < 2 && !pending.empty(); ++round) {
    KillAsUids arg{pending.data(), pending.size()};
    const pid_t killer = clone_vfork(kill_as_uids, &arg, 0, nullptr);
    if (killer < 0) return;
    int status = 0;
    while (::waitpid(killer, &status, 0) < 0 && errno == EINTR) {
    }
    const int found = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    std::vector<uid_t> again;
    for (size_t i = 0; i < pending.size(); ++i)
      if (found & (1 << i)) again.push_back(pending[i]);
    pending = std::move(again);
  }
}

// Backstop for reduced mode: if the keeper was killed (a student process of the same uid can),
// what it had adopted re-parented to the grader, a subreaper too.
void sweep_orphans(std::map<pid_t, std::uint64_t>& seen) {
  for (const auto& [pid, start] : seen) {
    const auto stat = read_proc_stat(pid);
    if (!stat || stat->start_time != start || stat->ppid != ::getpid()) continue;
    kill_verified(*stat);
    ::waitpid(pid, nullptr, 0);
  }
  seen.clear();
}

// --- reduced mode: whose object is it? -------------------------------------------------------
// Reduced cells share the host's IPC objects, and cells of one Sandbox (or, unprivileged, of one
// user) share their owner too, so the owner alone does not say which cell made an object. The
// cells of this grader that are open now are kept here; an object belongs to another of them
// when its name carries that cell's IpcNames prefix, or when a process the kernel names for it
// (a SysV queue's last sender or receiver, a segment's creator or last user) descends from that
// cell's keeper (a subreaper: double-forked processes stay below it). Without such evidence the
// object is counted as the asking cell's (an object with a name of the student's own choosing is
// the same host object for every cell that uses that name).
struct LiveCell {
  std::string prefix;  // IpcNames(tag).prefix()
  pid_t keeper;        // not yet reaped while registered: the pid cannot be reused
};
std::mutex g_live_mutex;
std::map<const Cell::Core*, LiveCell> g_live_cells;

void register_live(const Cell::Core* core, LiveCell cell) {
  const std::lock_guard lock(g_live_mutex);
  g_live_cells[core] = std::move(cell);
}

void unregister_live(const Cell::Core* core) {
  const std::lock_guard lock(g_live_mutex);
  g_live_cells.erase(core);
}

std::map<const Cell::Core*, LiveCell> live_cells() {
  const std::lock_guard lock(g_live_mutex);
  return g_live_cells;
}

// The keeper among `keepers` that pid descends from (pid itself included), or 0.
pid_t keeper_above(pid_t pid, const std::map<pid_t, const Cell::Core*>& keepers) {
  for (int depth = 0; pid > 1 && depth < 64; ++depth) {
    if (keepers.count(pid)) return pid;
    const auto stat = read_proc_stat(pid);
    if (!stat) return 0;
    pid = stat->ppid;
  }
  return 0;
}

bool belongs_to_another_cell(const Leftover& l, const Cell::Core& self,
                             const std::map<const Cell::Core*, LiveCell>& live) {
  if (live.size() < 2) return false;
  if (l.sysv_id < 0) {  // a name: "/dev/mqueue/ipcg-4121-7-jobs", "/tmp/ipcg-4121-7-requests"
    const std::string base = l.text.substr(l.text.rfind('/') + 1);
    for (const auto& [core, cell] : live)
      if (base.rfind(cell.prefix, 0) == 0) return core != &self;
  }
  std::map<pid_t, const Cell::Core*> keepers;
  for (const auto& [core, cell] : live) keepers[cell.keeper] = core;
  bool other = false;
  for (pid_t pid : l.pids) {
    const pid_t keeper = keeper_above(pid, keepers);
    if (keeper == self.keeper) return false;
    other = other || keeper != 0;
  }
  return other;
}

// The host's objects of the cell's owners, as reduced mode attributes them to this cell.
std::vector<Leftover> reduced_objects(const Cell::Core& c, bool with_fifos, bool with_temp_files) {
  if (!c.extras) return {};
  auto objects = host_ipc_objects(c.extras->owners);
  if (with_temp_files)
    for (auto& f : host_temp_files(c.extras->owners)) objects.push_back(std::move(f));
  else if (with_fifos)
    for (auto& f : host_fifos(c.extras->owners)) objects.push_back(std::move(f));
  const auto live = live_cells();
  std::vector<Leftover> out;
  for (Leftover& l : objects)
    if (!c.extras->before.count(identity_of(l)) && !belongs_to_another_cell(l, c, live)) out.push_back(std::move(l));
  return out;
}

bool send_request(int control_fd, Request kind) {
  char bytes[sizeof kind];
  std::memcpy(bytes, &kind, sizeof kind);
  return ::send(control_fd, bytes, sizeof bytes, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof bytes);
}

// Full isolation: the keeper lists its namespaces' objects (Request::list) and kills nothing.
Result<std::vector<Leftover>> list_through_keeper(Cell::Core& c) {
  c.listing.clear();
  c.listing_done = false;
  if (!send_request(c.control.get(), Request::list)) return sys_fail("list the cell's IPC objects: send to the keeper");
  while (!c.listing_done) {
    const auto got = c.pump(kStartTimeoutMs);
    if (got == Cell::Core::Pump::timeout) return fail(Errc::system, "list the cell's IPC objects: no answer within 10 s");
    if (got == Cell::Core::Pump::gone) return fail(Errc::system, "list the cell's IPC objects: the sandbox keeper died");
  }
  std::vector<Leftover> out;
  for (const KeeperMessage& msg : c.listing) {
    const auto kind = static_cast<LeftoverKind>(msg.status);
    Leftover l = parse_leftover(kind, msg.text, msg.uid);
    if (kind == LeftoverKind::posix_mq) l.messages = msg.messages;
    out.push_back(std::move(l));
  }
  c.listing.clear();
  return out;
}

void reap_keeper(Cell::Core& c, int timeout_ms) {
  if (c.keeper_reaped || c.keeper < 0) return;
  if (!readable(c.keeper_pidfd.get(), timeout_ms)) pidfd_kill(c.keeper_pidfd.get());
  while (::waitpid(c.keeper, nullptr, 0) < 0 && errno == EINTR) {
  }
  c.keeper_reaped = true;
}

}  // namespace

Result<std::shared_ptr<Cell::Core>> start_cell(KeeperPlan& plan, CellIdentity identity, std::vector<uid_t> slot_uids,
                                               std::unique_ptr<CellExtras> extras, const RoleIdMap* parent_maps) {
  std::unique_ptr<ParentMapping> mapping;
  if (parent_maps) {
    IPCG_TRY(mapping, ParentMapping::start(*parent_maps));
    plan.map_ready_fd = mapping->child_ready_fd();
    plan.map_go_fd = mapping->child_go_fd();
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return sys_fail("socketpair");
  UniqueFd grader_end(sv[0]), keeper_end(sv[1]);
  IPCG_TRY(PipePair report, make_pipe());
  plan.control_fd = keeper_end.get();
  plan.report_fd = report.write_end.get();
  plan.grader_pid = ::getpid();
  plan.keeper_keep = keeper_keep(plan);
  // The keeper's command line (keeper_protocol.hpp), built here: the child may not allocate.
  std::vector<std::string> args = {kKeeperName, std::to_string(plan.control_fd), std::to_string(plan.report_fd),
                                   std::to_string(plan.filters_fd), plan.namespaces ? "full" : "reduced",
                                   std::to_string(plan.grader_pid)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  plan.keeper_argv = argv.data();
  const unsigned long flags =
      (plan.namespaces ? CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWUTS : 0) |
      (plan.user_namespace ? CLONE_NEWUSER : 0);
  // Unprivileged, the owner is this user: what existed before the cell is not the cell's (FIFOs
  // in /tmp for ipc_objects only: close sweeps no file of the user's).
  if (extras && !plan.namespaces && slot_uids.empty()) {
    for (const Leftover& l : host_ipc_objects(extras->owners)) extras->before.insert(identity_of(l));
    for (const Leftover& l : host_fifos(extras->owners)) extras->before.insert(identity_of(l));
  }
  int pidfd = -1;
  const pid_t keeper = clone_keeper(plan, flags, &pidfd);
  const int clone_error = errno;
  if (mapping) {
    if (auto mapped = mapping->finish(); !mapped && keeper > 0) {
      const UniqueFd child(pidfd);  // the child has given up (Step::map_ids) and exited
      int status = 0;
      ::waitpid(keeper, &status, 0);
      for (int fd : plan.cgroup_procs) ::close(fd);
      plan.cgroup_procs.clear();
      return fail(Errc::system, "map the cell's role ids: " + mapped.error().message);
    }
  }
  errno = clone_error;
  if (keeper < 0) return sys_fail("clone the sandbox keeper");

  // Threads of one grader (batch --jobs) share its pid: the serial tells their cells apart.
  static std::atomic<std::uint64_t> serial{0};
  auto core = std::make_shared<Cell::Core>();
  core->tag = std::to_string(::getpid()) + "-" + std::to_string(++serial);
  core->identity = std::move(identity);
  core->namespaces = plan.namespaces;
  core->keeper = keeper;
  core->keeper_pidfd = UniqueFd(pidfd);
  core->control = std::move(grader_end);
  core->slot_uids = std::move(slot_uids);
  core->extras = std::move(extras);
  if (!plan.namespaces) register_live(core.get(), {IpcNames(core->tag).prefix(), keeper});
  keeper_end.reset();
  report.write_end.reset();
  for (int fd : plan.cgroup_procs) ::close(fd);
  plan.cgroup_procs.clear();
  IPCG_CHECK(await_ready(report.read_end.get(), plan));  // on error, ~Core kills the keeper
  return core;
}

Result<SandboxedProcess> spawn_in(const std::shared_ptr<Cell::Core>& core, const std::vector<char>& request,
                                  const std::vector<int>& fds, const std::string& program, bool owns_cell) {
  Cell::Core& c = *core;
  if (c.report || c.keeper_reaped) return fail(Errc::internal, "spawn " + program + ": the cell is closed");
  iovec iov{const_cast<char*>(request.data()), request.size()};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    hdr.msg_control = control.data();
    hdr.msg_controllen = control.size();
    cmsghdr* cm = CMSG_FIRSTHDR(&hdr);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  while ((sent = ::sendmsg(c.control.get(), &hdr, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (sent != static_cast<ssize_t>(request.size())) return sys_fail("spawn " + program + ": send to the keeper");
  KeeperMessage answer;
  UniqueFd pidfd;
  for (;;) {
    const auto got = c.pump(kStartTimeoutMs, &answer, &pidfd);
    if (got == Cell::Core::Pump::timeout)
      return fail(Errc::system, "spawn " + program + ": the sandbox did not answer within 10 s");
    if (got == Cell::Core::Pump::gone) return fail(Errc::system, "spawn " + program + ": the sandbox keeper died");
    if (answer.kind == KeeperMessage::spawned) break;
  }
  if (answer.pid <= 0) return fail(Errc::system, "spawn " + program + ": " + failure_text(answer.failure, program, nullptr));
  if (!pidfd) return fail(Errc::internal, "spawn " + program + ": the keeper sent no pidfd");
  return make_process(core, answer.pid, std::move(pidfd), program, owns_cell);
}

}  // namespace internal

Cell::Core::Pump Cell::Core::pump(int timeout_ms, internal::KeeperMessage* spawned, UniqueFd* pidfd) {
  if (!control) return Pump::gone;
  if (!internal::readable(control.get(), timeout_ms)) return Pump::timeout;
  internal::KeeperMessage msg;
  iovec iov{&msg, sizeof msg};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  hdr.msg_control = cbuf;
  hdr.msg_controllen = sizeof cbuf;
  ssize_t n;
  while ((n = ::recvmsg(control.get(), &hdr, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0 && errno == EINTR) {
  }
  if (n < 0 && errno == EAGAIN) return Pump::message;  // woken for nothing: the caller loops
  if (n != static_cast<ssize_t>(sizeof msg)) {
    control.reset();  // EOF: the keeper is gone
    return Pump::gone;
  }
  UniqueFd received;
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    received = UniqueFd(fd);
  }
  switch (msg.kind) {
    case internal::KeeperMessage::exited: statuses[msg.pid] = msg.status; break;
    case internal::KeeperMessage::leftover: leftovers.push_back(msg); break;
    case internal::KeeperMessage::closed: closed_seen = true; break;
    case internal::KeeperMessage::listed: listing.push_back(msg); break;
    case internal::KeeperMessage::listed_end: listing_done = true; break;
    case internal::KeeperMessage::spawned:
      if (spawned) *spawned = msg;
      if (pidfd) *pidfd = std::move(received);
      break;
    default: break;
  }
  return Pump::message;
}

CellReport Cell::Core::close() {
  if (report) return *report;
  CellReport out;
  std::vector<internal::Leftover> found;
  if (control && !keeper_reaped) {
    // The keeper kills the cell's processes, reaps them, and (full) lists what they left.
    if (internal::send_request(control.get(), internal::Request::close)) {
      while (!closed_seen && pump(10000) == Pump::message) {
      }
    }
  }
  for (const auto& msg : leftovers)
    found.push_back(internal::parse_leftover(static_cast<internal::LeftoverKind>(msg.status), msg.text, msg.uid));
  if (namespaces) {
    internal::pidfd_kill(keeper_pidfd.get());  // pid 1 dies: the kernel kills the rest of the namespace
    internal::reap_keeper(*this, -1);
  } else {
    control.reset();  // the keeper sweeps its descendants once more, then exits
    internal::reap_keeper(*this, 5000);
    internal::kill_uids(slot_uids);
    internal::sweep_orphans(seen);
    // Files in the host's /tmp only as root: unprivileged, the owner is the user, whose other
    // programs write there too. What another open cell of this grader made is left to it.
    for (const internal::Leftover& l : internal::reduced_objects(*this, false, !slot_uids.empty())) {
      found.push_back(l);
      internal::remove_from_host(l);
    }
  }
  internal::unregister_live(this);
  control.reset();
  for (const auto& l : found) out.leftovers.push_back(internal::describe(l));
  if (extras && extras->cgroup) {
    out.oom_killed = extras->cgroup->oom_killed();
    out.memory_peak_bytes = extras->cgroup->memory_peak();
    extras->cgroup.reset();  // removes it (the processes are gone)
  }
  out.cgroup = extras ? extras->cgroup_note : "";
  report = out;
  return out;
}

Cell::Core::~Core() { close(); }

Cell::Cell(std::shared_ptr<Core> core) : core_(std::move(core)) {}
const std::string& Cell::tag() const { return core_->tag; }
Cell::Cell(Cell&&) noexcept = default;
Cell& Cell::operator=(Cell&& other) noexcept {
  if (this != &other) {
    if (core_) core_->close();
    core_ = std::move(other.core_);
  }
  return *this;
}
Cell::~Cell() {
  if (core_) core_->close();
}

CellReport Cell::close() { return core_ ? core_->close() : CellReport{}; }

Result<std::vector<IpcObject>> Cell::Core::ipc_objects() {
  if (report || keeper_reaped || !control) return fail(Errc::internal, "list the cell's IPC objects: the cell is closed");
  std::vector<internal::Leftover> found;
  if (namespaces) {
    IPCG_TRY(found, internal::list_through_keeper(*this));
  } else {
    found = internal::reduced_objects(*this, true, false);
    for (internal::Leftover& l : found)
      if (l.kind == internal::LeftoverKind::posix_mq) l.messages = internal::host_queue_messages(l);
  }
  std::vector<IpcObject> out;
  for (const internal::Leftover& l : found)
    if (auto o = internal::to_ipc_object(l)) out.push_back(std::move(*o));
  return out;
}

Result<std::vector<IpcObject>> Cell::ipc_objects() {
  if (!core_) return fail(Errc::internal, "list the cell's IPC objects: the cell was moved from");
  return core_->ipc_objects();
}

}  // namespace ipcg
