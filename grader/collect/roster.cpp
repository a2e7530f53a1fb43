#include "collect/roster.hpp"

#include <array>
#include <cctype>

namespace ipcg::collect {
namespace {

// A cell quoted when it holds a comma, a quote or a line break; quotes doubled (RFC 4180).
std::string cell(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

bool id_char(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; }

}  // namespace

std::string roster_csv(const std::vector<RosterRow>& rows) {
  std::string csv = std::string(kRosterHeader) + "\r\n";
  for (const auto& r : rows) {
    const std::array<const std::string*, 7> cells = {&r.id, &r.name, &r.login, &r.email, &r.sis_user_id, &r.section, &r.lms_id};
    for (std::size_t i = 0; i < cells.size(); ++i) csv += (i ? "," : "") + cell(*cells[i]);
    csv += "\r\n";
  }
  return csv;
}

std::string sanitize_id(std::string_view key) {
  std::string id;
  for (unsigned char c : key) id += id_char(c) && c < 0x80 ? static_cast<char>(c) : '_';
  if (id.empty() || id.front() == '.') id.insert(id.begin(), '_');  // hidden folders are not submissions
  return id;
}

}  // namespace ipcg::collect
