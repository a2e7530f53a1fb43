// What a sample submission declares in its expect.toml (tests/submissions/<lab>/<name>/): the
// tests it must fail, words its failures must mention, and `only`, the tests to run when the
// others would be too slow. The reference declares nothing: everything passes.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace ipcg::testing {

struct Expectation {
  std::set<std::string> fails;
  std::vector<std::string> mentions;
  std::string only;
};

inline Expectation read_expectation(const std::filesystem::path& dir) {
  Expectation e;
  if (!std::filesystem::exists(dir / "expect.toml")) return e;
  auto doc = toml::parse_file((dir / "expect.toml").string());
  if (auto* fails = doc["fails"].as_array())
    for (auto& f : *fails) e.fails.insert(f.value_or(std::string()));
  if (auto* mentions = doc["mentions"].as_array())
    for (auto& m : *mentions) e.mentions.push_back(m.value_or(std::string()));
  e.only = doc["only"].value_or(std::string());
  return e;
}

}  // namespace ipcg::testing
