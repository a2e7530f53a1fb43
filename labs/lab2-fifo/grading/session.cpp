#include "session.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <thread>

namespace lab2 {

std::string request_fifo_of(const TestContext& ctx) { return ctx.ipc_names().fifo("requests"); }

Session::Session(TestContext& ctx)
    : ctx_(ctx), request_fifo_(request_fifo_of(ctx)), reply_prefix_(ctx.ipc_names().fifo("reply-")) {}

namespace {

constexpr int kNotMine = 3;  // mkstale --unlink: the FIFO belongs to another uid

// Only the owner may unlink in /tmp (sticky): mkstale asks as the student's uid (the server and
// mkstale's stale FIFOs make them so), then as the reference's when the FIFO is not the student's.
void remove_fifos(TestContext& ctx, const std::vector<std::string>& paths) {
  for (Role role : {Role::student, Role::reference}) {
    std::vector<std::string> argv{ctx.tool("mkstale"), "--unlink"};
    argv.insert(argv.end(), paths.begin(), paths.end());
    RunRequest req;
    req.spec = ctx.spawn_spec(std::move(argv));
    req.spec.role = role;
    auto out = run(ctx.cell, std::move(req));
    if (!out || out->ending != Ending::exited || WEXITSTATUS(out->wait_status) != kNotMine) return;
  }
}

}  // namespace

CheckFn removing_own_fifos(CheckFn check, std::function<std::vector<std::string>(const TestContext&)> own) {
  return [check = std::move(check), own = std::move(own)](TestContext& ctx) {
    CheckOutcome outcome = check(ctx);  // its Session is gone: every role of the test has been killed
    if (const auto paths = own(ctx); !paths.empty()) remove_fifos(ctx, paths);
    return outcome;
  };
}

Result<void> Session::open() {
  IPCG_TRY(PipePair p, make_pipe());
  ::fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK);
  log_read_ = std::move(p.read_end);
  log_write_ = std::move(p.write_end);
  return {};
}

std::string student_program(const TestContext& ctx, const std::string& name) {
  return ctx.sandbox.to_box(ctx.student_bin / name).string();
}

std::string program_for(const TestContext& ctx, const std::string& name, bool student) {
  return student ? student_program(ctx, name) : ctx.reference_program(name);
}

RunRequest Session::server_request(bool student, long max, std::vector<std::string> opts) {
  std::vector<std::string> argv{program_for(ctx_, "server", student), "--log", std::to_string(kLogFd)};
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.insert(argv.end(), {request_fifo_, reply_prefix_, std::to_string(max)});
  RunRequest req = driver_request(ctx_, std::move(argv), "");
  req.spec.fds.push_back({log_write_.get(), kLogFd});
  return req;
}

Result<Client*> Session::spawn_client(bool student, unsigned id, std::vector<std::string> opts) {
  std::vector<std::string> argv{program_for(ctx_, "client", student), "--id", std::to_string(id), "--seed",
                                std::to_string(ctx_.seed), "--log", std::to_string(kLogFd)};
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.insert(argv.end(), {request_fifo_, reply_prefix_});
  SpawnSpec spec = ctx_.spawn_spec(std::move(argv));
  IPCG_TRY(PipePair control, make_pipe());
  ::fcntl(control.read_end.get(), F_SETFL, O_NONBLOCK);
  spec.fds = {{control.write_end.get(), kControlFd}, {log_write_.get(), kLogFd}};
  IPCG_TRY(SandboxedProcess proc, ctx_.cell.spawn(spec));
  clients_.push_back(Client{fmt::format("client {} ({})", id, student ? "student" : "reference"), id, std::move(proc),
                            std::move(control.read_end), "", std::nullopt, student});
  return &clients_.back();
}

Result<void> Session::spawn_writer() {
  SpawnSpec spec = ctx_.spawn_spec({ctx_.reference_program("client"), "--mode", "writer", request_fifo_, reply_prefix_});
  spec.role = Role::reference;  // trusted: it stands for "some client has the FIFO open", nothing more
  IPCG_TRY(PipePair control, make_pipe());
  ::fcntl(control.read_end.get(), F_SETFL, O_NONBLOCK);
  spec.fds = {{control.write_end.get(), kControlFd}};
  IPCG_TRY(SandboxedProcess proc, ctx_.cell.spawn(spec));
  writer_.emplace(Client{"the grader's writer on the request FIFO (reference)", 0, std::move(proc),
                         std::move(control.read_end), "", std::nullopt, false});
  return {};
}

namespace {
void drain(int fd, std::string& into) {
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) into.append(buf, static_cast<std::size_t>(n));
}
}  // namespace

void Session::pump() {
  drain(log_read_.get(), log_bytes_);
  for (auto& c : clients_) {
    drain(c.control.get(), c.report);
    if (c.status) continue;
    pollfd p{c.proc.exit_fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      c.status = c.proc.wait_status();
      if (!c.status) c.status = -1;
      drain(c.control.get(), c.report);
    }
  }
}

bool Session::writer_opened() {
  if (!writer_) return true;
  drain(writer_->control.get(), writer_->report);
  return writer_->report.find("opened\n") != std::string::npos;
}

bool Session::clients_done() const {
  for (const auto& c : clients_)
    if (!c.status) return false;
  return true;
}

void Session::settle_clients() {
  Grace grace;
  pump();
  while (!clients_done() && !grace.expired(settle_grace(ctx_))) {
    std::this_thread::sleep_for(kPollInterval);  // bounded: clients finishing their last reply
    pump();
  }
}

std::size_t Session::count(MessageEvent::Op op, bool clients_only) const {
  auto log = parse_message_log(log_bytes_.substr(0, log_bytes_.size() / sizeof(ipcg_msg_record) * sizeof(ipcg_msg_record)));
  if (!log) return 0;
  std::size_t n = 0;
  for (const auto& e : *log) n += e.op == op && (!clients_only || e.role > 0);
  return n;
}

bool fifo_exists(pid_t pid, const std::string& path) {
  struct stat st {};
  return ::stat(fmt::format("/proc/{}/root{}", pid, path).c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

bool ServerSettled::polling(const ProcessSnapshot& server) {
  const auto now = read_calls(server.pid);
  if (!reads_) reads_ = now.value_or(0);
  if (now && *now >= *reads_ + kPolls) return true;
  return grace_.expired();
}

bool ServerSettled::operator()(const ProcessSnapshot& server) {
  const bool polled = polling(server);  // marks on the first call
  return is_blocked(server) || polled;
}

std::optional<ProcessSnapshot> snapshot_of(pid_t pid) {
  static const ProcInspector inspector;
  auto s = inspector.snapshot(pid);
  if (!s) return std::nullopt;
  return *s;
}


std::optional<ServerReport> server_report(const RunOutcome& out) {
  for (const auto& line : control_lines(out)) {
    ServerReport r;
    if (std::sscanf(line.c_str(), "served %ld result %d errno %d", &r.served, &r.result, &r.err) == 3) return r;
  }
  return std::nullopt;
}

std::optional<CheckOutcome> judge_server(const RunOutcome& out, long expected, const std::string& situation) {
  const auto report = driver_report(out, {"served"});
  if (auto bad = died_inside_call(out, report)) {
    bad->message = situation + ": " + bad->message;
    if (out.ending == Ending::signaled && WTERMSIG(out.wait_status) == SIGPIPE)
      bad->evidence.push_back("a write to a reply FIFO whose reader was gone raised SIGPIPE: ignore SIGPIPE (or block "
                              "it) in the server and treat EPIPE as 'this client is gone'");
    return bad;
  }
  if (out.ending == Ending::timed_out || out.ending == Ending::killed) return std::nullopt;  // the check says
  const auto r = server_report(out);
  if (!r) return CheckOutcome::fail(situation + ": the server reported nothing (did it start?)");
  if (r->result != 0)
    return CheckOutcome::fail(fmt::format("{}: fifo_server_run returned {} ({}) after {} of {} requests", situation,
                                          r->result, std::strerror(r->err), r->served, expected));
  if (r->served < expected)
    return CheckOutcome::fail(fmt::format("{}: fifo_server_run returned 0 after {} of the {} requests it was to "
                                          "serve", situation, r->served, expected));
  return std::nullopt;
}

MessageLog clients_view(const MessageLog& log) {
  MessageLog out;
  for (const auto& e : log)
    if (e.role > 0) out.push_back(e);
  return out;
}

MessageLog server_view(const MessageLog& log) {
  MessageLog out;
  for (const auto& e : log)
    if (e.role == 0 || e.op == MessageEvent::Op::send) out.push_back(e);
  return out;
}

}  // namespace lab2
