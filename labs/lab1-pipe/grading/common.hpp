// Shared pieces of lab1's checks: building argv for the drivers and stages, seeded inputs, the
// conversation protocol, and the responder gate (trusted stages that stop themselves so the
// grader can read /proc at a well-defined moment). What every lab shares is harness/labkit.
#pragma once

#include <string>
#include <vector>

#include "harness/labkit/labkit.hpp"
#include "harness/proc/proc_inspector.hpp"
#include "harness/runner/check.hpp"

namespace lab1 {

using namespace ipcg;
using Stages = std::vector<std::vector<std::string>>;

Stages stages_param(const TestSpec& test);  // throws std::runtime_error when malformed
// A stage as argv: a name like "upper" runs the trusted stage tool; an absolute path runs as is.
std::vector<std::string> stage_argv(const TestContext& ctx, const std::vector<std::string>& stage, bool gate);
std::vector<std::string> pipeline_argv(const TestContext& ctx, const std::string& program, const Stages& stages,
                                       bool gate_stages, bool gate_after);
std::string stage_label(const ProcessSnapshot& s, std::size_t index);  // "stage 2 (upper)"

// params.input, or params.random_input_bytes of seeded printable text in lines.
std::string test_input(TestContext& ctx);

// The conversation protocol: requests as the drivers read them (one per line), and reply k to a
// request ("<k> <REQUEST IN UPPER CASE>").
std::string joined_lines(const std::vector<std::string>& lines);
std::string expected_reply(std::size_t k, const std::string& request);

// A lab1 tool started with --gate or --gate-each (and, if given, in that mode).
bool is_gated(const ProcessSnapshot& s, const std::string& mode = "");

// The first words by which lab1's drivers say a call returned, beyond status and error.
DriverReport lab1_driver_report(const RunOutcome& out);

// Lets a gated responder (`stage --gate-each respond`, stopped after reading each request) go on
// only once the caller (the process under test, the run's target) has settled: blocked in a
// system call, stopped or gone. When a reply comes then no longer depends on the scheduler, so a
// parent that races its child (non-blocking reads, a request sent early) gets one verdict. A
// caller that never blocks (busy polling) is let go after the test's settle grace.
class ResponderGate {
 public:
  explicit ResponderGate(const TestContext& ctx) : unsettled_(settle_grace(ctx)) {}
  void tick(SandboxedProcess& p);

 private:
  Grace unsettled_;  // since when a stopped responder waits for an unsettled caller
};

}  // namespace lab1
