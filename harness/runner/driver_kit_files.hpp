// The harness's C headers for drivers (driver_kit.h, msglog_record.h), as text compiled into the
// grader: build.cpp writes them beside a lab's drivers.
#pragma once

#include <string_view>
#include <vector>

namespace ipcg::internal {

struct DriverKitFile {
  std::string_view name;
  std::string_view text;
};
const std::vector<DriverKitFile>& driver_kit_files();

}  // namespace ipcg::internal
