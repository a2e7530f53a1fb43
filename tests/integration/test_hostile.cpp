// The red-team corpus: every folder of tests/hostile/ is a submission (a lab's reference with one
// planted attack or accident: lab1's, or the lab its expect.toml names) and an expect.toml that
// declares what the grader must make of it, at each isolation level where they differ.
// Each case runs the real grader binary, as root, once (and again with --reduced when the case
// says `reduced = true`, and as nobody, in a user namespace of its own without role uids, when it
// says `user_namespace = true`: a copy of the grader and its data that nobody may read, as on a
// student's laptop; and as nobody with a subordinate id range, every role its own uid, when it
// says `role_uids = true`: `full (user namespace)`, with root's expectations unless `role_uids_*`
// keys say otherwise; IPCG_HOSTILE_EVERY_LEVEL=1 runs every case at every level), and the test
// asserts:
//   1. the grader finished normally: exit 0 or 1 as declared, never 2/3 or a signal, within the
//      case's max_seconds, and its stdout is one JSON document;
//   2. the verdict: exactly the declared failing tests, their statuses, the declared substrings
//      in message+evidence (build_mentions: in the build output), the score;
//   3. containment: no process left (children re-parented to this subreaper, any process of a
//      sandbox uid 61000..62999 not owned by another running grader, and as nobody any new
//      process of nobody's), no declared path created
//      on the host (must_not_exist), no host canary touched (targets), no new SysV IPC object,
//      POSIX message queue (through a private mqueue mount when the host has none) or /dev/shm
//      entry, no work folder left (the grader runs with a private TMPDIR: its ipcgrade-* folder
//      must be gone), no cgroup of the grader left (they are named after its pid); nothing
//      secret in the report (a hidden test's name, a line of the reference solution,
//      /etc/shadow, a token in the grader's environment) and nothing forged on the grader's
//      stdout (no line starting with "::", no raw ESC or CR);
//   4. the IPC objects the case leaves (`leftovers`) are named in the report's tests[].leftovers,
//      and no other test lists any.
// The corpus changes host-wide state on purpose, so these tests run serially (RUN_SERIAL).
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <toml++/toml.h>

#include <gtest/gtest.h>

#include "run_grader.hpp"
#include "support/host_ipc.hpp"
#include "support/nobodys_install.hpp"
#include "support/subordinate_ids.hpp"

extern char** environ;

namespace fs = std::filesystem;
using ipcg::testing::dir_entries;
using ipcg::testing::leftover_children;
using ipcg::testing::posix_queues;
using ipcg::testing::read_file;
using ipcg::testing::sysv_objects;

namespace {

constexpr uid_t kSandboxUidFirst = 61000;
constexpr uid_t kSandboxUidLast = 62999;
constexpr size_t kMaxReportBytes = 1 << 20;  // a report stays small whatever the submission printed
const char* const kTargetContent = "host canary: must stay exactly like this\n";

std::string source_dir() { return IPCG_SOURCE_DIR; }

// ---- expect.toml ---------------------------------------------------------------------------

struct Case {
  std::string name;
  fs::path dir;
  std::string description;
  std::string only;
  std::vector<std::string> args;  // more grader arguments (--full-limits: the test is about a limit past the derived wall)
  std::set<std::string> fails;
  std::map<std::string, std::string> statuses;
  std::vector<std::string> mentions;
  std::vector<std::string> build_mentions;
  std::optional<double> score;
  double max_seconds = 30;
  std::vector<std::string> must_not_exist;
  std::vector<std::string> targets;
  std::vector<std::string> leftovers;
  std::string pending;
  bool reduced = false;
  bool user_namespace = false;
  bool role_uids = false;
  std::string lab = "lab1";  // the lab the submission is graded as
  // Host services the test starts before the run, for the attack to try to reach: a TCP
  // listener on the host's 127.0.0.1, an abstract UNIX socket, a UNIX socket file.
  int listen_tcp = 0;
  std::string listen_abstract, listen_unix;
};

// Where a lab's handout and reference live, for the report's secrets checks.
struct LabFiles {
  std::string folder, source;
};
LabFiles lab_files(const std::string& lab) {
  if (lab == "lab6") return {"lab6-socket", "socklab.c"};
  return {"lab1-pipe", "pipeline.c"};
}

std::vector<std::string> strings_of(const toml::table& doc, const char* key) {
  std::vector<std::string> out;
  if (auto* array = doc[key].as_array())
    for (auto& v : *array) out.push_back(v.value_or(std::string()));
  return out;
}

Case read_case(const fs::path& dir) {
  Case c;
  c.name = dir.filename().string();
  c.dir = dir;
  auto doc = toml::parse_file((dir / "expect.toml").string());
  c.description = doc["description"].value_or(std::string());
  c.only = doc["only"].value_or(std::string());
  c.args = strings_of(doc, "args");
  for (auto& f : strings_of(doc, "fails")) c.fails.insert(f);
  if (auto* statuses = doc["statuses"].as_table())
    for (auto& [test, status] : *statuses) c.statuses[std::string(test.str())] = status.value_or(std::string());
  c.mentions = strings_of(doc, "mentions");
  c.build_mentions = strings_of(doc, "build_mentions");
  if (auto s = doc["score"].value<double>()) c.score = *s;
  c.max_seconds = doc["max_seconds"].value_or(30.0);
  c.must_not_exist = strings_of(doc, "must_not_exist");
  c.targets = strings_of(doc, "targets");
  c.leftovers = strings_of(doc, "leftovers");
  c.pending = doc["pending"].value_or(std::string());
  c.reduced = doc["reduced"].value_or(false);
  c.user_namespace = doc["user_namespace"].value_or(false);
  c.role_uids = doc["role_uids"].value_or(false);
  c.lab = doc["lab"].value_or(std::string("lab1"));
  c.listen_tcp = doc["listen_tcp"].value_or(0);
  c.listen_abstract = doc["listen_abstract"].value_or(std::string());
  c.listen_unix = doc["listen_unix"].value_or(std::string());
  return c;
}

enum class Level { full, reduced, user_namespace, role_uids };

std::string_view to_string(Level l) {
  return l == Level::full ? "full" : l == Level::reduced ? "reduced" : l == Level::user_namespace ? "user_namespace" : "role_uids";
}

// The case as it applies to one level: where the levels differ (sockets, the costs of one uid:
// docs/threat-model.md), `<level>_fails` (with `<level>_statuses`), `<level>_mentions`,
// `<level>_score`, `<level>_leftovers` and `<level>_build_mentions` replace the keys without the
// prefix.
Case for_level(Case c, Level level) {
  if (level == Level::full) return c;
  const std::string prefix = std::string(to_string(level)) + "_";
  auto doc = toml::parse_file((c.dir / "expect.toml").string());
  if (doc[prefix + "fails"].as_array()) {
    c.fails.clear();
    for (auto& f : strings_of(doc, (prefix + "fails").c_str())) c.fails.insert(f);
    c.statuses.clear();
    if (auto* statuses = doc[prefix + "statuses"].as_table())
      for (auto& [test, status] : *statuses) c.statuses[std::string(test.str())] = status.value_or(std::string());
  }
  if (doc[prefix + "mentions"].as_array()) c.mentions = strings_of(doc, (prefix + "mentions").c_str());
  if (auto s = doc[prefix + "score"].value<double>()) c.score = *s;
  if (doc[prefix + "leftovers"].as_array()) c.leftovers = strings_of(doc, (prefix + "leftovers").c_str());
  if (doc[prefix + "build_mentions"].as_array()) c.build_mentions = strings_of(doc, (prefix + "build_mentions").c_str());
  return c;
}

// A listening socket on the host, for as long as the test runs (connections queue in the
// backlog: nothing needs to accept them). Closed, and its file removed, at the end.
class HostListener {
 public:
  HostListener(int family, const std::string& where, int port) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    int rc = -1;
    if (family == AF_INET) {
      int one = 1;
      ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = htons(static_cast<uint16_t>(port));
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in);
    } else {
      sockaddr_un un{};
      un.sun_family = AF_UNIX;
      const bool abstract = where.starts_with("@");
      if (!abstract) ::unlink(where.c_str()), path_ = where;
      std::memcpy(un.sun_path, where.data(), std::min(where.size(), sizeof un.sun_path - 1));
      if (abstract) un.sun_path[0] = '\0';
      const socklen_t len = abstract ? static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + where.size())
                                     : static_cast<socklen_t>(sizeof un);
      rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&un), len);
      if (rc == 0 && !abstract) ::chmod(where.c_str(), 0666);  // as a cell's socket: any uid may connect
    }
    if (rc != 0 || ::listen(fd_, 16) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  HostListener(const HostListener&) = delete;
  HostListener& operator=(const HostListener&) = delete;
  ~HostListener() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string path_;
};

struct CaseRun {
  fs::path dir;
  Level level;
};

void PrintTo(const CaseRun& r, std::ostream* os) { *os << r.dir.filename().string() << " (" << to_string(r.level) << ")"; }

std::vector<CaseRun> corpus() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(source_dir() + "/tests/hostile"))
    if (entry.is_directory() && fs::exists(entry.path() / "expect.toml")) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  const char* every = std::getenv("IPCG_HOSTILE_EVERY_LEVEL");
  const bool every_level = every && std::string_view(every) == "1";
  std::vector<CaseRun> runs;
  for (const auto& d : dirs) {
    const Case c = read_case(d);
    runs.push_back({d, Level::full});
    if (c.reduced || every_level) runs.push_back({d, Level::reduced});
    if (c.user_namespace || every_level) runs.push_back({d, Level::user_namespace});
    if (c.role_uids || every_level) runs.push_back({d, Level::role_uids});
  }
  return runs;
}

// ---- running the grader with a deadline -----------------------------------------------------

struct Finished {
  pid_t pid = -1;      // the grader's
  int exit_code = -1;  // 128+N when killed by signal N
  bool overran = false;
  double seconds = 0;
  std::string out, err;
};

// Like run_grader(), but a grader that overruns `max_seconds` is killed (and the run reported)
// instead of hanging the test until ctest's timeout. TMPDIR is the folder where the grader makes
// its work folder: a private one per run, so that a grader running beside this test (its work
// folder in /tmp) cannot be taken for a leak of ours.
Finished run_grader_bounded(const std::string& grader, const std::vector<std::string>& args,
                            const std::vector<std::string>& extra_env, const std::string& tmpdir, double max_seconds,
                            std::optional<uid_t> as_uid) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  Finished f;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return f;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "TMPDIR=", 7) != 0 && !(as_uid && std::strncmp(*e, "HOME=", 5) == 0)) env.emplace_back(*e);
  env.emplace_back("TMPDIR=" + tmpdir);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<std::string> full{grader};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& a : full) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (as_uid && (::setgroups(0, nullptr) != 0 || ::setresgid(*as_uid, *as_uid, *as_uid) != 0 ||
                   ::setresuid(*as_uid, *as_uid, *as_uid) != 0))
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  f.pid = pid;
  ::close(out[1]);
  ::close(err[1]);
  const auto deadline = start + std::chrono::duration<double>(max_seconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline && !f.overran) {
      f.overran = true;
      ::kill(pid, SIGKILL);  // its keepers die with it (parent-death signal)
    }
    // After a kill, give the pipes 10 s to close: a write end held elsewhere is itself a leak.
    const auto wake = f.overran ? deadline + std::chrono::seconds(10) : deadline;
    if (f.overran && now >= wake) break;
    const int ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wake - now).count());
    if (::poll(fds, 2, std::max(ms, 1)) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) (i == 0 ? f.out : f.err).append(buf, static_cast<size_t>(r));
      if (r <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto& p : fds)
    if (p.fd >= 0) ::close(p.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return f;
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  const size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// ---- the host's state -----------------------------------------------------------------------

struct HostState {
  std::set<std::string> sysv, mqueue, shm;
};

HostState host_state() {
  HostState s;
  s.sysv = sysv_objects();
  s.mqueue = posix_queues();
  s.shm = dir_entries("/dev/shm");
  return s;
}

std::vector<std::string> added(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::vector<std::string> out;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(out));
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

struct ProcEntry {
  pid_t ppid = 0;
  std::string comm;
  bool sandbox_uid = false;
  long uid = -1;
  std::set<long> uids;  // real, effective, saved, filesystem
};

// Every process of the host: parent, name, and whether any of its uids (real, effective, saved,
// filesystem) is a sandbox uid.
std::map<pid_t, ProcEntry> process_table() {
  std::map<pid_t, ProcEntry> table;
  DIR* dir = ::opendir("/proc");
  if (!dir) return table;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string status = read_file(std::string("/proc/") + e->d_name + "/status");
    auto field = [&](const char* key) {
      const size_t at = status.find(std::string("\n") + key + ":");
      if (at == std::string::npos) return std::string();
      const size_t from = at + std::strlen(key) + 2;
      return trimmed(status.substr(from, status.find('\n', from) - from));
    };
    if (status.empty()) continue;
    ProcEntry p;
    p.comm = status.rfind("Name:", 0) == 0 ? trimmed(status.substr(5, status.find('\n') - 5)) : "";
    p.ppid = static_cast<pid_t>(std::atol(field("PPid").c_str()));
    std::istringstream uids(field("Uid"));
    for (long uid; uids >> uid;) {
      p.uids.insert(uid);
      if (uid >= kSandboxUidFirst && uid <= kSandboxUidLast) {
        p.sandbox_uid = true;
        p.uid = uid;
      }
    }
    table[static_cast<pid_t>(std::atol(e->d_name))] = p;
  }
  ::closedir(dir);
  return table;
}

// Whether a sandbox-uid process belongs to another grader that is still running (a test beside
// this one): an ancestor is a keeper or a grader that is not a child of this test. Everything of
// our own run has its grader gone by now, so what is left of it re-parented to this subreaper,
// or to the host's init if something got past it: counted as ours.
bool belongs_to_another_grader(pid_t pid, const std::map<pid_t, ProcEntry>& table) {
  const pid_t self = ::getpid();
  for (int depth = 0; depth < 64; ++depth) {
    auto it = table.find(pid);
    if (it == table.end() || pid <= 1 || pid == self) return false;
    const pid_t parent = it->second.ppid;
    if (depth > 0 && (it->second.comm == "ipcg-keeper" || it->second.comm == "grader")) return parent != self;
    pid = parent;
  }
  return false;
}

// Every process with a sandbox uid that is not another running grader's, described.
std::vector<std::string> sandbox_uid_processes() {
  std::vector<std::string> found;
  const auto table = process_table();
  for (const auto& [pid, p] : table) {
    if (!p.sandbox_uid || belongs_to_another_grader(pid, table)) continue;
    std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    found.push_back("pid " + std::to_string(pid) + " (ppid " + std::to_string(p.ppid) + ", uid " +
                    std::to_string(p.uid) + "): " + cmdline);
  }
  return found;
}

// The processes one of whose uids is `uid`, by pid, described; without those that descend from a
// process other than init and this test that existed before the run (`before`: another user's
// session, a benchmark of nobody's beside this test).
std::map<pid_t, std::string> processes_of_uid(uid_t uid, const std::set<pid_t>& before = {}) {
  std::map<pid_t, std::string> found;
  const auto table = process_table();
  const auto foreign = [&](pid_t pid) {
    for (int depth = 0; depth < 64 && pid > 1 && pid != ::getpid(); ++depth) {
      if (before.count(pid)) return true;
      auto it = table.find(pid);
      if (it == table.end()) return false;
      pid = it->second.ppid;
    }
    return false;
  };
  for (const auto& [pid, p] : table) {
    if (!p.uids.count(uid) || foreign(pid)) continue;
    std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    found[pid] = "pid " + std::to_string(pid) + " (ppid " + std::to_string(p.ppid) + "): " + cmdline;
  }
  return found;
}

// The cgroups a grader made are named ipcgrade-<its pid>-<n> (harness/sandbox/cgroup.cpp): any of
// them still there after it exited is ours, whatever else runs beside this test.
void find_cgroups(const fs::path& dir, const std::string& prefix, int depth, std::vector<std::string>& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().string());
    else if (depth > 0) find_cgroups(e.path(), prefix, depth - 1, out);
  }
}

// A host path the attack tries to create: where it stood before the run.
struct Watched {
  fs::path path;
  bool existed = false;
  struct stat st {};
};

fs::path resolve(const Case& c, const std::string& path) {
  return path.starts_with("/") ? fs::path(path) : c.dir / path;
}

// ---- secrets --------------------------------------------------------------------------------

// The lab's hidden tests, by name: a report of a run that did not select them must not name them.
std::vector<std::string> hidden_test_names(const std::string& lab) {
  std::vector<std::string> names;
  auto doc = toml::parse_file(source_dir() + "/labs/" + lab_files(lab).folder + "/lab.toml");
  if (auto* tests = doc["tests"].as_array())
    for (auto& t : *tests)
      if (auto* table = t.as_table(); table && (*table)["visibility"].value_or(std::string()) == "hidden")
        names.push_back((*table)["name"].value_or(std::string()));
  return names;
}

// Lines of the reference solution that the case's own source does not contain (the hostile
// sources are copies of the reference, and compiler messages may quote them): the longest ones.
std::vector<std::string> reference_only_lines(const fs::path& submission, const std::string& lab) {
  const LabFiles files = lab_files(lab);
  const std::string own = read_file((submission / files.source).string());
  std::istringstream in(read_file(source_dir() + "/reference/" + files.folder + "/" + files.source));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    line = trimmed(line);
    if (line.size() >= 30 && own.find(line) == std::string::npos) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  if (lines.size() > 5) lines.resize(5);
  return lines;
}

std::string shadow_first_line() {
  std::istringstream in(read_file("/etc/shadow"));
  std::string line;
  std::getline(in, line);
  return line;
}

std::string fresh_token() {
  std::random_device rd;
  std::ostringstream s;
  s << "ipcg-secret-" << std::hex << rd() << rd();
  return s.str();
}

// ---- the report -----------------------------------------------------------------------------

std::string test_text(const nlohmann::json& t) {
  std::string text = t.value("message", "");
  for (const auto& line : t.value("evidence", nlohmann::json::array())) text += "\n" + line.get<std::string>();
  return text;
}

// ---- the test -------------------------------------------------------------------------------

class HostileSubmission : public ::testing::TestWithParam<CaseRun> {};

constexpr uid_t kNobody = ipcg::testing::NobodysInstall::kNobody;

TEST_P(HostileSubmission, IsContained) {
  ASSERT_EQ(::geteuid(), 0u) << "the corpus checks full isolation and slot uids: run it as root";
  const CaseRun run = GetParam();
  Case c = for_level(read_case(run.dir), run.level);
  SCOPED_TRACE(c.name + " (" + std::string(to_string(run.level)) + "): " + c.description);
  const bool as_nobody = run.level == Level::user_namespace || run.level == Level::role_uids;
  std::optional<ipcg::testing::NobodysInstall> copy;
  std::optional<ipcg::testing::SubordinateIds> subordinate_ids;  // restored when the test ends
  if (run.level == Level::role_uids) {
    subordinate_ids.emplace();
    ASSERT_TRUE(subordinate_ids->ok()) << "could not add nobody's range to /etc/subuid and /etc/subgid";
  }
  if (as_nobody) {
    copy.emplace(source_dir(), IPCG_BINARY_DIR, IPCG_GRADER, std::vector<fs::path>{c.dir});
    ASSERT_TRUE(copy->ok()) << "could not copy the grader where nobody may read it";
    c.dir = copy->submission(c.name);  // relative paths of the case are the graded copy's
  }
  std::vector<std::unique_ptr<HostListener>> listeners;
  if (c.listen_tcp) listeners.push_back(std::make_unique<HostListener>(AF_INET, "", c.listen_tcp));
  if (!c.listen_abstract.empty()) listeners.push_back(std::make_unique<HostListener>(AF_UNIX, "@" + c.listen_abstract, 0));
  if (!c.listen_unix.empty()) listeners.push_back(std::make_unique<HostListener>(AF_UNIX, c.listen_unix, 0));
  for (const auto& l : listeners) ASSERT_TRUE(l->ok()) << "could not start the host service the attack aims at";

  // Before: what the attack must not change.
  ASSERT_TRUE(sandbox_uid_processes().empty())
      << "sandbox-uid processes before the run (another grader running?): " << joined(sandbox_uid_processes());
  const HostState before = host_state();
  std::set<pid_t> pids_before;
  for (const auto& [pid, p] : process_table()) pids_before.insert(pid);
  std::vector<Watched> watched;
  for (const auto& p : c.must_not_exist) {
    Watched w{resolve(c, p)};
    w.existed = ::lstat(w.path.c_str(), &w.st) == 0;
    watched.push_back(w);
  }
  std::map<fs::path, ino_t> targets;
  for (const auto& t : c.targets) {
    const fs::path path = resolve(c, t);
    fs::create_directories(path.parent_path());
    fs::permissions(path.parent_path(), fs::perms(0755));
    fs::remove(path);
    std::ofstream(path) << kTargetContent;
    fs::permissions(path, fs::perms(0644));
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    targets[path] = st.st_ino;
  }
  const std::string token = fresh_token();
  // The grader's TMPDIR: 0711 like /tmp's sticky folder is traversable, so that reduced mode's
  // slot uids reach the work folder inside it.
  std::string tmpdir_template = "/tmp/ipcg-hostile-tmp-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpdir_template.data()), nullptr);
  const std::string tmpdir = tmpdir_template;
  ::chmod(tmpdir.c_str(), 0711);
  if (as_nobody) {
    ASSERT_EQ(::chown(tmpdir.c_str(), kNobody, kNobody), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // so that a change shows in mtime
  struct stat tmpdir_before {};
  ::stat(tmpdir.c_str(), &tmpdir_before);

  std::vector<std::string> args{"run", c.lab, "--submission", c.dir.string(), "--format", "json",
                                "--seed", "7", "--show-hidden"};
  if (!c.only.empty()) args.insert(args.end(), {"--only", c.only});
  args.insert(args.end(), c.args.begin(), c.args.end());
  if (run.level == Level::reduced) args.push_back("--reduced");
  std::vector<std::string> env{"IPCG_HOSTILE_SECRET=" + token};
  if (as_nobody) {
    const auto nobodys = copy->env();
    env.insert(env.end(), nobodys.begin(), nobodys.end());
  }
  const Finished f = run_grader_bounded(as_nobody ? copy->grader_path().string() : IPCG_GRADER, args, env, tmpdir,
                                        c.max_seconds, as_nobody ? std::optional<uid_t>(kNobody) : std::nullopt);

  // 3. Containment, checked first: whatever the verdict, nothing may outlive the grader. The
  // checks run after the grader has exited, so any process of the run that still exists escaped.
  const auto orphans = leftover_children();
  EXPECT_TRUE(orphans.empty()) << orphans.size() << " processes of the run re-parented to the test";
  for (pid_t pid : orphans) {  // ours: end them so they do not poison the next case
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  const auto strays = sandbox_uid_processes();
  EXPECT_TRUE(strays.empty()) << "processes of sandbox uids alive after the grader exited: " << joined(strays);
  if (as_nobody) {
    std::vector<std::string> new_ones;
    for (const auto& [pid, what] : processes_of_uid(kNobody, pids_before)) {
      new_ones.push_back(what);
      ::kill(pid, SIGKILL);
    }
    EXPECT_TRUE(new_ones.empty()) << "processes of nobody's alive after the grader exited: " << joined(new_ones);
  }
  if (run.level == Level::role_uids) {  // the roles' uids on the host: nobody's subordinate ids
    std::vector<std::string> new_ones;
    for (uid_t uid = ipcg::testing::SubordinateIds::kStart; uid < ipcg::testing::SubordinateIds::kStart + 3; ++uid)
      for (const auto& [pid, what] : processes_of_uid(uid, pids_before)) {
        new_ones.push_back(what);
        ::kill(pid, SIGKILL);
      }
    EXPECT_TRUE(new_ones.empty()) << "processes of the roles' subordinate uids alive after the grader exited: "
                                  << joined(new_ones);
  }

  std::vector<std::string> cgroups;
  find_cgroups("/sys/fs/cgroup", "ipcgrade-" + std::to_string(f.pid) + "-", 4, cgroups);
  EXPECT_TRUE(cgroups.empty()) << "cgroups of the grader left behind: " << joined(cgroups);

  const HostState after = host_state();
  EXPECT_TRUE(added(before.sysv, after.sysv).empty()) << "new SysV IPC objects: " << joined(added(before.sysv, after.sysv));
  EXPECT_TRUE(added(before.mqueue, after.mqueue).empty())
      << "new POSIX message queues: " << joined(added(before.mqueue, after.mqueue));
  EXPECT_TRUE(added(before.shm, after.shm).empty()) << "new entries in /dev/shm: " << joined(added(before.shm, after.shm));
  // The work folder was made in TMPDIR (its mtime moved) and is gone.
  const auto left_in_tmpdir = dir_entries(tmpdir);
  EXPECT_TRUE(left_in_tmpdir.empty()) << "left in the grader's TMPDIR " << tmpdir << ": "
                                      << joined({left_in_tmpdir.begin(), left_in_tmpdir.end()});
  struct stat tmpdir_after {};
  ::stat(tmpdir.c_str(), &tmpdir_after);
  EXPECT_TRUE(tmpdir_after.st_mtim.tv_sec != tmpdir_before.st_mtim.tv_sec ||
              tmpdir_after.st_mtim.tv_nsec != tmpdir_before.st_mtim.tv_nsec)
      << "the grader made no work folder in TMPDIR: the work-folder check looked in the wrong place";
  {
    std::error_code ec;
    fs::remove_all(tmpdir, ec);
  }
  // The attack's own names are removed so that a failure does not poison later cases.
  for (const auto& name : added(before.shm, after.shm))
    if (name.find("ipcg-hostile") != std::string::npos) fs::remove("/dev/shm/" + name);
  for (const auto& name : added(before.mqueue, after.mqueue))
    if (name.find("ipcg-hostile") != std::string::npos) ::mq_unlink(("/" + name).c_str());

  for (const auto& w : watched) {
    struct stat now {};
    const bool exists = ::lstat(w.path.c_str(), &now) == 0;
    if (!w.existed) {
      EXPECT_FALSE(exists) << w.path << " was created on the host by the submission";
      std::error_code ec;
      if (exists) fs::remove_all(w.path, ec);
    } else {
      EXPECT_TRUE(exists && now.st_ino == w.st.st_ino && now.st_size == w.st.st_size &&
                  now.st_mtim.tv_sec == w.st.st_mtim.tv_sec && now.st_mtim.tv_nsec == w.st.st_mtim.tv_nsec)
          << w.path << " existed before the run and was changed";
    }
  }
  for (const auto& [path, inode] : targets) {
    struct stat st {};
    EXPECT_TRUE(::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == inode)
        << path << ": the host canary was replaced or removed";
    EXPECT_EQ(read_file(path.string()), kTargetContent) << path << ": the host canary was written";
  }
  for (const auto& [path, inode] : targets) {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path.parent_path(), ec);  // only when empty
  }

  // 1. The grader finished normally, in time, with one JSON document on stdout.
  ASSERT_FALSE(f.overran) << "the grader did not finish within max_seconds = " << c.max_seconds << "\n" << f.err;
  EXPECT_LE(f.seconds, c.max_seconds);
  const int want_exit = c.fails.empty() ? 0 : 1;
  ASSERT_TRUE(f.exit_code == 0 || f.exit_code == 1)
      << "the grader failed itself (exit " << f.exit_code << "):\n" << f.err << f.out.substr(0, 4000);
  EXPECT_EQ(f.exit_code, want_exit);
  EXPECT_LT(f.out.size(), kMaxReportBytes) << "the report grew with what the submission printed";
  nlohmann::json report;
  ASSERT_NO_THROW(report = nlohmann::json::parse(f.out)) << f.out.substr(0, 4000);
  EXPECT_EQ(report["seed"], 7);
  if (as_nobody && report["isolation"]["setting"] == "user namespaces refused") {
    GTEST_SKIP() << "this host refuses unprivileged user namespaces: " << report["isolation"]["reason"];
  }
  if (run.level == Level::role_uids) {
    EXPECT_EQ(report["isolation"]["setting"], "user namespace");
  }
  EXPECT_EQ(report["isolation"]["level"], run.level == Level::reduced          ? "reduced"
                                          : run.level == Level::user_namespace ? "user_namespace_without_role_uids"
                                                                               : "full");

  // Nothing forged: the student's bytes are inside JSON strings, escaped.
  std::istringstream lines(f.out);
  for (std::string line; std::getline(lines, line);) {
    const std::string t = trimmed(line);
    EXPECT_FALSE(t.starts_with("::") || t.starts_with("score") || t.starts_with("[  ") || t.starts_with("[=="))
        << "a forged line on the grader's stdout: " << line;
  }
  EXPECT_EQ(f.out.find('\x1b'), std::string::npos) << "a raw escape sequence on the grader's stdout";
  EXPECT_EQ(f.out.find('\r'), std::string::npos) << "a raw carriage return on the grader's stdout";

  // Nothing secret in the report (nor in the grader's stderr).
  const std::string everything = f.out + f.err;
  std::set<std::string> ran;
  for (const auto& t : report["tests"]) ran.insert(t["name"].get<std::string>());
  for (const auto& hidden : hidden_test_names(c.lab)) {
    if (ran.count(hidden)) continue;
    EXPECT_EQ(everything.find(hidden), std::string::npos)
        << "the name of the unselected hidden test '" << hidden << "' (from lab.toml) reached the report";
  }
  for (const auto& line : reference_only_lines(c.dir, c.lab))
    EXPECT_EQ(everything.find(line), std::string::npos) << "a line of the reference solution reached the report: " << line;
  const std::string shadow = shadow_first_line();
  if (!shadow.empty()) {
    EXPECT_EQ(everything.find(shadow), std::string::npos) << "/etc/shadow reached the report";
  }
  EXPECT_EQ(everything.find("root:"), std::string::npos) << "\"root:\" (as in /etc/shadow) reached the report";
  EXPECT_EQ(everything.find(token), std::string::npos) << "the grader's environment reached the report";

  // 2. The verdict.
  std::set<std::string> failed;
  std::string failed_text;
  double sum = 0;
  bool leftovers_reported = true;
  std::vector<std::string> leftover_lines;
  for (const auto& t : report["tests"]) {
    const std::string name = t["name"];
    const std::string status = t["status"];
    sum += t["score"].get<double>();
    if (!t.contains("leftovers")) leftovers_reported = false;
    else
      for (const auto& l : t["leftovers"]) leftover_lines.push_back(name + ": " + l.get<std::string>());
    if (status == "error") ADD_FAILURE() << name << ": the grader could not run the test: " << test_text(t);
    if (status == "passed" || status == "skipped") continue;
    failed.insert(name);
    failed_text += name + " [" + status + "] " + test_text(t) + "\n";
    EXPECT_EQ(t["score"], 0) << name;
  }
  EXPECT_EQ(failed, c.fails) << failed_text;
  for (const auto& [test, status] : c.statuses) {
    bool found = false;
    for (const auto& t : report["tests"])
      if (t["name"] == test) {
        found = true;
        EXPECT_EQ(t["status"], status) << test << ": " << test_text(t);
      }
    EXPECT_TRUE(found) << "no test named " << test << " in the report";
  }
  for (const auto& m : c.mentions)
    EXPECT_NE(failed_text.find(m), std::string::npos) << "missing '" << m << "' in:\n" << failed_text;
  const std::string build_output = report["build"]["output"];
  for (const auto& m : c.build_mentions)
    EXPECT_NE(build_output.find(m), std::string::npos) << "missing '" << m << "' in the build output:\n"
                                                       << build_output.substr(0, 3000);
  EXPECT_DOUBLE_EQ(report["score"].get<double>(), sum);
  if (c.score) {
    EXPECT_DOUBLE_EQ(report["score"].get<double>(), *c.score);
  }
  if (c.fails.empty()) {
    EXPECT_EQ(report["score"], report["max_score"]);
  }

  // 4. Leftovers: named in the report, and only where declared.
  if (!leftovers_reported) {
    if (!c.pending.empty()) GTEST_SKIP() << "leftovers assertion pending (" << c.pending
                                         << "): the report has no tests[].leftovers yet";
    ADD_FAILURE() << "the report has no tests[].leftovers field";
    return;
  }
  for (const auto& want : c.leftovers) {
    const bool named = std::any_of(leftover_lines.begin(), leftover_lines.end(),
                                   [&](const std::string& l) { return l.find(want) != std::string::npos; });
    EXPECT_TRUE(named) << "leftover '" << want << "' not reported; reported: " << joined(leftover_lines);
  }
  if (c.leftovers.empty()) {
    EXPECT_TRUE(leftover_lines.empty()) << "undeclared leftovers: " << joined(leftover_lines);
  }
}

std::string case_name(const ::testing::TestParamInfo<CaseRun>& info) {
  std::string name = info.param.dir.filename().string();
  if (info.param.level != Level::full) name += "_" + std::string(to_string(info.param.level));
  for (auto& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileSubmission, ::testing::ValuesIn(corpus()), case_name);

}  // namespace
