#include "harness/runner/forbidden_symbols.hpp"

#include <algorithm>

namespace ipcg {

std::vector<std::string> undefined_symbols_argv(const std::vector<std::string>& objects) {
  std::vector<std::string> argv{"nm", "-A", "-P", "-u"};
  argv.insert(argv.end(), objects.begin(), objects.end());
  return argv;
}

std::vector<SymbolUse> forbidden_uses(std::string_view nm_output, const std::vector<std::string>& forbidden) {
  std::vector<SymbolUse> uses;
  while (!nm_output.empty()) {
    const auto end = nm_output.find('\n');
    std::string_view line = nm_output.substr(0, end);
    nm_output = end == std::string_view::npos ? std::string_view() : nm_output.substr(end + 1);
    const auto colon = line.rfind(": ");
    if (colon == std::string_view::npos) continue;
    std::string_view rest = line.substr(colon + 2);
    std::string_view symbol = rest.substr(0, rest.find(' '));
    symbol = symbol.substr(0, symbol.find('@'));
    if (symbol.empty()) continue;
    if (std::find(forbidden.begin(), forbidden.end(), symbol) == forbidden.end()) continue;
    uses.push_back({std::string(symbol), std::string(line.substr(0, colon))});
  }
  return uses;
}

std::string describe_uses(const std::vector<SymbolUse>& uses) {
  std::string text, object;
  for (const auto& u : uses) {
    if (u.object != object) {
      if (!text.empty()) text += "; ";
      text += u.object + " calls " + u.symbol;
      object = u.object;
    } else {
      text += ", " + u.symbol;
    }
  }
  return text;
}

}  // namespace ipcg
