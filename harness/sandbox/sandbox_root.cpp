// The plan of the box's root file system (full isolation): which host folders are bound
// read-only, which tmpfs are fresh, what /dev holds. Computed in the grader, with lstat and
// readlink, so the keeper only replays plain steps (sandbox_child.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "sandbox_internal.hpp"

namespace ipcg::internal {
namespace {

// Merged-/usr hosts have /bin, /lib... as symlinks into /usr: they are copied as symlinks.
constexpr const char* kSystemPaths[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
// What dynamic linking and name lookups need, copied once per Sandbox; not shadow, not the
// host's configuration.
constexpr const char* kEtcEntries[] = {"passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf",
                                       "ld.so.conf.d", "hosts", "localtime", "timezone"};
// Folders bound read-only over an empty folder of the copy instead: the compiler's alternatives
// are hundreds of symlinks (copying them took 75 ms per Sandbox, a bind is one mount per cell).
constexpr const char* kEtcBoundFolders[] = {"alternatives"};
constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
// Caps on what a run may keep in its private /tmp and /dev/shm.
constexpr const char* kTmpfsOptions = "size=64m,nr_inodes=4096,mode=1777";

std::string staged(const std::string& box_path) { return std::string(kStageRoot) + box_path; }

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

const char* RootPlan::keep(std::string s) { return strings_.emplace_back(std::move(s)).c_str(); }

void RootPlan::add(MountStep::Kind kind, const std::string& path, const std::string& source) {
  MountStep step;
  step.kind = kind;
  step.target = keep(staged(path));
  step.source = source.empty() ? nullptr : keep(source);
  steps_.push_back(step);
  if (kind == MountStep::make_dir || kind == MountStep::make_file || kind == MountStep::make_symlink)
    made_.insert(path);
  if (kind == MountStep::bind_readonly) bound_.push_back(path);
}

void RootPlan::make_parents(const std::string& path) {
  const std::string parent = parent_of(path);
  if (parent == "/" || made_.count(parent)) return;
  make_parents(parent);
  add(MountStep::make_dir, parent);
}

bool RootPlan::covered(const std::string& path) const {
  return std::any_of(bound_.begin(), bound_.end(), [&](const std::string& b) {
    return path == b || (path.size() > b.size() && path.compare(0, b.size(), b) == 0 && path[b.size()] == '/');
  });
}

// A host path at the same place in the box: a symlink as a symlink, a folder or file bound
// read-only. Missing paths are skipped (not every host has /lib32).
void RootPlan::system_entry(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || made_.count(path) || covered(path)) return;
  make_parents(path);
  if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n > 0) add(MountStep::make_symlink, path, std::string(buf, static_cast<size_t>(n)));
    return;
  }
  add(S_ISDIR(st.st_mode) ? MountStep::make_dir : MountStep::make_file, path);
  add(MountStep::bind_readonly, path, path);
}

// A path the caller asked for, at a fixed place in the box: resolved first, so that a symlink
// on the way cannot point the bind somewhere else than what the box is told.
void RootPlan::readonly_entry(const std::filesystem::path& path, size_t index) {
  std::error_code ec;
  const auto real = std::filesystem::canonical(path, ec);
  struct stat st {};
  if (ec || ::stat(real.c_str(), &st) != 0) return;  // missing paths are skipped
  std::filesystem::path box = std::filesystem::path(kReadonlyRoot) / std::to_string(index);
  if (!S_ISDIR(st.st_mode)) box /= real.filename();
  make_parents(box.string());
  add(S_ISDIR(st.st_mode) ? MountStep::make_dir : MountStep::make_file, box.string());
  add(MountStep::bind_readonly, box.string(), real.string());
  const std::filesystem::path named = std::filesystem::absolute(path, ec).lexically_normal();
  if (!ec && named != real) mappings_.push_back({named, box});
  mappings_.push_back({real, box});
}

std::optional<std::filesystem::path> map_to_box(const std::vector<PathMapping>& mappings,
                                                const std::filesystem::path& host_path) {
  const std::filesystem::path path = host_path.lexically_normal();
  for (const PathMapping& m : mappings) {
    const std::filesystem::path rel = path.lexically_relative(m.host);
    if (rel.empty() || *rel.begin() == "..") continue;
    return rel == "." ? m.box : m.box / rel;
  }
  return std::nullopt;
}

// /dev is a tiny tmpfs of its own with the nodes made by mknod: one mount instead of a bind
// and a remount per node (mount calls dominate the cost of a cell).
// In a user namespace mknod is refused and a tmpfs ignores device nodes: each node is then a
// bind of the host's.
void RootPlan::dev_tree(bool make_device_nodes) {
  add(MountStep::make_dir, "/dev");
  add(MountStep::dev_tmpfs, "/dev", "size=64k,nr_inodes=64,mode=0755");
  for (const char* node : kDevNodes) {
    const std::string path = std::string("/dev/") + node;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) continue;
    if (make_device_nodes) {
      add(MountStep::dev_node, path);
      steps_.back().rdev = st.st_rdev;
    } else {
      add(MountStep::make_file, path);
      add(MountStep::bind_device, path, path);
    }
  }
  add(MountStep::make_symlink, "/dev/fd", "/proc/self/fd");
  add(MountStep::make_symlink, "/dev/stdin", "/proc/self/fd/0");
  add(MountStep::make_symlink, "/dev/stdout", "/proc/self/fd/1");
  add(MountStep::make_symlink, "/dev/stderr", "/proc/self/fd/2");
  add(MountStep::make_dir, "/dev/shm");
  add(MountStep::tmpfs, "/dev/shm", kTmpfsOptions);
  add(MountStep::make_dir, "/dev/mqueue");
  add(MountStep::mqueue, "/dev/mqueue");
}

Result<void> RootPlan::stage_etc(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec) return fail(Errc::io, "create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms(0755), ec);
  for (const char* name : kEtcEntries) {
    const fs::path from = fs::path("/etc") / name;
    if (!fs::exists(fs::symlink_status(from))) continue;
    fs::copy(from, dir / name, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return fail(Errc::io, "copy " + from.string() + " for the sandbox's /etc: " + ec.message());
  }
  for (const char* name : kEtcBoundFolders) {
    if (!fs::is_directory(fs::path("/etc") / name)) continue;
    fs::create_directory(dir / name, ec);
    if (ec) return fail(Errc::io, "create " + (dir / name).string() + ": " + ec.message());
  }
  return {};
}

Result<RootPlan> RootPlan::build(const std::filesystem::path& work_dir, const std::filesystem::path& etc_dir,
                                 const std::vector<std::filesystem::path>& readonly_paths, bool make_device_nodes) {
  RootPlan plan;
  for (const char* path : kSystemPaths) plan.system_entry(path);
  plan.add(MountStep::make_dir, "/etc");
  plan.add(MountStep::bind_readonly, "/etc", etc_dir.string());
  for (const char* name : kEtcBoundFolders) {
    const std::string path = std::string("/etc/") + name;
    if (std::filesystem::is_directory(etc_dir / name)) plan.add(MountStep::bind_readonly, path, path);
  }
  plan.add(MountStep::make_dir, "/tmp");
  plan.add(MountStep::tmpfs, "/tmp", kTmpfsOptions);
  plan.add(MountStep::make_dir, "/tmp/box");
  plan.add(MountStep::bind_work, "/tmp/box", work_dir.string());
  plan.dev_tree(make_device_nodes);
  plan.add(MountStep::make_dir, "/proc");
  for (size_t i = 0; i < readonly_paths.size(); ++i) plan.readonly_entry(readonly_paths[i], i);
  if (plan.steps_.size() > kMaxMountSteps)
    return fail(Errc::usage, "sandbox: too many read-only paths (" + std::to_string(plan.steps_.size()) +
                                 " mount steps, at most " + std::to_string(kMaxMountSteps) + ")");
  return plan;
}

}  // namespace ipcg::internal
