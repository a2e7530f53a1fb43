#include "handout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace ipcg {
namespace {

namespace fs = std::filesystem;

std::set<std::string> hidden_test_names(const LabSpec& lab) {
  std::set<std::string> names;
  for (const auto& t : lab.tests)
    if (t.visibility == Visibility::hidden) names.insert(t.name);
  return names;
}

// Drops every [[tests]] entry the loaded spec calls hidden (by name, so the file's spelling of
// visibility does not matter).
void drop_hidden_tests(toml::table& doc, const std::set<std::string>& hidden) {
  auto* tests = doc["tests"].as_array();
  if (!tests) return;
  for (auto it = tests->begin(); it != tests->end();) {
    const auto* table = it->as_table();
    const auto name = table ? (*table)["name"].value<std::string>() : std::nullopt;
    it = name && hidden.count(*name) ? tests->erase(it) : std::next(it);
  }
}

Result<void> copy_one(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (!fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec))
    return fail(Errc::io, fmt::format("cannot copy {} to {}: {}", from.string(), to.string(), ec.message()));
  return {};
}

Result<void> write_text(const fs::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  file.close();
  if (!file) return fail(Errc::io, "cannot write " + path.string());
  return {};
}

Result<void> check_out_dir(const fs::path& out_dir) {
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_empty(out_dir, ec))
    return fail(Errc::usage, out_dir.string() + " is not empty: give a new or empty folder for the handout");
  fs::create_directories(out_dir, ec);
  if (ec) return fail(Errc::io, fmt::format("cannot create {}: {}", out_dir.string(), ec.message()));
  return {};
}

// The skeleton folder's regular files, relative to it (a student's starting working copy).
std::vector<fs::path> skeleton_files(const LabSpec& lab) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(lab.skeleton_dir, ec); !ec && it != fs::end(it); it.increment(ec))
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), lab.skeleton_dir));
  return files;
}

// The lab folder's README*.md files (README.md, README.ko.md, ...): the handout in every language
// the lab is written in. Sorted, so the handout lists them in the same order on every host.
std::vector<fs::path> readme_files(const LabSpec& lab) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(lab.dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file() && name.starts_with("README") && name.ends_with(".md")) files.emplace_back(name);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<std::string> handout_lab_toml(const LabSpec& lab) {
  toml::table doc;
  try {
    doc = toml::parse_file(lab.toml_path.string());
  } catch (const toml::parse_error& e) {
    return fail(Errc::config, fmt::format("{}: {}", lab.toml_path.string(), e.description()));
  }
  drop_hidden_tests(doc, hidden_test_names(lab));
  if (auto* section = doc["lab"].as_table()) {
    section->erase("reference");  // where the reference lives is the course's business
    section->erase("skeleton");   // in the handout the skeleton's files are the folder itself
  }
  std::ostringstream text;
  text << "# " << lab.id << " handout: the lab's public tests and limits, for reading. Grade your work with\n"
       << "# `grader run " << lab.id << " --submission <this folder>`; hidden tests are not listed here.\n\n"
       << doc << '\n';
  return text.str();
}

Result<std::vector<fs::path>> write_handout(const LabSpec& lab, const fs::path& out_dir) {
  IPCG_CHECK(check_out_dir(out_dir));
  std::vector<fs::path> written;
  for (const auto& file : skeleton_files(lab)) {
    IPCG_CHECK(copy_one(lab.skeleton_dir / file, out_dir / file));
    written.push_back(file);
  }
  for (const auto& header : lab.build.headers) {
    IPCG_CHECK(copy_one(lab.dir / header, out_dir / header));
    written.push_back(header);
  }
  for (const auto& readme : readme_files(lab)) {
    IPCG_CHECK(copy_one(lab.dir / readme, out_dir / readme));
    written.push_back(readme);
  }
  IPCG_TRY(std::string toml_text, handout_lab_toml(lab));
  IPCG_CHECK(write_text(out_dir / "lab.toml", toml_text));
  written.emplace_back("lab.toml");
  return written;
}

}  // namespace ipcg
