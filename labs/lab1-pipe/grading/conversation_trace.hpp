// The duplex conversation as a message timeline (harness/trace/trace.hpp), filled by the alternation
// check as it watches the parent and the gated responder (`stage --gate-each respond`):
//
//   ConversationTrace timeline(*ctx.trace);
//   req.on_tick = [&](SandboxedProcess& p, const RunContext&) {
//     timeline.look(p);                                   // first, every tick
//     ... on a stop of the responder after request k:  timeline.stopped(k, pid, early_bytes);
//   };
//   timeline.finish(replies_printed);
//
// Every timestamp is an OBSERVATION time: the grader's clock when a look saw the effect of a
// write or read (bytes in a pipe, /proc/PID/io counters, the responder stopped after a read),
// not the moment the process made the syscall. Each event's slice spans the window between the
// look before and the look that saw it, so the real moment lies inside the slice.
// Message sequence numbers (flow ids): request k is 2k-1, reply k is 2k.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "common.hpp"
#include "harness/trace/trace.hpp"

namespace lab1 {

class ConversationTrace {
 public:
  explicit ConversationTrace(Trace& trace) : trace_(trace) {}

  // Once per tick, before anything else: opens the tick's window and notes what changed since
  // the last look (reply k written, reply k read by the parent, request k+1 in the pipe).
  void look(const SandboxedProcess& p) {
    window_ = trace_.window();
    if (parent_ == 0) {
      parent_ = p.pid();
      trace_.process(parent_, "parent (student)");
      trace_.process_start(parent_);
    }
    if (responder_ == 0 || stops_ == 0) return;
    if (!trace_.has_send(reply_seq(stops_)) && bytes_written(responder_).value_or(0) > wchar_at_stop_)
      send_reply(stops_);
    if (trace_.has_send(reply_seq(stops_)) && !trace_.has_receive(reply_seq(stops_)) &&
        unread_bytes(responder_, 1) == 0)
      receive_reply(stops_);
    if (!trace_.has_send(request_seq(stops_ + 1)) && unread_bytes(responder_, 0).value_or(0) > 0)
      send_request(stops_ + 1, {});
  }

  // The responder stopped right after reading request k; `early` bytes of later requests were
  // already waiting in the request pipe (a violation when > 0: reply k is not even written yet).
  void stopped(std::size_t k, pid_t responder, int early) {
    if (responder_ == 0) {
      responder_ = responder;
      trace_.process(responder_, "child (gated responder)");
      trace_.process_start(responder_);
    }
    // Reply k-1 must have been read for a correct parent to send request k; seen only now when
    // both happened within one tick.
    if (k > 1 && trace_.has_send(reply_seq(k - 1)) && !trace_.has_receive(reply_seq(k - 1)) &&
        unread_bytes(responder_, 1) == 0)
      receive_reply(k - 1);
    if (!trace_.has_send(request_seq(k))) send_request(k, {});
    trace_.receive(responder_, request_seq(k), fmt::format("read request {}", k), window_);
    if (early > 0) flag_early(k, early);
    wchar_at_stop_ = bytes_written(responder_).value_or(0);
    stops_ = k;
  }

  // After the run: the processes are gone. A reply the parent printed was received, even if it
  // was written and read between two looks just before the end.
  void finish(std::size_t replies_printed) {
    window_ = trace_.window();
    for (std::size_t k = 1; k <= stops_ && k <= replies_printed; ++k) {
      if (!trace_.has_send(reply_seq(k))) send_reply(k);
      if (!trace_.has_receive(reply_seq(k))) receive_reply(k);
    }
    if (parent_ != 0) trace_.exit(parent_);
    if (responder_ != 0) trace_.exit(responder_);
  }

 private:
  static std::uint64_t request_seq(std::size_t k) { return 2 * k - 1; }
  static std::uint64_t reply_seq(std::size_t k) { return 2 * k; }

  void send_request(std::size_t k, std::map<std::string, std::string> args) {
    trace_.send(parent_, request_seq(k), fmt::format("write request {}", k), window_, std::move(args));
  }
  void send_reply(std::size_t k) {
    trace_.send(responder_, reply_seq(k), fmt::format("write reply {}", k), window_);
  }
  void receive_reply(std::size_t k) {
    trace_.receive(parent_, reply_seq(k), fmt::format("read reply {}", k), window_);
  }

  void flag_early(std::size_t k, int early) {
    if (!trace_.has_send(request_seq(k + 1)))
      send_request(k + 1, {{"early", "sent before reply " + std::to_string(k) + " was read"}});
    trace_.instant(parent_, fmt::format("request {} sent before reply {} was read", k + 1, k),
                   {{"unread_bytes_in_request_pipe", std::to_string(early)},
                    {"property", "strict request/reply alternation"}});
  }

  Trace& trace_;
  TraceWindow window_;
  pid_t parent_ = 0;
  pid_t responder_ = 0;
  std::size_t stops_ = 0;  // requests the responder has read
  std::uint64_t wchar_at_stop_ = 0;
};

}  // namespace lab1
