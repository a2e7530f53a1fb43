#include <filesystem>
#include <fstream>
#include <memory>

#include "cli.hpp"
#include "commands/command.hpp"
#include "report/gradescope_setup.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

// Writes Gradescope's setup.sh and run_autograder for a lab into `dir`.
int write_setup(const std::string& lab, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto setup = gradescope_setup(lab);
  if (!setup) return exit_for(setup.error(), err);
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [name, text] : {std::pair{"setup.sh", setup->setup_sh}, {"run_autograder", setup->run_autograder}}) {
    const auto path = fs::path(dir) / name;
    std::ofstream file(path);
    file << text;
    if (!file) return exit_for(Error{Errc::io, "cannot write " + path.string()}, err);
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    out << "wrote " << path.string() << "\n";
  }
  return kExitPassed;
}

}  // namespace

Command add_gradescope_setup_command(CLI::App& app) {
  auto lab = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>(".");
  auto* sub = app.add_subcommand("gradescope-setup", "Write Gradescope's setup.sh and run_autograder for a lab");
  sub->add_option("lab", *lab, "lab1, 1 or the lab's folder name")->required();
  sub->add_option("--out", *dir, "folder to write the two files into (default: .)");
  return {sub, [lab, dir](std::ostream& out, std::ostream& err) { return write_setup(*lab, *dir, out, err); }};
}

}  // namespace ipcg
