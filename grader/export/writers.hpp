// The writers behind export.hpp, one per format; each sees the joined sheet only.
#pragma once

#include <string>
#include <vector>

#include "export/export.hpp"

namespace ipcg::lms::internal {

// A student's row: who (from the roster, or only the submission id), and the grade if any.
struct Line {
  Student who;
  const GradeRow* grade = nullptr;  // nullptr: no result; the cell stays empty
  bool in_roster = true;
  std::string score() const { return grade ? grade->score : std::string(); }
};

struct Sheet {
  std::vector<Line> lines;  // roster order, then results without a roster row, by id
  bool has_roster = false;
  std::string column;       // the grade column's header as the user gave it
  std::string max_score;    // gradebook.csv's max_score of the graded rows
  const ExportOptions* options = nullptr;
  std::vector<std::string>* warnings = nullptr;
  int* rows = nullptr;  // student rows written
};

Result<std::string> write_canvas(const Sheet& sheet);
Result<std::string> write_moodle(const Sheet& sheet);
Result<std::string> write_blackboard(const Sheet& sheet);
Result<std::string> write_plain(const Sheet& sheet);

// "alice, bob, carol" (the first 20, then "and N more").
std::string name_list(const std::vector<std::string>& ids);

}  // namespace ipcg::lms::internal
