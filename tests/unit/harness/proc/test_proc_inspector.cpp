// ProcInspector against real processes blocked in real pipes, a fake /proc folder for the odd
// cases that are hard to stage (malformed files, a descriptor listed without its fdinfo), and
// hand-made snapshots for the pure diagnosis logic. The one mock is the ProcessTable seam.
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include <gmock/gmock.h>
#include <poll.h>

#include <gtest/gtest.h>

#include "harness/proc/proc_inspector.hpp"
#include "harness/proc/proc_parse.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::UnorderedElementsAre;

// A forked child leading its own process group, running `body` then _exit(0). The destructor
// SIGKILLs the group and reaps all of it: the test process is a child subreaper, so grandchildren
// orphaned by the kill come back to it instead of to a pid 1 that may not reap.
class Spawned {
 public:
  explicit Spawned(const std::function<void()>& body) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      body();
      ::_exit(0);
    }
    ::setpgid(pid_, pid_);  // also here: the group exists before either side goes on
  }
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  ~Spawned() { reap(); }

  pid_t pid() const { return pid_; }
  void reap() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    while (::waitpid(-pid_, nullptr, 0) > 0 || errno == EINTR) {
    }
    pid_ = -pid_;  // remembered (negated) so a test can still name the dead pid
  }

 private:
  pid_t pid_ = -1;
};

using Predicate = std::function<bool(const ProcessSnapshot&)>;

// Polls until `done` holds, within a bounded deadline. The sleep is the poll interval, not a sync.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Polls /proc until the process reaches the state the test needs.
std::optional<ProcessSnapshot> wait_for(pid_t pid, const Predicate& done) {
  const ProcInspector proc;
  std::optional<ProcessSnapshot> found;
  eventually([&] {
    auto s = proc.snapshot(pid);
    if (s && done(*s)) found = std::move(*s);
    return found.has_value();
  });
  return found;
}

Predicate blocked_in(long nr) {
  return [nr](const ProcessSnapshot& s) { return s.state == 'S' && s.syscall == nr; };
}

Predicate in_state(char state) {
  return [state](const ProcessSnapshot& s) { return s.state == state; };
}

void set_name(const char* name) { ::prctl(PR_SET_NAME, name); }

// The fd of `s` that is the given end of the pipe with this inode, or -1.
int fd_of(const ProcessSnapshot& s, std::uint64_t inode, PipeEnd end) {
  for (const FdInfo& f : s.fds)
    if (f.kind == FdKind::pipe && f.inode == inode && f.end == end) return f.fd;
  return -1;
}

std::uint64_t inode_of(int fd) {
  struct stat st {};
  ::fstat(fd, &st);
  return st.st_ino;
}

std::string pipe_name(std::uint64_t inode) { return "pipe:[" + std::to_string(inode) + "]"; }

struct RawPipe {
  int r = -1, w = -1;
  RawPipe() {
    int p[2];
    if (::pipe(p) == 0) r = p[0], w = p[1];
  }
  ~RawPipe() { close_both(); }
  void close_both() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
    r = w = -1;
  }
};

// ---------------------------------------------------------------------------------------------
// Snapshots of real processes

TEST(ProcSnapshot, DescribesTheCallingProcess) {
  const ProcInspector proc;
  // A process on an idle CPU may not have been switched out yet: sleeping 1 ms makes the
  // voluntary switch the counters are checked for below (it is the event, not a wait for one).
  ::poll(nullptr, 0, 1);
  auto s = proc.snapshot(::getpid());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->pid, ::getpid());
  EXPECT_EQ(s->ppid, ::getppid());
  EXPECT_EQ(s->pgid, ::getpgrp());
  EXPECT_EQ(s->sid, ::getsid(0));
  EXPECT_EQ(s->state, 'R');  // it is reading its own /proc entry
  EXPECT_EQ(s->uid, ::getuid());
  EXPECT_EQ(s->exe, fs::read_symlink("/proc/self/exe").string());
  ASSERT_FALSE(s->cmdline.empty());
  EXPECT_THAT(s->cmdline[0], HasSubstr("test_proc"));
  EXPECT_EQ(s->comm, std::string(program_invocation_short_name).substr(0, 15));
  EXPECT_GT(s->voluntary_switches + s->involuntary_switches, 0u);
  ASSERT_NE(s->fd(0), nullptr);
  EXPECT_EQ(s->fd(999), nullptr);
}

TEST(ProcSnapshot, ClassifiesDescriptorsAndPipeEnds) {
  auto pipe = make_pipe();  // both ends O_CLOEXEC
  ASSERT_TRUE(pipe);
  ::fcntl(pipe->write_end.get(), F_SETFD, 0);  // the write end will survive exec
  const fs::path fifo = fs::temp_directory_path() / ("ipcg-fifo-" + std::to_string(::getpid()));
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  UniqueFd fifo_fd(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));  // O_RDWR: no wait for a peer
  fs::remove(fifo);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd sock0(sv[0]), sock1(sv[1]);
  UniqueFd event(::eventfd(0, EFD_CLOEXEC));
  UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  UniqueFd file(::open(fs::temp_directory_path().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(fifo_fd && event && devnull && file);

  auto s = ProcInspector().snapshot(::getpid());
  ASSERT_TRUE(s) << s.error().message;
  const FdInfo* r = s->fd(pipe->read_end.get());
  const FdInfo* w = s->fd(pipe->write_end.get());
  ASSERT_TRUE(r && w);
  EXPECT_EQ(r->kind, FdKind::pipe);
  EXPECT_EQ(r->target, pipe_name(inode_of(pipe->read_end.get())));
  EXPECT_EQ(r->inode, inode_of(pipe->read_end.get()));
  EXPECT_EQ(r->end, PipeEnd::read);
  EXPECT_TRUE(r->cloexec);
  EXPECT_EQ(w->inode, r->inode);
  EXPECT_EQ(w->end, PipeEnd::write);
  EXPECT_FALSE(w->cloexec);
  EXPECT_EQ(w->flags & O_ACCMODE, unsigned{O_WRONLY});

  const FdInfo* f = s->fd(fifo_fd.get());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, FdKind::fifo);
  EXPECT_EQ(f->end, PipeEnd::read_write);
  EXPECT_EQ(f->inode, inode_of(fifo_fd.get()));
  ASSERT_TRUE(s->fd(sock0.get()));
  EXPECT_EQ(s->fd(sock0.get())->kind, FdKind::socket);
  EXPECT_EQ(s->fd(sock0.get())->inode, inode_of(sock0.get()));
  EXPECT_EQ(s->fd(sock0.get())->end, PipeEnd::none);
  EXPECT_EQ(s->fd(event.get())->kind, FdKind::anon);
  EXPECT_EQ(s->fd(event.get())->target, "anon_inode:[eventfd]");
  EXPECT_EQ(s->fd(devnull.get())->kind, FdKind::other);
  EXPECT_EQ(s->fd(devnull.get())->target, "/dev/null");
  EXPECT_EQ(s->fd(file.get())->kind, FdKind::file);
  EXPECT_EQ(s->fd(file.get())->inode, inode_of(file.get()));
}

TEST(ProcSnapshot, ClassifiesATerminal) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
    GTEST_SKIP() << "no pseudo-terminals here";
  UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave);
  auto s = ProcInspector().snapshot(::getpid());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->fd(slave.get()));
  EXPECT_EQ(s->fd(slave.get())->kind, FdKind::tty);
  EXPECT_THAT(s->fd(slave.get())->target, HasSubstr("/dev/pts/"));
  EXPECT_EQ(s->fd(master.get())->kind, FdKind::tty);
}

TEST(ProcSnapshot, CommWithSpacesAndParentheses) {
  Spawned child([] {
    set_name("a) b");
    ::pause();
  });
  auto s = wait_for(child.pid(), blocked_in(SYS_pause));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->comm, "a) b");
  EXPECT_EQ(s->ppid, ::getpid());
  EXPECT_EQ(s->pgid, child.pid());
  EXPECT_EQ(s->exe, fs::read_symlink("/proc/self/exe").string());
  EXPECT_THAT(ProcInspector().diagnose_hang({*s}).summary(),
              HasSubstr("pid " + std::to_string(child.pid()) + " (a) b) blocked in pause"));
}

TEST(ProcSnapshot, FailsForAProcessThatIsGone) {
  Spawned child([] {});
  child.reap();
  const pid_t dead = -child.pid();
  auto s = ProcInspector().snapshot(dead);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("pid " + std::to_string(dead) + " is gone"));
}

TEST(ProcSnapshot, ZombieHasStateButNoFds) {
  Spawned child([] { set_name("zomb"); });
  auto s = wait_for(child.pid(), in_state('Z'));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->fds.empty());
  EXPECT_TRUE(s->exe.empty());
  EXPECT_TRUE(s->cmdline.empty());
  EXPECT_EQ(s->comm, "zomb");
  const auto report = ProcInspector().diagnose_hang({*s});
  ASSERT_EQ(report.processes.size(), 1u);
  EXPECT_EQ(report.processes[0].description,
            "pid " + std::to_string(child.pid()) + " (zomb) is a zombie: its parent pid " +
                std::to_string(::getpid()) + " has not waited for it");
}

TEST(ProcSnapshot, StoppedProcessIsSaidToBeStopped) {
  Spawned child([] { ::pause(); });
  ASSERT_TRUE(wait_for(child.pid(), blocked_in(SYS_pause)));
  ASSERT_EQ(::kill(child.pid(), SIGSTOP), 0);
  auto s = wait_for(child.pid(), in_state('T'));
  ASSERT_TRUE(s);
  EXPECT_THAT(ProcInspector().diagnose_hang({*s}).processes[0].description, HasSubstr("is stopped"));
}

// Ignored and blocked signals survive exec: a child that ignores SIGPIPE and blocks SIGUSR1
// while a SIGUSR1 is pending shows all three in its snapshot, and a handler shows as caught.
TEST(ProcSnapshot, ReadsTheSignalSets) {
  Spawned child([] {
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGUSR2, [](int) {});
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::raise(SIGUSR1);
    ::pause();
  });
  ASSERT_TRUE(wait_for(child.pid(), blocked_in(SYS_pause)));
  auto s = ProcInspector().snapshot(child.pid());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->signals.ignored & SignalMasks::bit(SIGPIPE), SignalMasks::bit(SIGPIPE));
  EXPECT_EQ(s->signals.blocked, SignalMasks::bit(SIGUSR1));
  EXPECT_TRUE(s->signals.is_pending(SIGUSR1));
  EXPECT_FALSE(s->signals.is_pending(SIGPIPE));
  EXPECT_NE(s->signals.caught & SignalMasks::bit(SIGUSR2), 0u);
  EXPECT_EQ(s->signals.caught & SignalMasks::bit(SIGPIPE), 0u);
}

// A descriptor closed between listing fd/ and reading it is skipped, never an error.
TEST(ProcSnapshot, SurvivesDescriptorsClosingWhileItLooks) {
  Spawned churner([] {
    while (true) {
      int fds[64];
      for (int& fd : fds) fd = ::open("/dev/null", O_RDONLY);
      for (int fd : fds) ::close(fd);
    }
  });
  const ProcInspector proc;
  int with_churned_fds = 0;
  for (int i = 0; i < 300; ++i) {
    auto s = proc.snapshot(churner.pid());
    ASSERT_TRUE(s) << "snapshot " << i << ": " << s.error().message;
    ASSERT_TRUE(s->fd(0) && s->fd(1) && s->fd(2)) << "snapshot " << i;
    for (const FdInfo& f : s->fds) ASSERT_FALSE(f.target.empty()) << "fd " << f.fd;
    with_churned_fds += s->fds.size() > 5;
  }
  std::cout << "[ measure  ] " << with_churned_fds << " of 300 snapshots caught churned fds\n";
}

// Processes that exit (and are reaped by the kernel at once: SIGCHLD ignored) while being
// snapshot: each attempt gives a consistent snapshot or "gone", and snapshot_all skips them.
TEST(ProcSnapshot, ProcessesExitingMidSnapshotAreSkipped) {
  constexpr int kCount = 40;
  RawPipe report;
  Spawned spawner([&] {
    ::close(report.r);
    ::signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < kCount; ++i) {
      if (::fork() != 0) continue;
      for (int k = 0; k < 100; ++k) ::open("/dev/null", O_RDONLY);
      const pid_t me = ::getpid();
      (void)!::write(report.w, &me, sizeof me);
      ::_exit(0);  // while the grader is reading our /proc entry
    }
    ::pause();
  });
  ::close(report.w), report.w = -1;
  const ProcInspector proc;
  std::vector<pid_t> pids;
  int whole = 0, gone = 0, mid_exit = 0;
  for (int i = 0; i < kCount; ++i) {
    pid_t pid = 0;
    ASSERT_EQ(::read(report.r, &pid, sizeof pid), static_cast<ssize_t>(sizeof pid));
    pids.push_back(pid);
    auto s = proc.snapshot(pid);
    if (!s) {
      EXPECT_THAT(s.error().message, HasSubstr("is gone"));
      ++gone;
      continue;
    }
    EXPECT_EQ(s->pid, pid);
    EXPECT_EQ(s->ppid, spawner.pid());
    ++whole;
    mid_exit += s->fds.size() < 100;  // stat read before the exit, fds after: caught midway
  }
  std::cout << "[ measure  ] exiting processes: " << whole << " snapshots (" << mid_exit
            << " caught midway), " << gone << " gone\n";
  // All of them have exited by the time their parent's wait would succeed; wait for that.
  for (pid_t pid : pids) ASSERT_TRUE(eventually([pid] { return ::kill(pid, 0) != 0; }));
  pids.push_back(spawner.pid());
  const auto all = proc.snapshot_all(pids);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].pid, spawner.pid());
}

// ---------------------------------------------------------------------------------------------
// Hang diagnosis of real blocked processes

TEST(ProcDiagnose, ReaderHoldingItsOwnWriteEnd) {
  Spawned reader([] {
    set_name("selfreader");
    int p[2];
    if (::pipe(p) != 0) ::_exit(2);
    char c;
    (void)!::read(p[0], &c, 1);  // never returns: this process holds p[1]
  });
  auto s = wait_for(reader.pid(), blocked_in(SYS_read));
  ASSERT_TRUE(s);
  const int in = static_cast<int>(s->syscall_args.at(0));
  const FdInfo* fd = s->fd(in);
  ASSERT_TRUE(fd);
  ASSERT_EQ(fd->kind, FdKind::pipe);
  const int write_fd = fd_of(*s, fd->inode, PipeEnd::write);
  ASSERT_GE(write_fd, 0);

  const auto report = ProcInspector().diagnose_hang({*s});
  const std::string me = "pid " + std::to_string(reader.pid()) + " (selfreader)";
  EXPECT_THAT(report.processes.at(0).description,
              HasSubstr(me + " blocked in read on fd " + std::to_string(in) + " = " +
                        pipe_name(fd->inode) + " (read end)"));
  EXPECT_THAT(report.findings,
              ElementsAre(me + " holds the write end of its own input " + pipe_name(fd->inode) + " (fd " +
                          std::to_string(write_fd) + "): the reader never sees EOF"));
}

TEST(ProcDiagnose, ReaderWhoseWriterIsAnotherProcess) {
  RawPipe p;
  Spawned reader([&] {
    set_name("reader");
    ::close(p.w);
    char c;
    (void)!::read(p.r, &c, 1);
  });
  Spawned holder([&] {
    set_name("holder");
    ::close(p.r);
    ::pause();
  });
  const std::uint64_t ino = inode_of(p.r);
  p.close_both();
  auto r = wait_for(reader.pid(), blocked_in(SYS_read));
  auto h = wait_for(holder.pid(), blocked_in(SYS_pause));
  ASSERT_TRUE(r && h);
  const int held = fd_of(*h, ino, PipeEnd::write);
  ASSERT_GE(held, 0);
  EXPECT_EQ(fd_of(*r, ino, PipeEnd::write), -1);

  const auto report = ProcInspector().diagnose_hang({*r, *h});
  EXPECT_THAT(report.findings,
              ElementsAre("pid " + std::to_string(holder.pid()) + " (holder) holds the write end of " +
                          pipe_name(ino) + " open (fd " + std::to_string(held) +
                          "): the reader pid " + std::to_string(reader.pid()) + " never sees EOF"));
  EXPECT_THAT(report.processes.at(1).description, HasSubstr("(holder) blocked in pause (waiting for a signal)"));
}

TEST(ProcDiagnose, WriterBlockedOnAFullPipe) {
  RawPipe p;
  Spawned writer([&] {
    set_name("writer");
    ::close(p.r);
    static char big[1 << 17];  // twice the default pipe capacity
    (void)!::write(p.w, big, sizeof big);
  });
  Spawned keeper([&] {
    set_name("keeper");
    ::close(p.w);
    ::pause();
  });
  const std::uint64_t ino = inode_of(p.r);
  p.close_both();
  auto w = wait_for(writer.pid(), blocked_in(SYS_write));
  auto k = wait_for(keeper.pid(), blocked_in(SYS_pause));
  ASSERT_TRUE(w && k);
  const int out = fd_of(*w, ino, PipeEnd::write);
  const int kept = fd_of(*k, ino, PipeEnd::read);
  ASSERT_GE(out, 0);
  ASSERT_GE(kept, 0);

  const auto report = ProcInspector().diagnose_hang({*w, *k});
  EXPECT_THAT(report.processes.at(0).description,
              HasSubstr("blocked in write on fd " + std::to_string(out) + " = " + pipe_name(ino) + " (write end)"));
  EXPECT_THAT(report.findings,
              ElementsAre("pid " + std::to_string(keeper.pid()) + " (keeper) keeps the read end of " +
                          pipe_name(ino) + " open (fd " + std::to_string(kept) +
                          ") but nobody reads it: the writer pid " + std::to_string(writer.pid()) +
                          " never gets SIGPIPE"));
}

// Two processes on the two ends of a UNIX stream socket, each writing more than the socket's
// buffers hold before reading anything: both block in write. The snapshot reads each socket's
// queues and peer (pidfd_getfd), and the report names the duplex deadlock.
TEST(ProcDiagnose, TwoSocketWritersThatNeverReadAreADuplexDeadlock) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto flood = [](int fd) {
    static char big[4 << 20];  // far more than a socket's send and receive buffers together
    (void)!::write(fd, big, sizeof big);
  };
  Spawned left([&] {
    set_name("left");
    ::close(sv[1]);
    flood(sv[0]);
  });
  Spawned right([&] {
    set_name("right");
    ::close(sv[0]);
    flood(sv[1]);
  });
  ::close(sv[0]);
  ::close(sv[1]);
  auto l = wait_for(left.pid(), [](const ProcessSnapshot& s) { return blocked_in(SYS_write)(s) && s.waiting_socket; });
  auto r = wait_for(right.pid(), [](const ProcessSnapshot& s) { return blocked_in(SYS_write)(s) && s.waiting_socket; });
  ASSERT_TRUE(l && r);
  EXPECT_EQ(l->waiting_socket->family, AF_UNIX);
  EXPECT_EQ(l->waiting_socket->type, SOCK_STREAM);
  // socketpair's peer credentials are the creator's: this test process, not the other child.
  EXPECT_EQ(l->waiting_socket->peer_pid, ::getpid());
  EXPECT_GT(l->waiting_socket->unsent, 0);
  EXPECT_GT(l->waiting_socket->send_buffer, 0);
  EXPECT_GE(l->waiting_socket->unread, 0);
  const auto report = ProcInspector().diagnose_hang({*l, *r});
  EXPECT_THAT(report.processes.at(0).description, HasSubstr("blocked in write on fd "));
  EXPECT_THAT(report.processes.at(0).description, HasSubstr("(AF_UNIX stream, peer pid " + std::to_string(::getpid())));
  EXPECT_THAT(report.processes.at(0).description, HasSubstr("bytes sent and not yet read by the peer, send buffer "));
}

// Removes a SysV queue and a POSIX queue when the test ends, after its children are killed,
// even when an assertion returns early: the host must be left as found.
struct RemoveQueues {
  int id = -1;
  mqd_t q = static_cast<mqd_t>(-1);
  std::string name;
  ~RemoveQueues() {
    if (id >= 0) ::msgctl(id, IPC_RMID, nullptr);
    if (q != static_cast<mqd_t>(-1)) ::mq_close(q);
    if (!name.empty()) ::mq_unlink(name.c_str());
  }
};

struct TypedMessage {
  long type;
  char text[64];
};

// Real queues: a client waiting in msgrcv for its own mtype while the queue holds two messages of
// other types, a worker waiting on an empty POSIX queue. The report says what each waits for and
// how many messages its queue holds, read when the snapshot was taken.
TEST(ProcDiagnose, MessageQueueWaitsAreNamedWithTheirQueueAndItsMessages) {
  const int id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  ASSERT_GE(id, 0);
  const std::string name = "/ipcg-proc-test-" + std::to_string(::getpid());
  mq_attr attr{};
  attr.mq_maxmsg = 4, attr.mq_msgsize = 64;
  const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
  ASSERT_NE(q, static_cast<mqd_t>(-1));
  RemoveQueues remove{id, q, name};
  for (long type : {1L, 2L}) {
    TypedMessage m{type, "reply"};
    ASSERT_EQ(::msgsnd(id, &m, 6, 0), 0);
  }
  {
    Spawned client([&] {
      set_name("client");
      TypedMessage m;
      (void)!::msgrcv(id, &m, sizeof m.text, 43, 0);
    });
    Spawned worker([&] {
      set_name("worker");
      char buf[64];
      (void)!::mq_receive(q, buf, sizeof buf, nullptr);
    });
    auto c = wait_for(client.pid(), blocked_in(SYS_msgrcv));
    auto w = wait_for(worker.pid(), blocked_in(SYS_mq_timedreceive));
    ASSERT_TRUE(c && w);
    EXPECT_EQ(c->waiting_messages, 2);
    EXPECT_EQ(w->waiting_messages, 0);
    EXPECT_EQ(w->waiting_queue_limit, 4);
    const std::string summary = ProcInspector().diagnose_hang({*c, *w}).summary();
    EXPECT_THAT(summary, HasSubstr("pid " + std::to_string(client.pid()) + " (client) blocked in msgrcv on SysV message queue id " +
                                   std::to_string(id) + " for a message of mtype 43; the queue holds 2 messages"));
    EXPECT_THAT(summary, HasSubstr("pid " + std::to_string(worker.pid()) + " (worker) blocked in mq_timedreceive on POSIX message queue " +
                                   name + " (fd " + std::to_string(q) +
                                   ", 0 messages): the queue is empty, it waits for a message"));
  }
}

// A producer blocked on a full POSIX queue: the count is said against the queue's limit.
TEST(ProcDiagnose, ASenderOnAFullPosixQueueIsNamedWithItsCountAndLimit) {
  const std::string name = "/ipcg-proc-full-" + std::to_string(::getpid());
  mq_attr attr{};
  attr.mq_maxmsg = 2, attr.mq_msgsize = 16;
  const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
  ASSERT_NE(q, static_cast<mqd_t>(-1));
  RemoveQueues remove{-1, q, name};
  {
    Spawned producer([&] {
      set_name("producer");
      for (int i = 0; i < 3; ++i) (void)!::mq_send(q, "job", 3, 1);  // the third blocks
    });
    auto p = wait_for(producer.pid(), blocked_in(SYS_mq_timedsend));
    ASSERT_TRUE(p);
    EXPECT_THAT(ProcInspector().diagnose_hang({*p}).summary(),
                HasSubstr("(producer) blocked in mq_timedsend on POSIX message queue " + name + " (fd " + std::to_string(q) +
                          ", 2 of 2 messages): the queue is full, it waits for room"));
  }
}

// /proc/sysvipc/msg shows the reader's IPC namespace. A process in an IPC namespace of its own
// (a cell's, in full isolation) is read from a thread that joined it, while this test process
// has another thread running (setns of an IPC namespace is per thread).
TEST(ProcDiagnose, AQueueInAnotherIpcNamespaceIsCountedThere) {
  if (::geteuid() != 0) GTEST_SKIP() << "a new IPC namespace needs root";
  RawPipe idle;
  std::thread other([&] {
    char c;
    (void)!::read(idle.r, &c, 1);  // alive while the snapshots are taken
  });
  struct Join {
    std::thread& t;
    int w;
    ~Join() {
      (void)!::write(w, "x", 1);
      t.join();
    }
  } join{other, idle.w};
  RawPipe ready;
  Spawned client([&] {
    set_name("nsclient");
    if (::unshare(CLONE_NEWIPC) != 0) ::_exit(2);
    const int id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    for (long type : {1L, 2L}) {
      TypedMessage m{type, "reply"};
      if (::msgsnd(id, &m, 6, 0) != 0) ::_exit(3);
    }
    TypedMessage m;
    (void)!::msgrcv(id, &m, sizeof m.text, 43, 0);  // its namespace dies with it
  });
  auto c = wait_for(client.pid(), blocked_in(SYS_msgrcv));
  ASSERT_TRUE(c);
  struct stat theirs {}, ours {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(client.pid()) + "/ns/ipc").c_str(), &theirs), 0);
  ASSERT_EQ(::stat("/proc/self/ns/ipc", &ours), 0);
  ASSERT_NE(theirs.st_ino, ours.st_ino) << "the child did not get an IPC namespace of its own";
  EXPECT_EQ(c->waiting_messages, 2);
  EXPECT_THAT(ProcInspector().diagnose_hang({*c}).summary(),
              HasSubstr("(nsclient) blocked in msgrcv on SysV message queue id " + std::to_string(c->syscall_args.at(0)) +
                        " for a message of mtype 43; the queue holds 2 messages"));
}

// A server opening its well-known FIFO for reading before any client exists waits in open: the
// report names the FIFO (read from the server's memory), which end it waits for, and that no
// process has the other end open (looked up by the FIFO's inode among the snapshots' fds). The
// same for a client opening another FIFO for writing by a path relative to its cwd.
TEST(ProcDiagnose, AnOpenOfAFifoSaysWhichFifoWhichEndAndThatNobodyHasTheOtherEnd) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ipcg-proc-fifo-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove{dir};
  const std::string fifo = (dir / "requests").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((dir / "reply-7").c_str(), 0600), 0);
  {
    Spawned server([&] {
      set_name("server");
      (void)!::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    });
    Spawned client([&] {
      set_name("client");
      if (::chdir(dir.c_str()) != 0) ::_exit(2);
      (void)!::open("reply-7", O_WRONLY | O_CLOEXEC);
    });
    auto s = wait_for(server.pid(), blocked_in(SYS_openat));
    auto c = wait_for(client.pid(), blocked_in(SYS_openat));
    ASSERT_TRUE(s && c);
    EXPECT_EQ(s->syscall_path, fifo);
    EXPECT_NE(s->syscall_path_inode, 0u);
    EXPECT_EQ(c->syscall_path, "reply-7");
    EXPECT_NE(c->syscall_path_inode, 0u) << "the relative path was not looked up from the client's cwd";
    const auto report = ProcInspector().diagnose_hang({*s, *c});
    EXPECT_THAT(report.processes[0].description,
                HasSubstr("(server) blocked in openat of FIFO " + fifo +
                          " for reading: no writer has opened it; it waits until some process opens it for writing"));
    EXPECT_THAT(report.processes[1].description,
                HasSubstr("(client) blocked in openat of FIFO reply-7 for writing: no reader has opened it; it waits "
                          "until some process opens it for reading"));
  }
}

// A FIFO in a mount namespace of the opener's own (as in a cell's private /tmp) is looked up as
// the opener sees it, through /proc/PID/root: the grader's view of that path is an empty folder.
TEST(ProcDiagnose, AFifoIsLookedUpInTheOpenersOwnMountNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "a new mount namespace needs root";
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ipcg-proc-mntns-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove{dir};
  const std::string fifo = (dir / "requests").string();
  Spawned server([&] {
    set_name("server");
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k") != 0 || ::mkfifo(fifo.c_str(), 0600) != 0)
      ::_exit(2);
    (void)!::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
  });
  auto s = wait_for(server.pid(), blocked_in(SYS_openat));
  ASSERT_TRUE(s);
  struct stat st {};
  ASSERT_NE(::stat(fifo.c_str(), &st), 0) << "the FIFO should exist only in the server's mount namespace";
  EXPECT_NE(s->syscall_path_inode, 0u);
  EXPECT_THAT(ProcInspector().diagnose_hang({*s}).summary(),
              HasSubstr("(server) blocked in openat of FIFO " + fifo + " for reading: no writer has opened it"));
}

TEST(ProcDiagnose, TwoReadersHoldingEachOthersWriteEndAreADeadlock) {
  RawPipe a, b;
  const auto body = [](const char* name, RawPipe& in, RawPipe& out) {
    return [&in, &out, name] {
      set_name(name);
      ::close(in.w), ::close(out.r);
      char c;
      (void)!::read(in.r, &c, 1);
    };
  };
  Spawned first(body("first", a, b));
  Spawned second(body("second", b, a));
  a.close_both(), b.close_both();
  auto s1 = wait_for(first.pid(), blocked_in(SYS_read));
  auto s2 = wait_for(second.pid(), blocked_in(SYS_read));
  ASSERT_TRUE(s1 && s2);

  const auto report = ProcInspector().diagnose_hang({*s1, *s2});
  const std::string p1 = "pid " + std::to_string(first.pid()), p2 = "pid " + std::to_string(second.pid());
  EXPECT_THAT(report.findings, Contains(HasSubstr("deadlock cycle: ")));
  EXPECT_THAT(report.findings, Contains(AllOf(HasSubstr(p1 + " (first) reads"), HasSubstr(p2 + " (second) reads"),
                                              HasSubstr("none of them can go on"))));
  EXPECT_EQ(std::count_if(report.findings.begin(), report.findings.end(),
                          [](const std::string& f) { return f.starts_with("deadlock"); }),
            1);
}

// The classic lab bug: the parent keeps the write end and waits for the child that reads to EOF.
TEST(ProcDiagnose, ParentWaitingForAChildThatReadsItsPipe) {
  Spawned parent([] {
    set_name("parent");
    int p[2];
    if (::pipe(p) != 0) ::_exit(2);
    const pid_t child = ::fork();
    if (child == 0) {
      set_name("child");
      ::close(p[1]);
      char c;
      while (::read(p[0], &c, 1) > 0) {
      }
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);  // p[1] still open here: the child never sees EOF
  });
  auto ps = wait_for(parent.pid(), blocked_in(SYS_wait4));
  ASSERT_TRUE(ps);
  const auto tree = ProcInspector().descendants(parent.pid());
  ASSERT_EQ(tree.size(), 2u);
  auto cs = wait_for(tree[1], blocked_in(SYS_read));
  ASSERT_TRUE(cs);

  const auto report = ProcInspector().diagnose_hang({*ps, *cs});
  const std::string p = "pid " + std::to_string(parent.pid()) + " (parent)";
  const std::string c = "pid " + std::to_string(tree[1]) + " (child)";
  EXPECT_THAT(report.processes.at(0).description, HasSubstr(p + " blocked in wait4 for child " + c));
  EXPECT_THAT(report.findings, Contains(HasSubstr(p + " holds the write end of pipe:[")));
  EXPECT_THAT(report.findings, Contains(p + " waits for its child " + c + ", which has not exited"));
  EXPECT_THAT(report.findings, Contains(HasSubstr("deadlock cycle: ")));
  std::cout << report.summary() << "\n";
}

// ---------------------------------------------------------------------------------------------
// Descendants

class MockProcessTable : public ProcessTable {
 public:
  MOCK_METHOD(std::vector<pid_t>, all_pids, (), (const, override));
  MOCK_METHOD(std::optional<pid_t>, parent_of, (pid_t), (const, override));
};

TEST(ProcDescendants, WalksParentLinksFromOneScan) {
  const std::map<pid_t, pid_t> parents = {{10, 1}, {11, 10}, {12, 10}, {13, 11}, {14, 12}, {20, 1}, {21, 20}};
  MockProcessTable table;
  EXPECT_CALL(table, all_pids()).Times(1).WillOnce(Return(std::vector<pid_t>{1, 10, 11, 12, 13, 14, 15, 20, 21}));
  EXPECT_CALL(table, parent_of(::testing::_)).WillRepeatedly([&](pid_t pid) -> std::optional<pid_t> {
    if (pid == 1 || pid == 15) return std::nullopt;  // 15 vanished during the scan
    return parents.at(pid);
  });
  EXPECT_THAT(ProcInspector().descendants(10, table), ElementsAre(10, 11, 12, 13, 14));
}

TEST(ProcDescendants, ALeafOrUnknownPidIsItsOwnTree) {
  MockProcessTable table;
  EXPECT_CALL(table, all_pids()).WillRepeatedly(Return(std::vector<pid_t>{1, 5}));
  EXPECT_CALL(table, parent_of(5)).WillRepeatedly(Return(1));
  EXPECT_CALL(table, parent_of(1)).WillRepeatedly(Return(0));
  EXPECT_THAT(ProcInspector().descendants(5, table), ElementsAre(5));
  EXPECT_THAT(ProcInspector().descendants(77, table), ElementsAre(77));
}

TEST(ProcDescendants, ALoopInTheDataEnds) {
  MockProcessTable table;  // a pid reused between two reads can make parent links loop
  EXPECT_CALL(table, all_pids()).WillOnce(Return(std::vector<pid_t>{30, 31}));
  EXPECT_CALL(table, parent_of(30)).WillOnce(Return(31));
  EXPECT_CALL(table, parent_of(31)).WillOnce(Return(30));
  EXPECT_THAT(ProcInspector().descendants(30, table), ElementsAre(30, 31));
}

TEST(ProcDescendants, FindsAThreeLevelTreeInProc) {
  Spawned top([] {
    set_name("level1");
    const pid_t mid = ::fork();
    if (mid == 0) {
      set_name("level2");
      const pid_t leaf = ::fork();
      if (leaf == 0) {
        set_name("level3");
        ::pause();
        ::_exit(0);
      }
      ::waitpid(leaf, nullptr, 0);
      ::_exit(0);
    }
    ::waitpid(mid, nullptr, 0);
  });
  const ProcInspector proc;
  std::vector<pid_t> tree;
  ASSERT_TRUE(eventually([&] {
    tree = proc.descendants(top.pid());
    return tree.size() == 3;
  }));
  ASSERT_TRUE(wait_for(tree[2], blocked_in(SYS_pause)));
  EXPECT_EQ(tree[0], top.pid());
  auto mid = proc.snapshot(tree[1]);
  auto leaf = proc.snapshot(tree[2]);
  ASSERT_TRUE(mid && leaf);
  EXPECT_EQ(mid->comm, "level2");
  EXPECT_EQ(mid->ppid, top.pid());
  EXPECT_EQ(leaf->comm, "level3");
  EXPECT_EQ(leaf->ppid, tree[1]);
  const auto from_here = proc.descendants(::getpid());
  EXPECT_EQ(from_here.front(), ::getpid());
  for (pid_t pid : tree) EXPECT_THAT(from_here, Contains(pid));
  EXPECT_THAT(proc.descendants(::getpid()), Not(Contains(::getppid())));
}

// ---------------------------------------------------------------------------------------------
// A fake /proc folder: the parsing edge cases

class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/ipcg-fakeproc-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeProc() { fs::remove_all(root_); }
  const fs::path& root() const { return root_; }

  void write(const std::string& rel, std::string_view content) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }
  void link(const std::string& rel, const fs::path& target) const {
    fs::create_directories((root_ / rel).parent_path());
    fs::create_symlink(target, root_ / rel);
  }
  // A process with a stat line and empty fd folders.
  void process(pid_t pid, const std::string& comm, char state, pid_t ppid) const {
    const std::string p = std::to_string(pid);
    write(p + "/stat", p + " (" + comm + ") " + state + " " + std::to_string(ppid) +
                           " 4240 4239 0 -1 4194560 10 0 0 0 17 5 0 0 20 0 1 0 100 1000 200\n");
    fs::create_directories(root_ / p / "fd");
    fs::create_directories(root_ / p / "fdinfo");
  }
  void fd(pid_t pid, int n, const fs::path& target, const std::string& octal_flags) const {
    const std::string p = std::to_string(pid) + "/";
    link(p + "fd/" + std::to_string(n), target);
    write(p + "fdinfo/" + std::to_string(n), "pos:\t0\nflags:\t" + octal_flags + "\nmnt_id:\t14\n");
  }

 private:
  fs::path root_;
};

TEST(ProcFake, ParsesEveryFileIncludingAHostileComm) {
  FakeProc fake;
  fake.process(4242, "x) (y) z", 'S', 1);
  fake.write("4242/status", "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nvoluntary_ctxt_switches:\t12\n"
                            "nonvoluntary_ctxt_switches:\t3\nSigPnd:\t0000000000000000\n"
                            "ShdPnd:\t0000000000000200\nSigBlk:\t0000000000010000\n"
                            "SigIgn:\t0000000000001000\nSigCgt:\t0000000180000002\n");
  fake.write("4242/cmdline", std::string("prog\0arg one\0\0last\0", 19));
  fake.write("4242/wchan", "pipe_read");
  fake.write("4242/syscall", "0 0x3 0x7ffd1000 0x1000 0x0 0x0 0x0 0x7ffd0 0x7f12\n");
  fake.link("4242/exe", "/usr/bin/prog");
  auto s = ProcInspector(fake.root()).snapshot(4242);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->comm, "x) (y) z");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 1);
  EXPECT_EQ(s->pgid, 4240);
  EXPECT_EQ(s->sid, 4239);
  EXPECT_EQ(s->utime_ticks, 17u);
  EXPECT_EQ(s->stime_ticks, 5u);
  EXPECT_EQ(s->uid, 1000u);
  EXPECT_EQ(s->voluntary_switches, 12u);
  EXPECT_EQ(s->involuntary_switches, 3u);
  EXPECT_THAT(s->cmdline, ElementsAre("prog", "arg one", "", "last"));
  EXPECT_EQ(s->exe, "/usr/bin/prog");
  EXPECT_EQ(s->wchan, "pipe_read");
  EXPECT_EQ(s->syscall, 0);
  EXPECT_THAT(s->syscall_args, ElementsAre(3u, 0x7ffd1000u, 0x1000u, 0u, 0u, 0u));
  EXPECT_TRUE(s->signals.is_pending(SIGUSR1));               // 0x200: signal 10
  EXPECT_EQ(s->signals.blocked, SignalMasks::bit(SIGCHLD));  // 0x10000: signal 17
  EXPECT_EQ(s->signals.ignored, SignalMasks::bit(SIGPIPE));  // 0x1000: signal 13
  EXPECT_EQ(s->signals.caught, 0x180000002u);
}

TEST(ProcFake, SyscallRunningOrOutsideACallIsUnknown) {
  FakeProc fake;
  fake.process(1, "r", 'R', 0);
  fake.write("1/syscall", "running\n");
  fake.process(2, "s", 'S', 0);
  fake.write("2/syscall", "-1 0x7ffd0 0x7f12\n");
  const ProcInspector proc(fake.root());
  EXPECT_EQ(proc.snapshot(1)->syscall, std::nullopt);
  EXPECT_EQ(proc.snapshot(2)->syscall, std::nullopt);
  EXPECT_THAT(proc.diagnose_hang({*proc.snapshot(2)}).processes[0].description, HasSubstr("(s) is sleeping"));
}

// Where the queue behind a blocked call cannot be read (no namespace link; an ns/ipc that is not
// a namespace; an fd that is not a queue), its count stays unknown and nothing is made up.
TEST(ProcFake, QueueCountsThatCannotBeReadStayUnknown) {
  FakeProc fake;
  fake.process(3, "client", 'S', 0);
  fake.write("3/syscall", "70 0x3 0x7ffd1000 0x40 0x2b 0x0 0x0 0x7ffd0 0x7f12\n");  // msgrcv(3, .., 43)
  fake.process(4, "client", 'S', 0);
  fake.write("4/syscall", "70 0x3 0x7ffd1000 0x40 0x2b 0x0 0x0 0x7ffd0 0x7f12\n");
  fake.write("4/ns/ipc", "not a namespace");
  fake.process(5, "worker", 'S', 0);
  fake.write("5/syscall", "243 0x4 0x7ffd1000 0x40 0x0 0x0 0x0 0x7ffd0 0x7f12\n");  // mq_timedreceive(4, ...)
  fake.fd(5, 4, "/dev/null", "02");
  const ProcInspector proc(fake.root());
  for (pid_t pid : {3, 4, 5}) {
    auto s = proc.snapshot(pid);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->waiting_messages, std::nullopt) << pid;
    const std::string words = proc.diagnose_hang({*s}).processes[0].description;
    EXPECT_THAT(words, Not(HasSubstr("messages"))) << words;
    EXPECT_THAT(words, Not(HasSubstr("the queue holds"))) << words;
  }
}

TEST(ProcFake, ClassifiesDescriptorsAndSkipsOnesClosedMidway) {
  FakeProc fake;
  fake.process(7, "p", 'S', 1);
  ASSERT_EQ(::mkfifo((fake.root() / "fifo").c_str(), 0600), 0);
  fake.write("data.txt", "hello");
  fake.fd(7, 3, "pipe:[777]", "02000000");
  fake.fd(7, 4, fake.root() / "fifo", "01");
  fake.fd(7, 5, fake.root() / "data.txt", "0100002");
  fake.fd(7, 6, "socket:[88]", "02");
  fake.fd(7, 7, "/dev/tty", "02");
  fake.fd(7, 8, "anon_inode:[eventfd]", "02");
  fake.link("7/fd/9", "pipe:[778]");  // listed, but its fdinfo is gone: closed while we looked
  fake.fd(7, 10, fake.root() / "vanished", "0");  // the file behind it cannot be stat'ed either
  auto s = ProcInspector(fake.root()).snapshot(7);
  ASSERT_TRUE(s) << s.error().message;
  std::vector<int> numbers;
  for (const FdInfo& f : s->fds) numbers.push_back(f.fd);
  EXPECT_THAT(numbers, ElementsAre(3, 4, 5, 6, 7, 8));
  EXPECT_EQ(s->fd(3)->kind, FdKind::pipe);
  EXPECT_EQ(s->fd(3)->inode, 777u);
  EXPECT_EQ(s->fd(3)->end, PipeEnd::read);
  EXPECT_TRUE(s->fd(3)->cloexec);
  EXPECT_EQ(s->fd(4)->kind, FdKind::fifo);
  EXPECT_EQ(s->fd(4)->end, PipeEnd::write);
  EXPECT_FALSE(s->fd(4)->cloexec);
  EXPECT_EQ(s->fd(5)->kind, FdKind::file);
  EXPECT_EQ(s->fd(5)->end, PipeEnd::none);
  EXPECT_EQ(s->fd(6)->kind, FdKind::socket);
  EXPECT_EQ(s->fd(6)->inode, 88u);
  EXPECT_EQ(s->fd(7)->kind, FdKind::tty);
  EXPECT_EQ(s->fd(8)->kind, FdKind::anon);
}

TEST(ProcFake, ProcessGoneAfterItsStatWasReadIsGone) {
  FakeProc fake;
  fake.process(5, "half", 'S', 1);
  fs::remove_all(fake.root() / "5" / "fd");  // exited between reading stat and listing fds
  fake.process(6, "whole", 'S', 1);
  const ProcInspector proc(fake.root());
  auto s = proc.snapshot(5);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("pid 5 is gone"));
  const auto all = proc.snapshot_all({5, 6, 404});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].comm, "whole");
}

TEST(ProcFake, MalformedStatIsAnErrorNotACrash) {
  FakeProc fake;
  for (const char* text : {"", "12 (no close paren S 1", "12 (ok) S", "x (c) S 1 2 3 4 5 6 7 8 9 10 11 12",
                           "12 (c) S one 2 3 4 5 6 7 8 9 10 11 12"}) {
    fake.write("12/stat", text);
    auto s = ProcInspector(fake.root()).snapshot(12);
    EXPECT_FALSE(s) << "stat text: " << text;
  }
}

TEST(ProcFake, ProcfsTableReadsParentsFromStat) {
  FakeProc fake;
  fake.process(1, "init", 'S', 0);
  fake.process(10, "sh", 'S', 1);
  fake.process(11, "cat (1)", 'S', 10);
  fake.process(12, "zombie", 'Z', 11);
  fs::create_directories(fake.root() / "self");
  fs::create_directories(fake.root() / "sys");
  const ProcfsProcessTable table(fake.root());
  auto pids = table.all_pids();
  std::sort(pids.begin(), pids.end());
  EXPECT_THAT(pids, ElementsAre(1, 10, 11, 12));
  EXPECT_EQ(table.parent_of(11), 10);
  EXPECT_EQ(table.parent_of(99), std::nullopt);
  EXPECT_THAT(ProcInspector(fake.root()).descendants(10), ElementsAre(10, 11, 12));
}

// ---------------------------------------------------------------------------------------------
// Diagnosis logic over hand-made snapshots

ProcessSnapshot blocked(pid_t pid, const std::string& comm, long nr, std::vector<unsigned long> args) {
  ProcessSnapshot s;
  s.pid = pid, s.ppid = 1, s.pgid = pid, s.comm = comm, s.state = 'S';
  s.syscall = nr;
  s.syscall_args = std::move(args);
  return s;
}

FdInfo end_of(int fd, FdKind kind, std::uint64_t inode, PipeEnd end, std::string target) {
  return FdInfo{.fd = fd, .target = std::move(target), .kind = kind, .inode = inode, .end = end};
}

FdInfo pipe_end(int fd, std::uint64_t inode, PipeEnd end) {
  return end_of(fd, FdKind::pipe, inode, end, pipe_name(inode));
}

SocketState stream_socket(int family, std::uint64_t inode, int unsent, int unread, pid_t peer_pid, std::string local,
                          std::string peer) {
  SocketState st;
  st.family = family, st.type = SOCK_STREAM, st.inode = inode, st.unsent = unsent, st.unread = unread;
  st.send_buffer = 212992, st.receive_buffer = 212992, st.peer_pid = peer_pid;
  st.local = std::move(local), st.peer = std::move(peer);
  return st;
}

// A server and a client each blocked sending to the other over AF_UNIX (peers by SO_PEERCRED):
// a duplex deadlock, said once, with the bytes queued on both sides, and a cycle.
TEST(ProcDiagnoseLogic, TwoSendersOnOneUnixConnectionAreADuplexDeadlock) {
  auto server = blocked(60, "server", SYS_sendto, {6, 0, 65536, 0, 0, 0});
  server.fds = {end_of(6, FdKind::socket, 700, PipeEnd::none, "socket:[700]")};
  server.waiting_socket = stream_socket(AF_UNIX, 700, 223488, 219264, 61, "/tmp/s.sock", "");
  auto client = blocked(61, "client", SYS_write, {5, 0, 262148, 0, 0, 0});
  client.fds = {end_of(5, FdKind::socket, 701, PipeEnd::none, "socket:[701]")};
  client.waiting_socket = stream_socket(AF_UNIX, 701, 222720, 219268, 60, "", "/tmp/s.sock");
  const auto report = ProcInspector().diagnose_hang({server, client});
  EXPECT_EQ(report.processes[0].description,
            "pid 60 (server) blocked in sendto on fd 6 = socket:[700] (AF_UNIX stream, peer pid 61; 223488 bytes sent "
            "and not yet read by the peer, send buffer 212992; 219264 bytes unread here)");
  const auto duplex = std::count_if(report.findings.begin(), report.findings.end(),
                                    [](const std::string& f) { return f.starts_with("duplex deadlock: "); });
  EXPECT_EQ(duplex, 1);
  EXPECT_THAT(report.findings, Contains(HasSubstr("pid 60 (server) and pid 61 (client) are both blocked in send/write "
                                                  "on full socket buffers and neither reads (223488 and 222720 bytes "
                                                  "queued")));
  EXPECT_THAT(report.findings, Contains(HasSubstr("deadlock cycle: ")));
  EXPECT_EQ(report.root_cause, "pid 60 (server) and pid 61 (client) each block sending to the other (socket:[700] and "
                               "socket:[701]) and neither reads: a duplex deadlock");
  EXPECT_EQ(report.cause_kind, "two processes each send to the other and neither reads (a duplex deadlock)");
}

// TCP has no peer credentials: the peer is the process whose local address is this socket's
// peer. A sender whose peer sleeps elsewhere (in poll) is named with the peer that does not read;
// a reader waiting for data is named with the peer that has not sent it.
TEST(ProcDiagnoseLogic, TcpPeersAreMatchedByAddress) {
  auto sender = blocked(70, "flood", SYS_sendto, {5, 0, 4096, 0, 0, 0});
  sender.fds = {end_of(5, FdKind::socket, 800, PipeEnd::none, "socket:[800]")};
  sender.waiting_socket = stream_socket(AF_INET, 800, 4000000, 0, 0, "127.0.0.1:40000", "127.0.0.1:20001");
  auto reader = blocked(71, "server", SYS_recvfrom, {6, 0, 4, 0, 0, 0});
  reader.fds = {end_of(6, FdKind::socket, 801, PipeEnd::none, "socket:[801]")};
  reader.waiting_socket = stream_socket(AF_INET, 801, 0, 0, 0, "127.0.0.1:20001", "127.0.0.1:40000");
  const auto report = ProcInspector().diagnose_hang({sender, reader});
  EXPECT_THAT(report.processes[0].description, HasSubstr("(AF_INET stream, peer 127.0.0.1:20001; 4000000 bytes sent and "
                                                         "not yet acknowledged"));
  EXPECT_THAT(report.findings, Contains("pid 70 (flood) is blocked sending on socket:[800] (4000000 bytes wait in its send "
                                        "queue): pid 71 (server), at the other end, does not read it"));
  EXPECT_THAT(report.findings, Contains("pid 71 (server) waits for data on socket:[801] (0 bytes unread) from pid 70 "
                                        "(flood), which has not sent it"));
  // Without a match (a peer outside these processes) the sender is still explained.
  const auto alone = ProcInspector().diagnose_hang({sender});
  EXPECT_THAT(alone.findings, ElementsAre("pid 70 (flood) is blocked sending on socket:[800]: 4000000 bytes wait in its "
                                          "send queue for a peer that does not read"));
}

TEST(ProcDiagnoseLogic, FifoOpenedReadWriteByItsOwnReader) {
  auto r = blocked(50, "srv", SYS_read, {3, 0, 1, 0, 0, 0});
  r.fds = {end_of(3, FdKind::fifo, 900, PipeEnd::read_write, "/tmp/req")};
  const auto report = ProcInspector().diagnose_hang({r});
  EXPECT_EQ(report.processes[0].description,
            "pid 50 (srv) blocked in read on fd 3 = /tmp/req (FIFO, opened read-write)");
  EXPECT_THAT(report.findings, ElementsAre("pid 50 (srv) holds the write end of its own input FIFO /tmp/req "
                                           "(fd 3): the reader never sees EOF"));
}

TEST(ProcDiagnoseLogic, WriterWithTwoReadersAndAnOutsideWriter) {
  auto w = blocked(60, "w", SYS_write, {1, 0, 65536, 0, 0, 0});
  w.fds = {pipe_end(1, 5, PipeEnd::write)};
  auto a = blocked(61, "a", SYS_pause, {});
  a.fds = {pipe_end(0, 5, PipeEnd::read), pipe_end(7, 5, PipeEnd::read)};
  auto b = blocked(62, "b", SYS_read, {0, 0, 1, 0, 0, 0});
  b.fds = {pipe_end(0, 6, PipeEnd::read), pipe_end(4, 5, PipeEnd::read)};
  const auto report = ProcInspector().diagnose_hang({w, a, b});
  EXPECT_THAT(report.findings,
              ElementsAre("pid 61 (a) keeps the read end of pipe:[5] open (fds 0, 7) but nobody reads it: "
                          "the writer pid 60 never gets SIGPIPE",
                          "pid 62 (b) keeps the read end of pipe:[5] open (fd 4) but nobody reads it: "
                          "the writer pid 60 never gets SIGPIPE",
                          "no process here holds the write end of pipe:[6] that pid 62 (b) reads: its "
                          "writer is outside these processes"));
}

TEST(ProcDiagnoseLogic, WaitForAnyOfSeveralLiveChildrenIsNoDeadlock) {
  auto parent = blocked(70, "sh", SYS_wait4, {0xffffffffffffffffUL, 0, 0, 0, 0, 0});
  parent.fds = {pipe_end(4, 8, PipeEnd::write)};
  auto c1 = blocked(71, "cat", SYS_read, {0, 0, 1, 0, 0, 0});
  c1.ppid = 70, c1.fds = {pipe_end(0, 8, PipeEnd::read)};
  auto c2 = blocked(72, "sleep", SYS_clock_nanosleep, {0, 0, 0, 0, 0, 0});
  c2.ppid = 70;
  auto c3 = c2;
  c3.pid = 73, c3.state = 'Z';
  const auto report = ProcInspector().diagnose_hang({parent, c1, c2, c3});
  EXPECT_THAT(report.processes[0].description, HasSubstr("blocked in wait4 for any child"));
  EXPECT_THAT(report.processes[2].description, HasSubstr("blocked in clock_nanosleep (sleeping)"));
  EXPECT_THAT(report.findings, Contains("pid 70 (sh) waits for a child to exit, and none has: pid 71 (cat), "
                                        "pid 72 (sleep)"));
  EXPECT_THAT(report.findings, Not(Contains(HasSubstr("deadlock"))));
  // No deadlock, but sh keeps the write end cat reads while it waits: that is the root cause,
  // the summary's first line.
  EXPECT_EQ(report.root_cause, "pid 70 (sh) keeps fd 4 open, the write end of pipe:[8] that its child pid 71 (cat) reads, "
                               "while it waits for its children: the read on fd 0 can never see EOF");
  const std::string summary = report.summary();
  EXPECT_TRUE(summary.starts_with(report.root_cause + "\n"));
  EXPECT_LT(summary.find("pid 73 (sleep) is a zombie"), summary.find("waits for a child to exit"));
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 1 + 4 + static_cast<int>(report.findings.size()) - 1);
}

// The root cause of a hang: the chain of waits from the test's top process, the holders that are
// links of it (blocked themselves, holding their stdio) never blamed.

// A pipeline's processes as lab1's driver and stages leave them: the driver `pipeline` (pid
// base) blocked in wait4 for the first live stage; stage i (pid base + i) reads its stdin,
// pipe:[base + i], and writes its stdout, pipe:[base + i + 1] (the last one's reader is the
// grader, outside these processes).
std::vector<ProcessSnapshot> pipeline_of(pid_t base, int stages) {
  std::vector<ProcessSnapshot> procs{blocked(base, "pipeline", SYS_wait4, {static_cast<unsigned long>(base + 1), 0, 0, 0, 0, 0})};
  for (int i = 1; i <= stages; ++i) {
    auto stage = blocked(base + i, "stage", SYS_read, {0, 0, 4096, 0, 0, 0});
    stage.ppid = base;
    const auto in = static_cast<std::uint64_t>(base + i);
    stage.fds = {pipe_end(0, in, PipeEnd::read), pipe_end(1, in + 1, PipeEnd::write)};
    procs.push_back(stage);
  }
  return procs;
}

bool any_mentions(const std::vector<std::string>& lines, const std::string& what) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(what) != std::string::npos; });
}

// child_keeps_write_end: each stage keeps the write end of its own input pipe (fd 5 or 7). The
// root cause is the first stage the driver waits for; a stage's stdout, which the next stage
// reads, is never blamed (it is blocked itself and closes it when it exits).
TEST(ProcRootCause, AStageKeepingTheWriteEndOfItsOwnInputIsTheCauseOverTwoAndThreeStages) {
  for (int stages : {1, 2}) {  // the first stage has exited: 2 and 3 stages
    auto procs = pipeline_of(100, stages);
    for (int i = 1; i <= stages; ++i)
      procs[i].fds.push_back(pipe_end(i % 2 ? 5 : 7, static_cast<std::uint64_t>(100 + i), PipeEnd::write));
    const auto report = ProcInspector().diagnose_hang(procs);
    EXPECT_EQ(report.root_cause,
              "pid 101 (stage) keeps fd 5 open, the write end of its own input pipe:[101]: its read on fd 0 can never see EOF");
    EXPECT_EQ(report.cause_kind, "a process keeps the write end of its own input pipe open");
    EXPECT_FALSE(any_mentions(report.findings, "fd 1")) << report.summary();
    EXPECT_FALSE(any_mentions(report.findings, "pid 101 (stage) holds the write end of pipe:[102]")) << report.summary();
    EXPECT_TRUE(report.summary().starts_with(report.root_cause + "\n"));
    if (stages == 2) {
      EXPECT_THAT(report.findings, Contains("pid 102 (stage) holds the write end of its own input pipe:[102] (fd 7): the "
                                            "reader never sees EOF"));
      EXPECT_THAT(report.findings, Contains("pid 102 (stage) reads pipe:[102] that pid 101 (stage) writes to as its stdout, "
                                            "and pid 101 (stage) is blocked itself"));
    }
  }
}

// parent_keeps_ends: the driver keeps both ends of every pipe while it waits, and the stages
// inherited copies. The root cause is the caller's fd, with the other copies after it.
TEST(ProcRootCause, ACallerKeepingThePipeEndsWhileItWaitsIsTheCause) {
  auto procs = pipeline_of(300, 2);
  const std::vector<FdInfo> kept = {pipe_end(4, 301, PipeEnd::read), pipe_end(5, 301, PipeEnd::write),
                                    pipe_end(6, 302, PipeEnd::read), pipe_end(7, 302, PipeEnd::write)};
  for (auto& p : procs) p.fds.insert(p.fds.end(), kept.begin(), kept.end());
  const auto report = ProcInspector().diagnose_hang(procs);
  EXPECT_EQ(report.root_cause,
            "pid 300 (pipeline) keeps fd 5 open, the write end of pipe:[301] that its child pid 301 (stage) reads, while "
            "it waits for its children: the read on fd 0 can never see EOF; other copies of it: pid 302 (stage) (fd 5), "
            "pid 301 (stage) (fd 5)");
  EXPECT_EQ(report.cause_kind, "a parent keeps the write end of a pipe open while it waits for its children");
  EXPECT_FALSE(any_mentions(report.findings, "fd 1")) << report.summary();
}

// A stage whose stdin and stdout are one pipe (one_pipe_both_ways): its stdout is the write end.
TEST(ProcRootCause, OnePipeUsedBothWaysIsTheCause) {
  auto procs = pipeline_of(500, 1);
  procs[1].fds = {pipe_end(0, 501, PipeEnd::read), pipe_end(1, 501, PipeEnd::write)};
  const auto report = ProcInspector().diagnose_hang(procs);
  EXPECT_EQ(report.root_cause, "pid 501 (stage) writes its stdout into its own input pipe:[501] (fd 1): one pipe used "
                               "both ways, so its read on fd 0 can never see EOF");
  EXPECT_EQ(report.cause_kind, "a process's input and output are the same pipe (one pipe used both ways)");
}

// Two processes that each read what only the other writes, and use every end they hold: no fd
// is wrong, the deadlock is the cause.
TEST(ProcRootCause, TwoReadersWaitingForEachOtherAreADeadlock) {
  auto a = blocked(400, "a", SYS_read, {3, 0, 1, 0, 0, 0});
  a.fds = {pipe_end(3, 40, PipeEnd::read), pipe_end(6, 41, PipeEnd::write)};
  auto b = blocked(401, "b", SYS_read, {3, 0, 1, 0, 0, 0});
  b.fds = {pipe_end(3, 41, PipeEnd::read), pipe_end(6, 40, PipeEnd::write)};
  const auto report = ProcInspector().diagnose_hang({a, b});
  EXPECT_EQ(report.root_cause, "pid 400 (a) and pid 401 (b) each wait to read what the other has not written: pid 400 (a) "
                               "reads pipe:[40] whose write end pid 401 (b) holds; pid 401 (b) reads pipe:[41] whose write "
                               "end pid 400 (a) holds");
  EXPECT_EQ(report.cause_kind, "two processes each wait to read what the other has not written (a deadlock)");
}

// A writer outside the processes, a wait in msgrcv: nothing here is clearly the cause.
TEST(ProcRootCause, NoCauseLeavesTheFindingsAsTheyAre) {
  auto r = blocked(600, "reader", SYS_read, {0, 0, 1, 0, 0, 0});
  r.fds = {pipe_end(0, 60, PipeEnd::read)};
  auto q = blocked(601, "client", SYS_msgrcv, {3, 0, 64, 601, 0, 0});
  const auto report = ProcInspector().diagnose_hang({r, q});
  EXPECT_EQ(report.root_cause, "");
  EXPECT_EQ(report.cause_kind, "");
  EXPECT_THAT(report.findings, ElementsAre("no process here holds the write end of pipe:[60] that pid 600 (reader) reads: "
                                           "its writer is outside these processes"));
  EXPECT_TRUE(report.summary().starts_with("pid 600 (reader) blocked in read"));
}

// A writer on a full pipe whose only reader has exited, while the driver keeps the read end and
// waits for it (early_exit_ends_pipeline with parent_keeps_ends).
TEST(ProcRootCause, AParentKeepingTheReadEndOfAFullPipeIsTheCause) {
  auto procs = pipeline_of(700, 1);
  procs[1].syscall = SYS_write, procs[1].syscall_args = {1, 0, 4096, 0, 0, 0};
  procs[0].fds = {pipe_end(4, 702, PipeEnd::read)};
  const auto report = ProcInspector().diagnose_hang(procs);
  EXPECT_EQ(report.root_cause, "pid 700 (pipeline) keeps fd 4 open, the read end of pipe:[702] that its child pid 701 "
                               "(stage) writes to, while it waits for its children: the write on fd 1 can never finish "
                               "nor fail with SIGPIPE");
  EXPECT_EQ(report.cause_kind, "a parent keeps the read end of a pipe open while it waits for its children");
}

TEST(ProcDiagnoseLogic, ThreeProcessCycleIsNamedOnce) {
  // 80 reads pipe 1 held by 81, 81 reads pipe 2 held by 82, 82 waits for its child 80.
  auto a = blocked(80, "a", SYS_read, {0, 0, 1, 0, 0, 0});
  a.ppid = 82, a.fds = {pipe_end(0, 1, PipeEnd::read)};
  auto b = blocked(81, "b", SYS_read, {0, 0, 1, 0, 0, 0});
  b.fds = {pipe_end(0, 2, PipeEnd::read), pipe_end(5, 1, PipeEnd::write)};
  auto c = blocked(82, "c", SYS_waitid, {1 /* P_PID */, 80, 0, 4, 0, 0});
  c.fds = {pipe_end(6, 2, PipeEnd::write)};
  const auto report = ProcInspector().diagnose_hang({a, b, c});
  EXPECT_THAT(report.processes[2].description, HasSubstr("blocked in waitid for child pid 80 (a)"));
  EXPECT_THAT(report.findings,
              Contains("deadlock cycle: pid 80 (a) reads pipe:[1] whose write end pid 81 (b) holds; "
                       "pid 81 (b) reads pipe:[2] whose write end pid 82 (c) holds; "
                       "pid 82 (c) waits for its child pid 80 (a): none of them can go on"));
}

TEST(ProcDiagnoseLogic, RunningAndUndecodedCalls) {
  auto spin = blocked(90, "spin", 0, {});
  spin.state = 'R', spin.syscall.reset();
  auto lock = blocked(91, "lock", SYS_futex, {0x1000, 0x80, 0, 0, 0, 0});
  lock.wchan = "futex_wait_queue";
  auto mq = blocked(92, "mq", SYS_msgrcv, {65538, 0, 64, 1, 0, 0});
  const auto report = ProcInspector().diagnose_hang({spin, lock, mq});
  EXPECT_THAT(report.processes[0].description, HasSubstr("is running, not blocked"));
  EXPECT_EQ(report.processes[1].description,
            "pid 91 (lock) blocked in futex (a mutex, condition variable, sem_wait or thread join) "
            "[wchan futex_wait_queue]");
  EXPECT_EQ(report.processes[2].description,
            "pid 92 (mq) blocked in msgrcv on SysV message queue id 65538 for a message of mtype 1");
  EXPECT_TRUE(report.findings.empty());
}

TEST(ProcDiagnoseLogic, FifoOpensNameTheEndTheyWaitFor) {
  auto client = blocked(98, "client", SYS_openat, {static_cast<unsigned long>(AT_FDCWD), 0x1000, O_WRONLY, 0, 0, 0});
  client.syscall_path = "/tmp/lab2/requests";
  auto unknown = blocked(99, "srv", SYS_openat, {static_cast<unsigned long>(AT_FDCWD), 0x1000, O_RDONLY, 0, 0, 0});
  const auto report = ProcInspector().diagnose_hang({client, unknown});
  EXPECT_EQ(report.processes[0].description,
            "pid 98 (client) blocked in openat of FIFO /tmp/lab2/requests for writing: it waits until some process "
            "opens it for reading");
  EXPECT_EQ(report.processes[1].description,
            "pid 99 (srv) blocked in openat of a FIFO (path unreadable) for reading: it waits until some process "
            "opens it for writing");
}

TEST(ProcDiagnoseLogic, MessageQueueWaitsSayWhatTheyWaitFor) {
  auto any = blocked(93, "srv", SYS_msgrcv, {3, 0, 64, 0, 0, 0});
  auto lowest = blocked(94, "cli", SYS_msgrcv, {3, 0, 64, static_cast<unsigned long>(-5L), 0, 0});
  auto full = blocked(95, "prod", SYS_msgsnd, {3, 0, 64, 0, 0, 0});
  auto worker = blocked(96, "worker", SYS_mq_timedreceive, {4, 0, 8192, 0, 0, 0});
  worker.fds = {end_of(4, FdKind::file, 77, PipeEnd::none, "/jobs")};
  auto producer = blocked(97, "producer", SYS_mq_timedsend, {5, 0, 100, 3, 0, 0});
  const auto report = ProcInspector().diagnose_hang({any, lowest, full, worker, producer});
  EXPECT_EQ(report.processes[0].description,
            "pid 93 (srv) blocked in msgrcv on SysV message queue id 3 for any message (msgtyp 0)");
  EXPECT_EQ(report.processes[1].description,
            "pid 94 (cli) blocked in msgrcv on SysV message queue id 3 for the lowest mtype up to 5 (msgtyp -5)");
  EXPECT_EQ(report.processes[2].description,
            "pid 95 (prod) blocked in msgsnd on SysV message queue id 3 (the queue is full: it waits for room)");
  EXPECT_EQ(report.processes[3].description,
            "pid 96 (worker) blocked in mq_timedreceive on POSIX message queue /jobs (fd 4): the queue is empty, "
            "it waits for a message");
  EXPECT_EQ(report.processes[4].description,
            "pid 97 (producer) blocked in mq_timedsend on POSIX message queue fd 5 (not open): the queue is "
            "full, it waits for room");
}

// The counts a snapshot read: said with the queue, and a count that contradicts the wait (the
// queue changed while it was observed) said as such.
TEST(ProcDiagnoseLogic, MessageQueueWaitsSayHowManyMessagesTheQueueHolds) {
  auto worker = blocked(96, "worker", SYS_mq_timedreceive, {4, 0, 8192, 0, 0, 0});
  worker.fds = {end_of(4, FdKind::file, 77, PipeEnd::none, "/jobs")};
  worker.waiting_messages = 0, worker.waiting_queue_limit = 10;
  auto woken = worker;
  woken.pid = 98, woken.waiting_messages = 1;
  auto producer = blocked(97, "producer", SYS_mq_timedsend, {5, 0, 100, 3, 0, 0});
  producer.fds = {end_of(5, FdKind::file, 77, PipeEnd::none, "/jobs")};
  producer.waiting_messages = 10, producer.waiting_queue_limit = 10;
  auto client = blocked(43, "client", SYS_msgrcv, {3, 0, 64, 43, 0, 0});
  client.waiting_messages = 2;
  auto one = blocked(44, "client", SYS_msgrcv, {3, 0, 64, static_cast<unsigned long>(-5L), 0, 0});
  one.waiting_messages = 1;
  auto empty = blocked(45, "srv", SYS_msgrcv, {3, 0, 64, 0, 0, 0});
  empty.waiting_messages = 0;
  auto full = blocked(46, "prod", SYS_msgsnd, {3, 0, 64, 0, 0, 0});
  full.waiting_messages = 16;
  const auto report = ProcInspector().diagnose_hang({worker, woken, producer, client, one, empty, full});
  EXPECT_EQ(report.processes[0].description,
            "pid 96 (worker) blocked in mq_timedreceive on POSIX message queue /jobs (fd 4, 0 messages): the queue is "
            "empty, it waits for a message");
  EXPECT_EQ(report.processes[1].description,
            "pid 98 (worker) blocked in mq_timedreceive on POSIX message queue /jobs (fd 4, 1 message): a message "
            "arrived as it was observed, it is about to receive it");
  EXPECT_EQ(report.processes[2].description,
            "pid 97 (producer) blocked in mq_timedsend on POSIX message queue /jobs (fd 5, 10 of 10 messages): the "
            "queue is full, it waits for room");
  EXPECT_EQ(report.processes[3].description,
            "pid 43 (client) blocked in msgrcv on SysV message queue id 3 for a message of mtype 43; the queue holds 2 "
            "messages");
  EXPECT_EQ(report.processes[4].description,
            "pid 44 (client) blocked in msgrcv on SysV message queue id 3 for the lowest mtype up to 5 (msgtyp -5); "
            "the queue holds 1 message");
  EXPECT_EQ(report.processes[5].description,
            "pid 45 (srv) blocked in msgrcv on SysV message queue id 3 for any message (msgtyp 0); the queue is empty");
  EXPECT_EQ(report.processes[6].description,
            "pid 46 (prod) blocked in msgsnd on SysV message queue id 3 (the queue is full: it waits for room); the "
            "queue holds 16 messages");
}

// The FIFO a blocked open names is matched by device and inode: a holder of its other end seen
// in another snapshot (it opened after the opener was observed) is named; one on another device
// (another cell's /tmp reusing the inode number) is not that FIFO.
TEST(ProcDiagnoseLogic, AFifoOpenIsMatchedWithHoldersOfTheOtherEndByDeviceAndInode) {
  auto server = blocked(41, "server", SYS_openat, {static_cast<unsigned long>(AT_FDCWD), 0x1000, O_RDONLY, 0, 0, 0});
  server.syscall_path = "/tmp/lab2/requests";
  server.syscall_path_device = 7, server.syscall_path_inode = 500;
  auto client = blocked(45, "client", SYS_write, {4, 0, 10, 0, 0, 0});
  client.fds = {end_of(4, FdKind::fifo, 500, PipeEnd::write, "/tmp/lab2/requests")};
  client.fds[0].device = 7;
  auto stranger = blocked(46, "other", SYS_pause, {});
  stranger.fds = {end_of(4, FdKind::fifo, 500, PipeEnd::write, "/tmp/elsewhere")};
  stranger.fds[0].device = 8;
  auto report = ProcInspector().diagnose_hang({server, client, stranger});
  EXPECT_EQ(report.processes[0].description,
            "pid 41 (server) blocked in openat of FIFO /tmp/lab2/requests for reading: it waits until some process "
            "opens it for writing");
  EXPECT_THAT(report.findings, Contains("pid 45 (client) has FIFO /tmp/lab2/requests open for writing (fd 4): the open "
                                        "in pid 41 (server) returns as soon as it runs"));
  for (const std::string& f : report.findings) EXPECT_THAT(f, Not(HasSubstr("pid 46"))) << f;
  report = ProcInspector().diagnose_hang({server, stranger});
  EXPECT_EQ(report.processes[0].description,
            "pid 41 (server) blocked in openat of FIFO /tmp/lab2/requests for reading: no writer has opened it; it "
            "waits until some process opens it for writing");
  EXPECT_THAT(report.findings, ::testing::IsEmpty());
}

TEST(ProcParse, PathsOfABlockedOpenAreLookedUpAsTheProcessSeesThem) {
  using proc_internal::proc_relative_path;
  const unsigned long cwd = static_cast<unsigned long>(static_cast<std::uint32_t>(AT_FDCWD));
  EXPECT_EQ(proc_relative_path(SYS_openat, {cwd, 0, 0}, "/tmp/lab2/requests"), "root/tmp/lab2/requests");
  EXPECT_EQ(proc_relative_path(SYS_openat, {cwd, 0, 0}, "requests"), "cwd/requests");
  EXPECT_EQ(proc_relative_path(SYS_openat, {5, 0, 0}, "requests"), "fd/5/requests");
  EXPECT_EQ(proc_relative_path(SYS_openat, {5, 0, 0}, "/abs"), "root/abs");  // the dirfd does not apply
  EXPECT_EQ(proc_relative_path(SYS_open, {0x1000, 0, 0}, "requests"), "cwd/requests");
  EXPECT_EQ(proc_relative_path(SYS_openat, {cwd, 0, 0}, ""), std::nullopt);
  EXPECT_EQ(proc_relative_path(SYS_read, {3, 0, 0}, "x"), std::nullopt);
}

TEST(ProcParse, SysvipcMsgLinesGiveTheCountOfOneQueue) {
  const std::string text =
      "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
      "         0          3   600          12          2  4242     0     0     0     0     0 1733380000          0 1733380000\n"
      "1234567890      32769   666           0          0     0     0  1000  1000  1000  1000          0          0 1733380001\n";
  const auto three = proc_internal::parse_sysvipc_msg(text, 3);
  ASSERT_TRUE(three);
  EXPECT_EQ(three->messages, 2);
  EXPECT_EQ(three->bytes, 12);
  const auto other = proc_internal::parse_sysvipc_msg(text, 32769);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->messages, 0);
  EXPECT_EQ(proc_internal::parse_sysvipc_msg(text, 4), std::nullopt);
  EXPECT_EQ(proc_internal::parse_sysvipc_msg("", 3), std::nullopt);
  EXPECT_EQ(proc_internal::parse_sysvipc_msg("garbage 3 x y z\n", 3), std::nullopt);
}

TEST(SyscallName, KnowsTheCommonOnes) {
  EXPECT_EQ(syscall_name(0), "read");
  EXPECT_EQ(syscall_name(1), "write");
  EXPECT_EQ(syscall_name(7), "poll");
  EXPECT_EQ(syscall_name(61), "wait4");
  EXPECT_EQ(syscall_name(202), "futex");
  EXPECT_EQ(syscall_name(247), "waitid");
  EXPECT_EQ(syscall_name(288), "accept4");
  EXPECT_EQ(syscall_name(334), "rseq");
  EXPECT_EQ(syscall_name(435), "clone3");
  EXPECT_EQ(syscall_name(400), "syscall 400");
  EXPECT_EQ(syscall_name(-1), "syscall -1");
}

// ---------------------------------------------------------------------------------------------
// Measurement: the cost of one snapshot (printed, never asserted).

TEST(ProcMeasure, CostOfOneSnapshot) {
  Spawned small([] { ::pause(); });
  ASSERT_TRUE(wait_for(small.pid(), blocked_in(SYS_pause)));
  const ProcInspector proc;
  const auto time_it = [&](pid_t pid, int n) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) EXPECT_TRUE(proc.snapshot(pid));
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / n;
  };
  const auto fds = proc.snapshot(small.pid())->fds.size();
  const double small_us = time_it(small.pid(), 1000);
  std::vector<UniqueFd> many;
  for (int i = 0; i < 100; ++i) many.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const auto self_fds = proc.snapshot(::getpid())->fds.size();
  const double self_us = time_it(::getpid(), 200);
  const auto start = std::chrono::steady_clock::now();
  const auto everyone = proc.descendants(1);
  const double scan_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ measure  ] snapshot: " << small_us << " us with " << fds << " fds, " << self_us << " us with "
            << self_fds << " fds; descendants(1) over " << everyone.size() << " processes: " << scan_us << " us\n";
  RecordProperty("snapshot_us", std::to_string(small_us));
}

// What reading a SysV queue's count adds to a snapshot: in our own IPC namespace (a read of
// /proc/sysvipc/msg), and in another one (a thread that joins it first). Printed, not bounded.
TEST(ProcMeasure, CostOfASnapshotWithAQueueCount) {
  const auto cost = [](pid_t pid, int n) {
    const ProcInspector proc;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) EXPECT_TRUE(proc.snapshot(pid));
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / n;
  };
  const auto client_in = [](bool own_namespace) {
    return [own_namespace] {
      if (own_namespace && ::unshare(CLONE_NEWIPC) != 0) ::_exit(2);
      const int id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
      TypedMessage m{1, "x"};
      (void)!::msgsnd(id, &m, 2, 0);
      (void)!::msgrcv(id, &m, sizeof m.text, 43, 0);
    };
  };
  Spawned here(client_in(false));
  auto s = wait_for(here.pid(), blocked_in(SYS_msgrcv));
  ASSERT_TRUE(s);
  RemoveQueues remove{static_cast<int>(s->syscall_args.at(0))};  // ours: the namespace outlives the child
  EXPECT_EQ(s->waiting_messages, 1);
  const double same_us = cost(here.pid(), 200);
  std::string other = "not measured (needs root)";
  if (::geteuid() == 0) {
    Spawned there(client_in(true));
    auto t = wait_for(there.pid(), blocked_in(SYS_msgrcv));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->waiting_messages, 1);
    other = std::to_string(static_cast<int>(cost(there.pid(), 200))) + " us";
  }
  std::cout << "[ measure  ] snapshot blocked in msgrcv: " << same_us << " us in our IPC namespace, " << other
            << " in another\n";
}

}  // namespace
}  // namespace ipcg
