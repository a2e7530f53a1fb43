#include <memory>
#include <ostream>

#include "cli.hpp"
#include "commands/command.hpp"
#include "handout.hpp"

namespace ipcg {
namespace {

int write_lab_handout(const std::string& key, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto loaded = load_labs();
  if (!loaded) return exit_for(loaded.error(), err);
  auto lab = pick_lab(*loaded, key);
  if (!lab) return exit_for(lab.error(), err);
  auto written = write_handout(**lab, dir);
  if (!written) return exit_for(written.error(), err);
  for (const auto& file : *written) out << "wrote " << (std::filesystem::path(dir) / file).string() << "\n";
  return kExitPassed;
}

}  // namespace

Command add_handout_command(CLI::App& app) {
  auto lab = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("handout", "Write what students receive for a lab (no hidden tests, no reference)");
  sub->add_option("lab", *lab, "lab1, 1 or the lab's folder name")->required();
  sub->add_option("--out", *dir, "folder to write the handout into (new or empty)")->required();
  return {sub, [lab, dir](std::ostream& out, std::ostream& err) { return write_lab_handout(*lab, *dir, out, err); }};
}

}  // namespace ipcg
