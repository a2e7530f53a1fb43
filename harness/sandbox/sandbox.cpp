// The Sandbox: holds what every cell of a run shares (isolation level, slot uids, work folder,
// the box's root plan, the keeper and the compiled filters) and makes cells from it. The parts
// live beside it: isolation.cpp, slots.cpp, work_dir.cpp, cell_preparer.cpp (cells made ahead),
// spawn_request.cpp (a SpawnSpec for the keeper), sandbox_cell.cpp and sandbox_child.cpp (a cell's
// grader side and its set-up before exec), sandbox_root.cpp (the box's root).
#include "harness/sandbox/sandbox.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "cell_preparer.hpp"
#include "cgroup.hpp"
#include "sandbox_internal.hpp"
#include "slots.hpp"

namespace ipcg {
namespace {

using internal::list_names;
using internal::remove_children;

constexpr const char* kBoxDir = "/tmp/box";
std::once_flag g_subreaper_once;

}  // namespace

namespace internal {

// One entry of a sealed folder as the kernel sees it: its inode and change time, which no process
// can set back, and its size.
struct SealedEntry {
  ino_t inode = 0;
  struct timespec changed {};
  off_t size = 0;
};

}  // namespace internal

using internal::SealedEntry;

namespace {

// The folder itself (".") and each entry in it, not followed.
Result<std::map<std::string, SealedEntry>> fingerprint(int dir_fd) {
  std::map<std::string, SealedEntry> entries;
  const auto add = [&](const std::string& entry) -> Result<void> {
    struct stat st {};
    if (::fstatat(dir_fd, entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sys_fail("stat " + entry);
    entries[entry] = {st.st_ino, st.st_ctim, st.st_size};
    return {};
  };
  IPCG_CHECK(add("."));
  for (const std::string& entry : internal::list_names(dir_fd)) IPCG_CHECK(add(entry));
  return entries;
}

}  // namespace

struct Sandbox::Impl {
  IsolationInfo isolation;
  internal::CellPowers powers;
  std::optional<internal::Slot> slot;  // root only
  std::optional<internal::RootPlan> root;  // with namespaces only
  std::filesystem::path host_dir;
  std::filesystem::path box_dir;
  UniqueFd work_fd;  // the host work folder, for *at() calls
  UniqueFd keeper_exe;   // ipcg-keeper, which every cell execs
  UniqueFd filter_file;  // the lab's and the compiler's filters, compiled once, read by every keeper

  // Makes the next cell while the current one is in use; stopped before anything start() uses.
  std::unique_ptr<internal::CellPreparer> cells;

  // What each sealed reference folder held when it was sealed (seal_broken()).
  std::mutex seals_mutex;
  std::map<std::string, std::map<std::string, SealedEntry>> seals;


  // The slot's student and reference uids (root); empty when the box runs as the caller.
  std::vector<uid_t> role_uids() const {
    if (!slot) return {};
    return {slot->uid, slot->reference_uid()};
  }

  internal::CellIdentity identity() const {
    internal::CellIdentity id;
    id.box_dir = box_dir.string();
    if (root) id.readonly = root->readonly_mappings();
    using Count = internal::CellIdentity::ProcessCount;
    const auto ids = role_ids();
    id.process_count = ids ? Count::per_role : powers.user_namespace ? Count::cell_wide : Count::user_wide;
    if (ids) {
      id.change_ids = true;
      id.student_uid = ids->first;
      id.student_gid = static_cast<gid_t>(ids->first);
      id.reference_uid = ids->second;
      id.reference_gid = static_cast<gid_t>(ids->second);
    }
    if (powers.mapped_ids) id.real_gid = internal::kMappedObserverGid;
    return id;
  }

  // The student's and the reference's uid (each also their gid) where roles have their own: the
  // slot's (root), or the ids mapped inside every cell (not root, newuidmap); none where every
  // role runs as the caller.
  std::optional<std::pair<uid_t, uid_t>> role_ids() const {
    if (slot) return std::pair{slot->uid, slot->reference_uid()};
    if (powers.mapped_ids) return std::pair{internal::kMappedStudentUid, internal::kMappedReferenceUid};
    return std::nullopt;
  }

  // A cgroup for the cell where ours may have children (root, or a subtree delegated to us: a
  // systemd user session's), else a note that says why not; in reduced mode also the owners
  // whose IPC objects the cell sweeps.
  Result<std::unique_ptr<internal::CellExtras>> extras(const Limits& limits, internal::KeeperPlan& plan) const {
    auto extras = std::make_unique<internal::CellExtras>();
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
    if (!powers.namespaces) {
      const auto uids = role_uids();
      extras->owners = uids.empty() ? std::set<uid_t>{::getuid()} : std::set<uid_t>(uids.begin(), uids.end());
    }
    return extras;
  }

  Result<std::shared_ptr<Cell::Core>> start(const Limits& limits) const {
    internal::KeeperPlan plan;
    plan.namespaces = powers.namespaces;
    if (plan.namespaces) plan.mounts = root->steps();
    plan.user_namespace = powers.user_namespace;
    if (powers.user_namespace && !powers.mapped_ids) {  // one id, which the child maps itself
      plan.uid_map = internal::one_id_map(internal::kCellUid, ::geteuid());
      plan.gid_map = internal::one_id_map(internal::kCellUid, ::getegid());
    }
    plan.keeper_exe_fd = keeper_exe.get();
    plan.filters_fd = filter_file.get();
    IPCG_TRY(auto extra, extras(limits, plan));
    // Reduced mode: every process of these uids dies with the cell.
    return internal::start_cell(plan, identity(), plan.namespaces ? std::vector<uid_t>{} : role_uids(), std::move(extra),
                                powers.mapped_ids ? &*powers.mapped_ids : nullptr);
  }

  ~Impl() {
    if (cells) cells->stop();
    if (!work_fd) return;
    // Role folders hold files of the mapped ids, which only the cell's root may remove.
    const auto remove_all = [fd = work_fd.get()] {
      remove_children(fd, 0);
      return 0;
    };
    if (!powers.mapped_ids || !internal::as_cell_root(*powers.mapped_ids, remove_all, "remove the work folder"))
      remove_all();
    ::rmdir(host_dir.c_str());
  }
};

Result<Sandbox> Sandbox::create(const SandboxConfig& config) {
  auto impl = std::make_unique<Impl>();
  internal::Isolation isolation = internal::decide_isolation(config.allow_namespaces);
  impl->isolation = std::move(isolation.info);
  impl->powers = isolation.powers;
  impl->cells = std::make_unique<internal::CellPreparer>(
      [impl = impl.get()](const Limits& limits) { return impl->start(limits); }, config.prepare_cells);
  // A set safe only in the cell's own network namespace is left out where there is none.
  IPCG_TRY(SeccompFilter lab_filter,
           SeccompFilter::compile(SeccompFilter::sets_for_network(
               config.syscall_sets, impl->powers.namespaces)));
  IPCG_TRY(SeccompFilter build_filter, SeccompFilter::compile(config.build_syscall_sets));  // SpawnSpec::build
  IPCG_TRY(impl->keeper_exe, internal::open_keeper_executable());
  const SeccompFilter* const filters[internal::kFilterCount] = {&lab_filter, &build_filter};
  IPCG_TRY(impl->filter_file, internal::make_filter_file(filters));
  if (impl->powers.role_uids && !impl->powers.mapped_ids) {
    IPCG_TRY(impl->slot, internal::claim_slot());
    internal::sweep_dead_graders_cgroups();  // a grader killed outright leaves its cells' cgroups
  }
  internal::sweep_dead_graders_work_dirs(config.work_parent);  // and a killed grader its work folders
  IPCG_TRY(impl->host_dir, internal::make_work_dir(config.work_parent));
  impl->work_fd = UniqueFd(::open(impl->host_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!impl->work_fd) return sys_fail("open " + impl->host_dir.string());
  impl->box_dir = impl->powers.namespaces ? std::filesystem::path(kBoxDir) : impl->host_dir;
  if (impl->powers.namespaces) {
    // The box's /etc, staged once per Sandbox in a root-owned folder of the work folder.
    const std::filesystem::path etc_dir = impl->host_dir / ".etc";
    IPCG_CHECK(internal::RootPlan::stage_etc(etc_dir));
    IPCG_TRY(impl->root, internal::RootPlan::build(impl->host_dir, etc_dir, config.readonly_paths,
                                                   !impl->powers.user_namespace));
  }
  // Backstop: if a keeper dies early, its orphans come to the grader rather than to init.
  if (!impl->powers.namespaces) std::call_once(g_subreaper_once, [] { ::prctl(PR_SET_CHILD_SUBREAPER, 1); });
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
  if (!impl_->powers.namespaces) return host_path;
  const std::vector<internal::PathMapping> work = {{impl_->host_dir, impl_->box_dir}};
  if (auto inside = internal::map_to_box(work, host_path)) return *inside;
  return internal::map_to_box(impl_->root->readonly_mappings(), host_path).value_or(host_path);
}

namespace {
bool is_reference(Role role) { return role == Role::reference || role == Role::reference_build; }
}  // namespace

Result<std::filesystem::path> Sandbox::make_writable_dir(const std::string& name, Role owner) {
  if (!internal::valid_dir_name(name)) return fail(Errc::usage, "make_writable_dir: bad folder name '" + name + "'");
  if (::mkdirat(impl_->work_fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
    return sys_fail("mkdir " + name + " in the work folder");
  UniqueFd fd(::openat(impl_->work_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail("open " + name + " in the work folder");
  if (impl_->slot) {
    const uid_t uid = is_reference(owner) ? impl_->slot->reference_uid() : impl_->slot->uid;
    if (::fchown(fd.get(), uid, static_cast<gid_t>(uid)) != 0) return sys_fail("chown " + name + " to the slot uid");
    if (::fchmod(fd.get(), 0700) != 0) return sys_fail("chmod " + name);
  } else if (impl_->powers.mapped_ids) {
    // Ours (the cell's root) with the role's group, 0770: we can still put the staged sources in
    // and chmod it, the role writes there, the other role cannot enter. The group is a mapped
    // id, which only the cell's root may give.
    const gid_t gid = static_cast<gid_t>(is_reference(owner) ? internal::kMappedReferenceUid : internal::kMappedStudentUid);
    const auto give = [&fd, gid] { return ::fchown(fd.get(), static_cast<uid_t>(-1), gid) == 0 ? 0 : errno; };
    IPCG_CHECK(internal::as_cell_root(*impl_->powers.mapped_ids, give, "chown " + name + " to the role's group"));
    if (::fchmod(fd.get(), 0770) != 0) return sys_fail("chmod " + name);
  } else if (::fchmod(fd.get(), 0755) != 0) {
    return sys_fail("chmod " + name);
  }
  return impl_->host_dir / name;
}

Result<void> Sandbox::seal_dir(const std::string& name, Role owner) {
  if (!internal::valid_dir_name(name)) return fail(Errc::usage, "seal_dir: bad folder name '" + name + "'");
  UniqueFd fd(::openat(impl_->work_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail("open " + name + " in the work folder");
  // root: the slot's uids, or (not root) the mapped ids, with us as the cell's root.
  const auto ids = impl_->role_ids();
  const bool root = ids.has_value();
  const bool reference = is_reference(owner) && root;
  const gid_t gid = reference ? static_cast<gid_t>(ids->second) : 0;
  // Where every role shares one uid (a user namespace without role uids, reduced mode without
  // root), a student process can read anything the reference's folder holds: only its programs
  // stay, so that its sources (and objects) are neither read nor compiled in.
  const bool programs_only = is_reference(owner) && !root;
  // A reference program stays executable by anyone (a student's parent may exec the reference
  // child, as lab1's conversation tests do) but readable by none but the reference's group.
  const mode_t dir_mode = reference ? 0711 : 0755, program_mode = reference ? 0711 : 0755;
  const mode_t inner_dir_mode = reference ? 0750 : 0755, data_mode = reference ? 0640 : 0644;
  const auto seal = [&]() -> Result<void> {
    for (const std::string& entry : list_names(fd.get())) {
      struct stat st {};
      if (::fstatat(fd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const bool dir = S_ISDIR(st.st_mode);
      if (!dir && !S_ISREG(st.st_mode)) {  // a symlink, FIFO or socket the build left: not ours to keep
        ::unlinkat(fd.get(), entry.c_str(), 0);
        continue;
      }
      if (programs_only && (dir || !(st.st_mode & 0111))) {
        internal::remove_entry(fd.get(), entry.c_str(), 0);
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
  };
  if (impl_->powers.mapped_ids) {
    // The build left files of a mapped id: only the cell's root may chown and chmod them.
    const auto seal_as_root = [&seal] {
      errno = 0;
      return seal() ? 0 : errno ? errno : EIO;
    };
    IPCG_CHECK(internal::as_cell_root(*impl_->powers.mapped_ids, seal_as_root, "seal " + name));
  } else {
    IPCG_CHECK(seal());
  }
  if (is_reference(owner)) {
    IPCG_TRY(auto entries, fingerprint(fd.get()));
    const std::lock_guard lock(impl_->seals_mutex);
    impl_->seals[name] = std::move(entries);
  }
  return {};
}

std::optional<std::string> Sandbox::seal_broken(const std::string& name) {
  std::map<std::string, SealedEntry> sealed;
  {
    const std::lock_guard lock(impl_->seals_mutex);
    const auto it = impl_->seals.find(name);
    if (it == impl_->seals.end()) return std::nullopt;
    sealed = it->second;
  }
  UniqueFd fd(::openat(impl_->work_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return name + " is gone";
  auto now = fingerprint(fd.get());
  if (!now) return now.error().message;
  for (const auto& [entry, is] : *now)
    if (!sealed.count(entry)) return entry + " was added";
  // The folder's own entry last: a replaced program changes it too, and is the better name.
  std::vector<std::pair<std::string, SealedEntry>> in_order(sealed.begin(), sealed.end());
  std::stable_partition(in_order.begin(), in_order.end(), [](const auto& e) { return e.first != "."; });
  for (const auto& [entry, was] : in_order) {
    const auto it = now->find(entry);
    const std::string what = entry == "." ? "the folder" : entry;
    if (it == now->end()) return what + " was removed";
    if (it->second.inode != was.inode) return what + " was replaced";
    if (it->second.changed.tv_sec != was.changed.tv_sec || it->second.changed.tv_nsec != was.changed.tv_nsec ||
        it->second.size != was.size)
      return what + " was changed (its mode, owner or contents)";
  }
  return std::nullopt;
}

Result<Cell> Sandbox::open_cell(const CellOptions& options) {
  IPCG_TRY(auto core, impl_->cells->take(options.limits));
  return Cell(std::move(core));
}

namespace {
Result<SandboxedProcess> spawn_into(const std::shared_ptr<Cell::Core>& core, const SpawnSpec& spec, bool owns_cell) {
  IPCG_TRY(std::vector<char> request, internal::encode_spawn_request(core->identity, spec));
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
