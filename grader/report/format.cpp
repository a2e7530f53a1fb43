#include "report/format.hpp"

#include <fmt/format.h>

#include <cmath>

namespace ipcg {

std::string format_points(double points) {
  std::string s = fmt::format("{:.2f}", points);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";  // a tiny negative rounding error must not print a minus sign
  return s;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "? s";
  if (seconds < 0.9995) return fmt::format("{:.0f} ms", seconds * 1000);
  return fmt::format("{:.1f} s", seconds);
}

}  // namespace ipcg
