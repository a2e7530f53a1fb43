#include "batch/gradebook.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "batch/not_submitted.hpp"

namespace ipcg {
namespace {

// Test names in lab order: each graded row lists its tests in lab order; the union keeps the
// order of first appearance, which is the lab order whenever any row ran every test.
std::vector<std::string> test_columns(const std::vector<ResultRow>& rows) {
  std::vector<std::string> names;
  for (const auto& row : rows) {
    if (!row.doc.contains("tests")) continue;
    for (const auto& test : row.doc["tests"]) {
      const auto name = test.value("name", std::string());
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

std::string row_csv(const ResultRow& row, const std::vector<std::string>& columns) {
  std::map<std::string, std::string> scores;
  if (row.doc.contains("tests"))
    for (const auto& test : row.doc["tests"]) scores[test.value("name", std::string())] = gradebook_number(test, "score");
  std::string line = csv_field(row.submission) + "," + gradebook_number(row.doc, "score") + "," + gradebook_number(row.doc, "max_score");
  for (const auto& name : columns) line += "," + scores[name];
  return line + "," + csv_field(status_summary(row)) + "\r\n";
}

}  // namespace

std::string gradebook_number(const nlohmann::ordered_json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_number() ? fmt::format("{}", it->get<double>()) : std::string();
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string status_summary(const ResultRow& row) {
  if (row.is_error()) return "error: " + row.field("error");
  if (is_not_submitted(row)) return not_submitted_status(row);
  if (row.doc.contains("build") && !row.doc["build"].value("ok", true)) return "build_failed";
  std::vector<std::pair<std::string, int>> counts;  // in order of first appearance
  for (const auto& test : row.doc.value("tests", nlohmann::ordered_json::array())) {
    const auto status = test.value("status", std::string("error"));
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == status; });
    if (it == counts.end()) counts.emplace_back(status, 1);
    else ++it->second;
  }
  std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
    return (a.first == "passed") != (b.first == "passed") ? a.first == "passed" : a.first < b.first;
  });
  std::string summary;
  for (const auto& [status, n] : counts) summary += (summary.empty() ? "" : ", ") + fmt::format("{} {}", n, status);
  return summary;
}

std::string gradebook_csv(const std::vector<ResultRow>& rows) {
  const auto columns = test_columns(rows);
  std::string csv = "submission,score,max_score";
  for (const auto& name : columns) csv += "," + csv_field(name);
  csv += ",status\r\n";
  for (const auto& row : rows) csv += row_csv(row, columns);
  return csv;
}

}  // namespace ipcg
