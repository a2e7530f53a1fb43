#include "collect/collect.hpp"
#include "collect/text.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "collect/input_files.hpp"
#include "collect/output_folder.hpp"

namespace ipcg::collect {
namespace {

using Json = nlohmann::ordered_json;

std::string joined(const std::vector<std::string>& items, std::size_t at_most = 6) {
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < at_most; ++i) text += (i ? ", " : "") + items[i];
  if (items.size() > at_most) text += fmt::format(" and {} more", items.size() - at_most);
  return text;
}

// An archive a student submitted is unpacked, one level deep, under the download's caps. One that
// is refused costs only that student its contents, never the class its download.
void unpack_nested(StudentFiles& s, UnpackBudget& budget, std::vector<IgnoredFile>& ignored) {
  std::vector<Candidate> files;
  for (auto& c : s.files) {
    if (!looks_like_archive(c.name)) {
      files.push_back(std::move(c));
      continue;
    }
    auto inner = read_archive_bytes(c.source, c.bytes, budget);
    if (!inner) {
      s.notes.push_back(c.source + " not unpacked: " + inner.error().message);
      ignored.push_back({c.source, "an archive that was refused: " + inner.error().message});
      continue;
    }
    s.notes.push_back(fmt::format("unpacked {} ({} files)", c.source, inner->files.size()));
    for (auto& f : inner->files) {
      if (is_junk_path(f.path)) continue;
      Candidate file{c.source + "!/" + f.path, base_name(f.path), 0, f.mtime ? f.mtime : c.mtime, std::move(f.bytes)};
      if (looks_like_archive(file.name)) {
        ignored.push_back({file.source, "an archive inside an archive: only one level is unpacked"});
        continue;
      }
      files.push_back(std::move(file));
    }
  }
  s.files = std::move(files);
}

StudentOutcome outcome_of(StudentFiles s, const std::vector<std::string>& sources, UnpackBudget& budget) {
  StudentOutcome o;
  o.roster = {.id = "", .name = s.name, .login = s.login, .lms_id = s.lms_id};
  o.late = s.late;
  std::vector<std::string> submitted;
  for (const auto& f : s.files) submitted.push_back(f.name);
  unpack_nested(s, budget, o.ignored);
  Selection sel = select_sources(sources, std::move(s.files));
  o.notes = std::move(s.notes);
  o.notes.insert(o.notes.end(), sel.notes.begin(), sel.notes.end());
  o.ignored.insert(o.ignored.end(), sel.ignored.begin(), sel.ignored.end());
  o.kept = std::move(sel.kept);
  if (sel.missing.empty()) {
    o.status = kCollected;
  } else if (o.kept.empty()) {
    o.status = kNotSubmitted;
    o.reason = submitted.empty() ? "nothing submitted"
                                 : "no " + joined(sel.missing) + " among the files submitted (" + joined(submitted) + ")";
  } else {
    o.status = kPartial;
    o.reason = "missing " + joined(sel.missing);
  }
  return o;
}

// Folder names from the students' keys, unique even when two keys sanitize alike.
void assign_ids(std::vector<StudentOutcome>& students, const std::vector<std::string>& keys) {
  std::set<std::string> taken;
  for (std::size_t i = 0; i < students.size(); ++i) {
    std::string id = sanitize_id(keys[i]);
    for (int n = 2; taken.count(id); ++n) id = sanitize_id(keys[i]) + "-" + std::to_string(n);
    taken.insert(id);
    if (id != keys[i]) students[i].notes.push_back("folder " + id + " (from \"" + keys[i] + "\")");
    students[i].roster.id = id;
  }
}

std::vector<OutputFile> output_files(const CollectSummary& summary) {
  std::vector<OutputFile> files;
  for (const auto& s : summary.students)
    for (const auto& k : s.kept) files.push_back({s.roster.id, k.file, k.bytes});
  std::vector<RosterRow> rows;
  for (const auto& s : summary.students) rows.push_back(s.roster);
  files.push_back({"", "roster.csv", roster_csv(rows)});
  files.push_back({"", "collect.json", collect_json(summary)});
  return files;
}

}  // namespace

Result<CollectSummary> plan_collect(const CollectOptions& options) {
  IPCG_CHECK(check_output_folder(options.out));
  UnpackBudget budget(options.limits);
  auto listing = read_input(options.input, budget);
  if (!listing) return fail(listing.error().code, listing.error().message + "; nothing written");
  CollectSummary summary{options.lab, std::string(to_string(options.from)), options.input.string(), options.sources};
  summary.notes = listing->skipped;
  Recognized recognized = recognize(options.from, std::move(listing->files), std::move(listing->folders));
  summary.unmatched = std::move(recognized.unmatched);
  summary.notes.insert(summary.notes.end(), recognized.notes.begin(), recognized.notes.end());
  std::vector<std::string> keys;
  for (auto& s : recognized.students) {
    keys.push_back(s.key);
    summary.students.push_back(outcome_of(std::move(s), options.sources, budget));
  }
  assign_ids(summary.students, keys);
  return summary;
}

Result<CollectSummary> collect(const CollectOptions& options) {
  IPCG_TRY(CollectSummary summary, plan_collect(options));
  std::vector<std::string> folders;
  for (const auto& s : summary.students) folders.push_back(s.roster.id);
  IPCG_CHECK(write_output_folder(options.out, folders, output_files(summary)));
  return summary;
}

std::string collect_json(const CollectSummary& summary) {
  Json students = Json::object();
  for (const auto& s : summary.students) {
    Json kept = Json::array(), ignored = Json::array();
    for (const auto& k : s.kept) kept.push_back({{"file", k.file}, {"from", k.from}});
    for (const auto& i : s.ignored) ignored.push_back({{"from", i.from}, {"why", i.why}});
    students[s.roster.id] = {{"status", s.status}, {"reason", s.reason}, {"name", s.roster.name},
                             {"late", s.late}, {"notes", s.notes}, {"kept", kept}, {"ignored", ignored}};
  }
  Json unmatched = Json::array();
  for (const auto& u : summary.unmatched) unmatched.push_back({{"from", u.source}, {"why", u.why}});
  const Json doc = {{"lab", summary.lab}, {"from", summary.from}, {"input", summary.input},
                    {"sources", summary.sources}, {"students", students}, {"unmatched", unmatched},
                    {"notes", summary.notes}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string summary_text(const CollectSummary& summary, const std::string& out_dir) {
  std::map<std::string, int> counts;
  for (const auto& s : summary.students) ++counts[s.status];
  std::string text = fmt::format("collected {} students from {} ({}, {}) into {}: {} collected, {} partial, {} not submitted\n",
                                 summary.students.size(), summary.input, summary.from, summary.lab, out_dir,
                                 counts[std::string(kCollected)], counts[std::string(kPartial)],
                                 counts[std::string(kNotSubmitted)]);
  for (const auto& note : summary.notes) text += "  note: " + note + "\n";
  for (const auto& s : summary.students) {
    const std::string status = s.status == kNotSubmitted ? "not submitted" : s.status;
    std::string line = fmt::format("  {:<14} {:<22} {:<14} {}{}", s.roster.id, s.roster.name, status, s.late ? "LATE " : "", s.reason);
    line.erase(line.find_last_not_of(' ') + 1);
    text += line + "\n";
    for (const auto& note : s.notes) text += "      " + note + "\n";
  }
  if (!summary.unmatched.empty()) text += "files no student owns (not collected):\n";
  for (const auto& u : summary.unmatched) text += "  " + u.source + ": " + u.why + "\n";
  return text;
}

}  // namespace ipcg::collect
