// A message log drawn as a trace (--trace-out): each send and receive a slice on its process's
// track, joined by a flow arrow, and each violation an instant on the events that show it, so a
// failed ordering test opens in Perfetto as a picture of who sent what to whom.
//
//   Trace trace;                                       // made when the test started
//   trace.process(server_pid, "server (student)");     // optional: the first label wins
//   draw_message_log(trace, log, check_exactly_once(log));
//   IPCG_CHECK(write_trace_file(trace, out / "fifo_order.trace.json"));
#pragma once

#include <vector>

#include "harness/msglog/message_log.hpp"
#include "harness/trace/trace.hpp"

namespace ipcg {

void draw_message_log(Trace& trace, const MessageLog& log, const std::vector<OrderViolation>& violations = {});

// The flow id pairing a message's send with its receives: its tag, packed.
std::uint64_t flow_id(const MessageEvent& event);

}  // namespace ipcg
