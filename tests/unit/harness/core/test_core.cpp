// harness_core: errors as values and their propagation macros, UniqueFd and make_pipe on real
// file descriptors, the result model's names, SHA-256 against the FIPS 180-4 vectors, and the
// per-cell IPC names. (That two cells opened at once get different tags is tested where cells
// are made: test_cell.cpp, CellsOpenedAtOnceByTwoThreadsGetDifferentTags.)
#include <fcntl.h>
#include <gmock/gmock.h>
#include <sys/ipc.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>

#include "harness/core/error.hpp"
#include "harness/core/ipc_names.hpp"
#include "harness/core/sha256.hpp"
#include "harness/core/result.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg {
namespace {

using ::testing::HasSubstr;

// True when `fd` is an open descriptor of this process.
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

bool has_cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

// A raw descriptor to hand to UniqueFd: one end of a pipe, the other end closed at once.
int open_raw_fd() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  ::close(fds[1]);
  return fds[0];
}

// ---- Error, fail, IPCG_TRY, IPCG_CHECK ----------------------------------------------------------

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return fail(Errc::usage, std::string("not a digit: ") + c);
  return c - '0';
}

// Adds two digits; `reached` counts how far the body got, to prove IPCG_TRY returns early.
Result<int> add_digits(char a, char b, int& reached) {
  IPCG_TRY(int x, parse_digit(a));
  ++reached;
  IPCG_TRY(int y, parse_digit(b));
  ++reached;
  return x + y;
}

Result<void> check_digit(char c) {
  IPCG_TRY(int ignored, parse_digit(c));
  (void)ignored;
  return {};
}

Result<int> checked_twice(char a, char b, int& reached) {
  IPCG_CHECK(check_digit(a));
  ++reached;
  IPCG_CHECK(check_digit(b));
  ++reached;
  return 1;
}

TEST(Error, FailCarriesCodeAndMessage) {
  Result<int> r = fail(Errc::config, "lab.toml:1:1: lab: missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::config);
  EXPECT_EQ(r.error().message, "lab.toml:1:1: lab: missing");
}

TEST(Error, SysFailReadsErrnoAtTheCall) {
  errno = ENOENT;
  const Error e = sys_fail("open x").value();
  EXPECT_EQ(e.code, Errc::system);
  EXPECT_EQ(e.message, "open x: No such file or directory");
}

TEST(Error, SysFailAfterARealFailedCall) {
  ASSERT_EQ(::close(-1), -1);
  const Error e = sys_fail("close").value();
  EXPECT_EQ(e.message, "close: Bad file descriptor");
}

TEST(Error, WithContextPrefixesAndKeepsTheCode) {
  const Error e = with_context(Error{Errc::io, "read failed"}, "building student");
  EXPECT_EQ(e.code, Errc::io);
  EXPECT_EQ(e.message, "building student: read failed");
}

TEST(IpcgTry, PassesValuesThrough) {
  int reached = 0;
  Result<int> r = add_digits('3', '4', reached);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(reached, 2);
}

TEST(IpcgTry, ReturnsTheFirstErrorAndStops) {
  int reached = 0;
  Result<int> r = add_digits('x', '4', reached);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::usage);
  EXPECT_EQ(r.error().message, "not a digit: x");
  EXPECT_EQ(reached, 0);
  r = add_digits('1', 'y', reached);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "not a digit: y");
  EXPECT_EQ(reached, 1);
}

TEST(IpcgCheck, PropagatesVoidErrorsAndStops) {
  int reached = 0;
  EXPECT_TRUE(checked_twice('1', '2', reached));
  EXPECT_EQ(reached, 2);
  reached = 0;
  Result<int> r = checked_twice('1', '?', reached);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "not a digit: ?");
  EXPECT_EQ(reached, 1);
}

Result<UniqueFd> open_fd() {
  UniqueFd fd(open_raw_fd());
  if (!fd) return sys_fail("pipe2");
  return fd;
}

Result<int> take_fd_number(int& raw) {
  IPCG_TRY(UniqueFd fd, open_fd());  // a move-only value comes through the macro
  raw = fd.get();
  return fd.get();
}

TEST(IpcgTry, MovesMoveOnlyValues) {
  int raw = -1;
  Result<int> r = take_fd_number(raw);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(raw, 0);
  EXPECT_FALSE(is_open(raw));  // the UniqueFd in take_fd_number closed it on return
}

// ---- UniqueFd and make_pipe ---------------------------------------------------------------------

TEST(UniqueFd, DefaultIsEmpty) {
  UniqueFd fd;
  EXPECT_FALSE(fd);
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, ClosesOnDestruction) {
  const int raw = open_raw_fd();
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  const int raw = open_raw_fd();
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd);
  }
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(UniqueFd, ResetClosesTheOldDescriptor) {
  const int first = open_raw_fd();
  const int second = open_raw_fd();
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  UniqueFd fd(first);
  fd.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset();
  EXPECT_FALSE(is_open(second));
  EXPECT_FALSE(fd);
}

TEST(UniqueFd, MoveTransfersOwnership) {
  const int raw = open_raw_fd();
  ASSERT_GE(raw, 0);
  UniqueFd a(raw);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, MoveAssignClosesTheTargetsDescriptor) {
  const int kept = open_raw_fd();
  const int replaced = open_raw_fd();
  ASSERT_GE(kept, 0);
  ASSERT_GE(replaced, 0);
  UniqueFd target(replaced);
  target = UniqueFd(kept);
  EXPECT_FALSE(is_open(replaced));
  EXPECT_EQ(target.get(), kept);
}

TEST(UniqueFd, SelfMoveAssignKeepsTheDescriptor) {
  const int raw = open_raw_fd();
  ASSERT_GE(raw, 0);
  UniqueFd fd(raw);
  UniqueFd& alias = fd;
  fd = std::move(alias);
  EXPECT_EQ(fd.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(MakePipe, EndsAreCloexecAndCarryBytes) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe) << pipe.error().message;
  EXPECT_TRUE(has_cloexec(pipe->read_end.get()));
  EXPECT_TRUE(has_cloexec(pipe->write_end.get()));
  ASSERT_EQ(::write(pipe->write_end.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(pipe->read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(MakePipe, ClosingTheWriteEndGivesTheReaderEof) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe) << pipe.error().message;
  pipe->write_end.reset();
  char c = 0;
  EXPECT_EQ(::read(pipe->read_end.get(), &c, 1), 0);
}

// Runs in a death-test child: lowers the child's own RLIMIT_NOFILE to 0, so pipe2 must fail.
[[noreturn]] void make_pipe_without_descriptors() {
  const rlimit none{0, 0};
  ::setrlimit(RLIMIT_NOFILE, &none);
  auto pipe = make_pipe();
  const bool ok = !pipe && pipe.error().code == Errc::system && pipe.error().message.find("pipe2: ") == 0;
  ::_exit(ok ? 0 : 1);
}

TEST(MakePipe, FailsAsAValueWhenOutOfDescriptors) {
  EXPECT_EXIT(make_pipe_without_descriptors(), ::testing::ExitedWithCode(0), "");
}

// ---- result model names -------------------------------------------------------------------------

TEST(ResultModel, StatusNamesAreTheDocumentedOnes) {
  EXPECT_EQ(to_string(Status::passed), "passed");
  EXPECT_EQ(to_string(Status::failed), "failed");
  EXPECT_EQ(to_string(Status::timeout), "timeout");
  EXPECT_EQ(to_string(Status::crashed), "crashed");
  EXPECT_EQ(to_string(Status::killed_by_filter), "killed_by_filter");
  EXPECT_EQ(to_string(Status::build_failed), "build_failed");
  EXPECT_EQ(to_string(Status::skipped), "skipped");
  EXPECT_EQ(to_string(Status::error), "error");
}

TEST(ResultModel, OtherEnumNames) {
  EXPECT_EQ(to_string(Visibility::visible), "visible");
  EXPECT_EQ(to_string(Visibility::hidden), "hidden");
  EXPECT_EQ(to_string(IsolationLevel::full), "full");
  EXPECT_EQ(to_string(IsolationLevel::reduced), "reduced");
}

TEST(ResultModel, AllPassedNeedsABuildAndNoFailure) {
  LabResult r;
  r.build.ok = true;
  r.tests.resize(2);
  r.tests[0].status = Status::passed;
  r.tests[1].status = Status::skipped;
  EXPECT_TRUE(r.all_passed());
  r.tests[1].status = Status::timeout;
  EXPECT_FALSE(r.all_passed());
  r.tests[1].status = Status::passed;
  r.build.ok = false;
  EXPECT_FALSE(r.all_passed());
}

// ---- SHA-256 ------------------------------------------------------------------------------------

// FIPS 180-4 / NIST CSRC example vectors.
TEST(Sha256, StandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the padding boundaries: 55 bytes is the longest message whose padding fits in
// one block, 56 needs a second; 64 and 119/120 do the same one block later. Expected values come
// from Python's hashlib.
TEST(Sha256, PaddingBoundaries) {
  const std::pair<std::size_t, const char*> cases[] = {
      {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
      {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
      {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
  };
  for (const auto& [length, hex] : cases) EXPECT_EQ(sha256_hex(std::string(length, 'x')), hex) << length;
}

// Bytes >= 0x80 and NUL: char is signed here, so a careless widening would corrupt them.
TEST(Sha256, EveryByteValue) {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  EXPECT_EQ(sha256_hex(bytes), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
}

// ---- IpcNames ----------------------------------------------------------------------------------

TEST(IpcNames, NamesAreMadeFromTheCellTag) {
  const IpcNames names("4121-7");
  EXPECT_EQ(names.tag(), "4121-7");
  EXPECT_EQ(names.prefix(), "ipcg-4121-7-");
  EXPECT_EQ(names.name("jobs"), "ipcg-4121-7-jobs");
  EXPECT_EQ(names.posix("jobs"), "/ipcg-4121-7-jobs");
  EXPECT_EQ(names.fifo("requests"), "/tmp/ipcg-4121-7-requests");
}

// Every name starts with the prefix (what a listing filters on), and the POSIX form is what
// mq_open and shm_open take: one leading slash, no other, shorter than NAME_MAX.
TEST(IpcNames, EveryFormCarriesThePrefix) {
  const IpcNames names("99999-123456");
  for (const char* what : {"jobs", "replies-17", "x"}) {
    EXPECT_EQ(names.name(what).rfind(names.prefix(), 0), 0u) << what;
    const std::string posix = names.posix(what);
    EXPECT_EQ(posix.rfind("/" + names.prefix(), 0), 0u) << posix;
    EXPECT_EQ(posix.find('/', 1), std::string::npos) << posix;
    EXPECT_LT(posix.size(), 255u);
    EXPECT_EQ(names.fifo(what), "/tmp/" + names.name(what));
  }
  // Another cell's prefix is not a prefix of ours, even when one tag starts with the other.
  EXPECT_NE(IpcNames("41-1").name("jobs").rfind(IpcNames("41-12").prefix(), 0), 0u);
  EXPECT_NE(IpcNames("41-12").name("jobs").rfind(IpcNames("41-1").prefix(), 0), 0u);
}

// A port per cell: the cells of one grader (one pid, consecutive serials) never share one, a
// name gives the same port every time, and every port is in the range, above the well-known ones.
TEST(IpcNames, PortsAreUniquePerCellOfAGrader) {
  std::set<std::uint16_t> seen;
  for (int serial = 1; serial <= 4000; ++serial) {
    const IpcNames names("4121-" + std::to_string(serial));
    const std::uint16_t p = names.port("server");
    EXPECT_GE(p, IpcNames::kFirstPort);
    EXPECT_LT(p, IpcNames::kFirstPort + IpcNames::kPorts);
    EXPECT_TRUE(seen.insert(p).second) << "cell " << serial << " shares port " << p;
    EXPECT_EQ(p, IpcNames("4121-" + std::to_string(serial)).port("server"));
  }
  // Another grader's cells are shifted: its first cell is not ours.
  EXPECT_NE(IpcNames("4122-1").port("server"), IpcNames("4121-1").port("server"));
  // A tag of another shape still gets a port in the range.
  const std::uint16_t odd = IpcNames("not-a-number").port("server");
  EXPECT_GE(odd, IpcNames::kFirstPort);
}

TEST(IpcNames, SysvKeyIsDeterministic) {
  EXPECT_EQ(IpcNames("4121-7").sysv_key("dispatch"), IpcNames("4121-7").sysv_key("dispatch"));
  const IpcNames names("4121-7");
  const IpcNames copy = names;
  EXPECT_EQ(names.sysv_key("dispatch"), copy.sysv_key("dispatch"));
}

// IPC_PRIVATE (0) would give every msgget a new queue, so no two processes could meet on the key;
// a negative key is legal but prints oddly in /proc/sysvipc.
TEST(IpcNames, SysvKeyIsNeverIpcPrivateNorNegative) {
  for (int pid = 1; pid <= 200; ++pid)
    for (int serial = 1; serial <= 20; ++serial) {
      const IpcNames names(std::to_string(pid) + "-" + std::to_string(serial));
      for (const char* what : {"", "dispatch", "jobs"}) {
        const key_t key = names.sysv_key(what);
        ASSERT_NE(key, IPC_PRIVATE) << names.tag() << " " << what;
        ASSERT_GT(key, 0) << names.tag() << " " << what;
      }
    }
  // "ipcg-1-1-004c2baab1" hashes and folds to 0 (found by a search over 2^31 names): the one case
  // where the guard itself, not the odds, keeps the key from being IPC_PRIVATE.
  EXPECT_EQ(IpcNames("1-1").sysv_key("004c2baab1"), 1);
}

TEST(IpcNames, SysvKeysDifferForDifferentTagsAndWhats) {
  EXPECT_NE(IpcNames("4121-7").sysv_key("dispatch"), IpcNames("4121-8").sysv_key("dispatch"));
  EXPECT_NE(IpcNames("4121-7").sysv_key("dispatch"), IpcNames("4122-7").sysv_key("dispatch"));
  EXPECT_NE(IpcNames("4121-7").sysv_key("dispatch"), IpcNames("4121-7").sysv_key("replies"));
  // 200 cells of one grader x 5 names: all 1000 keys distinct (fixed inputs: this never flakes).
  std::set<key_t> keys;
  for (int serial = 1; serial <= 200; ++serial)
    for (const char* what : {"dispatch", "jobs", "replies", "requests", "a"})
      keys.insert(IpcNames("4121-" + std::to_string(serial)).sysv_key(what));
  EXPECT_EQ(keys.size(), 1000u);
}

}  // namespace
}  // namespace ipcg
