#include <fmt/format.h>

#include <ostream>

#include "cli.hpp"
#include "commands/command.hpp"

namespace ipcg {

Command add_list_command(CLI::App& app) {
  auto* sub = app.add_subcommand("list", "List the labs: number, folder, mechanism, title");
  return {sub, [](std::ostream& out, std::ostream& err) {
            auto loaded = load_labs();
            if (!loaded) return exit_for(loaded.error(), err);
            for (const auto& lab : loaded->labs)
              out << fmt::format("{:<6} {:<14} {:<22} {} ({} tests)\n", lab.id, lab.folder, lab.mechanism,
                                 lab.title, lab.tests.size());
            return kExitPassed;
          }};
}

}  // namespace ipcg
