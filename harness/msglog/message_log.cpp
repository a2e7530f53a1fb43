#include "harness/msglog/message_log.hpp"

#include <cstring>

namespace ipcg {

static_assert(sizeof(ipcg_msg_record) == 64, "the record layout is shared with C tools: no padding");

MessageEvent to_event(const ipcg_msg_record& r) {
  MessageEvent e;
  e.op = r.op == IPCG_MSG_SEND ? MessageEvent::Op::send : MessageEvent::Op::receive;
  e.role = r.role;
  e.pid = r.pid;
  e.producer = r.producer;
  e.seq = r.seq;
  e.length = r.length;
  e.digest = r.digest;
  e.priority = r.priority;
  e.call_ns = r.call_ns;
  e.return_ns = r.return_ns;
  return e;
}

ipcg_msg_record to_record(const MessageEvent& e) {
  ipcg_msg_record r{};
  r.magic = IPCG_MSG_MAGIC;
  r.op = e.op == MessageEvent::Op::send ? IPCG_MSG_SEND : IPCG_MSG_RECEIVE;
  r.role = e.role;
  r.pid = e.pid;
  r.producer = e.producer;
  r.seq = e.seq;
  r.length = e.length;
  r.digest = e.digest;
  r.priority = e.priority;
  r.call_ns = e.call_ns;
  r.return_ns = e.return_ns;
  return r;
}

Result<MessageLog> parse_message_log(std::string_view bytes) {
  constexpr size_t kSize = sizeof(ipcg_msg_record);
  if (bytes.size() % kSize != 0)
    return fail(Errc::internal, "message log: " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                                    std::to_string(kSize) + "-byte records (a writer was cut off)");
  MessageLog log;
  log.reserve(bytes.size() / kSize);
  for (size_t at = 0; at < bytes.size(); at += kSize) {
    ipcg_msg_record r;
    std::memcpy(&r, bytes.data() + at, kSize);
    if (r.magic != IPCG_MSG_MAGIC || (r.op != IPCG_MSG_SEND && r.op != IPCG_MSG_RECEIVE))
      return fail(Errc::internal, "message log: record " + std::to_string(at / kSize) + " is not a message event");
    if (r.return_ns < r.call_ns)
      return fail(Errc::internal, "message log: record " + std::to_string(at / kSize) + " returned before it was called");
    log.push_back(to_event(r));
  }
  return log;
}

std::string describe_message(const MessageEvent& e) {
  if (!e.tagged()) return "a message with no tag";
  return "producer " + std::to_string(e.producer) + "'s message " + std::to_string(e.seq);
}

}  // namespace ipcg
