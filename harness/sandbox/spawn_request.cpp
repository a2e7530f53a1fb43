// A SpawnSpec turned into the request the keeper unpacks (keeper_protocol.hpp): who to run as,
// which filter, the rlimits, the fds, then cwd, argv, a clean environment and the exec candidates.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "sandbox_internal.hpp"

namespace ipcg::internal {
namespace {

constexpr rlim_t kMsgqueueBytes = 819200;
constexpr rlim_t kStackBytes = 8 << 20;

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
ResourceLimit clamp(int resource, rlim_t soft, rlim_t hard, bool privileged) {
  rlimit now{};
  if (!privileged && ::getrlimit(resource, &now) == 0) {
    hard = std::min(hard, now.rlim_max);
    soft = std::min(soft, hard);
  }
  return {resource, soft, hard};
}

// The RLIMIT_NPROC that gives a role `allowance` processes (CellIdentity::ProcessCount). In a
// cell of one uid the roles share the count: each gets its allowance, as with a uid per role.
rlim_t process_limit(rlim_t allowance, CellIdentity::ProcessCount count) {
  if (allowance == RLIM_INFINITY) return allowance;
  switch (count) {
    case CellIdentity::ProcessCount::per_role: return allowance;
    case CellIdentity::ProcessCount::cell_wide: return 2 * allowance + 1;
    case CellIdentity::ProcessCount::user_wide: break;
  }
  return allowance + static_cast<rlim_t>(count_user_tasks(::getuid())) + 1;
}

// Zero or negative limits mean "no limit".
std::vector<ResourceLimit> resource_limits(const Limits& l, CellIdentity::ProcessCount count) {
  const bool root = ::geteuid() == 0;
  auto cap = [](auto v) { return v > 0 ? static_cast<rlim_t>(v) : RLIM_INFINITY; };
  const rlim_t cpu = cap(l.cpu_seconds);
  // The soft CPU limit sends SIGXCPU; the hard one, a second later, SIGKILL.
  const rlim_t cpu_hard = cpu == RLIM_INFINITY ? cpu : cpu + 1;
  const rlim_t nproc = process_limit(cap(l.processes), count);
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
  if (spec.fds.size() > kMaxFdMappings)
    return fail(Errc::usage, "spawn: more than " + std::to_string(kMaxFdMappings) + " fd mappings");
  std::set<int> targets;
  for (const FdMapping& m : spec.fds) {
    if (m.child_fd < 0 || !targets.insert(m.child_fd).second)
      return fail(Errc::usage, "spawn: child fd " + std::to_string(m.child_fd) + " mapped twice or negative");
    if (::fcntl(m.parent_fd, F_GETFD) < 0) return sys_fail("spawn: parent fd " + std::to_string(m.parent_fd));
  }
  return {};
}

}  // namespace

Result<std::vector<char>> encode_spawn_request(const CellIdentity& id, const SpawnSpec& spec) {
  IPCG_CHECK(validate(spec));
  const std::vector<std::string> env = clean_env(spec.env);
  // A program named by its host path under a read-only path runs from where the box sees it.
  std::vector<std::string> argv = spec.argv;
  if (auto in_box = map_to_box(id.readonly, argv[0])) argv[0] = in_box->string();
  const std::vector<std::string> candidates = exec_candidates(argv[0], env);
  const std::filesystem::path box_dir = id.box_dir;
  const std::string cwd = spec.cwd.empty() ? id.box_dir : (box_dir / spec.cwd).string();
  if (argv.size() > kMaxArgs || env.size() > kMaxArgs ||
      candidates.size() >= kMaxExecPaths)
    return fail(Errc::usage, "spawn: too many arguments, environment entries or PATH entries");

  SpawnRequest req;
  const bool build = spec.role == Role::build || spec.role == Role::reference_build;
  req.filter = build ? FilterIndex::build : FilterIndex::lab;
  req.change_ids = id.change_ids;
  const bool reference = spec.role == Role::reference || spec.role == Role::reference_build;
  req.uid = reference ? id.reference_uid : id.student_uid;
  req.gid = reference ? id.reference_gid : id.student_gid;
  req.real_gid = id.real_gid.value_or(req.gid);
  const auto limits = resource_limits(spec.limits, id.process_count);
  req.n_limits = static_cast<std::int32_t>(std::min(limits.size(), kMaxLimits));
  std::copy_n(limits.begin(), req.n_limits, req.limits);
  req.n_fds = static_cast<std::int32_t>(spec.fds.size());
  for (size_t i = 0; i < spec.fds.size(); ++i) req.child_fds[i] = spec.fds[i].child_fd;
  req.argc = static_cast<std::int32_t>(argv.size());
  req.envc = static_cast<std::int32_t>(env.size());
  req.n_paths = static_cast<std::int32_t>(candidates.size());

  std::vector<char> bytes(sizeof req);
  auto put = [&](const std::string& s) { bytes.insert(bytes.end(), s.c_str(), s.c_str() + s.size() + 1); };
  put(cwd);
  for (const auto& a : argv) put(a);
  for (const auto& e : env) put(e);
  for (const auto& c : candidates) put(c);
  if (bytes.size() > kMaxRequestBytes)
    return fail(Errc::usage, "spawn: arguments and environment exceed " + std::to_string(kMaxRequestBytes) + " bytes");
  req.strings_bytes = static_cast<std::int32_t>(bytes.size() - sizeof req);
  std::memcpy(bytes.data(), &req, sizeof req);
  return bytes;
}

}  // namespace ipcg::internal
