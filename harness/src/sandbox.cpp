// The Sandbox: decides the isolation level, owns a slot uid and a work folder, and turns a
// SpawnSpec into the plan the cloned children follow (sandbox_child.cpp) before handing it to
// launch() (sandbox_process.cpp).
#include "harness/sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <set>

#include <fmt/format.h>

#include "cgroup.hpp"
#include "sandbox_internal.hpp"

namespace ipcg {
namespace internal {

constexpr int kMaxRemoveDepth = 256;

// The names in a folder, through a copy of its descriptor.
std::vector<std::string> list_names(int dir_fd) {
  std::vector<std::string> names;
  const int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (!dir) {
    if (copy >= 0) ::close(copy);
    return names;
  }
  while (dirent* entry = ::readdir(dir)) {
    const std::string_view n = entry->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(dir);
  return names;
}


// Removes name under dir_fd without following symlinks: a symlink or file is unlinked, a
// folder is opened O_NOFOLLOW|O_DIRECTORY and emptied through its descriptor.
void remove_entry(int dir_fd, const char* name, int depth) {
  if (::unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR || depth > kMaxRemoveDepth) return;
  UniqueFd path_fd(::openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!path_fd) return;
  // The sandboxed code may have left a folder unreadable or unwritable: make it ours to empty.
  const std::string magic = "/proc/self/fd/" + std::to_string(path_fd.get());
  ::chmod(magic.c_str(), 0700);
  UniqueFd fd(::openat(path_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) remove_children(fd.get(), depth + 1);
  ::unlinkat(dir_fd, name, AT_REMOVEDIR);
}

void remove_children(int dir_fd, int depth) {
  for (const std::string& name : list_names(dir_fd)) remove_entry(dir_fd, name.c_str(), depth);
}

}  // namespace internal

namespace {

using internal::list_names;
using internal::remove_children;

// One uid per concurrent sandbox (as isolate does), so RLIMIT_NPROC and kill rights are per box;
// its reference roles run as a second uid, kReferenceOffset above.
constexpr uid_t kSlotBase = 61000;
constexpr int kSlotCount = 1000;
constexpr uid_t kReferenceOffset = 1000;
constexpr const char* kBoxDir = "/tmp/box";
constexpr rlim_t kMsgqueueBytes = 819200;
constexpr rlim_t kStackBytes = 8 << 20;
constexpr const char* kReducedMeans = "no namespaces; isolation is rlimits, seccomp and process-group kill";
// ---- isolation -------------------------------------------------------------------------------

// 0 when a child can be cloned into new IPC, PID, mount, net and UTS namespaces, else errno.
// The answer does not change while we run: probe once.
int probe_namespaces() {
  static const int result = [] {
    const pid_t pid = internal::raw_clone(
        CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS, nullptr);
    if (pid < 0) return errno;
    if (pid == 0) ::_exit(0);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return 0;
  }();
  return result;
}

std::string refused_reason(int error) {
  const std::string why = error == EPERM ? "EPERM from clone: a container that forbids them"
                                         : std::string(std::strerror(error)) + " from clone";
  return "namespaces refused (" + why + "); " + kReducedMeans;
}

// ---- slots -----------------------------------------------------------------------------------

struct Slot {
  UniqueFd lock;  // flock held for the sandbox's lifetime
  uid_t uid = 0;  // student roles and builds
  gid_t gid = 0;
  uid_t reference_uid() const { return uid + kReferenceOffset; }
};

// A root-owned folder for the lock files, refusing a symlink or someone else's folder.
bool usable_lock_dir(const char* path, mode_t mode) {
  if (::mkdir(path, mode) != 0 && errno != EEXIST) return false;
  struct stat st {};
  return ::lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
         (st.st_mode & 022) == 0;
}

Result<std::string> lock_dir() {
  if (usable_lock_dir("/run/ipcgrade", 0755)) return std::string("/run/ipcgrade");
  if (usable_lock_dir("/tmp/ipcgrade-slots", 0700)) return std::string("/tmp/ipcgrade-slots");
  return fail(Errc::system, "no usable folder for sandbox slot locks (/run/ipcgrade, /tmp/ipcgrade-slots)");
}

// The first slot whose lock we get and whose uid runs nothing (a crashed grader's leftovers
// would count against RLIMIT_NPROC and could be signalled by the new tree).
Result<Slot> claim_slot() {
  IPCG_TRY(std::string dir, lock_dir());
  for (int n = 0; n < kSlotCount; ++n) {
    const std::string path = dir + "/slot-" + std::to_string(n) + ".lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return sys_fail("open " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    const uid_t uid = kSlotBase + static_cast<uid_t>(n);
    if (internal::count_user_tasks(uid) > 0 || internal::count_user_tasks(uid + kReferenceOffset) > 0) continue;
    return Slot{std::move(fd), uid, static_cast<gid_t>(uid)};
  }
  return fail(Errc::system, "all " + std::to_string(kSlotCount) + " sandbox slots are busy");
}

// ---- the work folder -------------------------------------------------------------------------

Result<std::filesystem::path> make_work_dir(const std::filesystem::path& requested) {
  std::filesystem::path parent = requested;
  if (parent.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    parent = tmpdir && *tmpdir ? tmpdir : "/tmp";
  }
  std::string templ = (parent / "ipcgrade-XXXXXX").string();
  if (!::mkdtemp(templ.data())) return sys_fail("mkdtemp in " + parent.string());
  // 0711: a slot uid may reach what it is given inside, but may not list or create here.
  if (::chmod(templ.c_str(), 0711) != 0) return sys_fail("chmod " + templ);
  return std::filesystem::path(templ);
}

bool valid_dir_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// ---- the plan --------------------------------------------------------------------------------

bool has_key(const std::vector<std::string>& env, std::string_view key) {
  return std::any_of(env.begin(), env.end(), [&](const std::string& kv) {
    return kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=';
  });
}

std::vector<std::string> clean_env(const std::vector<std::string>& given) {
  std::vector<std::string> env = given;
  if (!has_key(env, "PATH")) env.emplace_back("PATH=/usr/local/bin:/usr/bin:/bin");
  if (!has_key(env, "HOME")) env.emplace_back("HOME=/tmp");
  if (!has_key(env, "LANG")) env.emplace_back("LANG=C.UTF-8");
  return env;
}

// execve does no PATH search: a bare name is looked up here, in the child's PATH.
std::vector<std::string> exec_candidates(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return {program};
  std::string path;
  for (const std::string& kv : env)
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  std::vector<std::string> out;
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end > start ? path.substr(start, end - start) : ".";
    out.push_back(dir + "/" + program);
    start = end + 1;
  }
  return out;
}

// An unprivileged process cannot raise a hard limit: ask for at most what it has.
internal::ResourceLimit clamp(int resource, rlim_t soft, rlim_t hard, bool privileged) {
  rlimit now{};
  if (!privileged && ::getrlimit(resource, &now) == 0) {
    hard = std::min(hard, now.rlim_max);
    soft = std::min(soft, hard);
  }
  return {resource, soft, hard};
}

// Zero or negative limits mean "no limit". RLIMIT_NPROC counts every task of the real uid, so
// without a slot uid it is the user's current count plus the keeper plus the allowance.
std::vector<internal::ResourceLimit> resource_limits(const Limits& l, bool slot) {
  const bool root = ::geteuid() == 0;
  auto cap = [](auto v) { return v > 0 ? static_cast<rlim_t>(v) : RLIM_INFINITY; };
  const rlim_t cpu = cap(l.cpu_seconds);
  // The soft CPU limit sends SIGXCPU; the hard one, a second later, SIGKILL.
  const rlim_t cpu_hard = cpu == RLIM_INFINITY ? cpu : cpu + 1;
  rlim_t nproc = cap(l.processes);
  if (!slot && nproc != RLIM_INFINITY) nproc += internal::count_user_tasks(::getuid()) + 1;
  return {clamp(RLIMIT_CPU, cpu, cpu_hard, root),
          clamp(RLIMIT_AS, cap(l.address_space_bytes), cap(l.address_space_bytes), root),
          clamp(RLIMIT_NPROC, nproc, nproc, root),
          clamp(RLIMIT_FSIZE, cap(l.file_size_bytes), cap(l.file_size_bytes), root),
          clamp(RLIMIT_NOFILE, cap(l.open_files), cap(l.open_files), root),
          clamp(RLIMIT_CORE, 0, 0, root),
          // POSIX queue bytes per uid (the kernel's default, made explicit) and a fixed stack.
          clamp(RLIMIT_MSGQUEUE, kMsgqueueBytes, kMsgqueueBytes, root),
          clamp(RLIMIT_STACK, kStackBytes, kStackBytes, root)};
}

Result<void> validate(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return fail(Errc::usage, "spawn: empty argv");
  if (spec.fds.size() > internal::kMaxFdMappings)
    return fail(Errc::usage, "spawn: more than " + std::to_string(internal::kMaxFdMappings) + " fd mappings");
  std::set<int> targets;
  for (const FdMapping& m : spec.fds) {
    if (m.child_fd < 0 || !targets.insert(m.child_fd).second)
      return fail(Errc::usage, "spawn: child fd " + std::to_string(m.child_fd) + " mapped twice or negative");
    if (::fcntl(m.parent_fd, F_GETFD) < 0) return sys_fail("spawn: parent fd " + std::to_string(m.parent_fd));
  }
  return {};
}

// The spawn request the keeper unpacks (sandbox_child.cpp): a SpawnRequest, then cwd, argv,
// env and the exec candidates, NUL-terminated.
Result<std::vector<char>> encode(const internal::CellIdentity& id, const SpawnSpec& spec) {
  IPCG_CHECK(validate(spec));
  const std::vector<std::string> env = clean_env(spec.env);
  const std::vector<std::string> candidates = exec_candidates(spec.argv[0], env);
  const std::filesystem::path box_dir = id.box_dir;
  const std::string cwd = spec.cwd.empty() ? id.box_dir : (box_dir / spec.cwd).string();
  if (spec.argv.size() > internal::kMaxArgs || env.size() > internal::kMaxArgs ||
      candidates.size() >= internal::kMaxExecPaths)
    return fail(Errc::usage, "spawn: too many arguments, environment entries or PATH entries");

  internal::SpawnRequest req;
  const bool build = spec.role == Role::build || spec.role == Role::reference_build;
  req.filter = build ? internal::FilterIndex::build : internal::FilterIndex::lab;
  req.change_ids = id.change_ids;
  const bool reference = spec.role == Role::reference || spec.role == Role::reference_build;
  req.uid = reference ? id.reference_uid : id.student_uid;
  req.gid = reference ? id.reference_gid : id.student_gid;
  const auto limits = resource_limits(spec.limits, id.slot);
  req.n_limits = static_cast<std::int32_t>(std::min(limits.size(), internal::kMaxLimits));
  std::copy_n(limits.begin(), req.n_limits, req.limits);
  req.n_fds = static_cast<std::int32_t>(spec.fds.size());
  for (size_t i = 0; i < spec.fds.size(); ++i) req.child_fds[i] = spec.fds[i].child_fd;
  req.argc = static_cast<std::int32_t>(spec.argv.size());
  req.envc = static_cast<std::int32_t>(env.size());
  req.n_paths = static_cast<std::int32_t>(candidates.size());

  std::vector<char> bytes(sizeof req);
  auto put = [&](const std::string& s) { bytes.insert(bytes.end(), s.c_str(), s.c_str() + s.size() + 1); };
  put(cwd);
  for (const auto& a : spec.argv) put(a);
  for (const auto& e : env) put(e);
  for (const auto& c : candidates) put(c);
  if (bytes.size() > internal::kMaxRequestBytes)
    return fail(Errc::usage, "spawn: arguments and environment exceed " + std::to_string(internal::kMaxRequestBytes) + " bytes");
  req.strings_bytes = static_cast<std::int32_t>(bytes.size() - sizeof req);
  std::memcpy(bytes.data(), &req, sizeof req);
  return bytes;
}

std::once_flag g_subreaper_once;

}  // namespace

struct Sandbox::Impl {
  IsolationInfo isolation;
  std::optional<Slot> slot;  // root only
  std::optional<internal::RootPlan> root;  // full only
  std::filesystem::path host_dir;
  std::filesystem::path box_dir;
  UniqueFd work_fd;  // the host work folder, for *at() calls
  UniqueFd keeper_exe;   // ipcg-keeper, which every cell execs
  UniqueFd filter_file;  // the lab's and the compiler's filters, compiled once, read by every keeper

  // The next cell, prepared by a thread of its own while the current test runs: opening a cell
  // (namespaces, root, cgroups) then overlaps with the work instead of adding to it.
  struct Spare {
    std::mutex mu;
    std::condition_variable wake;
    std::optional<Limits> wanted;            // the limits of the last cell asked for
    std::shared_ptr<Cell::Core> ready;       // a cell made for `ready_limits`, unused
    Limits ready_limits;
    std::optional<Limits> building;          // the limits of the cell being made now
    bool stopping = false;
    std::thread maker;
  } spare;
  bool prepare_cells = true;

  bool full() const { return isolation.level == IsolationLevel::full; }

  // The slot's student and reference uids (root); empty when the box runs as the caller.
  std::vector<uid_t> role_uids() const {
    if (!slot) return {};
    return {slot->uid, slot->reference_uid()};
  }

  static bool same_limits(const Limits& a, const Limits& b) {
    return a.memory_bytes == b.memory_bytes && a.processes == b.processes;
  }

  // The keepers it makes die with this thread (PR_SET_PDEATHSIG): it lives as long as the Sandbox.
  void make_spares() {
    std::unique_lock lock(spare.mu);
    for (;;) {
      spare.wake.wait(lock, [&] { return spare.stopping || (spare.wanted && !spare.ready); });
      if (spare.stopping) return;
      const Limits limits = *spare.wanted;
      spare.building = limits;
      lock.unlock();
      auto made = start(limits);
      lock.lock();
      spare.building.reset();
      if (made) {
        spare.ready = std::move(*made);
        spare.ready_limits = limits;
      } else {
        spare.wanted.reset();  // the caller's own attempt will report the error
      }
      spare.wake.notify_all();
    }
  }

  Result<std::shared_ptr<Cell::Core>> take_cell(const Limits& limits) {
    if (!prepare_cells) return start(limits);
    {
      std::unique_lock lock(spare.mu);
      if (!spare.maker.joinable()) spare.maker = std::thread([this] { make_spares(); });
      // One cell in the making at a time: if it has our limits, wait for it rather than make a
      // second one beside it.
      spare.wake.wait(lock, [&] { return !spare.building || !same_limits(*spare.building, limits); });
      std::shared_ptr<Cell::Core> cell;
      if (spare.ready && same_limits(spare.ready_limits, limits)) cell = std::move(spare.ready);
      spare.ready.reset();  // a spare made for other limits is closed
      spare.wanted = limits;
      spare.wake.notify_all();
      if (cell) return cell;
    }
    return start(limits);
  }

  void stop_spares() {
    {
      std::lock_guard lock(spare.mu);
      spare.stopping = true;
      spare.ready.reset();
      spare.wake.notify_all();
    }
    if (spare.maker.joinable()) spare.maker.join();
    spare.ready.reset();
  }

  internal::CellIdentity identity() const {
    internal::CellIdentity id;
    id.box_dir = box_dir.string();
    id.slot = slot.has_value();
    if (slot) {
      id.change_ids = true;
      id.student_uid = slot->uid;
      id.student_gid = slot->gid;
      id.reference_uid = slot->reference_uid();
      id.reference_gid = static_cast<gid_t>(slot->reference_uid());
    }
    return id;
  }

  // A cgroup for the cell (root only), and in reduced mode the owners whose IPC objects it sweeps.
  Result<std::unique_ptr<internal::CellExtras>> extras(const Limits& limits, internal::KeeperPlan& plan) const {
    auto extras = std::make_unique<internal::CellExtras>();
    if (::geteuid() == 0) {
      const internal::CgroupLimits cg{limits.memory_bytes > 0 ? static_cast<std::uint64_t>(limits.memory_bytes) : 0,
                                      limits.processes > 0 ? 2 * static_cast<std::int64_t>(limits.processes) + 1 : 0};
      IPCG_TRY(internal::CgroupCreation made, internal::CellCgroup::create(internal::unique_cgroup_name(), cg));
      if (made.cgroup) {
        IPCG_TRY(std::vector<UniqueFd> procs, made.cgroup->open_procs_files());
        for (UniqueFd& fd : procs) plan.cgroup_procs.push_back(fd.release());
        extras->cgroup_note = "cgroups: " + fmt::format("{}", fmt::join(made.cgroup->paths(), ", "));
        extras->cgroup = std::move(made.cgroup);
      } else {
        extras->cgroup_note = "no cgroups: " + made.why_not;
      }
    }
    if (!full()) {
      const auto uids = role_uids();
      extras->owners = uids.empty() ? std::set<uid_t>{::getuid()} : std::set<uid_t>(uids.begin(), uids.end());
    }
    return extras;
  }

  Result<std::shared_ptr<Cell::Core>> start(const Limits& limits) const {
    internal::KeeperPlan plan;
    plan.namespaces = full();
    if (plan.namespaces) plan.mounts = root->steps();
    plan.keeper_exe_fd = keeper_exe.get();
    plan.filters_fd = filter_file.get();
    IPCG_TRY(auto extra, extras(limits, plan));
    // Reduced mode: every process of these uids dies with the cell.
    return internal::start_cell(plan, identity(), full() ? std::vector<uid_t>{} : role_uids(), std::move(extra));
  }

  ~Impl() {
    stop_spares();
    if (!work_fd) return;
    remove_children(work_fd.get(), 0);
    ::rmdir(host_dir.c_str());
  }
};

IsolationInfo detect_isolation(bool allow_namespaces) {
  IsolationInfo info;
  if (::geteuid() != 0) {
    info.setting = "unprivileged";
    info.reason = std::string("not running as root: ") + kReducedMeans;
    return info;
  }
  info.setting = "root";
  const char* forced = std::getenv("IPCGRADE_ISOLATION");
  if (forced && std::string_view(forced) == "reduced") {
    info.reason = std::string("reduced isolation requested (IPCGRADE_ISOLATION=reduced): ") + kReducedMeans;
    return info;
  }
  if (!allow_namespaces) {
    info.reason = std::string("reduced isolation requested (namespaces disabled): ") + kReducedMeans;
    return info;
  }
  if (const int error = probe_namespaces(); error != 0) {
    info.setting = "container without namespaces";
    info.reason = refused_reason(error);
    return info;
  }
  info.level = IsolationLevel::full;
  return info;
}

Result<Sandbox> Sandbox::create(const SandboxConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->isolation = detect_isolation(config.allow_namespaces);
  impl->prepare_cells = config.prepare_cells;
  IPCG_TRY(SeccompFilter lab_filter, SeccompFilter::compile(config.syscall_sets));
  IPCG_TRY(SeccompFilter build_filter, SeccompFilter::compile(config.build_syscall_sets));  // SpawnSpec::build
  IPCG_TRY(impl->keeper_exe, internal::open_keeper_executable());
  const SeccompFilter* const filters[internal::kFilterCount] = {&lab_filter, &build_filter};
  IPCG_TRY(impl->filter_file, internal::make_filter_file(filters));
  if (::geteuid() == 0) {
    IPCG_TRY(impl->slot, claim_slot());
    internal::sweep_dead_graders_cgroups();  // a grader killed outright leaves its cells' cgroups
  }
  IPCG_TRY(impl->host_dir, make_work_dir(config.work_parent));
  impl->work_fd = UniqueFd(::open(impl->host_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!impl->work_fd) return sys_fail("open " + impl->host_dir.string());
  impl->box_dir = impl->full() ? std::filesystem::path(kBoxDir) : impl->host_dir;
  if (impl->full()) {
    // The box's /etc, staged once per Sandbox in a root-owned folder of the work folder.
    const std::filesystem::path etc_dir = impl->host_dir / ".etc";
    IPCG_CHECK(internal::RootPlan::stage_etc(etc_dir));
    IPCG_TRY(impl->root, internal::RootPlan::build(impl->host_dir, etc_dir, config.readonly_paths));
  }
  // Backstop: if a keeper dies early, its orphans come to the grader rather than to init.
  if (!impl->full()) std::call_once(g_subreaper_once, [] { ::prctl(PR_SET_CHILD_SUBREAPER, 1); });
  return Sandbox(std::move(impl));
}

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::Sandbox(Sandbox&&) noexcept = default;
Sandbox& Sandbox::operator=(Sandbox&&) noexcept = default;
Sandbox::~Sandbox() = default;

const IsolationInfo& Sandbox::isolation() const { return impl_->isolation; }
const std::filesystem::path& Sandbox::host_work_dir() const { return impl_->host_dir; }
const std::filesystem::path& Sandbox::box_work_dir() const { return impl_->box_dir; }

std::filesystem::path Sandbox::to_box(const std::filesystem::path& host_path) const {
  if (!impl_->full()) return host_path;
  const std::filesystem::path rel = host_path.lexically_normal().lexically_relative(impl_->host_dir);
  if (rel.empty() || *rel.begin() == "..") return host_path;
  return rel == "." ? impl_->box_dir : impl_->box_dir / rel;
}

namespace {
bool is_reference(Role role) { return role == Role::reference || role == Role::reference_build; }
}  // namespace

Result<std::filesystem::path> Sandbox::make_writable_dir(const std::string& name, Role owner) {
  if (!valid_dir_name(name)) return fail(Errc::usage, "make_writable_dir: bad folder name '" + name + "'");
  if (::mkdirat(impl_->work_fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
    return sys_fail("mkdir " + name + " in the work folder");
  UniqueFd fd(::openat(impl_->work_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail("open " + name + " in the work folder");
  if (impl_->slot) {
    const uid_t uid = is_reference(owner) ? impl_->slot->reference_uid() : impl_->slot->uid;
    if (::fchown(fd.get(), uid, static_cast<gid_t>(uid)) != 0) return sys_fail("chown " + name + " to the slot uid");
    if (::fchmod(fd.get(), 0700) != 0) return sys_fail("chmod " + name);
  } else if (::fchmod(fd.get(), 0755) != 0) {
    return sys_fail("chmod " + name);
  }
  return impl_->host_dir / name;
}

Result<void> Sandbox::seal_dir(const std::string& name, Role owner) {
  if (!valid_dir_name(name)) return fail(Errc::usage, "seal_dir: bad folder name '" + name + "'");
  UniqueFd fd(::openat(impl_->work_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail("open " + name + " in the work folder");
  const bool root = impl_->slot.has_value();
  const bool reference = is_reference(owner) && root;
  const gid_t gid = reference ? static_cast<gid_t>(impl_->slot->reference_uid()) : 0;
  // A reference program stays executable by anyone (a student's parent may exec the reference
  // child, as lab1's conversation tests do) but readable by none but the reference's group.
  const mode_t dir_mode = reference ? 0711 : 0755, program_mode = reference ? 0711 : 0755;
  const mode_t inner_dir_mode = reference ? 0750 : 0755, data_mode = reference ? 0640 : 0644;
  for (const std::string& entry : list_names(fd.get())) {
    struct stat st {};
    if (::fstatat(fd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    const bool dir = S_ISDIR(st.st_mode);
    if (!dir && !S_ISREG(st.st_mode)) {  // a symlink, FIFO or socket the build left: not ours to keep
      ::unlinkat(fd.get(), entry.c_str(), 0);
      continue;
    }
    UniqueFd item(::openat(fd.get(), entry.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!item) return sys_fail("open " + name + "/" + entry);
    if (root && ::fchown(item.get(), 0, gid) != 0) return sys_fail("chown " + name + "/" + entry);
    const mode_t mode = dir ? inner_dir_mode : (st.st_mode & 0111) ? program_mode : data_mode;
    if (::fchmod(item.get(), mode) != 0) return sys_fail("chmod " + name + "/" + entry);
  }
  if (root && ::fchown(fd.get(), 0, gid) != 0) return sys_fail("chown " + name);
  if (::fchmod(fd.get(), dir_mode) != 0) return sys_fail("chmod " + name);
  return {};
}

Result<Cell> Sandbox::open_cell(const CellOptions& options) {
  IPCG_TRY(auto core, impl_->take_cell(options.limits));
  return Cell(std::move(core));
}

namespace {
Result<SandboxedProcess> spawn_into(const std::shared_ptr<Cell::Core>& core, const SpawnSpec& spec, bool owns_cell) {
  IPCG_TRY(std::vector<char> request, encode(core->identity, spec));
  std::vector<int> fds;
  for (const FdMapping& m : spec.fds) fds.push_back(m.parent_fd);
  return internal::spawn_in(core, request, fds, spec.argv[0], owns_cell);
}
}  // namespace

Result<SandboxedProcess> Sandbox::spawn(const SpawnSpec& spec) {
  // A cell of its own, whose cgroup takes the process's limits.
  IPCG_TRY(auto core, impl_->start(spec.limits));
  return spawn_into(core, spec, true);
}

Result<SandboxedProcess> Cell::spawn(const SpawnSpec& spec) { return spawn_into(core_, spec, false); }

}  // namespace ipcg
