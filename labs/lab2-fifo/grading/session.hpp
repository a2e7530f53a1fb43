// lab2's session: a server (the run's target) and clients spawned beside it in the same cell,
// each a separate process with no common parent but the cell's keeper, joined only by the
// FIFO names the check hands them. Every role logs on one message-log pipe the grader reads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/unique_fd.hpp"
#include "harness/labkit/labkit.hpp"
#include "harness/msglog/message_log.hpp"
#include "harness/runner/check.hpp"

// Inside a check: a Result<void> that failed is the grader's error, not the student's.
#define LAB2_CHECK(expr)                                                                   \
  do {                                                                                     \
    auto lab2_checked_ = (expr);                                                           \
    if (!lab2_checked_) return ::ipcg::CheckOutcome::with(::ipcg::Status::error, lab2_checked_.error().message); \
  } while (0)

namespace lab2 {

using namespace ipcg;

inline constexpr int kLogFd = 4;

// A client process (the client driver, student's or reference build) and what it reported.
struct Client {
  std::string label;       // "client 2 (reference)"
  unsigned id = 0;
  SandboxedProcess proc;
  UniqueFd control;
  std::string report;
  std::optional<int> status;
  bool student = false;
};

class Session {
 public:
  explicit Session(TestContext& ctx);
  Result<void> open();  // the log pipe

  const std::string& request_fifo() const { return request_fifo_; }
  const std::string& reply_prefix() const { return reply_prefix_; }
  // The server as a run() target: `server [opts] --log 4 REQUEST REPLY MAX`.
  RunRequest server_request(bool student, long max, std::vector<std::string> opts = {});
  // Spawns a client driver: `client --id ID --seed S --log 4 [opts] REQUEST REPLY`.
  Result<Client*> spawn_client(bool student, unsigned id, std::vector<std::string> opts);
  // The trusted writer: the reference client driver in writer mode (Role::reference), which opens
  // the request FIFO for writing once the server has it open for reading, says "opened" and holds
  // it until the session ends. A server's read() then never meets EOF for want of a writer: every
  // test that runs a student server has one, so that only keeps_serving_between_waves (which
  // makes the no-writer gap on purpose) judges whether the server keeps a write end of its own.
  // Spawn it before the server runs; it waits for the FIFO by itself.
  Result<void> spawn_writer();
  bool has_writer() const { return writer_.has_value(); }
  // Has the writer reported "opened"? (Reads its control pipe.) True when there is no writer.
  bool writer_opened();
  // Reads the log and the clients' reports; notes clients that exited.
  void pump();
  bool clients_done() const;
  // Keeps pumping until every client exited or the settle grace passed.
  void settle_clients();
  std::vector<Client>& clients() { return clients_; }
  Result<MessageLog> log() const { return parse_message_log(log_bytes_); }
  std::size_t count(MessageEvent::Op op, bool clients_only) const;

 private:
  TestContext& ctx_;
  std::string request_fifo_, reply_prefix_;
  UniqueFd log_read_, log_write_;
  std::string log_bytes_;
  std::vector<Client> clients_;
  std::optional<Client> writer_;  // not among clients_: it never ends by itself and is never judged
};

// The test's request FIFO (Session::request_fifo), from its cell's names.
std::string request_fifo_of(const TestContext& ctx);

// `check`, then the FIFOs it made or caused to remain (`own`: exact paths) removed by the trusted
// `mkstale --unlink`, as the uid that owns each, once the check's roles are gone: so that a
// report's "left behind" lists only what the code under test made beside them. Only those paths,
// and only FIFOs. The verdict is check's. fifos_removed, which judges removal, is registered
// without it: what the student failed to remove stays listed.
CheckFn removing_own_fifos(CheckFn check, std::function<std::vector<std::string>(const TestContext&)> own);

std::string student_program(const TestContext& ctx, const std::string& name);
std::string program_for(const TestContext& ctx, const std::string& name, bool student);

// Does the FIFO at path (as the box sees it) exist, looked at through pid's root?
bool fifo_exists(pid_t pid, const std::string& path);
std::optional<ProcessSnapshot> snapshot_of(pid_t pid);

// Has the server gone back to waiting for input? Asked on each tick from the moment the check
// needs it (the first call marks that moment; reset() after acting): yes when it is blocked in a
// call; for a server that polls instead of blocking (the idle test's business), once it has
// completed kPolls read() calls since the mark, which a server waiting in read() never does; and
// after the test's settle grace in any case (a server spinning without system calls).
class ServerSettled {
 public:
  static constexpr std::uint64_t kPolls = 2;
  explicit ServerSettled(const TestContext& ctx) : grace_(settle_grace(ctx)) {}
  bool operator()(const ProcessSnapshot& server);
  // Polled kPolls times since the mark without blocking, or the grace passed.
  bool polling(const ProcessSnapshot& server);
  void reset() { reads_.reset(); grace_.reset(); }

 private:
  std::optional<std::uint64_t> reads_;
  Grace grace_;
};

// "served N result R errno E" of the server driver.
struct ServerReport {
  long served = -1;
  int result = 0, err = 0;
};
std::optional<ServerReport> server_report(const RunOutcome& out);
// What went wrong with the server process, if anything: died, exited without serving all.
std::optional<CheckOutcome> judge_server(const RunOutcome& out, long expected, const std::string& situation);

// Events of the log written by clients (role >= 1), or by the server (role 0).
MessageLog clients_view(const MessageLog& log);
MessageLog server_view(const MessageLog& log);

}  // namespace lab2
