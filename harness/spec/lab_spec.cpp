// Reads labs/<lab>/lab.toml into a LabSpec. Most of this file is validation: a typo in a lab file
// must become a message naming the file, line, column and key before anything is built or run,
// not a silently ignored key or a test worth 0 points. The format: docs/lab-format.md.
#include "harness/spec/lab_spec.hpp"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <regex>
#include <sstream>

#include "harness/core/unique_fd.hpp"
#include "harness/core/sha256.hpp"

namespace ipcg {

std::string_view to_string(Impl i) { return i == Impl::student ? "student" : "reference"; }

std::string_view to_string(SyncMode m) {
  switch (m) {
    case SyncMode::native: return "native";
    case SyncMode::delays: return "delays";
    case SyncMode::pct: return "pct";
  }
  return "native";
}

std::optional<SyncMode> sync_mode_from(std::string_view name) {
  for (SyncMode m : {SyncMode::native, SyncMode::delays, SyncMode::pct})
    if (to_string(m) == name) return m;
  return std::nullopt;
}

const std::string& in_language(const std::string& english, const Translations& translations,
                               std::string_view lang) {
  const auto it = translations.find(lang);
  return it == translations.end() ? english : it->second;
}

const TestSpec* LabSpec::find_test(std::string_view name) const {
  auto it = std::find_if(tests.begin(), tests.end(), [&](const TestSpec& t) { return t.name == name; });
  return it == tests.end() ? nullptr : &*it;
}

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Failure = tl::unexpected<Error>;

// ---- positions and messages ---------------------------------------------------------------------

struct Position {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

Position position_of(const toml::source_region& region) {
  // A node the parser created implicitly may have no position; the file's start is the best guess.
  if (region.begin.line == 0) return {};
  return {region.begin.line, region.begin.column};
}

bool before(const toml::source_region& a, const toml::source_region& b) {
  return a.begin.line != b.begin.line ? a.begin.line < b.begin.line : a.begin.column < b.begin.column;
}

// "<file>:<line>:<column>: <text>"
Failure located(const std::string& file, Position at, const std::string& text) {
  return fail(Errc::config,
              file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + text);
}

Failure config_error(const std::string& file, Position at, std::string_view path, std::string_view what) {
  return located(file, at, std::string(path) + ": " + std::string(what));
}

std::string type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

// Names that become file names, map keys or command-line arguments: tests, programs, lab ids.
bool valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// ---- typed access to one table ------------------------------------------------------------------

// One array element or value read as a string, with where it came from.
struct Item {
  std::string value;
  const toml::node* node;
  std::string path;
};

// A TOML table being read, with the file it came from and its key path ("tests[3].limits").
class Section {
 public:
  Section(const std::string& file, const toml::table& table, std::string path)
      : file_(&file), table_(&table), path_(std::move(path)) {}

  const std::string& file() const { return *file_; }
  const toml::table& table() const { return *table_; }
  const std::string& path() const { return path_; }
  const toml::node* get(std::string_view key) const { return table_->get(key); }
  std::string path_of(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  Failure error_at(const toml::node& at, std::string_view path, std::string_view what) const {
    return config_error(*file_, position_of(at.source()), path, what);
  }
  Failure type_error(const toml::node& at, std::string_view path, std::string_view expected) const {
    return error_at(at, path, "expected " + std::string(expected) + ", got " + type_name(at.type()));
  }
  // A missing key is reported at the table that should hold it.
  Failure missing(std::string_view key) const {
    return config_error(*file_, position_of(table_->source()), path_of(key), "required key is missing");
  }

  Result<void> allow_only(const std::vector<std::string_view>& known) const;
  Result<std::optional<Section>> subtable(std::string_view key) const;
  Result<Section> required_table(std::string_view key) const;
  Result<std::optional<std::string>> string(std::string_view key) const;
  Result<std::string> required_string(std::string_view key) const;
  Result<std::optional<std::int64_t>> integer(std::string_view key) const;
  Result<std::optional<double>> number(std::string_view key) const;
  Result<std::optional<bool>> boolean(std::string_view key) const;
  Result<std::vector<Item>> string_items(std::string_view key) const;
  Result<std::vector<std::string>> strings(std::string_view key) const;

 private:
  const std::string* file_;
  const toml::table* table_;
  std::string path_;
};

// Unknown keys are errors so that "pionts = 10" does not silently grade a test as worth 0. The
// earliest unknown key in the file is reported (the table itself iterates in key order).
Result<void> Section::allow_only(const std::vector<std::string_view>& known) const {
  const toml::key* first = nullptr;
  for (auto&& [key, value] : *table_) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    if (first == nullptr || before(key.source(), first->source())) first = &key;
  }
  if (first == nullptr) return {};
  return config_error(*file_, position_of(first->source()), path_of(first->str()),
                      "unknown key (expected one of: " + join(known) + ")");
}

Result<std::optional<Section>> Section::subtable(std::string_view key) const {
  const toml::node* n = get(key);
  if (n == nullptr) return std::optional<Section>{};
  if (!n->is_table()) return type_error(*n, path_of(key), "a table");
  return Section(*file_, *n->as_table(), path_of(key));
}

Result<Section> Section::required_table(std::string_view key) const {
  IPCG_TRY(auto section, subtable(key));
  if (!section) return missing(key);
  return *section;
}

Result<std::optional<std::string>> Section::string(std::string_view key) const {
  const toml::node* n = get(key);
  if (n == nullptr) return std::optional<std::string>{};
  if (!n->is_string()) return type_error(*n, path_of(key), "a string");
  return std::optional<std::string>(n->as_string()->get());
}

// Required strings are also non-empty: an empty title or check name is a mistake, not a choice.
Result<std::string> Section::required_string(std::string_view key) const {
  IPCG_TRY(auto value, string(key));
  if (!value) return missing(key);
  if (value->empty()) return error_at(*get(key), path_of(key), "must not be empty");
  return *value;
}

Result<std::optional<std::int64_t>> Section::integer(std::string_view key) const {
  const toml::node* n = get(key);
  if (n == nullptr) return std::optional<std::int64_t>{};
  if (!n->is_integer()) return type_error(*n, path_of(key), "an integer");
  return std::optional<std::int64_t>(n->as_integer()->get());
}

// A number is an integer or a float ("points = 2.5" and "points = 10" both work).
Result<std::optional<double>> Section::number(std::string_view key) const {
  const toml::node* n = get(key);
  if (n == nullptr) return std::optional<double>{};
  if (n->is_integer()) return std::optional<double>(static_cast<double>(n->as_integer()->get()));
  if (!n->is_floating_point()) return type_error(*n, path_of(key), "a number");
  return std::optional<double>(n->as_floating_point()->get());
}

Result<std::optional<bool>> Section::boolean(std::string_view key) const {
  const toml::node* n = get(key);
  if (n == nullptr) return std::optional<bool>{};
  if (!n->is_boolean()) return type_error(*n, path_of(key), "true or false");
  return std::optional<bool>(n->as_boolean()->get());
}

// An optional array of strings, element by element so each can be checked where it stands.
Result<std::vector<Item>> Section::string_items(std::string_view key) const {
  std::vector<Item> items;
  const toml::node* n = get(key);
  if (n == nullptr) return items;
  if (!n->is_array()) return type_error(*n, path_of(key), "an array of strings");
  const toml::array& array = *n->as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string path = path_of(key) + "[" + std::to_string(i) + "]";
    if (!array[i].is_string()) return type_error(array[i], path, "a string");
    items.push_back(Item{array[i].as_string()->get(), &array[i], std::move(path)});
  }
  return items;
}

Result<std::vector<std::string>> Section::strings(std::string_view key) const {
  IPCG_TRY(auto items, string_items(key));
  std::vector<std::string> out;
  for (Item& item : items) out.push_back(std::move(item.value));
  return out;
}

// ---- translations -------------------------------------------------------------------------------

// A table's known keys: `keys`, each of `translated` followed by its `<key>_<lang>` for every
// language of kLabLanguages ("description", "description_ko").
class KnownKeys {
 public:
  KnownKeys(std::initializer_list<std::string_view> keys, std::initializer_list<std::string_view> translated) {
    for (std::string_view key : keys) {
      names_.emplace_back(key);
      if (std::find(translated.begin(), translated.end(), key) == translated.end()) continue;
      for (std::string_view lang : kLabLanguages) names_.push_back(std::string(key) + "_" + std::string(lang));
    }
  }
  std::vector<std::string_view> views() const { return {names_.begin(), names_.end()}; }

 private:
  std::vector<std::string> names_;
};

// `<key>_<lang>` for each language: an optional, non-empty string. An empty translation is a
// mistake (the report would print nothing); leaving the key out falls back to English.
Result<Translations> read_translations(const Section& section, std::string_view key) {
  Translations out;
  for (std::string_view lang : kLabLanguages) {
    const std::string name = std::string(key) + "_" + std::string(lang);
    IPCG_TRY(auto value, section.string(name));
    if (!value) continue;
    if (value->empty()) {
      return section.error_at(*section.get(name), section.path_of(name),
                              "must not be empty (leave the key out to fall back to " + std::string(key) + ")");
    }
    out.emplace(std::string(lang), std::move(*value));
  }
  return out;
}

// ---- limits -------------------------------------------------------------------------------------

// The upper bounds only keep the arithmetic (bytes, deadlines) far from overflow and catch a
// misplaced digit; they are far above anything a lab should need.
struct LimitKey {
  std::string_view key;
  std::int64_t max;
  void (*apply)(Limits&, std::int64_t);
  std::int64_t min = 1;
};

const LimitKey kLimitKeys[] = {
    {"wall_ms", 86'400'000, [](Limits& l, std::int64_t v) { l.wall = std::chrono::milliseconds{v}; }},
    {"cpu_seconds", 86'400, [](Limits& l, std::int64_t v) { l.cpu_seconds = static_cast<int>(v); }},
    {"address_space_mb", 1 << 30,
     [](Limits& l, std::int64_t v) { l.address_space_bytes = static_cast<std::uint64_t>(v) << 20; }},
    {"processes", 1 << 22, [](Limits& l, std::int64_t v) { l.processes = static_cast<int>(v); }},
    {"file_size_mb", 1 << 30,
     [](Limits& l, std::int64_t v) { l.file_size_bytes = static_cast<std::uint64_t>(v) << 20; }},
    {"open_files", 1 << 20, [](Limits& l, std::int64_t v) { l.open_files = static_cast<int>(v); }},
    {"memory_mb", 1 << 30,
     [](Limits& l, std::int64_t v) { l.memory_bytes = static_cast<std::uint64_t>(v) << 20; }},
    {"output_kb", 1 << 30,
     [](Limits& l, std::int64_t v) { l.output_bytes = static_cast<std::uint64_t>(v) << 10; }},
    {"hang_grace_ms", 600'000, [](Limits& l, std::int64_t v) { l.hang_grace = std::chrono::milliseconds{v}; }, 0},
    {"settle_ms", 600'000, [](Limits& l, std::int64_t v) { l.settle_grace = std::chrono::milliseconds{v}; }},
};

// "<factor>x reference", then optionally ", at least <N> ms", "+ <N> ms" or "+ settle"; each
// key's parser refuses the parts it does not allow.
struct ReferencePolicy {
  double factor = 0;
  std::optional<std::chrono::milliseconds> floor, extra;
  bool plus_settle = false;
};

std::optional<ReferencePolicy> parse_reference_policy(const std::string& text) {
  static const std::regex shape(
      R"(^\s*([0-9]+(\.[0-9]+)?)\s*x\s+reference\s*(,\s*at\s+least\s+([0-9]+)\s*ms|\+\s*([0-9]+)\s*ms|\+\s*(settle))?\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, shape)) return std::nullopt;
  ReferencePolicy policy;
  policy.factor = std::stod(m[1].str());
  if (policy.factor < 1 || policy.factor > 1000) return std::nullopt;
  if (m[4].matched) policy.floor = std::chrono::milliseconds{std::stoll(m[4].str())};
  if (m[5].matched) policy.extra = std::chrono::milliseconds{std::stoll(m[5].str())};
  policy.plus_settle = m[6].matched;
  return policy;
}

// `wall = "5x reference, at least 300 ms"`, `"6x reference + 1000 ms"`, `"6x reference + settle"`
// (or the factor alone).
bool parse_wall_policy(const std::string& text, Limits& limits) {
  const auto policy = parse_reference_policy(text);
  if (!policy) return false;
  limits.wall_reference_factor = policy->factor;
  limits.wall_floor = policy->floor.value_or(std::chrono::milliseconds{0});
  limits.wall_extra = policy->extra.value_or(std::chrono::milliseconds{0});
  limits.wall_plus_settle = policy->plus_settle;
  return true;
}

// `settle = "10x reference, at least 300 ms"` (or the factor alone): nothing added, since the
// settle grace is itself the part a wall limit adds.
bool parse_settle_policy(const std::string& text, Limits& limits) {
  const auto policy = parse_reference_policy(text);
  if (!policy || policy->extra || policy->plus_settle) return false;
  limits.settle_reference_factor = policy->factor;
  limits.settle_floor = policy->floor.value_or(std::chrono::milliseconds{0});
  return true;
}

std::vector<std::string_view> limit_key_names() {
  std::vector<std::string_view> names{"wall", "settle"};
  for (const LimitKey& k : kLimitKeys) names.push_back(k.key);
  return names;
}

Result<Limits> read_limits(const Section& section, Limits limits) {
  IPCG_CHECK(section.allow_only(limit_key_names()));
  for (const LimitKey& k : kLimitKeys) {
    IPCG_TRY(auto value, section.integer(k.key));
    if (!value) continue;
    if (*value < k.min || *value > k.max) {
      return section.error_at(*section.get(k.key), section.path_of(k.key),
                              std::string(k.min == 0 ? "expected an integer from 0" : "expected a positive integer") +
                                  " no larger than " + std::to_string(k.max) + ", got " + std::to_string(*value));
    }
    k.apply(limits, *value);
  }
  IPCG_TRY(auto wall, section.string("wall"));
  if (wall && !parse_wall_policy(*wall, limits))
    return section.error_at(*section.get("wall"), section.path_of("wall"),
                            "expected \"<factor>x reference, at least <N> ms\", \"<factor>x reference + <N> ms\" or "
                            "\"<factor>x reference + settle\" (factor 1 to 1000; wall_ms is the cap), got " +
                                in_quotes(*wall));
  IPCG_TRY(auto settle, section.string("settle"));
  if (settle && !parse_settle_policy(*settle, limits))
    return section.error_at(*section.get("settle"), section.path_of("settle"),
                            "expected \"<factor>x reference, at least <N> ms\" (factor 1 to 1000; settle_ms is the cap), got " +
                                in_quotes(*settle));
  return limits;
}

// `base` with the overrides of table `key` in `parent`, if that table exists.
Result<Limits> limits_in(const Section& parent, std::string_view key, const Limits& base) {
  IPCG_TRY(auto section, parent.subtable(key));
  if (!section) return base;
  return read_limits(*section, base);
}

// ---- files and paths ----------------------------------------------------------------------------

// A path in lab.toml: relative (to the lab folder or the reference root), never absolute, so a
// lab folder can be moved or installed elsewhere.
Result<fs::path> relative_path(const Section& section, const toml::node& at, const std::string& path,
                               const std::string& value) {
  if (value.empty()) return section.error_at(at, path, "must not be empty");
  if (fs::path(value).is_absolute()) {
    return section.error_at(at, path, "must be a relative path, got " + in_quotes(value));
  }
  return fs::path(value);
}

// A lab-provided file (header, driver) that must exist: missing ones fail at load, not at build.
Result<fs::path> existing_file(const Section& section, const Item& item, const fs::path& lab_dir) {
  IPCG_TRY(fs::path relative, relative_path(section, *item.node, item.path, item.value));
  const fs::path full = (lab_dir / relative).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) {
    return section.error_at(*item.node, item.path, "no such file: " + full.string());
  }
  return full;
}

Result<std::string> read_bytes(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(Errc::io, path.string() + ": " + std::strerror(errno));
  std::string bytes;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) return bytes;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::io, path.string() + ": " + std::strerror(errno));
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
}

Result<toml::table> parse_toml(const std::string& file, const std::string& bytes) {
  try {
    return toml::parse(std::string_view(bytes), std::string_view(file));
  } catch (const toml::parse_error& e) {
    return located(file, position_of(e.source()), "syntax error: " + std::string(e.description()));
  }
}

// ---- params: TOML to JSON -----------------------------------------------------------------------

Json to_json(const toml::node& node);

Json table_to_json(const toml::table& table) {
  Json out = Json::object();
  for (auto&& [key, value] : table) out[std::string(key.str())] = to_json(value);
  return out;
}

Json array_to_json(const toml::array& array) {
  Json out = Json::array();
  for (const toml::node& element : array) out.push_back(to_json(element));
  return out;
}

Json to_json(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return table_to_json(*node.as_table());
    case toml::node_type::array:
      return array_to_json(*node.as_array());
    case toml::node_type::string:
      return node.as_string()->get();
    case toml::node_type::integer:
      return node.as_integer()->get();
    case toml::node_type::floating_point:
      return node.as_floating_point()->get();
    case toml::node_type::boolean:
      return node.as_boolean()->get();
    default:
      break;
  }
  // Dates and times have no JSON type; their TOML (RFC 3339) text is the faithful rendering.
  std::ostringstream text;
  node.visit([&](const auto& value) { text << value; });
  return text.str();
}

// ---- sections -----------------------------------------------------------------------------------

// A LabSpec with the positions load_all_labs needs to report duplicate numbers and ids.
struct Loaded {
  std::string file;  // the path as the caller spelled it, for messages
  LabSpec spec;
  Position number_at;
  Position id_at;
};

Result<int> read_lab_number(const Section& lab, Loaded& out) {
  IPCG_TRY(auto number, lab.integer("number"));
  if (!number) return lab.missing("number");
  const toml::node& at = *lab.get("number");
  if (*number <= 0 || *number > INT_MAX) {
    return lab.error_at(at, lab.path_of("number"),
                        "expected a positive integer, got " + std::to_string(*number));
  }
  out.number_at = position_of(at.source());
  return static_cast<int>(*number);
}

Result<std::string> read_lab_id(const Section& lab, Loaded& out) {
  IPCG_TRY(auto id, lab.string("id"));
  out.id_at = position_of(lab.table().source());
  if (!id) return "lab" + std::to_string(out.spec.number);
  out.id_at = position_of(lab.get("id")->source());
  if (!valid_name(*id)) {
    return lab.error_at(*lab.get("id"), lab.path_of("id"),
                        "expected a name of [A-Za-z0-9_.-], got " + in_quotes(*id));
  }
  return *id;
}

// An optional relative path under `base`, or `base / fallback` when the key is absent.
Result<fs::path> dir_key(const Section& lab, std::string_view key, const fs::path& base,
                         const fs::path& fallback) {
  IPCG_TRY(auto value, lab.string(key));
  if (!value) return (base / fallback).lexically_normal();
  IPCG_TRY(fs::path relative, relative_path(lab, *lab.get(key), lab.path_of(key), *value));
  return (base / relative).lexically_normal();
}

Result<void> read_lab_table(const Section& root, const fs::path& reference_root, Loaded& out) {
  IPCG_TRY(Section lab, root.required_table("lab"));
  const KnownKeys known({"number", "id", "title", "mechanism", "skeleton", "reference"}, {"title", "mechanism"});
  IPCG_CHECK(lab.allow_only(known.views()));
  LabSpec& spec = out.spec;
  IPCG_TRY(spec.number, read_lab_number(lab, out));
  IPCG_TRY(spec.id, read_lab_id(lab, out));
  IPCG_TRY(spec.title, lab.required_string("title"));
  IPCG_TRY(spec.title_i18n, read_translations(lab, "title"));
  IPCG_TRY(spec.mechanism, lab.required_string("mechanism"));
  IPCG_TRY(spec.mechanism_i18n, read_translations(lab, "mechanism"));
  IPCG_TRY(spec.skeleton_dir, dir_key(lab, "skeleton", spec.dir, "skeleton"));
  const fs::path ref_root = reference_root.empty() ? reference_root : fs::absolute(reference_root);
  IPCG_TRY(spec.reference_dir, dir_key(lab, "reference", ref_root, spec.folder));
  return {};
}

// Submitted sources are copied by name out of a student's folder, so a name must not be able to
// reach outside it ("../x.c", "sub/x.c") or be a hidden file.
Result<std::vector<std::string>> read_sources(const Section& build) {
  if (build.get("sources") == nullptr) return build.missing("sources");
  IPCG_TRY(auto items, build.string_items("sources"));
  if (items.empty())
    return build.error_at(*build.get("sources"), build.path_of("sources"), "must list at least one file");
  std::vector<std::string> sources;
  for (const Item& item : items) {
    const std::string& s = item.value;
    if (s.empty() || s.front() == '.' || s.find('/') != std::string::npos ||
        s.find('\0') != std::string::npos) {
      return build.error_at(*item.node, item.path,
                            "expected a plain file name (no '/', no leading '.'), got " + in_quotes(s));
    }
    if (std::find(sources.begin(), sources.end(), s) != sources.end()) {
      return build.error_at(*item.node, item.path, "duplicate source " + in_quotes(s));
    }
    sources.push_back(s);
  }
  return sources;
}

Result<std::vector<std::string>> read_headers(const Section& build, const fs::path& lab_dir) {
  IPCG_TRY(auto items, build.string_items("headers"));
  std::vector<std::string> headers;
  for (const Item& item : items) {
    IPCG_CHECK(existing_file(build, item, lab_dir));
    headers.push_back(item.value);
  }
  return headers;
}

// `schedule = "native" | "delays" | "pct"` ([build], or a test's own).
Result<std::optional<SyncMode>> read_schedule(const Section& section) {
  IPCG_TRY(auto name, section.string("schedule"));
  if (!name) return std::optional<SyncMode>{};
  if (auto mode = sync_mode_from(*name)) return mode;
  return section.error_at(*section.get("schedule"), section.path_of("schedule"),
                          "expected \"native\", \"delays\" or \"pct\", got " + in_quotes(*name));
}

Result<void> read_build(const Section& root, LabSpec& spec) {
  IPCG_TRY(Section build, root.required_table("build"));
  IPCG_CHECK(build.allow_only({"sources", "headers", "compiler", "cflags", "ldflags", "forbidden_symbols", "limits",
                               "interpose_sync", "schedule"}));
  IPCG_TRY(spec.build.sources, read_sources(build));
  IPCG_TRY(spec.build.headers, read_headers(build, spec.dir));
  IPCG_TRY(auto compiler, build.string("compiler"));
  if (compiler && compiler->empty())
    return build.error_at(*build.get("compiler"), build.path_of("compiler"), "must not be empty");
  spec.build.compiler = compiler.value_or("cc");
  IPCG_TRY(spec.build.cflags, build.strings("cflags"));
  IPCG_TRY(spec.build.ldflags, build.strings("ldflags"));
  IPCG_TRY(spec.build.forbidden_symbols, build.strings("forbidden_symbols"));
  IPCG_TRY(spec.build.limits, limits_in(build, "limits", default_build_limits()));
  IPCG_TRY(auto interpose, build.boolean("interpose_sync"));
  spec.build.interpose_sync = interpose.value_or(false);
  IPCG_TRY(auto schedule, read_schedule(build));
  spec.build.schedule = schedule.value_or(SyncMode::delays);
  return {};
}

Result<ProgramSpec> read_program(const Section& program, std::string name, const fs::path& lab_dir) {
  IPCG_CHECK(program.allow_only({"driver"}));
  IPCG_TRY(auto driver, program.required_string("driver"));
  const Item item{driver, program.get("driver"), program.path_of("driver")};
  IPCG_TRY(fs::path path, existing_file(program, item, lab_dir));
  return ProgramSpec{std::move(name), std::move(path)};
}

Result<void> read_programs(const Section& root, LabSpec& spec) {
  IPCG_TRY(auto programs, root.subtable("programs"));
  if (!programs) return {};
  for (auto&& [key, value] : programs->table()) {
    const std::string name(key.str());
    const std::string path = programs->path_of(name);
    if (!valid_name(name)) {
      return config_error(root.file(), position_of(key.source()), path,
                          "expected a program name of [A-Za-z0-9_.-]");
    }
    if (!value.is_table()) return programs->type_error(value, path, "a table");
    IPCG_TRY(auto program, read_program(Section(root.file(), *value.as_table(), path), name, spec.dir));
    spec.programs.emplace(name, std::move(program));
  }
  return {};
}

// Set names stay strings here: which names exist is the sandbox module's knowledge, and it
// validates them when it builds the policy.
Result<void> read_sandbox(const Section& root, LabSpec& spec) {
  IPCG_TRY(auto sandbox, root.subtable("sandbox"));
  if (!sandbox) return {};
  IPCG_CHECK(sandbox->allow_only({"syscalls"}));
  IPCG_TRY(auto items, sandbox->string_items("syscalls"));
  for (const Item& item : items) {
    if (!valid_name(item.value)) {
      return sandbox->error_at(*item.node, item.path,
                               "expected a syscall set name, got " + in_quotes(item.value));
    }
    spec.syscall_sets.push_back(item.value);
  }
  return {};
}

// ---- tests --------------------------------------------------------------------------------------

Result<std::string> read_test_name(const Section& test) {
  IPCG_TRY(auto name, test.required_string("name"));
  if (!valid_name(name)) {
    return test.error_at(*test.get("name"), test.path_of("name"),
                         "expected a name of [A-Za-z0-9_.-], got " + in_quotes(name));
  }
  return name;
}

Result<double> read_points(const Section& test) {
  IPCG_TRY(auto points, test.number("points"));
  if (!points) return test.missing("points");
  if (!std::isfinite(*points) || *points < 0) {
    std::ostringstream got;
    got << *points;
    return test.error_at(*test.get("points"), test.path_of("points"),
                         "expected a number >= 0, got " + got.str());
  }
  return *points;
}

Result<Visibility> read_visibility(const Section& test) {
  IPCG_TRY(auto visibility, test.string("visibility"));
  if (!visibility || *visibility == "public" || *visibility == "visible") return Visibility::visible;
  if (*visibility == "hidden") return Visibility::hidden;
  return test.error_at(*test.get("visibility"), test.path_of("visibility"),
                       "expected \"public\", \"visible\" or \"hidden\", got " + in_quotes(*visibility));
}

Result<Impl> read_impl(const Section& roles, const std::string& program, const toml::node& value) {
  const std::string path = roles.path_of(program);
  if (!value.is_string()) return roles.type_error(value, path, "\"student\" or \"reference\"");
  const std::string& impl = value.as_string()->get();
  if (impl == "student") return Impl::student;
  if (impl == "reference") return Impl::reference;
  return roles.error_at(value, path, "expected \"student\" or \"reference\", got " + in_quotes(impl));
}

Result<std::map<std::string, Impl>> read_roles(const Section& test, const LabSpec& spec) {
  std::map<std::string, Impl> roles;
  IPCG_TRY(auto table, test.subtable("roles"));
  if (!table) return roles;
  for (auto&& [key, value] : table->table()) {
    const std::string program(key.str());
    if (spec.programs.count(program) == 0) {
      return config_error(test.file(), position_of(key.source()), table->path_of(program),
                          "no program " + in_quotes(program) + " in [programs]");
    }
    IPCG_TRY(roles[program], read_impl(*table, program, value));
  }
  return roles;
}

Result<Json> read_params(const Section& test) {
  const toml::node* params = test.get("params");
  if (params == nullptr) return Json::object();
  if (!params->is_table()) return test.type_error(*params, test.path_of("params"), "a table");
  return to_json(*params);
}

Result<TestSpec> read_test(const Section& test, const LabSpec& spec) {
  const KnownKeys known(
      {"name", "description", "property", "hint", "points", "visibility", "check", "roles", "params", "limits",
       "schedule"},
      {"description", "property", "hint"});
  IPCG_CHECK(test.allow_only(known.views()));
  TestSpec t;
  t.line = static_cast<int>(position_of(test.table().source()).line);
  IPCG_TRY(t.name, read_test_name(test));
  IPCG_TRY(auto description, test.string("description"));
  t.description = description.value_or("");
  IPCG_TRY(t.description_i18n, read_translations(test, "description"));
  IPCG_TRY(t.property, test.required_string("property"));
  IPCG_TRY(t.property_i18n, read_translations(test, "property"));
  IPCG_TRY(auto hint, test.string("hint"));
  t.hint = hint.value_or("");
  IPCG_TRY(t.hint_i18n, read_translations(test, "hint"));
  IPCG_TRY(t.points, read_points(test));
  IPCG_TRY(t.visibility, read_visibility(test));
  IPCG_TRY(t.check, test.required_string("check"));
  IPCG_TRY(t.roles, read_roles(test, spec));
  IPCG_TRY(t.params, read_params(test));
  IPCG_TRY(t.limits, limits_in(test, "limits", spec.run_limits));
  IPCG_TRY(t.schedule, read_schedule(test));
  return t;
}

Result<const toml::array*> tests_array(const Section& root) {
  const toml::node* tests = root.get("tests");
  if (tests == nullptr) {
    return config_error(root.file(), {}, "tests",
                        "required key is missing: a lab needs at least one [[tests]] table");
  }
  const toml::array* array = tests->as_array();
  if (array != nullptr && array->empty()) {
    return root.error_at(*tests, "tests", "a lab needs at least one [[tests]] table");
  }
  if (!tests->is_array_of_tables()) return root.type_error(*tests, "tests", "an array of tables ([[tests]])");
  return array;
}

Result<void> read_tests(const Section& root, LabSpec& spec) {
  IPCG_TRY(const toml::array* tests, tests_array(root));
  for (std::size_t i = 0; i < tests->size(); ++i) {
    const Section section(root.file(), *(*tests)[i].as_table(), "tests[" + std::to_string(i) + "]");
    IPCG_TRY(TestSpec test, read_test(section, spec));
    if (const TestSpec* first = spec.find_test(test.name)) {
      return section.error_at(*section.get("name"), section.path_of("name"),
                              "duplicate test name " + in_quotes(test.name) + " (first at line " +
                                  std::to_string(first->line) + ")");
    }
    spec.tests.push_back(std::move(test));
  }
  return {};
}

Result<void> read_document(const Section& root, const fs::path& reference_root, Loaded& out) {
  IPCG_CHECK(root.allow_only({"lab", "build", "programs", "sandbox", "limits", "tests"}));
  IPCG_CHECK(read_lab_table(root, reference_root, out));
  IPCG_CHECK(read_build(root, out.spec));
  IPCG_CHECK(read_programs(root, out.spec));
  IPCG_CHECK(read_sandbox(root, out.spec));
  IPCG_TRY(out.spec.run_limits, limits_in(root, "limits", Limits{}));
  IPCG_CHECK(read_tests(root, out.spec));
  return {};
}

Result<Loaded> load(const fs::path& toml_path, const fs::path& reference_root) {
  Loaded out;
  out.file = toml_path.string();
  IPCG_TRY(std::string bytes, read_bytes(toml_path));
  IPCG_TRY(toml::table document, parse_toml(out.file, bytes));
  out.spec.toml_path = fs::absolute(toml_path).lexically_normal();
  out.spec.dir = out.spec.toml_path.parent_path();
  out.spec.folder = out.spec.dir.filename().string();
  out.spec.spec_hash = sha256_hex(bytes);
  IPCG_CHECK(read_document(Section(out.file, document, ""), reference_root, out));
  return out;
}

// ---- all labs -----------------------------------------------------------------------------------

// <labs_root>/*/lab.toml in name order, so that which of two duplicates is reported is stable.
Result<std::vector<fs::path>> lab_files(const fs::path& labs_root) {
  std::error_code ec;
  fs::directory_iterator it(labs_root, ec);
  std::vector<fs::path> files;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    fs::path file = it->path() / "lab.toml";
    std::error_code file_ec;
    if (fs::is_regular_file(file, file_ec)) files.push_back(std::move(file));
  }
  if (ec) return fail(Errc::io, labs_root.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

Result<void> check_unique(const Loaded& lab, const std::vector<Loaded>& earlier) {
  for (const Loaded& other : earlier) {
    if (other.spec.number == lab.spec.number) {
      return config_error(lab.file, lab.number_at, "lab.number",
                          std::to_string(lab.spec.number) + " is also the number of " + other.file);
    }
    if (other.spec.id == lab.spec.id) {
      return config_error(lab.file, lab.id_at, "lab.id",
                          in_quotes(lab.spec.id) + " is also the id of " + other.file);
    }
  }
  return {};
}

}  // namespace

Result<LabSpec> load_lab_spec(const fs::path& toml_path, const fs::path& reference_root) {
  IPCG_TRY(Loaded loaded, load(toml_path, reference_root));
  return std::move(loaded.spec);
}

Result<std::vector<LabSpec>> load_all_labs(const fs::path& labs_root, const fs::path& reference_root) {
  IPCG_TRY(auto files, lab_files(labs_root));
  std::vector<Loaded> loaded;
  for (const fs::path& file : files) {
    IPCG_TRY(Loaded lab, load(file, reference_root));
    IPCG_CHECK(check_unique(lab, loaded));
    loaded.push_back(std::move(lab));
  }
  std::vector<LabSpec> labs;
  for (Loaded& lab : loaded) labs.push_back(std::move(lab.spec));
  std::sort(labs.begin(), labs.end(), [](const LabSpec& a, const LabSpec& b) { return a.number < b.number; });
  return labs;
}

// Tried in order of precedence, so a folder named like another lab's id cannot shadow that id.
const LabSpec* find_lab(const std::vector<LabSpec>& labs, std::string_view key) {
  const std::function<bool(const LabSpec&)> matchers[] = {
      [&](const LabSpec& l) { return l.id == key; },
      [&](const LabSpec& l) { return l.folder == key; },
      [&](const LabSpec& l) {
        return std::to_string(l.number) == key || "lab" + std::to_string(l.number) == key;
      },
  };
  for (const auto& matches : matchers) {
    auto it = std::find_if(labs.begin(), labs.end(), matches);
    if (it != labs.end()) return &*it;
  }
  return nullptr;
}

}  // namespace ipcg
