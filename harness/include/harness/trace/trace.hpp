// What a check saw happen between processes, as a timeline a person can open in Perfetto
// (https://ui.perfetto.dev) or chrome://tracing: one track per process, each message a send slice
// on the sender's track and a receive slice on the receiver's, joined by a flow arrow.
//
//   Trace trace;                                       // the clock starts now
//   trace.process(parent_pid, "parent (student)");
//   const auto seen = trace.window();                  // [last observation, now]
//   trace.send(parent_pid, /*seq=*/1, "request 1", seen);
//   trace.receive(child_pid, 1, "request 1", trace.window());
//   trace.instant(parent_pid, "request 2 sent early", {{"why", "..."}});
//   IPCG_CHECK(write_trace_file(trace, "out/strict_alternation.trace.json"));
//
// Timestamps are microseconds since the Trace was made. A check usually cannot see the moment a
// process wrote or read; it sees the effect at its next look. A window says "it happened between
// these two looks", and becomes the slice's extent.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg {

enum class TraceKind { send, receive, instant, process_start, exit };

struct TraceWindow {
  std::int64_t begin_us = 0;
  std::int64_t end_us = 0;
};

struct TraceEvent {
  int pid = 0;
  TraceKind kind = TraceKind::instant;
  TraceWindow when;       // instants, starts and exits use when.end_us
  std::uint64_t seq = 0;  // message sequence number: pairs a send with its receive (flow id)
  std::string name;
  std::map<std::string, std::string> args;
};

class Trace {
 public:
  using Clock = std::chrono::steady_clock;
  Trace() : start_(Clock::now()) {}

  std::int64_t now_us() const;
  // From the previous call of window() (or the start) to now: the span since the last look.
  TraceWindow window();
  // A span timed with CLOCK_MONOTONIC elsewhere (a trusted role's message log), on this clock.
  TraceWindow window_of(std::uint64_t begin_monotonic_ns, std::uint64_t end_monotonic_ns) const;

  void process(int pid, std::string label);  // names the track; the first label wins
  void send(int pid, std::uint64_t seq, std::string name, TraceWindow when,
            std::map<std::string, std::string> args = {});
  void receive(int pid, std::uint64_t seq, std::string name, TraceWindow when,
               std::map<std::string, std::string> args = {});
  void instant(int pid, std::string name, std::map<std::string, std::string> args = {});
  void process_start(int pid);
  void exit(int pid, std::string how = {});
  void add(TraceEvent event) { events_.push_back(std::move(event)); }

  bool has_send(std::uint64_t seq) const;
  bool has_receive(std::uint64_t seq) const;
  const std::vector<TraceEvent>& events() const { return events_; }
  const std::map<int, std::string>& processes() const { return labels_; }
  bool empty() const { return events_.empty(); }

 private:
  Clock::time_point start_;
  std::int64_t last_look_us_ = 0;
  std::map<int, std::string> labels_;
  std::vector<TraceEvent> events_;
};

// The Chrome/Perfetto trace-event JSON document: {"traceEvents": [...], "displayTimeUnit": "ms"}.
// A send without its receive (or the reverse) gets its slice but no flow arrow.
std::string trace_event_json(const Trace& trace);
Result<void> write_trace_file(const Trace& trace, const std::filesystem::path& path);

}  // namespace ipcg
