// check_layering ROOT RULES: prints every include that crosses a line of RULES (tests/layering/
// rules.toml) in the sources under ROOT, and exits 1 if there is one. Run by ctest ("layering").
#include <iostream>

#include "layering.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: check_layering SOURCE_ROOT RULES_TOML\n";
    return 2;
  }
  using namespace ipcg::layering;
  auto rules = load_rules(argv[2]);
  if (!rules) {
    std::cerr << rules.error().message << '\n';
    return 2;
  }
  auto tree = read_tree(argv[1], rules->scanned_folders);
  if (!tree) {
    std::cerr << tree.error().message << '\n';
    return 2;
  }
  const std::vector<Violation> found = check_layering(*rules, *tree);
  for (const Violation& v : found)
    std::cout << v.file << (v.line ? ":" + std::to_string(v.line) : std::string()) << ": " << v.message << '\n';
  std::cout << tree->size() << " files checked against " << rules->parts.size() << " parts: " << found.size()
            << " forbidden include(s)\n";
  return found.empty() ? 0 : 1;
}
