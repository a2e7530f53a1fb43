#include <fstream>
#include <nlohmann/json.hpp>

#include "gradebook/gradebook.hpp"

namespace ipcg::gradebook {
namespace {

using Json = nlohmann::json;

RegradeNote note_from(const Json& doc) {
  RegradeNote note;
  note.when = doc.value("when", std::string());
  note.archive = doc.value("archive", std::string());
  const Json empty = Json::object();
  const Json& old_side = doc.contains("old") ? doc["old"] : empty;
  const Json& new_side = doc.contains("new") ? doc["new"] : empty;
  note.old_spec_hash = old_side.value("spec_hash", std::string());
  note.new_spec_hash = new_side.value("spec_hash", std::string());
  note.old_grader_version = old_side.value("grader_version", std::string());
  note.new_grader_version = new_side.value("grader_version", std::string());
  note.up = doc.value("up", 0);
  note.down = doc.value("down", 0);
  note.equal = doc.value("equal", 0);
  for (const Json& c : doc.value("changed", Json::array()))
    note.changed.push_back({c.value("submission", std::string()), c.value("old_score", 0.0), c.value("new_score", 0.0),
                            c.value("reason", std::string())});
  return note;
}

}  // namespace

Result<std::optional<RegradeNote>> read_regrade_note(const std::filesystem::path& regrade_json) {
  std::ifstream in(regrade_json);
  if (!in) return std::optional<RegradeNote>();
  const Json doc = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return fail(Errc::config, regrade_json.string() + ": not a regrade.json (a JSON object)");
  try {
    return std::optional<RegradeNote>(note_from(doc));
  } catch (const Json::exception& e) {  // a field of the wrong type
    return fail(Errc::config, regrade_json.string() + ": " + e.what());
  }
}

}  // namespace ipcg::gradebook
