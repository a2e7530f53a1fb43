#include "harness/trace/trace.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;

// Every event of a process is on one thread track (tid = pid): Perfetto shows a process with one
// track, which is all a message timeline needs.
Json base(const TraceEvent& e, const char* ph, std::int64_t ts) {
  return {{"ph", ph}, {"pid", e.pid}, {"tid", e.pid}, {"ts", ts}};
}

Json args_json(const TraceEvent& e) {
  Json args = Json::object();
  for (const auto& [k, v] : e.args) args[k] = v;
  if (e.kind == TraceKind::send || e.kind == TraceKind::receive) args["seq"] = e.seq;
  return args;
}

// A send or receive: an "X" slice spanning the window in which it happened (at least 1 us, so
// it is visible and can hold a flow end).
Json slice(const TraceEvent& e) {
  Json j = base(e, "X", e.when.begin_us);
  j["dur"] = std::max<std::int64_t>(1, e.when.end_us - e.when.begin_us);
  j["name"] = e.name;
  j["cat"] = e.kind == TraceKind::send ? "send" : "receive";
  j["args"] = args_json(e);
  return j;
}

Json instant(const TraceEvent& e) {
  Json j = base(e, "i", e.when.end_us);
  const bool violation = e.kind == TraceKind::instant;
  j["s"] = violation ? "p" : "t";  // a violation marks the whole process track
  j["name"] = e.name;
  j["cat"] = violation ? "violation" : "process";
  j["args"] = args_json(e);
  return j;
}

// The flow arrow of one message. Flow ids are integers (a string id is parsed as hex); the end
// binds to the receive slice that encloses it ("bp":"e"), so its ts must lie inside that slice.
void add_flow(Json& out, const TraceEvent& send, const TraceEvent& receive) {
  Json s = base(send, "s", send.when.begin_us);
  s["id"] = send.seq;
  s["name"] = "message";
  s["cat"] = "flow";
  const std::int64_t recv_end = receive.when.begin_us + std::max<std::int64_t>(1, receive.when.end_us - receive.when.begin_us);
  Json f = base(receive, "f", std::clamp(send.when.begin_us, receive.when.begin_us, recv_end - 1));
  f["id"] = receive.seq;
  f["name"] = "message";
  f["cat"] = "flow";
  f["bp"] = "e";
  out.push_back(std::move(s));
  out.push_back(std::move(f));
}

const TraceEvent* find(const Trace& trace, TraceKind kind, std::uint64_t seq) {
  for (const auto& e : trace.events())
    if (e.kind == kind && e.seq == seq) return &e;
  return nullptr;
}

// Each process gets a name ("M" metadata), labelled or not, so every track is titled.
void add_metadata(Json& out, const Trace& trace) {
  std::map<int, std::string> names;
  for (const auto& e : trace.events()) names.emplace(e.pid, "pid " + std::to_string(e.pid));
  for (const auto& [pid, label] : trace.processes()) names[pid] = label + " pid " + std::to_string(pid);
  for (const auto& [pid, name] : names)
    out.push_back({{"ph", "M"}, {"pid", pid}, {"tid", pid}, {"name", "process_name"}, {"args", {{"name", name}}}});
}

}  // namespace

std::int64_t Trace::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
}

TraceWindow Trace::window_of(std::uint64_t begin_monotonic_ns, std::uint64_t end_monotonic_ns) const {
  // steady_clock is CLOCK_MONOTONIC on Linux: the same clock the message log's times come from.
  const auto start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(start_.time_since_epoch()).count();
  auto us = [&](std::uint64_t ns) { return (static_cast<std::int64_t>(ns) - start_ns) / 1000; };
  return {us(begin_monotonic_ns), us(end_monotonic_ns)};
}

TraceWindow Trace::window() {
  TraceWindow w{last_look_us_, now_us()};
  last_look_us_ = w.end_us;
  return w;
}

void Trace::process(int pid, std::string label) { labels_.emplace(pid, std::move(label)); }

void Trace::send(int pid, std::uint64_t seq, std::string name, TraceWindow when,
                 std::map<std::string, std::string> args) {
  add({pid, TraceKind::send, when, seq, std::move(name), std::move(args)});
}

void Trace::receive(int pid, std::uint64_t seq, std::string name, TraceWindow when,
                    std::map<std::string, std::string> args) {
  add({pid, TraceKind::receive, when, seq, std::move(name), std::move(args)});
}

void Trace::instant(int pid, std::string name, std::map<std::string, std::string> args) {
  const auto now = now_us();
  add({pid, TraceKind::instant, {now, now}, 0, std::move(name), std::move(args)});
}

void Trace::process_start(int pid) {
  const auto now = now_us();
  add({pid, TraceKind::process_start, {now, now}, 0, "process seen", {}});
}

void Trace::exit(int pid, std::string how) {
  const auto now = now_us();
  add({pid, TraceKind::exit, {now, now}, 0, how.empty() ? "exit" : "exit: " + how, {}});
}

bool Trace::has_send(std::uint64_t seq) const { return find(*this, TraceKind::send, seq) != nullptr; }
bool Trace::has_receive(std::uint64_t seq) const { return find(*this, TraceKind::receive, seq) != nullptr; }

std::string trace_event_json(const Trace& trace) {
  Json events = Json::array();
  add_metadata(events, trace);
  for (const auto& e : trace.events()) {
    const bool message = e.kind == TraceKind::send || e.kind == TraceKind::receive;
    events.push_back(message ? slice(e) : instant(e));
    if (e.kind != TraceKind::send) continue;
    if (const auto* receive = find(trace, TraceKind::receive, e.seq)) add_flow(events, e, *receive);
  }
  const Json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  // Names and args may quote student bytes: replace keeps the file valid UTF-8.
  return doc.dump(1, ' ', false, Json::error_handler_t::replace);
}

Result<void> write_trace_file(const Trace& trace, const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream file(path);
  file << trace_event_json(trace) << '\n';
  file.close();
  if (!file) return fail(Errc::io, "cannot write the trace file " + path.string());
  return {};
}

}  // namespace ipcg
