#include "layering.hpp"

#include <fnmatch.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace ipcg::layering {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/'))
    if (!part.empty()) out.push_back(part);
  return out;
}

bool match_from(const std::vector<std::string>& glob, size_t g, const std::vector<std::string>& path, size_t p,
                std::optional<std::string>& lab) {
  if (g == glob.size()) return p == path.size();
  if (glob[g] == "**") {
    for (size_t skip = p; skip <= path.size(); ++skip)
      if (match_from(glob, g + 1, path, skip, lab)) return true;
    return false;
  }
  if (p == path.size()) return false;
  if (glob[g] == "{lab}") {
    const std::optional<std::string> before = lab;
    if (lab && *lab != path[p]) return false;
    lab = path[p];
    if (match_from(glob, g + 1, path, p + 1, lab)) return true;
    lab = before;
    return false;
  }
  return ::fnmatch(glob[g].c_str(), path[p].c_str(), 0) == 0 && match_from(glob, g + 1, path, p + 1, lab);
}

// A glob with {lab} replaced by the includer's lab, when it has one.
std::string bind(std::string glob, const std::optional<std::string>& lab) {
  if (!lab) return glob;
  for (size_t at = glob.find("{lab}"); at != std::string::npos; at = glob.find("{lab}", at + lab->size()))
    glob.replace(at, 5, *lab);
  return glob;
}

std::string normal(const fs::path& p) { return p.lexically_normal().generic_string(); }

bool has_glob(const std::string& s) { return s.find_first_of("*{") != std::string::npos; }

struct Owner {
  const Part* part = nullptr;
  std::optional<std::string> lab;
};

Owner owner_of(const Rules& rules, const std::string& file) {
  for (const Part& part : rules.parts)
    for (const std::string& glob : part.files) {
      std::optional<std::string> lab;
      if (glob_match(glob, file, &lab)) return {&part, lab};
    }
  return {};
}

// The files of the tree an include names, in the compiler's search order; several only when a
// wildcard root matches in more than one place.
std::vector<std::string> resolve(const Rules& rules, const SourceTree& tree, const std::string& includer,
                                 const Owner& owner, const IncludeLine& inc) {
  auto inside = [&](const std::string& p) { return p.rfind("../", 0) != 0 && tree.count(p) ? p : std::string(); };
  if (inc.quoted) {
    if (auto p = inside(normal(fs::path(includer).parent_path() / inc.name)); !p.empty()) return {p};
  }
  std::vector<std::string> roots = owner.part ? owner.part->search : std::vector<std::string>{};
  roots.insert(roots.end(), rules.include_roots.begin(), rules.include_roots.end());
  for (const std::string& root : roots) {
    const std::string bound = bind(root, owner.lab);
    if (!has_glob(bound)) {
      if (auto p = inside(normal(fs::path(bound) / inc.name)); !p.empty()) return {p};
      continue;
    }
    std::vector<std::string> found;
    const std::string glob = normal(fs::path(bound) / inc.name);
    for (const auto& [path, text] : tree)
      if (glob_match(glob, path)) found.push_back(path);
    if (!found.empty()) return found;
  }
  return {};
}

bool same_lab(const std::optional<std::string>& a, const std::optional<std::string>& b) { return !a || !b || *a == *b; }

bool allowed(const Owner& from, const std::string& target, const Owner& to) {
  if (to.part == from.part && same_lab(from.lab, to.lab)) return true;
  for (const std::string& entry : from.part->may_include) {
    if (entry == "*") return true;
    if (entry.find('/') != std::string::npos || has_glob(entry)) {
      if (glob_match(bind(entry, from.lab), target)) return true;
      continue;
    }
    if (!to.part || to.part->name != entry || !same_lab(from.lab, to.lab)) continue;
    for (const std::string& glob : to.part->public_files)
      if (glob_match(bind(glob, from.lab), target)) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "nothing of ours" : out;
}

std::string describe(const Owner& from, const std::string& target, const Owner& to) {
  std::string whose = to.part ? to.part->name : "no part";
  if (to.lab) whose += " (" + *to.lab + ")";
  std::string msg = "includes " + target + ", a file of " + whose + "; " + from.part->name;
  if (from.lab) msg += " (" + *from.lab + ")";
  msg += " may include only " + join(from.part->may_include);
  if (to.part && to.part != from.part && !to.part->public_files.empty())
    msg += "; what " + to.part->name + " offers others is " + join(to.part->public_files);
  if (!from.part->why.empty()) msg += ". " + from.part->why;
  return msg;
}

// Reads a list of strings; a missing key is an empty list.
Result<std::vector<std::string>> strings(const toml::table& t, const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const toml::node* node = t.get(key);
  if (!node) return out;
  const toml::array* array = node->as_array();
  auto bad = [&](const toml::source_region& at) {
    return fail(Errc::config, where + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column) +
                                  ": key '" + key + "' must be a list of strings");
  };
  if (!array) return bad(node->source());
  for (const toml::node& item : *array) {
    if (!item.is_string()) return bad(item.source());
    out.push_back(*item.value<std::string>());
  }
  return out;
}

}  // namespace

bool glob_match(const std::string& glob, const std::string& path, std::optional<std::string>* lab) {
  std::optional<std::string> captured;
  if (!match_from(split(glob), 0, split(path), 0, captured)) return false;
  if (lab) *lab = captured;
  return true;
}

std::vector<IncludeLine> scan_includes(const std::string& text) {
  static const std::regex include(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<IncludeLine> out;
  std::istringstream in(text);
  std::string line;
  bool in_comment = false;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string code;  // the line without its comments
    for (size_t i = 0; i < line.size(); ++i) {
      if (in_comment) {
        if (line.compare(i, 2, "*/") == 0) in_comment = false, ++i;
      } else if (line.compare(i, 2, "/*") == 0) {
        in_comment = true, ++i;
      } else if (line.compare(i, 2, "//") == 0) {
        break;
      } else {
        code += line[i];
      }
    }
    std::smatch m;
    if (std::regex_search(code, m, include)) out.push_back({number, m[2].str(), m[1].str() == "\""});
  }
  return out;
}

Result<Rules> parse_rules(const std::string& text, const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return fail(Errc::config, path + ":" + std::to_string(e.source().begin.line) + ":" +
                                  std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  Rules rules;
  IPCG_TRY(rules.scanned_folders, strings(doc, "scanned_folders", path));
  IPCG_TRY(rules.include_roots, strings(doc, "include_roots", path));
  const toml::array* parts = doc["part"].as_array();
  if (!parts) return fail(Errc::config, path + ":1:1: key 'part' is missing: the rules need at least one [[part]]");
  for (const toml::node& node : *parts) {
    const toml::table* t = node.as_table();
    const auto at = std::to_string(node.source().begin.line) + ":" + std::to_string(node.source().begin.column);
    Part part;
    if (!t || !(*t)["name"].is_string())
      return fail(Errc::config, path + ":" + at + ": key 'name' is missing from a [[part]]");
    part.name = *(*t)["name"].value<std::string>();
    IPCG_TRY(part.files, strings(*t, "files", path));
    IPCG_TRY(part.public_files, strings(*t, "public", path));
    IPCG_TRY(part.may_include, strings(*t, "may_include", path));
    IPCG_TRY(part.search, strings(*t, "search", path));
    part.why = (*t)["why"].value_or(std::string());
    if (part.files.empty())
      return fail(Errc::config, path + ":" + at + ": part '" + part.name + "': key 'files' is missing or empty");
    rules.parts.push_back(std::move(part));
  }
  for (const Part& part : rules.parts)
    for (const std::string& entry : part.may_include) {
      const bool named = entry == "*" || entry.find('/') != std::string::npos || has_glob(entry) ||
                         std::any_of(rules.parts.begin(), rules.parts.end(), [&](const Part& p) { return p.name == entry; });
      if (!named)
        return fail(Errc::config, path + ": part '" + part.name + "': key 'may_include' names '" + entry +
                                      "', which is no part and no path");
    }
  return rules;
}

Result<Rules> load_rules(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(Errc::io, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_rules(text.str(), path);
}

std::vector<Violation> check_layering(const Rules& rules, const SourceTree& tree) {
  std::vector<Violation> out;
  for (const auto& [file, text] : tree) {
    const Owner from = owner_of(rules, file);
    if (!from.part) {
      out.push_back({file, 0, "belongs to no part of the layering rules: say in tests/layering/rules.toml which "
                              "module it is and what it may include"});
      continue;
    }
    for (const IncludeLine& inc : scan_includes(text)) {
      const std::vector<std::string> targets = resolve(rules, tree, file, from, inc);
      if (targets.empty()) continue;  // a system or generated header
      const bool ok = std::any_of(targets.begin(), targets.end(), [&](const std::string& t) {
        return allowed(from, t, owner_of(rules, t));
      });
      if (!ok) out.push_back({file, inc.line, describe(from, targets.front(), owner_of(rules, targets.front()))});
    }
  }
  return out;
}

Result<SourceTree> read_tree(const std::string& root, const std::vector<std::string>& folders) {
  SourceTree tree;
  static const std::vector<std::string> kExtensions = {".c", ".h", ".cpp", ".hpp"};
  for (const std::string& folder : folders) {
    std::error_code ec;
    const fs::path top = fs::path(root) / folder;
    if (!fs::exists(top, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      const std::string ext = it->path().extension().string();
      if (std::find(kExtensions.begin(), kExtensions.end(), ext) == kExtensions.end()) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      tree[fs::relative(it->path(), root).generic_string()] = text.str();
    }
    if (ec) return fail(Errc::io, "cannot list " + top.string() + ": " + ec.message());
  }
  return tree;
}

}  // namespace ipcg::layering
