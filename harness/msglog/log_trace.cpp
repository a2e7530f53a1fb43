#include "harness/msglog/log_trace.hpp"

#include <string>

namespace ipcg {

std::uint64_t flow_id(const MessageEvent& e) {
  // Sequence numbers stay far below 2^40 in a test; producers below 2^24.
  return (static_cast<std::uint64_t>(e.producer & 0xffffff) << 40) | (e.seq & ((1ull << 40) - 1));
}

void draw_message_log(Trace& trace, const MessageLog& log, const std::vector<OrderViolation>& violations) {
  for (const MessageEvent& e : log) {
    trace.process(e.pid, "role " + std::to_string(e.role));
    std::map<std::string, std::string> args = {{"bytes", std::to_string(e.length)},
                                               {"priority", std::to_string(e.priority)}};
    const TraceWindow when = trace.window_of(e.call_ns, e.return_ns);
    if (e.op == MessageEvent::Op::send)
      trace.send(e.pid, flow_id(e), "send " + describe_message(e), when, std::move(args));
    else
      trace.receive(e.pid, flow_id(e), "receive " + describe_message(e), when, std::move(args));
  }
  for (const OrderViolation& v : violations)
    for (size_t i : v.events) {
      if (i >= log.size()) continue;
      TraceEvent mark;
      mark.pid = log[i].pid;
      mark.kind = TraceKind::instant;
      mark.when = trace.window_of(log[i].return_ns, log[i].return_ns);
      mark.name = v.property + " violated";
      mark.args = {{"why", v.message}};
      trace.add(std::move(mark));
    }
}

}  // namespace ipcg
