// `grader policy <lab>`: the lab's syscall policy for a TA to audit, in words grouped by set and
// as libseccomp's PFC export of the very filter the sandbox installs.
#include <fmt/format.h>

#include <memory>
#include <ostream>

#include "cli.hpp"
#include "commands/command.hpp"
#include "harness/seccomp/seccomp_filter.hpp"

namespace ipcg {
namespace {

struct PolicyArgs {
  std::string lab;
  bool words_only = false;
};

// Words separated by spaces, wrapped before `width` columns, each line indented.
std::string wrapped(const std::vector<std::string>& words, const std::string& indent, size_t width = 92) {
  std::string out, line = indent;
  for (const std::string& word : words) {
    if (line.size() > indent.size() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = indent;
    }
    line += (line.size() > indent.size() ? " " : "") + word;
  }
  return line.size() > indent.size() ? out + line + "\n" : out;
}

void print_groups(const SyscallPolicy& policy, std::ostream& out) {
  out << "Allowed, by set (a call is shown under the first set that allows it):\n";
  for (const SyscallGroup& group : policy.groups) {
    out << fmt::format("  {}: {}\n", group.name, group.purpose);
    out << wrapped(group.allowed, "    ");
    for (const std::string& checked : group.checked) out << "    " << checked << "\n";
    if (group.allowed.empty() && group.checked.empty()) out << "    (nothing beyond the sets above)\n";
  }
}

void print_denials(const SyscallPolicy& policy, std::ostream& out) {
  out << "\nAlways killed with SIGSYS, whatever the sets say:\n" << wrapped(policy.killed, "  ");
  out << "Foreign-architecture (int 0x80) and x32 syscall numbers: killed with SIGSYS.\n";
  out << "\nFail with ENOSYS so that libc falls back to a call the filter can inspect:\n"
      << wrapped(policy.enosys, "  ");
  out << fmt::format("\nEvery other call fails with {}.\n", policy.otherwise);
}

int run_policy(const PolicyArgs& args, std::ostream& out, std::ostream& err) {
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, args.lab);
  if (!lab) return exit_for(lab.error(), err);
  const std::vector<std::string>& sets = (*lab)->syscall_sets;
  auto policy = SeccompFilter::describe(sets);
  if (!policy) return exit_for(policy.error(), err);
  auto filter = SeccompFilter::compile(sets);
  if (!filter) return exit_for(filter.error(), err);

  std::string listed;
  for (const auto& s : sets) listed += (listed.empty() ? "" : ", ") + s;
  out << fmt::format("Syscall policy of {} ({})\n", (*lab)->id, (*lab)->title);
  out << fmt::format("Sets in lab.toml [sandbox] syscalls: {} (\"base\" is always on)\n\n",
                     listed.empty() ? "none" : listed);
  print_groups(*policy, out);
  print_denials(*policy, out);
  if (!args.words_only)
    out << fmt::format("\nlibseccomp PFC export ({} BPF instructions):\n{}", filter->instruction_count(),
                       filter->pfc());
  return kExitPassed;
}

}  // namespace

Command add_policy_command(CLI::App& app) {
  auto args = std::make_shared<PolicyArgs>();
  auto* sub = app.add_subcommand("policy", "Print a lab's syscall policy: sets, allowed and denied calls, PFC");
  sub->add_option("lab", args->lab, "Lab id, number or folder (see `grader list`)")->required();
  sub->add_flag("--words-only", args->words_only, "Leave out libseccomp's PFC export");
  return {sub, [args](std::ostream& out, std::ostream& err) { return run_policy(*args, out, err); }};
}

}  // namespace ipcg
