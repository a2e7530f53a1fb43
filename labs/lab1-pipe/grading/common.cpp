#include "common.hpp"

#include <fmt/format.h>

#include <cctype>
#include <csignal>
#include <stdexcept>

namespace lab1 {

Stages stages_param(const TestSpec& test) {
  const auto& p = test.params;
  if (!p.contains("stages") || !p["stages"].is_array() || p["stages"].empty())
    throw std::runtime_error("params.stages must be a non-empty array of argv arrays");
  Stages stages;
  for (const auto& stage : p["stages"]) {
    if (!stage.is_array() || stage.empty()) throw std::runtime_error("each stage must be a non-empty array");
    std::vector<std::string> argv;
    for (const auto& arg : stage) argv.push_back(arg.get<std::string>());
    stages.push_back(std::move(argv));
  }
  return stages;
}

std::vector<std::string> stage_argv(const TestContext& ctx, const std::vector<std::string>& stage, bool gate) {
  if (stage.front().starts_with("/")) return stage;
  std::vector<std::string> argv{ctx.tool("stage")};
  if (gate) argv.push_back("--gate");
  argv.insert(argv.end(), stage.begin(), stage.end());
  return argv;
}

std::vector<std::string> pipeline_argv(const TestContext& ctx, const std::string& program, const Stages& stages,
                                       bool gate_stages, bool gate_after) {
  std::vector<std::string> argv{program};
  if (gate_after) argv.push_back("--gate-after");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (i > 0) argv.push_back("|");
    auto stage = stage_argv(ctx, stages[i], gate_stages);
    argv.insert(argv.end(), stage.begin(), stage.end());
  }
  return argv;
}

std::string stage_label(const ProcessSnapshot& s, std::size_t index) {
  std::string mode = s.comm;
  for (std::size_t i = 1; i < s.cmdline.size(); ++i)
    if (!s.cmdline[i].starts_with("--gate")) { mode = s.cmdline[i]; break; }
  return fmt::format("stage {} ({})", index + 1, mode);
}

std::string test_input(TestContext& ctx) {
  const auto& p = ctx.test.params;
  if (p.contains("random_input_bytes")) return random_text(ctx.rng, p["random_input_bytes"].get<std::size_t>(), true);
  return p.value("input", std::string());
}

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

std::string expected_reply(std::size_t k, const std::string& request) {
  std::string reply = fmt::format("{} ", k);
  for (char c : request) reply.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return reply;
}

bool is_gated(const ProcessSnapshot& s, const std::string& mode) {
  if (s.cmdline.size() < 2 || (s.cmdline[1] != "--gate" && s.cmdline[1] != "--gate-each")) return false;
  return mode.empty() || (s.cmdline.size() > 2 && s.cmdline[2] == mode);
}

DriverReport lab1_driver_report(const RunOutcome& out) {
  return driver_report(out, {"reply", "second", "pipeline"});
}

void ResponderGate::tick(SandboxedProcess& p) {
  const auto snaps = live_snapshots(p);
  const auto* caller = find_pid(snaps, p.pid());
  const bool settled = !caller || caller->state == 'Z' || caller->state == 'T' ||
                       is_blocked(*caller);
  for (const auto& s : snaps) {
    if (!is_gated(s, "respond") || s.state != 'T') continue;
    if (!settled && !unsettled_.expired()) return;
    unsettled_.reset();
    ::kill(s.pid, SIGCONT);
  }
}

}  // namespace lab1
