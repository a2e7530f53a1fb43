#include "export/roster.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include "export/csv.hpp"

namespace ipcg::lms {

Result<Roster> parse_roster(std::string_view text, const std::string& source) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  IPCG_TRY(std::vector<csv::Record> records, csv::parse(text, source));
  std::string header;
  if (!records.empty())
    for (const auto& name : records.front().fields) header += (header.empty() ? "" : ",") + name;
  if (header != kRosterHeader)
    return fail(Errc::config, source + ":1: the header must be `" + std::string(kRosterHeader) + "`, not `" + header + "`");
  Roster roster;
  std::set<std::string> seen;
  for (std::size_t k = 1; k < records.size(); ++k) {
    auto& f = records[k].fields;
    const std::string where = source + ":" + std::to_string(records[k].line) + ": ";
    if (f.size() == 1 && f[0].empty()) continue;  // a blank line
    if (f.size() != 7)
      return fail(Errc::config, where + std::to_string(f.size()) + " fields, the header has 7");
    if (f[0].empty()) return fail(Errc::config, where + "the id is empty");
    if (!seen.insert(f[0]).second) return fail(Errc::config, where + "id '" + f[0] + "' appears twice");
    roster.students.push_back(Student{f[0], f[1], f[2], f[3], f[4], f[5], f[6]});
  }
  return roster;
}

Result<Roster> read_roster(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::usage, path.string() + ": cannot read the roster");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_roster(text.str(), path.string());
}

}  // namespace ipcg::lms
