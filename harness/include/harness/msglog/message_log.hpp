// The trusted message log: what reference roles (and trusted drivers around student calls) sent
// and received, as events with call and return times, and the pure checks that judge it. The
// checks report only what the times make certain: an inversion that a race of the observation
// itself could explain is never a violation.
//
//   IPCG_TRY(MessageLog log, parse_message_log(bytes_read_from_the_log_pipe));
//   for (const OrderViolation& v : check_exactly_once(log)) fail(v.message);
//   if (auto v = check_fifo(log, FifoScope::per_producer)) fail(v->message);
//   if (auto v = check_priority_order(log)) fail(v->message);   // where the lab promises priorities
//   for (const OrderViolation& v : check_boundaries(log)) fail(v.message);
//   if (auto v = check_returned_to_sender(log)) fail(v->message);  // replies to their requester
//   if (auto v = check_capacity(log, 4)) fail(v->message);       // a bounded buffer of 4
//
// Every check is O(n log n) in the number of events.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/msglog/msglog_record.h"

namespace ipcg {

struct MessageEvent {
  enum class Op { send, receive };
  Op op = Op::send;
  std::uint32_t role = 0;
  pid_t pid = 0;
  std::uint32_t producer = IPCG_MSG_NO_PRODUCER;  // the tag, or none
  std::uint64_t seq = 0;
  std::uint32_t length = 0;
  std::uint64_t digest = 0;
  std::int64_t priority = 0;
  std::uint64_t call_ns = 0, return_ns = 0;

  bool tagged() const { return producer != IPCG_MSG_NO_PRODUCER; }
};
using MessageLog = std::vector<MessageEvent>;

// The events in the bytes of a log pipe, in the order they were written. A trailing partial
// record or a bad magic is an error (the log is the grader's evidence: it is not guessed at).
Result<MessageLog> parse_message_log(std::string_view bytes);
MessageEvent to_event(const ipcg_msg_record& record);
ipcg_msg_record to_record(const MessageEvent& event);

struct OrderViolation {
  std::string property;         // "exactly once", "FIFO", "priority order", "message boundaries"
  std::string message;          // for the student: which message, who, expected against seen
  std::vector<size_t> events;   // indices into the log of the events that show it
};

// Every sent message received exactly once: names the lost, the duplicated and the invented
// (received with a tag no one sent). At most one violation per kind.
std::vector<OrderViolation> check_exactly_once(const MessageLog& log);

// FIFO order within a group: per producer (its messages in the order it sent them), or per
// priority (a queue's messages of one priority in the order they were sent). Reported only when
// m1's send returned before m2's send was called and m2's receive returned before m1's receive
// was called. The first such pair, by m2's send time.
enum class FifoScope { per_producer, per_priority };
std::optional<OrderViolation> check_fifo(const MessageLog& log, FifoScope scope);

// Highest priority first: a receive is wrong when a message of higher priority had certainly been
// sent before the receive was called (its send returned) and was certainly still waiting after it
// returned (received only by a call made later, or never). The first such receive.
std::optional<OrderViolation> check_priority_order(const MessageLog& log);

// Every receive returns exactly one sent message, whole: its tag names a sent message and its
// length and digest are that message's. At most one violation per kind (not one sent message;
// cut or merged).
std::vector<OrderViolation> check_boundaries(const MessageLog& log);

// Every tagged message received only by its addressee: the role `addressee(producer)` names for
// the producer's messages (nullopt: anyone may take them). A reply that carries its request's tag
// belongs to the role that sent the request (check_returned_to_sender); a queue routed by type
// says which role owns each type. Names how many went astray and the first, with the role that
// should have had it; `role_name` words a role ("client 3"), by default "role N".
using AddresseeFn = std::function<std::optional<std::uint32_t>(std::uint32_t producer)>;
using RoleNameFn = std::function<std::string(std::uint32_t role)>;
std::optional<OrderViolation> check_addressee(const MessageLog& log, const AddresseeFn& addressee,
                                              const RoleNameFn& role_name = {});
// check_addressee where a producer's messages belong to the role that sent them.
std::optional<OrderViolation> check_returned_to_sender(const MessageLog& log, const RoleNameFn& role_name = {});

// A bounded buffer never holds more than `capacity` messages: violated when, at the return of
// some send, more messages had certainly gone in (sends returned by then) than `capacity` plus
// those that may have come out (receives called by then). The first such send.
std::optional<OrderViolation> check_capacity(const MessageLog& log, std::uint64_t capacity);

// "producer 2's message 17" (or "a message with no tag").
std::string describe_message(const MessageEvent& event);

}  // namespace ipcg
