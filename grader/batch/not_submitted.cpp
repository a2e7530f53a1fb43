#include "batch/not_submitted.hpp"

#include <nlohmann/json.hpp>

namespace ipcg {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

bool holds_a_source(const fs::path& folder, const std::vector<std::string>& sources) {
  std::error_code ec;
  for (const auto& name : sources)
    if (fs::exists(folder / name, ec)) return true;
  return false;
}

}  // namespace

Result<std::map<std::string, std::string>> read_not_submitted(const fs::path& folder,
                                                              const std::vector<std::string>& sources) {
  const fs::path path = folder / "collect.json";
  IPCG_TRY(std::string text, read_text_file(path));
  std::map<std::string, std::string> absent;
  if (text.empty()) return absent;
  const Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("students") || !doc["students"].is_object())
    return fail(Errc::config, path.string() + ": not a collect.json (no \"students\" object)");
  for (const auto& [id, student] : doc["students"].items()) {
    if (!student.is_object() || student.value("status", std::string()) != "not_submitted") continue;
    if (holds_a_source(folder / id, sources)) continue;
    absent[id] = student.value("reason", std::string("nothing to grade"));
  }
  return absent;
}

std::string not_submitted_line(const std::string& submission, const std::string& reason, const std::string& lab,
                               const std::string& spec_hash, const std::string& grader_version) {
  const Json doc = {{"submission", submission}, {"not_submitted", reason}, {"lab", lab},
                    {"spec_hash", spec_hash}, {"grader_version", grader_version}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool is_not_submitted(const ResultRow& row) { return row.doc.contains("not_submitted"); }

std::string not_submitted_status(const ResultRow& row) { return "not submitted: " + row.field("not_submitted"); }

}  // namespace ipcg
