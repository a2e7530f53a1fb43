// A feedback cell of one student: the text report shortened to the format's limit.
#pragma once

#include <string>

#include "export/writers.hpp"

namespace ipcg::lms::internal {

// "" without --feedback or without a grade; `encode` turns text into the cell's content.
std::string feedback_cell(const Line& line, const Sheet& sheet, std::string (*encode)(std::string_view));

}  // namespace ipcg::lms::internal
