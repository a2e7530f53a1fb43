// Sandbox tests with real processes. The helper programs are this binary re-exec'ed with
// --helper=NAME (dispatched before main), so every test needs nothing but a Debian base system.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <gtest/gtest.h>

// g++ 12 warns about members left out of designated initializers, the idiom these tests use.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/sandbox/sandbox.hpp"

#include "sandbox_test_support.hpp"

namespace ipcg_test {
namespace {

// ---- helper programs (run inside the sandbox) -------------------------------------------------

int helper_socket(const std::string& kind) {
  long family = AF_UNIX;
  if (kind == "inet") family = AF_INET;
  // The same family with high bits set: the kernel truncates to int and sees AF_INET.
  if (kind == "inet_high") family = (1L << 32) | AF_INET;
  const long fd = ::syscall(SYS_socket, family, SOCK_STREAM, 0);
  if (fd >= 0) return 0;
  return errno == EPERM ? 1 : 2;
}

int helper_alloc(long mib) {
  char* p = static_cast<char*>(std::malloc(static_cast<size_t>(mib) << 20));
  if (!p) return 3;
  // Through a volatile pointer: the compiler may drop a memset of memory freed right after.
  volatile char* touch = p;
  for (size_t i = 0; i < (static_cast<size_t>(mib) << 20); i += 4096) touch[i] = 1;
  std::free(p);
  return 0;
}

int helper_writefile(const std::string& path, long bytes) {
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return 5;
  char buf[4096];
  std::memset(buf, 'x', sizeof buf);
  for (long done = 0; done < bytes; done += static_cast<long>(sizeof buf))
    if (::write(fd, buf, sizeof buf) < 0) return 4;  // EFBIG once SIGXFSZ is ignored
  return 0;
}

// A daemon in the classic way: fork, setsid, fork again, the middle one exits. The daemon
// prints its pid, the target "reaped" once the middle one is gone; the daemon waits forever.
int helper_daemon(const std::string& then) {
  const pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    if (::fork() == 0) {
      std::printf("%d\n", ::getpid());
      std::fflush(stdout);
      for (;;) ::pause();
    }
    ::_exit(0);
  }
  ::waitpid(middle, nullptr, 0);
  std::printf("reaped\n");
  std::fflush(stdout);
  if (then == "exit") return 0;
  for (;;) ::pause();
}

// The classic hang: a read of a pipe whose write end the reader itself keeps. With "alarm", a
// SIGALRM handler and an alarm far off first: a wait an alarm may end, so never judged hung.
void on_alarm(int) {}
int helper_selfpipe(bool alarm) {
  if (alarm) {
    ::signal(SIGALRM, on_alarm);
    ::alarm(100);
  }
  int p[2];
  if (::pipe(p) != 0) return 2;
  char c;
  return ::read(p[0], &c, 1) == 1 ? 0 : 3;
}

int helper_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  std::vector<int> fds;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.' && std::atoi(e->d_name) != ::dirfd(dir)) fds.push_back(std::atoi(e->d_name));
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  for (int fd : fds) std::printf("%d ", fd);
  return 0;
}

int helper_write_fds(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    const int fd = std::atoi(a.c_str());
    const std::string line = "fd" + a + "\n";
    if (::write(fd, line.data(), line.size()) < 0) return 6;
  }
  return 0;
}

// TCP over 127.0.0.1 works only if the sandbox brought lo up in its network namespace.
int helper_loopback() {
  const int server = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (server < 0 || ::bind(server, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(server, 1) != 0)
    return 7;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::printf("%s", std::strerror(errno));
    return 8;
  }
  return 0;
}

// Cell helpers: who am I, can I signal pid N, make or find IPC objects.
int helper_kill(pid_t pid) {
  if (::kill(pid, SIGKILL) == 0) return 0;
  std::printf("%s", std::strerror(errno));
  return errno == EPERM ? 1 : 2;
}

int helper_sysv_make(key_t key) { return ::msgget(key, IPC_CREAT | 0600) >= 0 ? 0 : 1; }

// 0: the queue exists (EACCES counts: it is someone else's), 1: it does not.
int helper_sysv_find(key_t key) { return ::msgget(key, 0) >= 0 || errno == EACCES ? 0 : 1; }

// Leaves one object of every kind behind; the names carry `tag` so parallel runs don't collide.
int helper_ipc_leave(const std::string& tag, bool fifo) {
  const key_t key = static_cast<key_t>(std::stol(tag));
  if (::msgget(key, IPC_CREAT | 0600) < 0) return 1;
  if (::semget(key, 1, IPC_CREAT | 0600) < 0) return 2;
  if (::shmget(key, 4096, IPC_CREAT | 0600) < 0) return 3;
  const std::string name = "/ipcg-test-" + tag;
  const int shm = ::shm_open(name.c_str(), O_CREAT | O_RDWR, 0600);
  if (shm < 0) return 4;
  mq_attr attr{};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  if (::mq_open(name.c_str(), O_CREAT | O_RDWR, 0600, &attr) == static_cast<mqd_t>(-1)) return 5;
  if (fifo && ::mkfifo(("/tmp/ipcg-fifo-" + tag).c_str(), 0600) != 0) return 6;
  return 0;
}

// Makes a POSIX queue holding 2 messages, a SysV queue holding 3 and a FIFO, says "ready", then
// waits for a line on stdin: "remove" removes all three and says "removed"; it then waits for
// EOF. Each step is announced, so the test synchronizes on the lines, never on time.
int helper_ipc_hold(const std::string& posix, key_t key, const std::string& fifo) {
  mq_attr attr{};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  const mqd_t q = ::mq_open(posix.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  if (q == static_cast<mqd_t>(-1)) return 1;
  for (int i = 0; i < 2; ++i)
    if (::mq_send(q, "job", 3, 0) != 0) return 2;
  const int id = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return 3;
  struct {
    long type;
    char text[8];
  } m{1, "req"};
  for (int i = 0; i < 3; ++i)
    if (::msgsnd(id, &m, 4, 0) != 0) return 4;
  if (::mkfifo(fifo.c_str(), 0600) != 0) return 5;
  std::printf("ready\n");
  std::fflush(stdout);
  if (read_line(0) != "remove") return 0;
  if (::mq_unlink(posix.c_str()) != 0 || ::msgctl(id, IPC_RMID, nullptr) != 0 || ::unlink(fifo.c_str()) != 0) return 6;
  std::printf("removed\n");
  std::fflush(stdout);
  read_line(0);
  return 0;
}

// Three processes blocked on IPC objects: one opening a FIFO nobody writes, one receiving from an
// empty POSIX queue, one (the first) in msgrcv for mtype 43 on a SysV queue holding types 1 and 2.
int helper_ipc_block(const std::string& posix, key_t key, const std::string& fifo) {
  mq_attr attr{};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  const mqd_t q = ::mq_open(posix.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  const int id = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  if (q == static_cast<mqd_t>(-1) || id < 0 || ::mkfifo(fifo.c_str(), 0600) != 0) return 1;
  struct {
    long type;
    char text[8];
  } m{1, "reply"};
  for (long type : {1L, 2L}) {
    m.type = type;
    if (::msgsnd(id, &m, 6, 0) != 0) return 2;
  }
  if (::fork() == 0) {
    (void)!::open(fifo.c_str(), O_RDONLY);
    ::_exit(0);
  }
  if (::fork() == 0) {
    char buf[64];
    (void)!::mq_receive(q, buf, sizeof buf, nullptr);
    ::_exit(0);
  }
  (void)!::msgrcv(id, &m, sizeof m.text, 43, 0);
  return 0;
}

int run_helper(const std::vector<std::string>& a) {
  const std::string& name = a[0];
  if (name == "uid") {
    std::printf("%u", ::getuid());
    return 0;
  }
  if (name == "kill") return helper_kill(static_cast<pid_t>(std::atol(a.at(1).c_str())));
  if (name == "sysv_make") return helper_sysv_make(static_cast<key_t>(std::stol(a.at(1))));
  if (name == "sysv_find") return helper_sysv_find(static_cast<key_t>(std::stol(a.at(1))));
  if (name == "ipc_leave") return helper_ipc_leave(a.at(1), a.size() > 2 && a[2] == "fifo");
  if (name == "ipc_block") return helper_ipc_block(a.at(1), static_cast<key_t>(std::stol(a.at(2))), a.at(3));
  if (name == "ipc_hold") return helper_ipc_hold(a.at(1), static_cast<key_t>(std::stol(a.at(2))), a.at(3));
  if (name == "ptrace") return static_cast<int>(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)) == 0 ? 0 : 9;
  if (name == "socket") return helper_socket(a.at(1));
  if (name == "alloc") return helper_alloc(std::atol(a.at(1).c_str()));
  if (name == "writefile") return helper_writefile(a.at(1), std::atol(a.at(2).c_str()));
  if (name == "spin") {
    volatile unsigned long spins = 0;
    for (;;) spins = spins + 1;
  }
  if (name == "forkbomb") for (;;) ::fork();
  if (name == "daemon") return helper_daemon(a.at(1));
  if (name == "selfpipe") return helper_selfpipe(a.size() > 1 && a[1] == "alarm");
  if (name == "fds") return helper_fds();
  if (name == "write_fds") return helper_write_fds({a.begin() + 1, a.end()});
  if (name == "loopback") return helper_loopback();
  std::fprintf(stderr, "unknown helper %s\n", name.c_str());
  return 99;
}

// Runs before gtest's main: a re-exec'ed helper never reaches it.
const bool g_is_helper = [] {
  const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  std::string text;
  char buf[4096];
  for (ssize_t n; fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  if (fd >= 0) ::close(fd);
  std::vector<std::string> args;
  for (size_t i = 0; i < text.size();) {
    const size_t end = text.find('\0', i);
    args.push_back(text.substr(i, end - i));
    i = end == std::string::npos ? text.size() : end + 1;
  }
  if (args.size() < 2 || args[1].rfind("--helper=", 0) != 0) return false;
  std::vector<std::string> helper_args = {args[1].substr(9)};
  helper_args.insert(helper_args.end(), args.begin() + 2, args.end());
  if (helper_args[0] == "argv0") std::printf("%s\n", args[0].c_str());  // the path it was run as
  const int rc = helper_args[0] == "argv0" ? 0 : run_helper(helper_args);
  std::fflush(nullptr);  // _Exit does not flush stdio
  std::_Exit(rc);
}();

}  // namespace

// ---- shared with test_seccomp.cpp and test_execution.cpp -------------------------------------

namespace {

std::string real_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Can a slot uid reach `path`? Every folder on the way must be searchable by others.
bool reachable_by_others(const std::filesystem::path& path) {
  for (auto dir = path.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
  }
  return true;
}

}  // namespace

// The helpers run as a slot uid: when this binary lives under a private folder (a CI clone in a
// 0700 mktemp dir, /root), they run from a copy in a public one, removed when the test ends.
std::string self_exe() {
  static const std::string path = [] {
    const std::string exe = real_exe();
    if (exe.empty() || reachable_by_others(exe)) return exe;
    static const pid_t owner = ::getpid();
    const auto dir = std::filesystem::path("/var/tmp") / ("ipcg-test-" + std::to_string(owner));
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms(0755));
    const auto copy = dir / std::filesystem::path(exe).filename();
    std::filesystem::copy_file(exe, copy, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(copy, std::filesystem::perms(0755));
    std::atexit([] {
      if (::getpid() == owner) std::filesystem::remove_all("/var/tmp/ipcg-test-" + std::to_string(owner));
    });
    return copy.string();
  }();
  return path;
}

std::vector<std::string> helper(const std::string& name, std::vector<std::string> args) {
  std::vector<std::string> argv = {self_exe(), "--helper=" + name};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::optional<std::uint64_t> start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) return std::stoull(field);
  return std::nullopt;
}

std::optional<ProcId> proc_id(pid_t pid) {
  auto start = start_time(pid);
  if (!start) return std::nullopt;
  return ProcId{pid, *start};
}

bool still_exists(const ProcId& id) {
  auto start = start_time(id.pid);
  return start && *start == id.start;
}

std::string status_line(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return info.param == Mode::full ? "full" : "reduced";
}

Result<Sandbox> make_box(Mode mode, std::vector<std::string> sets) {
  // The filter is an allow-list: a test that names no sets gets what an ordinary lab grants
  // (/bin/sh pipelines, fork, listing folders).
  if (sets.empty()) sets = {"process", "file", "pipe"};
  // The helpers are this binary: the box must see it (and nothing else of the build tree).
  return Sandbox::create({.syscall_sets = std::move(sets),
                          .allow_namespaces = mode == Mode::full,
                          .readonly_paths = {self_exe()}});
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

int exit_code_of(SandboxedProcess& proc) {
  pollfd p{proc.exit_fd(), POLLIN, 0};
  ::poll(&p, 1, 10000);
  const auto status = proc.wait_status();
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

namespace {

// One sandbox per test, in the isolation level of the parameter.
class BoxTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    // Shells, pipelines and ls: what a lab allows, so these tests exercise the box, not the policy.
    auto created = make_box(GetParam(), {"process", "file", "pipe"});
    ASSERT_TRUE(created) << created.error().message;
    box.emplace(std::move(*created));
    if (GetParam() == Mode::full && box->isolation().level != IsolationLevel::full)
      GTEST_SKIP() << "full isolation unavailable here: " << box->isolation().reason;
  }
  std::optional<Sandbox> box;
};

// ---- isolation level ---------------------------------------------------------------------------

TEST(Isolation, DetectsRootAndNamespacesOrSaysWhyNot) {
  const IsolationInfo info = detect_isolation();
  if (::geteuid() != 0) {  // a user namespace of the cell's own (with role uids where newuidmap maps them), or why not
    const bool user_namespace = info.level == IsolationLevel::user_namespace_without_role_uids;
    const bool mapped = info.level == IsolationLevel::full;
    EXPECT_EQ(info.setting, mapped ? "user namespace" : user_namespace ? "unprivileged" : "user namespaces refused");
    EXPECT_FALSE(info.reason.empty());
    return;
  }
  EXPECT_EQ(info.setting, info.level == IsolationLevel::full ? "root" : "container without namespaces");
  EXPECT_EQ(info.reason.empty(), info.level == IsolationLevel::full) << info.reason;
}

TEST(Isolation, CallerCanForceReducedAndTheReasonSaysSo) {
  auto box = Sandbox::create({.allow_namespaces = false});
  ASSERT_TRUE(box) << box.error().message;
  EXPECT_EQ(box->isolation().level, IsolationLevel::reduced);
  EXPECT_FALSE(box->isolation().reason.empty());
  if (::geteuid() == 0) {
    EXPECT_NE(box->isolation().reason.find("namespaces disabled"), std::string::npos);
  }
  EXPECT_EQ(box->box_work_dir(), box->host_work_dir());
}

TEST(Isolation, EnvironmentVariableForcesReduced) {
  ::setenv("IPCGRADE_ISOLATION", "reduced", 1);
  const IsolationInfo info = detect_isolation();
  ::unsetenv("IPCGRADE_ISOLATION");
  EXPECT_EQ(info.level, IsolationLevel::reduced);
  if (::geteuid() == 0) {
    EXPECT_NE(info.reason.find("IPCGRADE_ISOLATION=reduced"), std::string::npos) << info.reason;
  }
}

// ---- work folder and slots --------------------------------------------------------------------

TEST(WorkDir, IsPrivateAndMapsIntoTheBox) {
  auto box = Sandbox::create({});
  ASSERT_TRUE(box) << box.error().message;
  struct stat st {};
  ASSERT_EQ(::lstat(box->host_work_dir().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  const auto inner = box->host_work_dir() / "bin" / "prog";
  if (box->isolation().level == IsolationLevel::full) {
    EXPECT_EQ(box->box_work_dir(), "/tmp/box");
    EXPECT_EQ(box->to_box(inner), "/tmp/box/bin/prog");
    EXPECT_EQ(box->to_box(box->host_work_dir()), "/tmp/box");
  } else {
    EXPECT_EQ(box->to_box(inner), inner);
  }
  EXPECT_EQ(box->to_box("/usr/bin/cc"), "/usr/bin/cc");
  EXPECT_FALSE(box->make_writable_dir("../escape"));
  EXPECT_FALSE(box->make_writable_dir("a/b"));
}

// A grader killed outright (scancel, a Slurm time limit) cannot remove its work folder; the next
// Sandbox made on the host removes it, without following what the box planted in it, and touches
// no folder of a grader alive nor any other name.
TEST(WorkDir, ADeadGradersWorkFolderGoesWithTheNextSandbox) {
  namespace fs = std::filesystem;
  char parent_templ[] = "/tmp/ipcg-workparent-XXXXXX";
  ASSERT_NE(::mkdtemp(parent_templ), nullptr);
  const fs::path parent = parent_templ;
  char outside_templ[] = "/tmp/ipcg-outside-XXXXXX";
  ASSERT_NE(::mkdtemp(outside_templ), nullptr);
  const fs::path outside = outside_templ;
  std::ofstream(outside / "keep") << "x";
  const pid_t dead = ::fork();  // a pid that answers no signal once reaped
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  const fs::path gone = parent / ("ipcgrade-" + std::to_string(dead) + "-AbC123");
  const fs::path alive = parent / ("ipcgrade-" + std::to_string(::getpid()) + "-AbC123");
  fs::create_directories(gone / "box" / "locked");
  std::ofstream(gone / "box" / "locked" / "file") << "x";
  fs::create_symlink(outside, gone / "box" / "escape");
  fs::permissions(gone / "box" / "locked", fs::perms::none);
  fs::create_directories(alive);
  fs::create_directories(parent / "ipcgrade-slots");
  {
    auto box = Sandbox::create({.work_parent = parent});
    ASSERT_TRUE(box) << box.error().message;
    EXPECT_EQ(box->host_work_dir().filename().string().rfind("ipcgrade-" + std::to_string(::getpid()) + "-", 0), 0u);
  }
  EXPECT_FALSE(fs::exists(gone));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(parent / "ipcgrade-slots"));
  EXPECT_TRUE(fs::exists(outside / "keep"));
  fs::remove_all(parent);
  fs::remove_all(outside);
}

TEST(WorkDir, WritableDirsBelongToTheSlotAndSlotsAreNeverShared) {
  if (::geteuid() != 0) GTEST_SKIP() << "slot uids need root";
  auto a = Sandbox::create({});
  auto b = Sandbox::create({});
  ASSERT_TRUE(a && b);
  auto da = a->make_writable_dir("out");
  auto db = b->make_writable_dir("out");
  ASSERT_TRUE(da && db);
  struct stat sa {}, sb {};
  ASSERT_EQ(::stat(da->c_str(), &sa), 0);
  ASSERT_EQ(::stat(db->c_str(), &sb), 0);
  EXPECT_GE(sa.st_uid, 61000u);
  EXPECT_GE(sb.st_uid, 61000u);
  EXPECT_NE(sa.st_uid, sb.st_uid);
  EXPECT_EQ(sa.st_mode & 07777, 0700u);
  auto ref = a->make_writable_dir("ref", Role::reference_build);
  ASSERT_TRUE(ref);
  struct stat sr {};
  ASSERT_EQ(::stat(ref->c_str(), &sr), 0);
  EXPECT_NE(sr.st_uid, sa.st_uid) << "the reference's build folder belongs to the student's uid";
}

// After its build, the reference's folder lets a student process run its programs and nothing
// else: no reading, no replacing, no new files; a symlink the build left is gone.
TEST(WorkDir, ASealedReferenceFolderIsExecuteOnlyForTheStudent) {
  if (::geteuid() != 0) GTEST_SKIP() << "role uids need root";
  auto box = Sandbox::create({.syscall_sets = {"process", "file", "pipe"}, .allow_namespaces = false});
  ASSERT_TRUE(box) << box.error().message;
  auto dir = box->make_writable_dir("reference", Role::reference_build);
  ASSERT_TRUE(dir);
  std::filesystem::copy_file("/bin/true", *dir / "prog");
  std::filesystem::permissions(*dir / "prog", std::filesystem::perms(0755));
  std::ofstream(*dir / "solution.c") << "int secret;\n";
  std::filesystem::create_symlink("/etc/passwd", *dir / "link");
  ASSERT_TRUE(box->seal_dir("reference", Role::reference_build));
  struct stat st {};
  EXPECT_NE(::lstat((*dir / "link").c_str(), &st), 0) << "the symlink survived the seal";
  ASSERT_EQ(::stat((*dir / "prog").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0711u);

  auto run = [&](std::vector<std::string> argv) {
    auto proc = box->spawn({.argv = std::move(argv)});
    return proc ? exit_code_of(*proc) : -1;
  };
  const std::string d = dir->string();
  EXPECT_EQ(run({d + "/prog"}), 0) << "a student process cannot run the reference's program";
  EXPECT_NE(run({"/bin/cat", d + "/solution.c"}), 0) << "a student process read the reference's source";
  EXPECT_NE(run({"/bin/cat", d + "/prog"}), 0) << "a student process read the reference's program";
  EXPECT_NE(run({"/bin/cp", "/bin/false", d + "/prog"}), 0) << "a student process replaced the reference's program";
  EXPECT_NE(run({"/bin/touch", d + "/new"}), 0) << "a student process wrote into the reference's folder";
}

// The grader compares a sealed reference folder with what it held when sealed, by each entry's
// inode and change time: a replaced, changed, added or removed entry is named.
TEST(WorkDir, AChangedReferenceFolderIsNamed) {
  auto box = Sandbox::create({.syscall_sets = {"process", "file", "pipe"}, .allow_namespaces = false});
  ASSERT_TRUE(box) << box.error().message;
  auto dir = box->make_writable_dir("reference", Role::reference_build);
  ASSERT_TRUE(dir);
  std::filesystem::copy_file("/bin/true", *dir / "prog");
  std::filesystem::copy_file("/bin/true", *dir / "other");
  std::filesystem::permissions(*dir / "prog", std::filesystem::perms(0755));
  std::filesystem::permissions(*dir / "other", std::filesystem::perms(0755));
  ASSERT_TRUE(box->seal_dir("reference", Role::reference_build));
  EXPECT_EQ(box->seal_broken("reference"), std::nullopt);
  EXPECT_EQ(box->seal_broken("student"), std::nullopt) << "a folder never sealed as a reference's";
  std::filesystem::copy_file("/bin/false", *dir / "prog.new");
  std::filesystem::rename(*dir / "prog.new", *dir / "prog");
  EXPECT_EQ(box->seal_broken("reference"), "prog was replaced");
  ASSERT_TRUE(box->seal_dir("reference", Role::reference_build));  // sealed again as it is now
  EXPECT_EQ(box->seal_broken("reference"), std::nullopt);
  ::chmod((*dir / "other").c_str(), 0777);
  EXPECT_EQ(box->seal_broken("reference"), "other was changed (its mode, owner or contents)");
  ASSERT_TRUE(box->seal_dir("reference", Role::reference_build));
  std::ofstream(*dir / "planted") << "x";
  EXPECT_EQ(box->seal_broken("reference"), "planted was added");
  std::filesystem::remove(*dir / "planted");
  std::filesystem::remove(*dir / "other");
  EXPECT_EQ(box->seal_broken("reference"), "other was removed");
}

TEST(WorkDir, RemovalDoesNotFollowSymlinksOut) {
  char outside_templ[] = "/tmp/ipcgrade-test-outside-XXXXXX";
  ASSERT_NE(::mkdtemp(outside_templ), nullptr);
  const std::string outside = outside_templ;
  std::ofstream(outside + "/precious") << "keep me";
  std::filesystem::path work;
  {
    auto box = Sandbox::create({});
    ASSERT_TRUE(box);
    work = box->host_work_dir();
    auto dir = box->make_writable_dir("out");
    ASSERT_TRUE(dir);
    std::filesystem::create_symlink(outside, *dir / "link");
    std::filesystem::create_directories(*dir / "deep" / "er");
    std::ofstream(*dir / "deep" / "er" / "file") << "x";
    ::chmod((*dir / "deep").c_str(), 0);  // the sandboxed code may lock a folder
  }
  EXPECT_FALSE(std::filesystem::exists(work));
  EXPECT_TRUE(std::filesystem::exists(outside + "/precious"));
  std::filesystem::remove_all(outside);
}

// ---- spawn, both isolation levels ---------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(Modes, BoxTest, ::testing::Values(Mode::full, Mode::reduced), mode_name);

// Waits for the target's exit through its pidfd and returns the status.
int wait_exit(SandboxedProcess& proc) {
  pollfd p{proc.exit_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  auto status = proc.wait_status();
  EXPECT_TRUE(status.has_value());
  return status.value_or(-1);
}

TEST_P(BoxTest, SpawnsEchoAndReportsItsStatus) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  auto proc = box->spawn({.argv = {"/bin/echo", "hello", "box"}, .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  EXPECT_EQ(read_all(out->read_end.get()), "hello box\n");
  const int status = wait_exit(*proc);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// Every rlimit the sandbox promises, as the kernel reports it to the process itself.
TEST_P(BoxTest, TheProcessRunsUnderEveryRlimit) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  Limits limits;
  limits.cpu_seconds = 3;
  limits.open_files = 40;
  auto proc = box->spawn({.argv = {"/bin/cat", "/proc/self/limits"}, .limits = limits,
                          .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  const std::string text = read_all(out->read_end.get());
  auto soft = [&](const std::string& name) {
    const size_t at = text.find(name);
    if (at == std::string::npos) return std::string("missing");
    std::istringstream fields(text.substr(at + name.size()));
    std::string value;
    fields >> value;
    return value;
  };
  EXPECT_EQ(soft("Max cpu time"), "3");
  EXPECT_EQ(soft("Max open files"), "40");
  EXPECT_EQ(soft("Max core file size"), "0");
  EXPECT_EQ(soft("Max msgqueue size"), "819200");
  EXPECT_EQ(soft("Max stack size"), std::to_string(8 << 20));
  EXPECT_NE(soft("Max processes"), "unlimited");
  EXPECT_NE(soft("Max file size"), "unlimited");
  EXPECT_NE(soft("Max address space"), "unlimited");
}

TEST_P(BoxTest, ReportsTheExitCodeAndSearchesPath) {
  auto proc = box->spawn({.argv = {"sh", "-c", "exit 7"}});
  ASSERT_TRUE(proc) << proc.error().message;
  const int status = wait_exit(*proc);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
}

TEST_P(BoxTest, ExecFailureIsAnErrorNotAnExitCode) {
  auto proc = box->spawn({.argv = {"/nonexistent/program"}});
  ASSERT_FALSE(proc);
  EXPECT_NE(proc.error().message.find("exec /nonexistent/program"), std::string::npos) << proc.error().message;
  EXPECT_NE(proc.error().message.find(std::strerror(ENOENT)), std::string::npos) << proc.error().message;
}

TEST_P(BoxTest, BadCwdIsAnError) {
  auto proc = box->spawn({.argv = {"/bin/true"}, .cwd = "/nonexistent-dir"});
  ASSERT_FALSE(proc);
  EXPECT_NE(proc.error().message.find("chdir"), std::string::npos) << proc.error().message;
}

// Mappings that swap two descriptors must not clobber each other, and nothing else leaks in.
TEST_P(BoxTest, MapsDescriptorsWithoutClobberingAndClosesTheRest) {
  auto a = make_pipe(), b = make_pipe(), out = make_pipe();
  ASSERT_TRUE(a && b && out);
  ASSERT_EQ(::dup2(a->write_end.get(), 57), 57);
  ASSERT_EQ(::dup2(b->write_end.get(), 58), 58);
  UniqueFd at57(57), at58(58);
  a->write_end.reset();
  b->write_end.reset();
  UniqueFd leaked(::open("/dev/null", O_RDONLY));  // no O_CLOEXEC: a careless spawn passes it on
  ASSERT_TRUE(leaked);
  auto proc = box->spawn({.argv = helper("write_fds", {"57", "58"}),
                          .fds = {{57, 58}, {58, 57}, {out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  at57.reset();
  at58.reset();
  out->write_end.reset();
  EXPECT_EQ(read_all(a->read_end.get()), "fd58\n");  // a was at 57 here, 58 in the child
  EXPECT_EQ(read_all(b->read_end.get()), "fd57\n");
  EXPECT_EQ(wait_exit(*proc), 0);

  auto listing_out = make_pipe();
  ASSERT_TRUE(listing_out);
  auto listing = box->spawn({.argv = helper("fds"), .fds = {{listing_out->write_end.get(), 1}, {leaked.get(), 5}}});
  ASSERT_TRUE(listing) << listing.error().message;
  listing_out->write_end.reset();
  EXPECT_EQ(read_all(listing_out->read_end.get()), "1 5 ");  // not 0, 2, nor the leaked fd's own number
}

TEST_P(BoxTest, SignalsAreResetForTheStudent) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  // The grader ignores SIGPIPE; that disposition survives exec unless the sandbox resets it.
  ::signal(SIGPIPE, SIG_IGN);
  auto proc = box->spawn({.argv = {"/bin/sh", "-c", "grep -E 'SigIgn|SigBlk' /proc/self/status"},
                          .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  EXPECT_EQ(read_all(out->read_end.get()), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

// A setsid'd, double-forked daemon is part of the tree, and kill_tree leaves nothing.
TEST_P(BoxTest, ProcessesIncludeASetsidDaemonAndKillTreeLeavesNothing) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  auto proc = box->spawn({.argv = helper("daemon", {"stay"}), .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  // Both lines: the daemon exists and has setsid'd, and the middle process is reaped.
  const std::string lines = read_line(out->read_end.get()) + " " + read_line(out->read_end.get());
  ASSERT_NE(lines.find("reaped"), std::string::npos) << lines;

  std::vector<ProcId> seen;
  for (pid_t pid : proc->processes())
    if (auto id = proc_id(pid)) seen.push_back(*id);
  ASSERT_EQ(seen.size(), 2u);  // the target and the daemon (the middle one was reaped)
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [&](const ProcId& p) { return p.pid == proc->pid(); }));
  const pid_t daemon = seen[0].pid == proc->pid() ? seen[1].pid : seen[0].pid;
  EXPECT_NE(status_line(daemon, "NSsid"), status_line(proc->pid(), "NSsid"));

  proc->kill_tree();
  for (const ProcId& p : seen) EXPECT_FALSE(still_exists(p)) << "pid " << p.pid << " survived";
  EXPECT_TRUE(proc->processes().empty());
}

// A grader killed outright (a crash, Ctrl-C) must not leave the student's tree behind.
TEST_P(BoxTest, TreeDiesWithTheGrader) {
  auto report = make_pipe();
  ASSERT_TRUE(report);
  const pid_t grader = ::fork();
  if (grader == 0) {  // a stand-in grader: spawn a tree, tell the test its pids, wait to be killed
    auto out = make_pipe();
    auto proc = box->spawn({.argv = helper("daemon", {"stay"}), .fds = {{out->write_end.get(), 1}}});
    if (!proc) ::_exit(1);
    out->write_end.reset();
    read_line(out->read_end.get());
    read_line(out->read_end.get());
    std::string pids;
    for (pid_t pid : proc->processes()) pids += std::to_string(pid) + " ";
    pids += "\n";
    if (::write(report->write_end.get(), pids.data(), pids.size()) < 0) ::_exit(2);
    for (;;) ::pause();
  }
  report->write_end.reset();
  std::istringstream line(read_line(report->read_end.get()));
  std::vector<ProcId> tree;
  for (pid_t pid; line >> pid;)
    if (auto id = proc_id(pid)) tree.push_back(*id);
  ASSERT_EQ(tree.size(), 2u);  // the target and its daemon
  ::kill(grader, SIGKILL);
  ::waitpid(grader, nullptr, 0);
  // The init notices (parent-death signal or EOF) and kills the tree: wait for that, bounded.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto alive = [&] { return std::count_if(tree.begin(), tree.end(), still_exists); };
  while (alive() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(alive(), 0);
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {  // the init, adopted by this subreaper
  }
  // The dead grader could not remove its cell's cgroups; the next Sandbox made as root does.
  if (::geteuid() == 0) {
    auto next = Sandbox::create({});
    ASSERT_TRUE(next) << next.error().message;
    const std::string prefix = "ipcgrade-" + std::to_string(grader) + "-";
    std::vector<std::string> left;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator("/sys/fs/cgroup", ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it.depth() > 4) it.disable_recursion_pending();
      if (it->path().filename().string().rfind(prefix, 0) == 0) left.push_back(it->path().string());
    }
    EXPECT_TRUE(left.empty()) << "a dead grader's cgroup stayed: " << left.front();
  }
}

// The documented caveat: the init's parent-death signal follows the thread that spawned it.
TEST_P(BoxTest, TreeDiesWithTheThreadThatSpawnedIt) {
  std::optional<SandboxedProcess> proc;
  std::thread([&] {
    auto spawned = box->spawn({.argv = {"/bin/sleep", "1000"}});
    if (spawned) proc.emplace(std::move(*spawned));
  }).join();
  ASSERT_TRUE(proc);
  pollfd p{proc->exit_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1) << "the target outlived the thread that spawned it";
}

TEST_P(BoxTest, DestroyingTheHandleKillsTheTree) {
  std::optional<ProcId> target;
  {
    auto proc = box->spawn({.argv = {"/bin/sleep", "1000"}});
    ASSERT_TRUE(proc) << proc.error().message;
    target = proc_id(proc->pid());
    ASSERT_TRUE(target);
  }
  EXPECT_FALSE(still_exists(*target));
}

// ---- full isolation only -------------------------------------------------------------------------

class FullBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = make_box(Mode::full, {"process", "file", "pipe", "inet_socket"});
    ASSERT_TRUE(created) << created.error().message;
    box.emplace(std::move(*created));
    if (box->isolation().level != IsolationLevel::full)
      GTEST_SKIP() << "full isolation unavailable here: " << box->isolation().reason;
  }
  std::optional<Sandbox> box;
};

std::string ns_link(pid_t pid, const char* ns) {
  char buf[256];
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
}

TEST_F(FullBoxTest, TargetIsInOtherNamespacesAsTheSlotUid) {
  auto in = make_pipe();
  ASSERT_TRUE(in);
  UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  auto proc = box->spawn({.argv = {"/bin/cat"}, .fds = {{in->read_end.get(), 0}, {null.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  in->read_end.reset();
  for (const char* ns : {"pid", "net", "ipc", "mnt", "uts"})
    EXPECT_NE(ns_link(proc->pid(), ns), ns_link(::getpid(), ns)) << ns;
  std::istringstream uids(status_line(proc->pid(), "Uid"));
  uid_t real = 0, effective = 0;
  uids >> real >> effective;
  EXPECT_GE(real, 61000u);
  EXPECT_EQ(real, effective);
  EXPECT_EQ(status_line(proc->pid(), "Groups").find_first_not_of("\t "), std::string::npos);  // none
  EXPECT_EQ(status_line(proc->pid(), "NoNewPrivs"), "\t1");
  EXPECT_EQ(status_line(proc->pid(), "Seccomp"), "\t2");
  in->write_end.reset();  // cat sees EOF: nobody else holds the write end
  EXPECT_EQ(wait_exit(*proc), 0);
}

TEST_F(FullBoxTest, TmpHoldsOnlyTheBoxAndTheHostnameIsOurs) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  auto proc = box->spawn({.argv = {"/bin/sh", "-c", "ls -A /tmp; uname -n; ls /proc | grep -c '^[0-9]'; pwd"},
                          .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  // keeper, target (sh), and ls/grep: a handful of pids, not the host's hundreds.
  const std::string text = read_all(out->read_end.get());
  std::istringstream lines(text);
  std::string tmp, host, count, cwd;
  std::getline(lines, tmp);
  std::getline(lines, host);
  std::getline(lines, count);
  std::getline(lines, cwd);
  EXPECT_EQ(tmp, "box") << text;
  EXPECT_EQ(host, "ipcgrade");
  EXPECT_LE(std::stoi(count), 5);
  EXPECT_EQ(cwd, "/tmp/box");
}

TEST_F(FullBoxTest, WorkFolderIsSharedWithTheBox) {
  auto dir = box->make_writable_dir("out");
  ASSERT_TRUE(dir);
  const std::string inner = box->to_box(*dir / "made-inside").string();
  auto proc = box->spawn({.argv = {"/bin/sh", "-c", "echo hi > " + inner}});
  ASSERT_TRUE(proc) << proc.error().message;
  EXPECT_EQ(wait_exit(*proc), 0);
  std::ifstream in(*dir / "made-inside");
  std::string word;
  in >> word;
  EXPECT_EQ(word, "hi");
}

TEST_F(FullBoxTest, LoopbackIsUp) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  auto proc = box->spawn({.argv = helper("loopback"), .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  const std::string why = read_all(out->read_end.get());
  EXPECT_EQ(wait_exit(*proc), 0) << why;
}

// The box's root is a new tmpfs: system folders read-only, the helper it was given, nothing of
// the repository (hidden tests, reference sources) nor the host's secrets.
TEST_F(FullBoxTest, RootShowsOnlySystemFoldersAndWhatItWasGiven) {
  auto out = make_pipe();
  ASSERT_TRUE(out);
  // Paths go to the shell as arguments, never spliced into the script: a checkout may sit under a
  // folder whose name has spaces or any other letter.
  const std::string src = IPCG_SOURCE_DIR;
  const std::string script =
      "for p in /etc/shadow \"$1/reference\" \"$1/labs/lab1-pipe/lab.toml\" \"$1/labs\" /root /home; do"
      "  if [ -e \"$p\" ]; then echo visible \"$p\"; fi; done;"
      "cat /etc/shadow 2>/dev/null && echo read shadow;"
      "touch /usr/x /etc/x /x 2>/dev/null && echo wrote system;"
      "[ -x \"$2\" ] || echo helper missing;"
      "[ -c /dev/null ] && [ -c /dev/urandom ] || echo dev missing;"
      "ls -A /tmp; ls /dev/shm | wc -l; grep -c ' /proc proc .*hidepid=' /proc/self/mounts";
  auto proc = box->spawn({.argv = {"/bin/sh", "-c", script, "sh", src, box->to_box(self_exe()).string()},
                          .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  EXPECT_EQ(read_all(out->read_end.get()), "box\n0\n1\n");
  EXPECT_EQ(wait_exit(*proc), 0);
}

// Whatever the path of the checkout and build folder (CI clones under /tmp, into folders with
// spaces), the box's / and /run hold the same names, and what it was given sits at a fixed place.
TEST_F(FullBoxTest, ReadonlyPathsSitAtFixedPlacesWhereverTheBuildIs) {
  const std::filesystem::path exe = self_exe();
  const std::filesystem::path in_box = box->to_box(exe);
  EXPECT_EQ(in_box, std::filesystem::path("/run/ipcgrade/ro/0") / exe.filename());
  auto out = make_pipe();
  ASSERT_TRUE(out);
  // argv[0] named by its host path runs from where the box sees it; $0 says which path that is.
  auto proc = box->spawn({.argv = helper("argv0"), .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  EXPECT_EQ(read_all(out->read_end.get()), in_box.string() + "\n");
  EXPECT_EQ(wait_exit(*proc), 0);

  auto listing = make_pipe();
  ASSERT_TRUE(listing);
  auto ls = box->spawn({.argv = {"/bin/sh", "-c", "ls -A / | tr '\\n' ' '; echo; ls -A /run /run/ipcgrade /run/ipcgrade/ro"},
                        .fds = {{listing->write_end.get(), 1}}});
  ASSERT_TRUE(ls) << ls.error().message;
  listing->write_end.reset();
  std::istringstream lines(read_all(listing->read_end.get()));
  std::string root_names;
  std::getline(lines, root_names);
  std::set<std::string> names;
  std::istringstream words(root_names);
  for (std::string w; words >> w;) names.insert(w);
  const std::set<std::string> allowed = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc",
                                         "run", "sbin", "tmp", "usr"};
  for (const std::string& n : names) EXPECT_TRUE(allowed.count(n)) << "the box's / shows " << n;
  const std::string rest((std::istreambuf_iterator<char>(lines)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rest, "/run:\nipcgrade\n\n/run/ipcgrade:\nro\n\n/run/ipcgrade/ro:\n0\n");
  EXPECT_EQ(wait_exit(*ls), 0);
}

TEST_F(FullBoxTest, SharedMemoryAndTmpAreNotTheHosts) {
  auto proc = box->spawn({.argv = {"/bin/sh", "-c", "echo x > /dev/shm/ipcgrade-leak-test && echo y > /tmp/leak"}});
  ASSERT_TRUE(proc) << proc.error().message;
  EXPECT_EQ(wait_exit(*proc), 0);
  EXPECT_FALSE(std::filesystem::exists("/dev/shm/ipcgrade-leak-test"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/leak"));
}

}  // namespace
}  // namespace ipcg_test
