#include "collect/match.hpp"
#include "collect/text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

namespace ipcg::collect {
namespace {

std::string extension(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? "" : lower(name.substr(dot));
}
std::string stem(const std::string& name) { return lower(name.substr(0, name.size() - extension(name).size())); }

bool newer(const Candidate& a, const Candidate& b) {
  if (a.version != b.version) return a.version > b.version;
  if (a.mtime != b.mtime) return a.mtime > b.mtime;
  return a.source > b.source;
}

// One candidate per name, the newest; the older ones go to `ignored`.
std::vector<Candidate> newest_of_each_name(std::vector<Candidate> files, Selection& s) {
  std::map<std::string, std::vector<Candidate>> by_name;
  for (auto& f : files) by_name[f.name].push_back(std::move(f));
  std::vector<Candidate> newest;
  for (auto& [name, versions] : by_name) {
    std::sort(versions.begin(), versions.end(), newer);
    if (versions.size() > 1)
      s.notes.push_back(std::to_string(versions.size()) + " versions of " + name + ": kept the newest, " + versions[0].source);
    for (std::size_t i = 1; i < versions.size(); ++i)
      s.ignored.push_back({versions[i].source, "an older version of " + name + " (kept " + versions[0].source + ")"});
    newest.push_back(std::move(versions[0]));
  }
  return newest;
}

bool resembles(const std::string& source, const std::string& name) {
  const std::string a = stem(source), b = stem(name);
  if (b.empty()) return false;
  if (a.find(b) != std::string::npos || b.find(a) != std::string::npos) return true;
  return a.size() >= 3 && b.size() >= 3 && a.compare(0, 3, b, 0, 3) == 0;
}

std::string joined_names(const std::vector<const Candidate*>& files) {
  std::string text;
  for (const auto* f : files) text += (text.empty() ? "" : ", ") + f->name;
  return text;
}

// The unclaimed candidate that stands for `source` under another name, if one does unambiguously.
std::optional<std::size_t> other_name_for(const std::string& source, const std::vector<Candidate>& files,
                                          const std::vector<bool>& claimed, Selection& s) {
  std::vector<std::size_t> same_case, same_ext;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (claimed[i]) continue;
    if (lower(files[i].name) == lower(source)) same_case.push_back(i);
    if (extension(files[i].name) == extension(source)) same_ext.push_back(i);
  }
  if (same_case.size() == 1) return same_case[0];
  if (same_ext.size() == 1) return same_ext[0];
  std::vector<std::size_t> alike;
  for (auto i : same_ext)
    if (resembles(source, files[i].name)) alike.push_back(i);
  if (alike.size() == 1) return alike[0];
  if (same_ext.size() > 1) {
    std::vector<const Candidate*> names;
    for (auto i : same_ext) names.push_back(&files[i]);
    s.notes.push_back("no " + source + ", and several files could be it (" + joined_names(names) + "): none taken");
  }
  return std::nullopt;
}

}  // namespace

Selection select_sources(const std::vector<std::string>& sources, std::vector<Candidate> all) {
  Selection s;
  std::vector<Candidate> files = newest_of_each_name(std::move(all), s);
  std::vector<bool> claimed(files.size(), false);
  std::vector<std::optional<std::size_t>> pick(sources.size());
  // Exact names first, so a renamed file is never taken for a source submitted under its own name.
  for (std::size_t k = 0; k < sources.size(); ++k)
    for (std::size_t i = 0; i < files.size(); ++i)
      if (!claimed[i] && files[i].name == sources[k]) {
        pick[k] = i;
        claimed[i] = true;
        break;
      }
  for (std::size_t k = 0; k < sources.size(); ++k) {
    if (pick[k]) continue;
    pick[k] = other_name_for(sources[k], files, claimed, s);
    if (!pick[k]) continue;
    claimed[*pick[k]] = true;
    s.notes.push_back(files[*pick[k]].source + " taken as " + sources[k] + " (submitted under another name)");
  }
  for (std::size_t k = 0; k < sources.size(); ++k) {
    if (!pick[k]) {
      s.missing.push_back(sources[k]);
      continue;
    }
    Candidate& c = files[*pick[k]];
    s.kept.push_back({sources[k], c.source, std::move(c.bytes)});
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (!claimed[i]) s.ignored.push_back({files[i].source, "not a source of the lab"});
  return s;
}

}  // namespace ipcg::collect
