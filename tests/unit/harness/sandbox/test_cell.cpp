// Cells with real processes: several roles in one cell, role uids, leftovers at close, the IPC
// objects a cell holds while it runs (ipc_objects), tags, the memory cgroup, and close() killing
// everything. Helpers are test_sandbox.cpp's.
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "harness/core/ipc_names.hpp"
#include "harness/proc/proc_inspector.hpp"
#include "harness/sandbox/sandbox.hpp"

#include "sandbox_test_support.hpp"

namespace ipcg_test {

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs a helper in the cell and returns {exit code, stdout}.
std::pair<int, std::string> run_in(Cell& cell, std::vector<std::string> argv, Role role = Role::student) {
  auto out = make_pipe();
  if (!out) return {-1, out.error().message};
  auto proc = cell.spawn({.argv = std::move(argv), .fds = {{out->write_end.get(), 1}}, .role = role});
  if (!proc) return {-1, proc.error().message};
  out->write_end.reset();
  std::string text = read_all(out->read_end.get());
  return {exit_code_of(*proc), text};
}

// A key per test run: parallel ctest jobs must not see each other's objects in reduced mode.
std::string unique_key() { return std::to_string(0x4000000 + (::getpid() & 0xffffff)); }

bool host_has_sysv_key(const std::string& key) {
  for (const char* path : {"/proc/sysvipc/msg", "/proc/sysvipc/sem", "/proc/sysvipc/shm"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string k;
      f >> k;
      if (k == key) return true;
    }
  }
  return false;
}

class CellTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    auto created = make_box(GetParam(), {"process", "file", "pipe", "fifo", "sysv_ipc", "shm", "posix_mq"});
    ASSERT_TRUE(created) << created.error().message;
    box.emplace(std::move(*created));
    if (GetParam() == Mode::full && box->isolation().level != IsolationLevel::full)
      GTEST_SKIP() << "full isolation unavailable here: " << box->isolation().reason;
  }
  bool full() const { return GetParam() == Mode::full; }
  std::optional<Sandbox> box;
};

INSTANTIATE_TEST_SUITE_P(Modes, CellTest, ::testing::Values(Mode::full, Mode::reduced), mode_name);

TEST_P(CellTest, ProcessesOfOneCellShareItsIpcNamespace) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const std::string key = unique_key();
  EXPECT_EQ(run_in(*cell, helper("sysv_find", {key})).first, 1);
  EXPECT_EQ(run_in(*cell, helper("sysv_make", {key})).first, 0);
  EXPECT_EQ(run_in(*cell, helper("sysv_find", {key}), Role::reference).first, 0);
  const CellReport report = cell->close();
  ASSERT_EQ(report.leftovers.size(), 1u);
  EXPECT_NE(report.leftovers[0].find("SysV message queue"), std::string::npos) << report.leftovers[0];
  // Full: the namespace died with the cell. Reduced: the sweep removed it from the host.
  EXPECT_FALSE(host_has_sysv_key(key));
  if (full()) {  // and another cell never saw it
    auto other = box->open_cell();
    ASSERT_TRUE(other);
    EXPECT_EQ(run_in(*other, helper("sysv_find", {key})).first, 1);
  }
}

TEST_P(CellTest, StudentAndReferenceRolesRunAsDifferentUids) {
  if (::geteuid() != 0) GTEST_SKIP() << "roles change uid only as root";
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const auto student = run_in(*cell, helper("uid", {}));
  const auto reference = run_in(*cell, helper("uid", {}), Role::reference);
  ASSERT_EQ(student.first, 0) << student.second;
  ASSERT_EQ(reference.first, 0) << reference.second;
  EXPECT_NE(student.second, reference.second);
  EXPECT_NE(student.second, "0");
  EXPECT_NE(reference.second, "0");
}

TEST_P(CellTest, AStudentProcessCannotSignalAReferenceOne) {
  if (::geteuid() != 0) GTEST_SKIP() << "roles change uid only as root";
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  auto victim = cell->spawn({.argv = {"/bin/sleep", "1000"}, .role = Role::reference});
  ASSERT_TRUE(victim) << victim.error().message;
  // The pid as the cell sees it (last NSpid field).
  std::istringstream nspid(status_line(victim->pid(), "NSpid"));
  std::string inner;
  for (std::string f; nspid >> f;) inner = f;
  ASSERT_FALSE(inner.empty());
  const auto attack = run_in(*cell, helper("kill", {inner}));
  EXPECT_EQ(attack.first, 1) << attack.second;  // EPERM
  EXPECT_EQ(victim->wait_status(), std::nullopt) << "the reference process died";
}

TEST_P(CellTest, CloseListsWhatTheCellLeftAndNothingStaysOnTheHost) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const std::string key = unique_key();
  std::vector<std::string> args{key};
  // Reduced mode's /tmp is the host's: swept by owner only when the cell has uids of its own.
  const bool fifo = full() || ::geteuid() == 0;
  if (fifo) args.push_back("fifo");
  const auto made = run_in(*cell, helper("ipc_leave", args));
  ASSERT_EQ(made.first, 0) << made.second;
  const CellReport report = cell->close();
  struct stat st {};
  std::string all;
  for (const auto& l : report.leftovers) all += l + "\n";
  for (const char* want : {"SysV message queue", "SysV semaphore set", "SysV shared memory segment",
                           "POSIX shared memory /dev/shm/ipcg-test-"})
    EXPECT_NE(all.find(want), std::string::npos) << "missing " << want << " in:\n" << all;
  // POSIX queues are listed inside the cell, or as root through a private mqueue mount; an
  // unprivileged grader on a host without /dev/mqueue cannot see them (docs/threat-model.md).
  const bool queues_visible = full() || ::geteuid() == 0 || ::lstat("/dev/mqueue", &st) == 0;
  if (queues_visible)
    EXPECT_NE(all.find("POSIX message queue /dev/mqueue/ipcg-test-"), std::string::npos) << all;
  else
    ::mq_unlink(("/ipcg-test-" + key).c_str());  // what the sweep could not see, the test removes
  if (fifo) {
    EXPECT_NE(all.find("FIFO /tmp/ipcg-fifo-"), std::string::npos) << all;
  }
  EXPECT_NE(::lstat(("/tmp/ipcg-fifo-" + key).c_str(), &st), 0) << "the FIFO stayed in the host's /tmp";
  EXPECT_FALSE(host_has_sysv_key(key));
  EXPECT_NE(::lstat(("/dev/shm/ipcg-test-" + key).c_str(), &st), 0);
  EXPECT_NE(::lstat(("/dev/mqueue/ipcg-test-" + key).c_str(), &st), 0);
  EXPECT_EQ(cell->close().leftovers, report.leftovers);  // idempotent
}

TEST_P(CellTest, CloseKillsEveryProcessEvenOnesThatLeftTheirSession) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  auto out = make_pipe();
  ASSERT_TRUE(out);
  auto proc = cell->spawn({.argv = helper("daemon", {"exit"}), .fds = {{out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  out->write_end.reset();
  // Two lines in either order: the daemon's pid (as the cell sees it) and the target's "reaped".
  std::string first;
  for (int line = 0; line < 2; ++line) {
    const std::string text = read_line(out->read_end.get());
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) first = text;
  }
  // The daemon's pid as printed is the cell's; find it on the host among the keeper's children.
  ASSERT_EQ(exit_code_of(*proc), 0);
  struct stat pipe_stat {};
  ASSERT_EQ(::fstat(out->read_end.get(), &pipe_stat), 0);
  const std::string out_pipe = "pipe:[" + std::to_string(pipe_stat.st_ino) + "]";
  std::vector<ProcId> daemons;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::istringstream nspid(status_line(std::stoi(name), "NSpid"));
    std::string inner;
    int levels = 0;
    for (std::string f; nspid >> f; ++levels) inner = f;
    // Full: a process of a child pid namespace (two NSpid levels) whose inner pid was printed,
    // and whose stdout is our pipe: other cells on this host (other tests, other graders) have
    // processes with the same inner pid.
    std::error_code ec;
    const bool our_pipe = std::filesystem::read_symlink(entry.path() / "fd" / "1", ec).string() == out_pipe;
    const bool ours = full() ? levels == 2 && inner == first && our_pipe : name == first;
    if (ours)
      if (auto id = proc_id(std::stoi(name))) daemons.push_back(*id);
  }
  ASSERT_FALSE(daemons.empty()) << "daemon " << first << " not found";
  cell->close();
  for (const auto& d : daemons) EXPECT_FALSE(still_exists(d)) << "daemon " << d.pid << " outlived its cell";
  auto late = cell->spawn({.argv = {"/bin/true"}});
  EXPECT_FALSE(late) << "a closed cell spawned a process";
}

// The keeper is the small ipcg-keeper program, exec'd in the cell: not a fork of the grader, whose
// pages would then be shared copy-on-write for the cell's whole life.
TEST_P(CellTest, ItsKeeperIsTheKeeperProgramNotACopyOfTheGrader) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  auto in = make_pipe(), out = make_pipe();
  ASSERT_TRUE(in && out);
  auto proc = cell->spawn({.argv = {"/bin/cat"}, .fds = {{in->read_end.get(), 0}, {out->write_end.get(), 1}}});
  ASSERT_TRUE(proc) << proc.error().message;
  in->read_end.reset();
  out->write_end.reset();
  std::istringstream ppid(status_line(proc->pid(), "PPid"));
  pid_t keeper = 0;
  ASSERT_TRUE(ppid >> keeper) << "no PPid for " << proc->pid();
  std::ifstream comm("/proc/" + std::to_string(keeper) + "/comm");
  std::string name;
  std::getline(comm, name);
  EXPECT_EQ(name, "ipcg-keeper");
  std::ifstream maps_file("/proc/" + std::to_string(keeper) + "/maps");
  const std::string maps((std::istreambuf_iterator<char>(maps_file)), std::istreambuf_iterator<char>());
  EXPECT_THAT(maps, HasSubstr("ipcg-keeper"));
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").filename();
  EXPECT_THAT(maps, Not(HasSubstr(self))) << "the keeper maps this test's executable: a fork of it";
  EXPECT_THAT(maps, Not(HasSubstr("libstdc++"))) << "the keeper should link no C++ library";
  in->write_end.reset();  // cat sees EOF
  EXPECT_EQ(exit_code_of(*proc), 0);
}

// A helper holding a POSIX queue (2 messages), a SysV queue (3) and a FIFO named from the cell's
// tag, as a lab's check would name them; stdin is how the test tells it to remove them.
struct Holder {
  IpcNames names;
  UniqueFd to_helper, from_helper;
  std::optional<SandboxedProcess> proc;
  std::string error;

  explicit Holder(Cell& cell) : names(cell.tag()) {
    auto in = make_pipe(), out = make_pipe();
    if (!in || !out) {
      error = "pipes";
      return;
    }
    auto spawned = cell.spawn({.argv = helper("ipc_hold", {names.posix("jobs"), std::to_string(names.sysv_key("dispatch")),
                                                           names.fifo("requests")}),
                               .fds = {{in->read_end.get(), 0}, {out->write_end.get(), 1}}});
    if (!spawned) {
      error = spawned.error().message;
      return;
    }
    proc.emplace(std::move(*spawned));
    to_helper = std::move(in->write_end);
    from_helper = std::move(out->read_end);
    in->read_end.reset();
    out->write_end.reset();
    const std::string line = read_line(from_helper.get());
    if (line != "ready") error = "the helper said '" + line + "', exit " + std::to_string(exit_code_of(*proc));
  }
  // Asks the helper to remove its objects; true once it says it did.
  bool remove() {
    const std::string line = "remove\n";
    return ::write(to_helper.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
           read_line(from_helper.get()) == "removed";
  }
  // What reduced mode's close cannot sweep: unprivileged, FIFOs in the host's /tmp, and POSIX
  // queues on a host without /dev/mqueue (docs/threat-model.md). Harmless when already gone.
  ~Holder() {
    ::mq_unlink(names.posix("jobs").c_str());
    ::unlink(names.fifo("requests").c_str());
  }
};

const IpcObject* find_kind(const std::vector<IpcObject>& objects, IpcObject::Kind kind, const std::string& name,
                           key_t key = 0) {
  for (const IpcObject& o : objects)
    if (o.kind == kind && o.name == name && o.key == key) return &o;
  return nullptr;
}

std::string listing(const std::vector<IpcObject>& objects) {
  std::string out;
  for (const IpcObject& o : objects) out += o.description + " (" + std::to_string(o.messages) + " messages)\n";
  return out;
}

bool posix_queues_visible(bool full) {
  struct stat st {};
  return full || ::geteuid() == 0 || ::lstat("/dev/mqueue", &st) == 0;
}

TEST_P(CellTest, IpcObjectsListsQueuesWithTheirMessagesAndFifosUntilTheyAreRemoved) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  Holder holder(*cell);
  ASSERT_TRUE(holder.error.empty()) << holder.error;
  const IpcNames& n = holder.names;
  auto objects = cell->ipc_objects();
  ASSERT_TRUE(objects) << objects.error().message;
  const IpcObject* sysv = find_kind(*objects, IpcObject::Kind::sysv_msg, "", n.sysv_key("dispatch"));
  ASSERT_NE(sysv, nullptr) << listing(*objects);
  EXPECT_EQ(sysv->messages, 3);
  EXPECT_GE(sysv->id, 0);
  EXPECT_THAT(sysv->description, HasSubstr("SysV message queue (key 0x"));
  const IpcObject* fifo = find_kind(*objects, IpcObject::Kind::fifo, n.fifo("requests"));
  ASSERT_NE(fifo, nullptr) << listing(*objects);
  EXPECT_EQ(fifo->messages, -1);
  EXPECT_EQ(fifo->description, "FIFO " + n.fifo("requests"));
  if (::geteuid() == 0) {
    EXPECT_NE(fifo->owner, 0u) << "the helper runs as the slot's student uid";
  }
  if (posix_queues_visible(full())) {
    const IpcObject* mq = find_kind(*objects, IpcObject::Kind::posix_mq, n.posix("jobs"));
    ASSERT_NE(mq, nullptr) << listing(*objects);
    EXPECT_EQ(mq->messages, 2);
    EXPECT_EQ(mq->owner, sysv->owner);
    EXPECT_EQ(mq->description, "POSIX message queue /dev/mqueue/" + n.name("jobs"));
  }
  ASSERT_TRUE(holder.remove());
  objects = cell->ipc_objects();
  ASSERT_TRUE(objects) << objects.error().message;
  EXPECT_EQ(find_kind(*objects, IpcObject::Kind::sysv_msg, "", n.sysv_key("dispatch")), nullptr) << listing(*objects);
  EXPECT_EQ(find_kind(*objects, IpcObject::Kind::fifo, n.fifo("requests")), nullptr) << listing(*objects);
  EXPECT_EQ(find_kind(*objects, IpcObject::Kind::posix_mq, n.posix("jobs")), nullptr) << listing(*objects);
  // A listing is not a leftover: nothing was left, so close reports nothing.
  EXPECT_THAT(cell->close().leftovers, ::testing::IsEmpty());
  EXPECT_FALSE(cell->ipc_objects()) << "a closed cell listed objects";
}

// Two cells open at once, as two tests of `grader batch --jobs 2` are. In reduced isolation both
// see the host's objects, and cells of one Sandbox (or of one unprivileged user) share their
// owner: each must list its own objects only.
TEST_P(CellTest, IpcObjectsOfAnotherCellOpenAtTheSameTimeAreNeverListed) {
  auto first = box->open_cell();
  auto second = box->open_cell();
  ASSERT_TRUE(first && second);
  Holder a(*first), b(*second);
  ASSERT_TRUE(a.error.empty()) << a.error;
  ASSERT_TRUE(b.error.empty()) << b.error;
  for (auto [cell, mine, theirs] : {std::tuple{&*first, &a, &b}, std::tuple{&*second, &b, &a}}) {
    auto objects = cell->ipc_objects();
    ASSERT_TRUE(objects) << objects.error().message;
    const IpcNames& m = mine->names;
    const IpcNames& t = theirs->names;
    EXPECT_NE(find_kind(*objects, IpcObject::Kind::sysv_msg, "", m.sysv_key("dispatch")), nullptr) << listing(*objects);
    EXPECT_NE(find_kind(*objects, IpcObject::Kind::fifo, m.fifo("requests")), nullptr) << listing(*objects);
    if (posix_queues_visible(full())) {
      EXPECT_NE(find_kind(*objects, IpcObject::Kind::posix_mq, m.posix("jobs")), nullptr) << listing(*objects);
    }
    for (const IpcObject& o : *objects) {
      EXPECT_NE(o.key, t.sysv_key("dispatch")) << "listed the other cell's " << o.description;
      EXPECT_EQ(o.name.find(t.prefix()), std::string::npos) << "listed the other cell's " << o.description;
    }
  }
}

// Closing a cell sweeps the host in reduced mode: what a cell of another Sandbox (another batch
// job: as root another slot, unprivileged the same user) holds meanwhile stays, and is not named
// among the closed cell's leftovers. (Cells of one Sandbox share its slot: as root, closing one
// kills every process of the slot's uids, the other cell's included.)
TEST_P(CellTest, ClosingACellLeavesTheObjectsOfAnotherOpenCellAlone) {
  auto other_box = make_box(GetParam(), {"process", "file", "pipe", "fifo", "sysv_ipc", "shm", "posix_mq"});
  ASSERT_TRUE(other_box) << other_box.error().message;
  auto first = box->open_cell();
  auto second = other_box->open_cell();
  ASSERT_TRUE(first && second);
  Holder a(*first), b(*second);
  ASSERT_TRUE(a.error.empty()) << a.error;
  ASSERT_TRUE(b.error.empty()) << b.error;
  const CellReport closed = first->close();
  std::string all;
  for (const std::string& l : closed.leftovers) all += l + "\n";
  char key[16];
  std::snprintf(key, sizeof key, "0x%08x", static_cast<unsigned>(a.names.sysv_key("dispatch")));
  EXPECT_THAT(all, HasSubstr(std::string("SysV message queue (key ") + key));
  // Unprivileged, close sweeps no file of the user's /tmp (docs/threat-model.md).
  if (full() || ::geteuid() == 0) {
    EXPECT_THAT(all, HasSubstr(a.names.fifo("requests")));
  }
  EXPECT_THAT(all, Not(HasSubstr(b.names.prefix())));
  char other_key[16];
  std::snprintf(other_key, sizeof other_key, "0x%08x", static_cast<unsigned>(b.names.sysv_key("dispatch")));
  EXPECT_THAT(all, Not(HasSubstr(other_key)));
  auto still = second->ipc_objects();
  ASSERT_TRUE(still) << still.error().message;
  const IpcObject* queue = find_kind(*still, IpcObject::Kind::sysv_msg, "", b.names.sysv_key("dispatch"));
  ASSERT_NE(queue, nullptr) << listing(*still);
  EXPECT_EQ(queue->messages, 3);
  EXPECT_NE(find_kind(*still, IpcObject::Kind::fifo, b.names.fifo("requests")), nullptr) << listing(*still);
  if (posix_queues_visible(full())) {
    EXPECT_NE(find_kind(*still, IpcObject::Kind::posix_mq, b.names.posix("jobs")), nullptr) << listing(*still);
  }
}

// The hang report of processes blocked on a cell's IPC objects, taken from the grader as the
// run loop takes it at a deadline: counts read in the cell's IPC namespace (full isolation: from
// a thread of this multithreaded grader that joined it), the FIFO looked up in the cell's /tmp.
TEST_P(CellTest, AHangReportSaysWhatTheCellsQueuesAndFifosHold) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  const IpcNames n(cell->tag());
  struct Cleanup {  // what reduced mode, unprivileged, does not sweep
    const IpcNames& n;
    ~Cleanup() {
      ::mq_unlink(n.posix("jobs").c_str());
      ::unlink(n.fifo("requests").c_str());
    }
  } cleanup{n};
  auto proc = cell->spawn(
      {.argv = helper("ipc_block", {n.posix("jobs"), std::to_string(n.sysv_key("dispatch")), n.fifo("requests")})});
  ASSERT_TRUE(proc) << proc.error().message;
  const ProcInspector inspector;
  std::vector<ProcessSnapshot> snapshots;
  const auto blocked_in = [&](long nr) {
    return std::any_of(snapshots.begin(), snapshots.end(),
                       [nr](const ProcessSnapshot& s) { return s.state == 'S' && s.syscall == nr; });
  };
  // Poll /proc until all three are blocked (the sleep is the poll interval, not a sync).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    snapshots = inspector.snapshot_all(proc->processes());
    if (blocked_in(SYS_msgrcv) && blocked_in(SYS_mq_timedreceive) && blocked_in(SYS_openat)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(blocked_in(SYS_msgrcv) && blocked_in(SYS_mq_timedreceive) && blocked_in(SYS_openat))
      << inspector.diagnose_hang(snapshots).summary();
  const std::string summary = inspector.diagnose_hang(snapshots).summary();
  EXPECT_THAT(summary, HasSubstr(" for a message of mtype 43; the queue holds 2 messages")) << summary;
  EXPECT_THAT(summary, HasSubstr("blocked in mq_timedreceive on POSIX message queue " + n.posix("jobs") + " (fd "))
      << summary;
  EXPECT_THAT(summary, HasSubstr(", 0 messages): the queue is empty, it waits for a message")) << summary;
  EXPECT_THAT(summary, HasSubstr("blocked in openat of FIFO " + n.fifo("requests") + " for reading: no writer has opened it"))
      << summary;
}

// What one listing costs while the cell runs (printed; no bound: the machine's load decides).
TEST_P(CellTest, MeasureTheCostOfOneListing) {
  auto cell = box->open_cell();
  ASSERT_TRUE(cell) << cell.error().message;
  Holder holder(*cell);
  ASSERT_TRUE(holder.error.empty()) << holder.error;
  std::size_t count = 0;
  const auto start = std::chrono::steady_clock::now();
  constexpr int kCalls = 50;
  for (int i = 0; i < kCalls; ++i) {
    auto objects = cell->ipc_objects();
    ASSERT_TRUE(objects) << objects.error().message;
    count = objects->size();
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kCalls;
  std::printf("[ measure  ] ipc_objects (%s, euid %u): %.0f us for %zu objects\n", full() ? "full" : "reduced",
              ::geteuid(), us, count);
  RecordProperty("ipc_objects_us", std::to_string(us));
}

// Two threads opening cells at once (as `grader batch --jobs 2` does, a Sandbox each): every
// cell gets a tag of its own, so the IPC names made from it never meet.
TEST_P(CellTest, CellsOpenedAtOnceByTwoThreadsGetDifferentTags) {
  std::vector<std::string> tags[2];
  std::string errors[2];
  std::thread workers[2];
  for (int t = 0; t < 2; ++t)
    workers[t] = std::thread([&, t] {
      auto other = make_box(GetParam());
      if (!other) {
        errors[t] = other.error().message;
        return;
      }
      for (int i = 0; i < 5; ++i) {
        auto cell = other->open_cell();
        if (!cell) {
          errors[t] = cell.error().message;
          return;
        }
        tags[t].push_back(cell->tag());
      }
    });
  for (auto& w : workers) w.join();
  ASSERT_EQ(errors[0] + errors[1], "");
  std::set<std::string> distinct(tags[0].begin(), tags[0].end());
  distinct.insert(tags[1].begin(), tags[1].end());
  EXPECT_EQ(distinct.size(), 10u);
  for (const std::string& tag : distinct) EXPECT_EQ(tag.rfind(std::to_string(::getpid()) + "-", 0), 0u) << tag;
}

// Started by hand, the keeper says what it is and does nothing.
TEST(KeeperProgram, RefusesToRunByHand) {
  const std::string keeper = std::string(IPCG_BINARY_DIR) + "/libexec/ipcgrade/ipcg-keeper";
  auto err = make_pipe();
  ASSERT_TRUE(err);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err->write_end.get(), 2);
    ::execl(keeper.c_str(), "ipcg-keeper", static_cast<char*>(nullptr));
    ::_exit(126);
  }
  err->write_end.reset();
  EXPECT_THAT(read_line(err->read_end.get()), HasSubstr("not meant to be run by hand"));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST_P(CellTest, TheMemoryCgroupKillsAHogAndTheReportSaysSo) {
  if (::geteuid() != 0) GTEST_SKIP() << "cgroups need root";
  Limits limits;
  limits.memory_bytes = 32ull << 20;
  limits.address_space_bytes = 1ull << 30;
  auto cell = box->open_cell({.limits = limits});
  ASSERT_TRUE(cell) << cell.error().message;
  auto hog = cell->spawn({.argv = helper("alloc", {"256"}), .limits = limits});
  ASSERT_TRUE(hog) << hog.error().message;
  pollfd p{hog->exit_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 30000), 1);
  const auto status = hog->wait_status();
  ASSERT_TRUE(status);
  const CellReport report = cell->close();
  if (report.cgroup.rfind("no cgroups", 0) == 0) GTEST_SKIP() << report.cgroup;
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
  EXPECT_TRUE(report.oom_killed) << report.cgroup;
  EXPECT_GE(report.memory_peak_bytes, 16ull << 20);
}

}  // namespace
}  // namespace ipcg_test
