// DIR/roster.csv, written by `grader collect` and read by `grader export` (docs/grading-a-class.md):
// RFC 4180, CRLF line ends, this header, one row per student found, empty cells for what the
// download does not give.
//
//   std::string csv = roster_csv({{.id = "1001", .name = "doejane", .lms_id = "1001"}});
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipcg::collect {

inline constexpr std::string_view kRosterHeader = "id,name,login,email,sis_user_id,section,lms_id";

struct RosterRow {
  std::string id;      // the student's folder name under DIR
  std::string name;    // as the download gives it
  std::string login;   // GitHub login
  std::string email;
  std::string sis_user_id;
  std::string section;
  std::string lms_id;  // what the LMS matches on import: Canvas user id, Moodle participant id
};

std::string roster_csv(const std::vector<RosterRow>& rows);

// A folder name from a stable key: [A-Za-z0-9._-] kept, anything else '_', never hidden or empty.
std::string sanitize_id(std::string_view key);

}  // namespace ipcg::collect
