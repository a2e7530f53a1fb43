#include "collect/layouts.hpp"
#include "collect/text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

namespace ipcg::collect {
namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find(sep, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string first_component(const std::string& path) { return path.substr(0, path.find('/')); }
std::string after_first_component(const std::string& path) {
  const auto slash = path.find('/');
  return slash == std::string::npos ? "" : path.substr(slash + 1);
}

// Students by key, in key order; each file is added to its student.
class Roll {
 public:
  StudentFiles& student(const std::string& key) {
    auto [it, fresh] = by_key_.try_emplace(key);
    if (fresh) it->second.key = key;
    return it->second;
  }
  Recognized finish(std::vector<Unmatched> unmatched, std::vector<std::string> notes) {
    Recognized r{{}, std::move(unmatched), std::move(notes)};
    for (auto& [key, s] : by_key_) r.students.push_back(std::move(s));
    return r;
  }

 private:
  std::map<std::string, StudentFiles> by_key_;
};

Candidate candidate(InputFile& file, std::string name, int version = 0) {
  return {file.path, std::move(name), version, file.mtime, std::move(file.bytes)};
}

Recognized recognize_canvas(std::vector<InputFile> files) {
  Roll roll;
  std::vector<Unmatched> unmatched;
  for (auto& file : files) {
    auto parsed = parse_canvas_name(base_name(file.path));
    if (!parsed) {
      unmatched.push_back({file.path, "not named as Canvas names a submitted file (lastfirst_<user id>_<submission id>_<name>)"});
      continue;
    }
    StudentFiles& s = roll.student(parsed->user_id);
    s.name = parsed->name;
    s.lms_id = parsed->user_id;
    s.late = s.late || parsed->late;
    s.files.push_back(candidate(file, parsed->uploaded, parsed->version));
  }
  return roll.finish(std::move(unmatched), {});
}

Recognized recognize_moodle(std::vector<InputFile> files, const std::vector<std::string>& folders) {
  Roll roll;
  for (const auto& folder : folders)
    if (auto parsed = parse_moodle_name(first_component(folder)); parsed && parsed->rest.empty()) {
      StudentFiles& s = roll.student(parsed->participant_id);
      s.name = parsed->name;
      s.lms_id = parsed->participant_id;
    }
  std::vector<Unmatched> unmatched;
  for (auto& file : files) {
    auto parsed = parse_moodle_name(first_component(file.path));
    const std::string inside = after_first_component(file.path);
    if (!parsed || (inside.empty() && parsed->rest.empty())) {
      unmatched.push_back({file.path, "not in a participant's folder (Full Name_<participant id>_assignsubmission_file_/)"});
      continue;
    }
    StudentFiles& s = roll.student(parsed->participant_id);
    s.name = parsed->name;
    s.lms_id = parsed->participant_id;
    s.files.push_back(candidate(file, inside.empty() ? parsed->rest : base_name(inside)));
  }
  return roll.finish(std::move(unmatched), {});
}

// "lab1-alice", "lab1-bob" -> "lab1-": the assignment's prefix every repository shares.
std::string common_repo_prefix(const std::set<std::string>& folders) {
  if (folders.size() < 2) return "";
  std::string prefix = *folders.begin();
  for (const auto& f : folders) {
    std::size_t n = 0;
    while (n < prefix.size() && n < f.size() && prefix[n] == f[n]) ++n;
    prefix.resize(n);
  }
  const auto dash = prefix.rfind('-');
  return dash == std::string::npos ? "" : prefix.substr(0, dash + 1);
}

Recognized recognize_folders(std::vector<InputFile> files, const std::vector<std::string>& seen, bool github) {
  std::set<std::string> folders;
  for (const auto& file : files)
    if (file.path.find('/') != std::string::npos) folders.insert(first_component(file.path));
  for (const auto& folder : seen) folders.insert(first_component(folder));
  const std::string prefix = github ? common_repo_prefix(folders) : "";
  std::vector<std::string> notes;
  if (github && folders.size() == 1)
    notes.push_back("one repository only: its assignment prefix cannot be told from the login, so the folder name is the id");
  Roll roll;
  const auto key_of = [&](const std::string& folder) {
    return folder.size() > prefix.size() ? folder.substr(prefix.size()) : folder;
  };
  for (const auto& folder : folders) {
    StudentFiles& s = roll.student(key_of(folder));
    s.name = folder;
    if (github) s.login = s.key;
  }
  std::vector<Unmatched> unmatched;
  for (auto& file : files) {
    const std::string folder = first_component(file.path), inside = after_first_component(file.path);
    if (inside.empty()) {
      unmatched.push_back({file.path, "not in a student's folder"});
      continue;
    }
    roll.student(key_of(folder)).files.push_back(candidate(file, base_name(inside)));
  }
  return roll.finish(std::move(unmatched), std::move(notes));
}

// A download zipped from one folder above the students' ("submissions/alice/..."): that folder
// is unwrapped. Only when no file sits directly in it, so a lone student's folder is kept.
std::optional<std::string> single_wrapper(const std::vector<InputFile>& files, const std::vector<std::string>& folders,
                                          Lms lms) {
  if (files.empty()) return std::nullopt;
  const std::string top = first_component(files.front().path);
  for (const auto& folder : folders)
    if (first_component(folder) != top) return std::nullopt;
  for (const auto& file : files) {
    const std::string rest = after_first_component(file.path);
    if (first_component(file.path) != top || rest.empty() || rest.find('/') == std::string::npos) return std::nullopt;
  }
  if (lms == Lms::moodle && parse_moodle_name(top)) return std::nullopt;
  return top;
}

}  // namespace

bool is_junk_path(const std::string& path) {
  for (const auto& part : split(path, '/'))
    if (part == "__MACOSX" || part == ".git" || part == ".DS_Store" || part.starts_with("._")) return true;
  return false;
}

Result<Lms> parse_lms(std::string_view name) {
  if (name == "canvas") return Lms::canvas;
  if (name == "moodle") return Lms::moodle;
  if (name == "github-classroom") return Lms::github_classroom;
  if (name == "folders") return Lms::folders;
  return fail(Errc::usage, "--from " + std::string(name) + ": expected canvas, moodle, github-classroom or folders");
}

std::string_view to_string(Lms lms) {
  switch (lms) {
    case Lms::canvas: return "canvas";
    case Lms::moodle: return "moodle";
    case Lms::github_classroom: return "github-classroom";
    case Lms::folders: return "folders";
  }
  return "?";
}

std::pair<std::string, int> split_version_suffix(std::string_view uploaded) {
  const auto dot = uploaded.rfind('.');
  const std::string_view stem = dot == std::string_view::npos || dot == 0 ? uploaded : uploaded.substr(0, dot);
  const std::string_view ext = uploaded.substr(stem.size());
  const auto dash = stem.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || !all_digits(stem.substr(dash + 1)) || stem.size() - dash > 4)
    return {std::string(uploaded), 0};
  return {std::string(stem.substr(0, dash)) + std::string(ext), std::stoi(std::string(stem.substr(dash + 1)))};
}

std::optional<CanvasName> parse_canvas_name(std::string_view file_name) {
  const auto parts = split(file_name, '_');
  CanvasName n;
  std::size_t i = 0;
  if (parts.size() < 3 || parts[0].empty()) return std::nullopt;
  n.name = parts[i++];
  if (lower(parts[i]) == "late") {
    n.late = true;
    ++i;
  }
  if (i >= parts.size() || !all_digits(parts[i])) return std::nullopt;
  n.user_id = parts[i++];
  if (i + 1 < parts.size() && all_digits(parts[i])) n.submission_id = parts[i++];
  std::string uploaded;
  for (; i < parts.size(); ++i) uploaded += (uploaded.empty() ? "" : "_") + parts[i];
  if (uploaded.empty()) return std::nullopt;
  std::tie(n.uploaded, n.version) = split_version_suffix(uploaded);
  return n;
}

std::optional<MoodleName> parse_moodle_name(std::string_view component) {
  static constexpr std::string_view kMarker = "_assignsubmission_";
  const auto at = component.find(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view head = component.substr(0, at), tail = component.substr(at + kMarker.size());
  const auto underscore = head.rfind('_');
  if (underscore == std::string_view::npos || underscore == 0 || !all_digits(head.substr(underscore + 1)))
    return std::nullopt;
  const auto plugin_end = tail.find('_');
  if (plugin_end == std::string_view::npos || plugin_end == 0) return std::nullopt;
  return MoodleName{std::string(head.substr(0, underscore)), std::string(head.substr(underscore + 1)),
                    std::string(tail.substr(0, plugin_end)), std::string(tail.substr(plugin_end + 1))};
}

Recognized recognize(Lms lms, std::vector<InputFile> files, std::vector<std::string> folders) {
  std::erase_if(files, [](const InputFile& f) { return is_junk_path(f.path); });
  std::erase_if(folders, [](const std::string& f) { return is_junk_path(f); });
  std::vector<std::string> wrapper_note;
  if (lms != Lms::canvas)
    if (auto top = single_wrapper(files, folders, lms)) {
      for (auto& file : files) file.path = after_first_component(file.path);
      for (auto& folder : folders) folder = after_first_component(folder);
      std::erase_if(folders, [](const std::string& f) { return f.empty(); });
      wrapper_note.push_back("the download's one top folder " + *top + "/ holds the students' folders: unwrapped");
    }
  Recognized r = lms == Lms::canvas   ? recognize_canvas(std::move(files))
                 : lms == Lms::moodle ? recognize_moodle(std::move(files), folders)
                                      : recognize_folders(std::move(files), folders, lms == Lms::github_classroom);
  r.notes.insert(r.notes.begin(), wrapper_note.begin(), wrapper_note.end());
  return r;
}

}  // namespace ipcg::collect
