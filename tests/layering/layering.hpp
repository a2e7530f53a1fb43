// The dependency rules of the source tree, checked from the #include lines themselves, so that a
// forbidden include fails the tests instead of waiting for a reviewer (rules.toml holds the rules;
// docs/architecture.md draws them).
//
//   IPCG_TRY(Rules rules, load_rules("tests/layering/rules.toml"));
//   SourceTree tree = read_tree(repo_root, rules.scanned_folders);   // or hand-written, in tests
//   for (const Violation& v : check_layering(rules, tree)) std::cerr << v.message << '\n';
//
// Every scanned file belongs to the first part whose `files` globs match it. An include is resolved
// to a file of the tree (next to the includer, then the part's `search` folders, then the global
// `include_roots`); what does not resolve is a system or generated header and is not judged. A
// part may include its own files, the `public` files of the parts it lists in `may_include`, and
// files matching the globs it lists there. Globs: `*` within one folder name, `**` any depth,
// `{lab}` one folder name that must be the same in the includer's and the included part.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::layering {

struct Part {
  std::string name;
  std::vector<std::string> files;        // globs of the files it owns
  std::vector<std::string> public_files; // globs of the files other parts may include
  std::vector<std::string> may_include;  // part names (their public files), globs, or "*" (anything)
  std::vector<std::string> search;       // extra folders its compiler searches (private include dirs)
  std::string why;                       // said with every violation of this part
};

struct Rules {
  std::vector<std::string> scanned_folders;  // top-level folders whose sources are checked
  std::vector<std::string> include_roots;    // searched for every part, in order (may hold {lab} or *)
  std::vector<Part> parts;
};

// A repository's sources: path relative to the root ("harness/core/error.cpp") -> text.
using SourceTree = std::map<std::string, std::string>;

struct Violation {
  std::string file;  // the includer, or the file that belongs to no part
  int line = 0;      // 0 when the file itself is the problem
  std::string message;
};

struct IncludeLine {
  int line = 0;
  std::string name;  // what is between the quotes or brackets
  bool quoted = false;
};

// `path` names the file in errors: "rules.toml:12:1: part 'x': key 'files' ...".
Result<Rules> parse_rules(const std::string& text, const std::string& path);
Result<Rules> load_rules(const std::string& path);

// Matches a path against a glob; on success, the {lab} capture if the glob had one.
bool glob_match(const std::string& glob, const std::string& path, std::optional<std::string>* lab = nullptr);

// The #include lines of a C or C++ source (comments are not includes).
std::vector<IncludeLine> scan_includes(const std::string& text);

std::vector<Violation> check_layering(const Rules& rules, const SourceTree& tree);

// Reads every .c, .h, .cpp and .hpp file under root/<folder> for each scanned folder, without
// following symlinks.
Result<SourceTree> read_tree(const std::string& root, const std::vector<std::string>& folders);

}  // namespace ipcg::layering
