// Small text helpers the collect module's files share: paths inside a download are '/'-separated
// strings, never host paths.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace ipcg::collect {

inline std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "a/b/c.c" -> "c.c"
inline std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace ipcg::collect
