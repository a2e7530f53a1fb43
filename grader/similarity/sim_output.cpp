#include "similarity/sim_output.hpp"

#include <charconv>
#include <optional>
#include <unordered_map>

namespace ipcg::similarity {
namespace {

// A cursor over one line; every read either consumes what it expects or leaves `ok` false.
struct Cursor {
  std::string_view rest;
  bool ok = true;

  bool take(std::string_view word) {
    if (!ok || !rest.starts_with(word)) return ok = false;
    rest.remove_prefix(word.size());
    return true;
  }
  int number() {
    int value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (!ok || ec != std::errc() || value < 0) {
      ok = false;
      return 0;
    }
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    return value;
  }
  void spaces() {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
};

// The longest given name that starts the line and is followed by `after`: a name may itself
// contain `after`, so every occurrence is tried, the last (longest name) first.
using NameIndex = std::unordered_map<std::string_view, int>;

std::optional<int> known_name(Cursor& c, const NameIndex& names, std::string_view after) {
  for (auto at = c.rest.rfind(after); c.ok && at != std::string_view::npos && at > 0;
       at = c.rest.rfind(after, at - 1)) {
    auto it = names.find(c.rest.substr(0, at));
    if (it == names.end()) continue;
    c.rest.remove_prefix(at + after.size());
    return it->second;
  }
  c.ok = false;
  return std::nullopt;
}

// "NAME: line A-B" (and the padding sim_c adds to line up its columns).
bool read_side(Cursor& c, const NameIndex& names, int& file, int& first, int& last) {
  auto name = known_name(c, names, ": line ");
  if (!name) return false;
  file = *name;
  first = c.number();
  c.take("-");
  last = c.number();
  c.spaces();
  return c.ok && first >= 1 && last >= first;
}

std::optional<SimRun> read_run(std::string_view line, const NameIndex& names) {
  Cursor c{line};
  SimRun r;
  if (!read_side(c, names, r.a, r.a_first, r.a_last) || !c.take("|")) return std::nullopt;
  if (!read_side(c, names, r.b, r.b_first, r.b_last) || !c.take("[")) return std::nullopt;
  r.tokens = c.number();
  if (!c.take("]") || !c.rest.empty() || r.tokens <= 0) return std::nullopt;
  return r;
}

// "File NAME: T tokens, L lines[, N non-ASCII characters]" or "File NAME: >>>> cannot open <<<<".
Result<bool> read_file_line(std::string_view line, const NameIndex& names, const std::vector<std::string>& given, SimOutput& out,
                            int number) {
  Cursor c{line};
  if (!c.take("File ")) return false;
  auto name = known_name(c, names, ": ");
  if (!name) return false;
  if (c.rest.starts_with(">>>> cannot open"))
    return fail(Errc::io, "sim_c could not open " + given[static_cast<std::size_t>(*name)]);
  SimFile f;
  f.tokens = c.number();
  c.take(" token");
  if (f.tokens != 1) c.take("s");
  c.take(", ");
  f.lines = c.number();
  c.take(" line");
  if (!c.ok) return fail(Errc::io, "sim_c output line " + std::to_string(number) + ": unreadable file summary");
  out.files[static_cast<std::size_t>(*name)] = f;
  return true;
}

}  // namespace

Result<SimOutput> parse_sim_output(std::string_view text, const std::vector<std::string>& names) {
  SimOutput out;
  out.files.resize(names.size());
  NameIndex index;
  for (std::size_t i = 0; i < names.size(); ++i) index.emplace(names[i], static_cast<int>(i));
  int number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // The summary and the line sim_c prints where the '/' between new and old files stood.
    if (line.empty() || line.starts_with("Total input: ") || line == "File /: new/old separator") continue;
    IPCG_TRY(bool was_file, read_file_line(line, index, names, out, number));
    if (was_file) continue;
    auto run = read_run(line, index);
    if (!run)
      return fail(Errc::io, "sim_c output line " + std::to_string(number) + ": not a run of known files: " +
                                std::string(line.substr(0, 120)));
    out.runs.push_back(*run);
  }
  return out;
}

}  // namespace ipcg::similarity
