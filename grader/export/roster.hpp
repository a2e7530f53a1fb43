// roster.csv, the class list `grader collect` writes and `grader export` reads (RFC 4180):
//
//   id,name,login,email,sis_user_id,section,lms_id
//
// One row per student, empty cells where unknown. `id` is the submission folder's name (the
// `submission` of results.jsonl); `lms_id` is the LMS's own user number (Canvas user id, Moodle
// participant number).
//
//   IPCG_TRY(lms::Roster roster, lms::read_roster("grades/roster.csv"));
//   for (const auto& s : roster.students) std::cout << s.id << " " << s.email << "\n";
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::lms {

struct Student {
  std::string id, name, login, email, sis_user_id, section, lms_id;
};

struct Roster {
  std::vector<Student> students;  // in file order
};

// The header every roster.csv starts with, exactly.
inline constexpr std::string_view kRosterHeader = "id,name,login,email,sis_user_id,section,lms_id";

// Errc::config naming "<source>:<line>" for a wrong header, a row of the wrong width, an
// unterminated quote, an empty or repeated id. A UTF-8 byte-order mark (a spreadsheet's save) is skipped.
Result<Roster> parse_roster(std::string_view text, const std::string& source);
Result<Roster> read_roster(const std::filesystem::path& path);

}  // namespace ipcg::lms
