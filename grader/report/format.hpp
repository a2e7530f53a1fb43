// Number formatting shared by the report writers (internal to grader_report).
//
//   format_points(7.5) == "7.5", format_points(10) == "10"
//   format_duration(0.0421) == "42 ms", format_duration(3.24) == "3.2 s"
#pragma once

#include <string>

namespace ipcg {

// At most two decimals, trailing zeros dropped: 0.1 + 0.2 reads "0.3", not "0.30000000000000004".
std::string format_points(double points);

// Under a second in whole milliseconds, otherwise seconds with one decimal.
std::string format_duration(double seconds);

}  // namespace ipcg
