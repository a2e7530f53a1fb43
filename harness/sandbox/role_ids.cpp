#include "role_ids.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "harness/core/unique_fd.hpp"

namespace ipcg::internal {
namespace {

constexpr unsigned long kIdsNeeded = 3;  // the student's, the reference's and the observer gid
constexpr size_t kMaxToolOutput = 4096;

bool parse_number(std::string_view text, unsigned long& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// Where Debian (and every distribution we know) installs the helpers: an absolute path, so the
// user's PATH cannot put another program in their place.
std::string find_tool(const char* name) {
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"}) {
    const std::string path = std::string(dir) + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return path;
  }
  return {};
}

std::string user_name(uid_t uid) {
  passwd pw {};
  passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(uid, &pw, buffer, sizeof buffer, &found) != 0 || !found) return {};
  return found->pw_name;
}

Result<SubordinateRange> range_in(const char* file, const std::string& user, uid_t uid) {
  std::ifstream in(file);
  if (!in) return fail(Errc::config, std::string(file) + " cannot be read: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (auto range = find_subordinate_range(text.str(), user, uid, kIdsNeeded)) return *range;
  return fail(Errc::config, std::string(file) + " gives " + (user.empty() ? std::to_string(uid) : user) +
                                " no range of " + std::to_string(kIdsNeeded) + " or more subordinate ids");
}

// Runs argv (no shell, no environment) and returns its stderr when it fails.
Result<void> run_tool(const std::vector<std::string>& args) {
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) return sys_fail("pipe for " + args[0]);
  UniqueFd read_end(err[0]), write_end(err[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char* no_environment[] = {nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), no_environment);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (spawned != 0) return fail(Errc::system, args[0] + ": " + std::strerror(spawned));
  std::string output;
  char chunk[512];
  ssize_t n;
  while ((n = ::read(read_end.get(), chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && output.size() < kMaxToolOutput) output.append(chunk, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status)) : "killed";
  return fail(Errc::system, args[0] + " failed (" + how + ")" + (output.empty() ? "" : ": " + output));
}

bool write_byte(int fd, char c) {
  ssize_t n;
  while ((n = ::write(fd, &c, 1)) < 0 && errno == EINTR) {
  }
  return n == 1;
}

bool read_byte(int fd, char& c) {
  ssize_t n;
  while ((n = ::read(fd, &c, 1)) < 0 && errno == EINTR) {
  }
  return n == 1;
}

}  // namespace

std::optional<SubordinateRange> find_subordinate_range(std::string_view text, std::string_view user, uid_t uid,
                                                       unsigned long need) {
  const std::string uid_text = std::to_string(uid);
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, first);
    if (name.empty() || name[0] == '#' || (name != user && name != uid_text)) continue;
    SubordinateRange range;
    if (!parse_number(line.substr(first + 1, second - first - 1), range.start) ||
        !parse_number(line.substr(second + 1), range.count) || range.count < need)
      continue;
    return range;
  }
  return std::nullopt;
}

std::vector<std::string> RoleIdMap::args(pid_t pid, bool group) const {
  const SubordinateRange& range = group ? gids : uids;
  const auto id = [](unsigned long value) { return std::to_string(value); };
  return {group ? newgidmap : newuidmap, std::to_string(pid),
          "0", id(group ? gid : uid), "1",
          id(kMappedObserverGid), id(range.start + 2), "1",
          id(kMappedStudentUid), id(range.start), "1",
          id(kMappedReferenceUid), id(range.start + 1), "1"};
}

Result<RoleIdMap> find_role_id_map() {
  RoleIdMap map;
  map.uid = ::geteuid();
  map.gid = ::getegid();
  map.newuidmap = find_tool("newuidmap");
  map.newgidmap = find_tool("newgidmap");
  if (map.newuidmap.empty() || map.newgidmap.empty())
    return fail(Errc::config, "newuidmap/newgidmap are not installed (Debian package uidmap)");
  const std::string user = user_name(map.uid);
  IPCG_TRY(map.uids, range_in("/etc/subuid", user, map.uid));
  IPCG_TRY(map.gids, range_in("/etc/subgid", user, map.uid));
  return map;
}

Result<void> map_role_ids(const RoleIdMap& map, pid_t pid) {
  IPCG_CHECK(run_tool(map.args(pid, false)));
  return run_tool(map.args(pid, true));
}

Result<std::unique_ptr<ParentMapping>> ParentMapping::start(const RoleIdMap& map) {
  std::unique_ptr<ParentMapping> m(new ParentMapping(map));
  int ready[2], go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return sys_fail("pipe");
  m->ready_read_ = ready[0];
  m->ready_write_ = ready[1];
  if (::pipe2(go, O_CLOEXEC) != 0) return sys_fail("pipe");
  m->go_read_ = go[0];
  m->go_write_ = go[1];
  m->thread_ = std::thread([raw = m.get()] { raw->run(); });
  return m;
}

void ParentMapping::run() {
  std::string pid_text;
  char c = 0;
  while (pid_text.size() < 16 && read_byte(ready_read_, c) && c != '\n') pid_text += c;
  unsigned long pid = 0;
  if (c != '\n' || !parse_number(pid_text, pid) || pid == 0)
    result_ = fail(Errc::system, "the cell's set-up ended before its ids were mapped");
  else
    result_ = map_role_ids(map_, static_cast<pid_t>(pid));
  if (result_) write_byte(go_write_, 'm');
  ::close(go_write_);
  go_write_ = -1;
}

void ParentMapping::close_child_ends() {
  for (int* fd : {&ready_write_, &go_read_})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
}

Result<void> ParentMapping::finish() {
  close_child_ends();
  if (thread_.joinable()) thread_.join();
  return result_;
}

ParentMapping::~ParentMapping() {
  close_child_ends();
  if (thread_.joinable()) thread_.join();
  for (int fd : {ready_read_, go_write_})
    if (fd >= 0) ::close(fd);
}

Result<void> as_cell_root(const RoleIdMap& map, const std::function<int()>& op, const std::string& what) {
  int ready[2], go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return sys_fail("pipe");
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  if (::pipe2(go, O_CLOEXEC) != 0) return sys_fail("pipe");
  UniqueFd go_read(go[0]), go_write(go[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("fork for " + what);
  if (pid == 0) {
    // A single-threaded copy of us: unshare(CLONE_NEWUSER) refuses a threaded caller.
    const bool made = ::unshare(CLONE_NEWUSER) == 0;
    const int error = errno;
    write_byte(ready_write.get(), made ? 'u' : 'e');
    if (!made) ::_exit(error);
    char c = 0;
    if (!read_byte(go_read.get(), c) || c != 'm') ::_exit(ECANCELED);
    ::_exit(op());
  }
  ready_write.reset();
  go_read.reset();
  char c = 0;
  Result<void> mapped = fail(Errc::system, "the child could not make a user namespace");
  if (read_byte(ready_read.get(), c) && c == 'u') mapped = map_role_ids(map, pid);
  if (mapped) write_byte(go_write.get(), 'm');
  go_write.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!mapped) return fail(Errc::system, what + ": " + mapped.error().message);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
  return fail(Errc::system, what + " (as the cell's root): " + std::strerror(code));
}

}  // namespace ipcg::internal
