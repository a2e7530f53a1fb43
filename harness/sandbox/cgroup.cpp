// One cell's cgroups (cgroup.hpp). Every file in a cgroup folder is opened relative to the
// folder's descriptor with O_NOFOLLOW; the folders themselves are reached without symlinks.
#include "cgroup.hpp"
#include "pidfd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

namespace ipcg::internal {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long kill_all() and destroy() wait for the kernel to finish killing (a process in
// uninterruptible sleep may take a while; we give up rather than hang the grader).
constexpr milliseconds kKillTimeout{5000};

std::string errno_text(int error) { return std::strerror(error); }

// ---- files -----------------------------------------------------------------------------------

// A folder by absolute path without following any symlink on the way (openat2), or at least
// not the last one where openat2 is missing or filtered.
UniqueFd open_dir(const std::string& path) {
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const int fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != E2BIG)) return UniqueFd(fd);
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
}

// A /proc file of our own (/proc/self is a symlink the kernel owns: following it is fine).
std::optional<std::string> read_proc(const char* path) { return read_file_at(AT_FDCWD, path); }

// One write() of the whole value: cgroup files take a value per write. errno set on failure
// (EIO when the kernel took only part).
bool write_at(int dir, const char* file, const std::string& value) {
  UniqueFd fd(::openat(dir, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return false;
  ssize_t n;
  do n = ::write(fd.get(), value.data(), value.size());
  while (n < 0 && errno == EINTR);
  if (n >= 0 && static_cast<size_t>(n) != value.size()) errno = EIO;
  return n >= 0 && static_cast<size_t>(n) == value.size();
}

// The number after "key " in a flat-keyed file (memory.events, memory.oom_control...).
std::optional<std::uint64_t> keyed_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  std::uint64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

bool contains(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// ---- where our cgroups are -------------------------------------------------------------------

// Our own cgroup in one hierarchy, and what we use it for.
struct Hierarchy {
  std::string path;  // absolute folder of our own cgroup
  bool v2 = false;
  bool memory = false;
  bool pids = false;
};

struct Support {
  std::vector<Hierarchy> hierarchies;  // empty when unusable
  std::string why_not;
  std::string description;
};

struct Mount {
  std::string root;   // the hierarchy path mounted there
  std::string point;
  std::string type;
  std::vector<std::string> options;  // super options: the v1 controllers
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto octal = [&](size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<Mount> cgroup_mounts(const std::string& mountinfo) {
  std::vector<Mount> mounts;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    // id parent dev root point options [optional...] - type source super-options
    const std::vector<std::string> f = split(line, ' ');
    const auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    const std::string type = *(dash + 1);
    if (type != "cgroup" && type != "cgroup2") continue;
    mounts.push_back({unescape(f[3]), unescape(f[4]), type, split(*(dash + 3), ',')});
  }
  return mounts;
}

// The folder of cgroup `path` in the first mount of its hierarchy that shows it.
std::optional<std::string> folder_of(const std::vector<Mount>& mounts, const std::string& path,
                                     bool v2, const std::string& controller) {
  for (const Mount& m : mounts) {
    if ((m.type == "cgroup2") != v2 || (!v2 && !contains(m.options, controller))) continue;
    const std::string root = m.root == "/" ? "" : m.root;
    if (path.compare(0, root.size(), root) != 0) continue;
    if (path.size() > root.size() && path[root.size()] != '/') continue;
    std::string rest = path.substr(root.size());
    if (rest == "/") rest.clear();
    return m.point + rest;
  }
  return std::nullopt;
}

std::string writable_problem(const std::string& dir) {
  if (::access(dir.c_str(), W_OK) == 0) return {};
  const int e = errno;
  std::string why = dir + " is not writable (" + errno_text(e) + ")";
  if (e == EACCES || e == EPERM) why += ::geteuid() == 0 ? "" : ": not root and not delegated to us";
  return why;
}

Support probe() {
  Support s;
  const auto self = read_proc("/proc/self/cgroup");
  if (!self) return {{}, "cannot read /proc/self/cgroup: " + errno_text(errno), {}};
  const auto mountinfo = read_proc("/proc/self/mountinfo");
  if (!mountinfo) return {{}, "cannot read /proc/self/mountinfo: " + errno_text(errno), {}};
  const std::vector<Mount> mounts = cgroup_mounts(*mountinfo);

  // /proc/self/cgroup: "id:controllers:path"; id 0 with no controllers is v2.
  struct Line { std::string id; std::vector<std::string> controllers; std::string path; };
  std::vector<Line> lines;
  std::istringstream in(*self);
  std::string text;
  while (std::getline(in, text)) {
    const size_t a = text.find(':'), b = a == std::string::npos ? a : text.find(':', a + 1);
    if (b == std::string::npos) continue;
    lines.push_back({text.substr(0, a), split(text.substr(a + 1, b - a - 1), ','), text.substr(b + 1)});
  }

  std::vector<std::string> problems;
  std::optional<Hierarchy> v2;
  for (const Line& l : lines) {
    if (l.id != "0" || !(l.controllers.size() == 1 && l.controllers[0].empty())) continue;
    const auto dir = folder_of(mounts, l.path, true, "");
    if (!dir) {
      problems.push_back("our cgroup v2 " + l.path + " is not mounted here");
      break;
    }
    if (std::string why = writable_problem(*dir); !why.empty()) {
      problems.push_back("cgroup v2: " + why);
      break;
    }
    Hierarchy h{*dir, true, false, false};
    UniqueFd fd = open_dir(*dir);
    const auto available = fd ? read_file_at(fd.get(), "cgroup.controllers") : std::nullopt;
    const auto enabled = fd ? read_file_at(fd.get(), "cgroup.subtree_control") : std::nullopt;
    std::istringstream a(available.value_or("")), e(enabled.value_or(""));
    const std::vector<std::string> have{std::istream_iterator<std::string>(a), {}};
    const std::vector<std::string> on{std::istream_iterator<std::string>(e), {}};
    std::string enable;
    for (const char* c : {"memory", "pids"})
      if (contains(have, c) && !contains(on, c)) enable += std::string(enable.empty() ? "+" : " +") + c;
    // Our children get a controller only if our subtree_control enables it. A non-root cgroup
    // with processes in it cannot (EBUSY, "no internal processes"): we do without.
    bool enabled_ok = true;
    if (!enable.empty() && !write_at(fd.get(), "cgroup.subtree_control", enable)) {
      const int err = errno;
      enabled_ok = false;
      problems.push_back("cannot write \"" + enable + "\" to " + *dir + "/cgroup.subtree_control (" +
                         errno_text(err) + ")" +
                         (err == EBUSY ? ": the grader lives in that cgroup; run it in a delegated "
                                         "cgroup of its own (systemd-run --scope -p Delegate=yes)"
                                       : ""));
    }
    h.memory = contains(have, "memory") && (enabled_ok || contains(on, "memory"));
    h.pids = contains(have, "pids") && (enabled_ok || contains(on, "pids"));
    v2 = h;
  }

  std::vector<Hierarchy> v1;
  for (const char* c : {"memory", "pids"}) {
    if (v2 && (std::string(c) == "memory" ? v2->memory : v2->pids)) continue;
    const auto line = std::find_if(lines.begin(), lines.end(), [&](const Line& l) {
      return l.id != "0" && contains(l.controllers, c);
    });
    if (line == lines.end()) {
      problems.push_back(std::string("no ") + c + " controller");
      continue;
    }
    const auto dir = folder_of(mounts, line->path, false, c);
    if (!dir) {
      problems.push_back(std::string("our cgroup v1 ") + c + ":" + line->path + " is not mounted here");
      continue;
    }
    if (std::string why = writable_problem(*dir); !why.empty()) {
      problems.push_back(std::string("cgroup v1 ") + c + ": " + why);
      continue;
    }
    auto same = std::find_if(v1.begin(), v1.end(), [&](const Hierarchy& h) { return h.path == *dir; });
    if (same == v1.end()) same = v1.insert(v1.end(), Hierarchy{*dir, false, false, false});
    (std::string(c) == "memory" ? same->memory : same->pids) = true;
  }

  std::string joined;
  for (const std::string& p : problems) joined += (joined.empty() ? "" : "; ") + p;
  bool memory = v2 && v2->memory, pids = v2 && v2->pids;
  for (const Hierarchy& h : v1) memory = memory || h.memory, pids = pids || h.pids;
  if (!memory && !pids) {
    s.why_not = joined.empty() ? "no memory or pids controller" : joined;
    return s;
  }
  s.hierarchies = v1;
  // A writable v2 tree without controllers still gives cgroup.kill and cgroup.events.
  if (v2) s.hierarchies.push_back(*v2);
  std::string d = "cgroup";
  for (const Hierarchy& h : s.hierarchies) {
    const std::string what =
        h.memory && h.pids ? "memory+pids" : h.memory ? "memory" : h.pids ? "pids" : "kill";
    d += (d == "cgroup" ? " " : ", ") + what + (h.v2 ? " v2 at " : " v1 at ") + h.path;
  }
  if (!memory) d += "; no memory limit (" + joined + ")";
  if (!pids) d += "; no pids limit (" + joined + ")";
  s.description = d;
  return s;
}

// The environment does not change while we run; probing may enable controllers (v2), so once.
const Support& support() {
  static const Support s = [] {
    Support p = probe();
    if (p.hierarchies.empty()) p.description = "no cgroups: " + p.why_not;
    return p;
  }();
  return s;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() < 200 && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\n') == std::string::npos &&
         name.rfind("cgroup.", 0) != 0;
}

// Refusals that mean "no cgroups for us here" rather than a grader error.
bool refused(int error) { return error == EACCES || error == EPERM || error == EROFS; }

}  // namespace

// ---- CellCgroup ------------------------------------------------------------------------------

Result<CgroupCreation> CellCgroup::create(const std::string& name, const CgroupLimits& limits) {
  if (!valid_name(name)) return fail(Errc::internal, "invalid cgroup name '" + name + "'");
  const Support& s = support();
  const auto none = [](std::string why) { return CgroupCreation{std::nullopt, std::move(why)}; };
  if (s.hierarchies.empty()) return none(s.why_not);

  CellCgroup cell;  // on any early return its destructor removes what was made
  for (const Hierarchy& h : s.hierarchies) {
    Folder f;
    f.path = h.path + "/" + name;
    f.name = name;
    f.v2 = h.v2;
    f.memory = h.memory;
    f.pids = h.pids;
    f.parent = open_dir(h.path);
    if (!f.parent && refused(errno)) return none("open " + h.path + ": " + errno_text(errno));
    if (!f.parent) return sys_fail("open " + h.path);
    if (::mkdirat(f.parent.get(), name.c_str(), 0755) != 0) {
      if (refused(errno)) return none("mkdir " + f.path + ": " + errno_text(errno));
      return sys_fail("mkdir " + f.path);
    }
    f.dir = UniqueFd(
        ::openat(f.parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!f.dir) {
      const int e = errno;
      ::unlinkat(f.parent.get(), name.c_str(), AT_REMOVEDIR);
      errno = e;
      return sys_fail("open " + f.path);
    }
    f.kill_file = f.v2 && ::faccessat(f.dir.get(), "cgroup.kill", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    if (f.v2 && !f.memory && !f.pids && !f.kill_file) {  // before 5.14: nothing to gain from it
      if (::unlinkat(f.parent.get(), name.c_str(), AT_REMOVEDIR) != 0)
        return sys_fail("rmdir " + f.path);
      continue;
    }
    cell.folders_.push_back(std::move(f));
    const Folder& c = cell.folders_.back();
    auto set = [&](const char* file, const std::string& value, bool optional) -> Result<void> {
      if (write_at(c.dir.get(), file, value) || (optional && errno == ENOENT)) return {};
      return sys_fail("write " + value + " to " + c.path + "/" + file);
    };
    if (c.memory && limits.memory_bytes > 0) {
      const std::string bytes = std::to_string(limits.memory_bytes);
      // Swap must not extend the limit: memsw (v1, when swap is accounted) / swap.max (v2).
      // memsw may not be below limit_in_bytes, so the limit comes first.
      IPCG_CHECK(set(c.v2 ? "memory.max" : "memory.limit_in_bytes", bytes, false));
      if (c.v2) IPCG_CHECK(set("memory.swap.max", "0", true));
      else IPCG_CHECK(set("memory.memsw.limit_in_bytes", bytes, true));
    }
    if (c.pids && limits.pids > 0) IPCG_CHECK(set("pids.max", std::to_string(limits.pids), false));
  }
  return CgroupCreation{std::move(cell), {}};
}

CellCgroup& CellCgroup::operator=(CellCgroup&& other) noexcept {
  if (this != &other) {
    (void)destroy();
    folders_ = std::move(other.folders_);
    other.folders_.clear();
  }
  return *this;
}

CellCgroup::~CellCgroup() { (void)destroy(); }

bool CellCgroup::limits_memory() const {
  return std::any_of(folders_.begin(), folders_.end(), [](const Folder& f) { return f.memory; });
}

bool CellCgroup::limits_pids() const {
  return std::any_of(folders_.begin(), folders_.end(), [](const Folder& f) { return f.pids; });
}

std::vector<std::string> CellCgroup::paths() const {
  std::vector<std::string> out;
  for (const Folder& f : folders_) out.push_back(f.path);
  return out;
}

Result<std::vector<UniqueFd>> CellCgroup::open_procs_files() const {
  std::vector<UniqueFd> fds;
  for (const Folder& f : folders_) {
    UniqueFd fd(::openat(f.dir.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return sys_fail("open " + f.path + "/cgroup.procs");
    fds.push_back(std::move(fd));
  }
  return fds;
}

bool CellCgroup::oom_killed() const {
  for (const Folder& f : folders_) {
    if (!f.memory) continue;
    const auto text = read_file_at(f.dir.get(), f.v2 ? "memory.events" : "memory.oom_control");
    if (text && keyed_value(*text, "oom_kill").value_or(0) > 0) return true;
  }
  return false;
}

std::uint64_t CellCgroup::memory_peak() const {
  for (const Folder& f : folders_) {
    if (!f.memory) continue;
    const auto text = read_file_at(f.dir.get(), f.v2 ? "memory.peak" : "memory.max_usage_in_bytes");
    if (text) return std::strtoull(text->c_str(), nullptr, 10);
  }
  return 0;
}

Result<std::vector<pid_t>> CellCgroup::members() const {
  std::vector<pid_t> pids;
  for (const Folder& f : folders_) {
    const auto text = read_file_at(f.dir.get(), "cgroup.procs");
    if (!text) return sys_fail("read " + f.path + "/cgroup.procs");
    std::istringstream in(*text);
    for (pid_t pid; in >> pid;) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

bool CellCgroup::empty() const {
  for (const Folder& f : folders_) {
    if (f.v2) {
      const auto events = read_file_at(f.dir.get(), "cgroup.events");
      if (!events || keyed_value(*events, "populated").value_or(1) != 0) return false;
    } else {
      const auto procs = read_file_at(f.dir.get(), "cgroup.procs");
      if (!procs || procs->find_first_not_of(" \n") != std::string::npos) return false;
    }
  }
  return true;
}

bool CellCgroup::wait_empty(milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // A member's pidfd turns readable when it exits, which is when it leaves its cgroups. Not
    // v2's cgroup.events: the kernel delays its notifications to one per 20 ms per file.
    std::vector<UniqueFd> pidfds;
    if (auto pids = members())
      for (pid_t pid : *pids)
        if (UniqueFd fd(pidfd_open(pid)); fd) pidfds.push_back(std::move(fd));
    if (empty()) return true;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (pidfds.empty()) {
      // Members listed a moment ago are gone, or none is listed yet the folder is populated:
      // the kernel is between a process's exit and its removal; let it run.
      const timespec pause{0, 1'000'000};
      ::nanosleep(&pause, nullptr);
      continue;
    }
    std::vector<pollfd> watch;
    for (const UniqueFd& fd : pidfds) watch.push_back({fd.get(), POLLIN, 0});
    // Capped: a process forked after members() has no pidfd here.
    const int wait_ms = static_cast<int>(std::min<long>(left.count(), 50));
    const int ready = ::poll(watch.data(), watch.size(), wait_ms);
    if (ready == static_cast<int>(watch.size())) std::this_thread::yield();
  }
}

bool CellCgroup::kill_all() {
  const auto deadline = Clock::now() + kKillTimeout;
  // cgroup.kill kills the whole tree at once, even one that forks meanwhile.
  for (const Folder& f : folders_)
    if (f.kill_file) (void)write_at(f.dir.get(), "cgroup.kill", "1");
  while (!empty()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    // A pid read from cgroup.procs may be reused before we signal it: pin each with a pidfd and
    // signal only those still listed afterwards, so the pidfd names the member.
    auto listed = members();
    if (!listed) return false;
    std::vector<std::pair<pid_t, UniqueFd>> pinned;
    for (pid_t pid : *listed) pinned.emplace_back(pid, UniqueFd(pidfd_open(pid)));
    auto still = members();
    if (!still) return false;
    for (auto& [pid, fd] : pinned) {
      if (!std::binary_search(still->begin(), still->end(), pid)) continue;
      if (fd) (void)pidfd_kill(fd.get());
      else if (errno == ENOSYS) (void)::kill(pid, SIGKILL);  // before Linux 5.3
    }
    if (wait_empty(std::min(left, milliseconds(200)))) return true;
  }
  return true;
}

Result<void> CellCgroup::destroy() {
  if (folders_.empty()) return {};
  if (!empty()) kill_all();
  Result<void> result;
  std::vector<Folder> kept;
  for (Folder& f : folders_) {
    // EBUSY: a member is still on its way out (or joined after kill_all): kill and wait again.
    int tries = 0;
    while (::unlinkat(f.parent.get(), f.name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      if (errno != EBUSY || ++tries > 3) {
        if (result) result = sys_fail("rmdir " + f.path);
        kept.push_back(std::move(f));
        break;
      }
      kill_all();
    }
  }
  folders_ = std::move(kept);  // what could not be removed, for another try
  return result;
}

std::string unique_cgroup_name() {
  static std::atomic<unsigned> counter{0};
  return "ipcgrade-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string describe_cgroup_support() { return support().description; }

int sweep_dead_graders_cgroups() {
  int removed = 0;
  for (const Hierarchy& h : support().hierarchies) {
    UniqueFd parent = open_dir(h.path);
    if (!parent) continue;
    DIR* dir = ::fdopendir(::fcntl(parent.get(), F_DUPFD_CLOEXEC, 0));
    if (!dir) continue;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      if (name.rfind("ipcgrade-", 0) != 0) continue;
      const pid_t owner = static_cast<pid_t>(std::atol(name.c_str() + 9));
      // Only a grader that is gone: its pid answers no signal. (A reused pid keeps the folder
      // until that process is gone too.)
      if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) stale.push_back(name);
    }
    ::closedir(dir);
    // rmdir refuses a cgroup that still has processes or children: only empty ones go.
    for (const std::string& name : stale)
      if (::unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR) == 0) ++removed;
  }
  return removed;
}

}  // namespace ipcg::internal
