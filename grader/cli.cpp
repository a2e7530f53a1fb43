#include "cli.hpp"

#include <CLI/CLI.hpp>

#include "commands/command.hpp"

namespace ipcg {

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"ipcgrade: grades operating-systems IPC labs by watching the processes", "grader"};
  app.set_version_flag("--version", grader_version());
  app.require_subcommand(1);
  // Every subcommand, one file each in grader/commands/. Add new ones to this list.
  const std::vector<Command> commands = {
      add_list_command(app),
      add_run_command(app),
      add_gradescope_setup_command(app),
      add_collect_command(app),
      add_batch_command(app),
      add_merge_command(app),
      add_diff_command(app),
      add_export_command(app),
      add_handout_command(app),
      add_policy_command(app),
      add_report_command(app),
      add_stress_command(app),
      add_cleanup_command(app),
      add_similarity_command(app),
  };

  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0.
    return app.exit(e, out, err) == 0 ? kExitPassed : kExitUsage;
  }
  for (const auto& command : commands)
    if (command.sub->parsed()) return command.run(out, err);
  return kExitUsage;
}

}  // namespace ipcg
