// A lab's policy as plain data, read from labs/<lab>/lab.toml.
//
//   Result<LabSpec> spec = load_lab_spec("labs/lab1-pipe/lab.toml");
//   if (!spec) -> spec.error().message is "labs/lab1-pipe/lab.toml:57:10: tests[3].points: expected a number, got string"
//   for (const TestSpec& t : spec->tests) ...
//
// The format is documented in docs/lab-format.md. Nothing here runs anything.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/core/result.hpp"

namespace ipcg {

// Resource limits for one sandboxed process tree. Defaults are the documented defaults.
struct Limits {
  std::chrono::milliseconds wall{5000};
  int cpu_seconds = 5;
  std::uint64_t address_space_bytes = 512ull << 20;
  int processes = 64;
  std::uint64_t file_size_bytes = 16ull << 20;
  int open_files = 64;
  std::uint64_t output_bytes = 64ull << 10;  // per captured stream
  // The tree's memory cgroup limit (root only; "memory_mb" in lab.toml). Over it, the kernel's
  // OOM killer kills a process of the tree and RunOutcome::oom_killed says so.
  std::uint64_t memory_bytes = 256ull << 20;
  // A test whose processes all wait on one another, none progressing, this long is hung and
  // ended at once (harness/proc/stall.hpp) instead of at `wall`. 0: never; it waits for `wall`.
  std::chrono::milliseconds hang_grace{300};
  // `wall = "5x reference, at least 300 ms"`: the test's wall limit is the larger of the floor
  // and the factor times the duration of the reference's own run of the test (on this machine,
  // a minute ago at most), capped by `wall`. `wall = "6x reference + 1000 ms"` adds a fixed part
  // instead, and `wall = "6x reference + settle"` adds the test's settle grace: the time a check
  // waits by itself on a wrong submission. 0: `wall` alone.
  double wall_reference_factor = 0;
  std::chrono::milliseconds wall_floor{0};
  std::chrono::milliseconds wall_extra{0};
  bool wall_plus_settle = false;
  // How long a check waits by itself for a process to get where it can be seen (blocked in a
  // call, at a gate) before it goes on without: a submission that polls or spins instead of
  // blocking gets this long ("settle_ms"). `settle = "10x reference, at least 300 ms"` derives it
  // from the reference's own run of the test like `wall`, `settle_ms` then the cap.
  std::chrono::milliseconds settle_grace{1000};
  double settle_reference_factor = 0;
  std::chrono::milliseconds settle_floor{0};
};

// The compiler's defaults, for the keys a lab's [build.limits] leaves out: compiling is slower
// and hungrier than a test run, but still bounded.
inline Limits default_build_limits() {
  Limits l;
  l.wall = std::chrono::milliseconds{60000};
  l.cpu_seconds = 60;
  l.address_space_bytes = 2048ull << 20;
  l.processes = 32;
  l.file_size_bytes = 64ull << 20;
  l.open_files = 256;
  l.output_bytes = 64ull << 10;
  l.memory_bytes = 1024ull << 20;
  l.hang_grace = std::chrono::milliseconds{0};  // a compiler's children compute; never judged hung
  return l;
}

// The languages besides English a lab.toml may give its own text in, as key suffixes:
// `title_ko`, `description_ko`, `property_ko` (docs/i18n.md). English, the required base, has none.
inline constexpr std::array<std::string_view, 1> kLabLanguages = {"ko"};

// A lab's text in other languages than English, by language code: `property_ko = "..."` is
// property_i18n["ko"]. A language absent here reads the English key (docs/i18n.md).
using Translations = std::map<std::string, std::string, std::less<>>;

// The text in lang, or english when the lab gives none (or lang is "en").
const std::string& in_language(const std::string& english, const Translations& translations,
                               std::string_view lang);

// Which implementation a role runs.
enum class Impl { student, reference };
std::string_view to_string(Impl i);

// The schedule the synchronization interposer applies in a lab with `[build] interpose_sync`
// (harness/sync): run natively, seeded delays at every synchronization call, or PCT-style
// priorities with seeded change points.
enum class SyncMode { native, delays, pct };
std::string_view to_string(SyncMode m);
std::optional<SyncMode> sync_mode_from(std::string_view name);  // "native", "delays", "pct"

// A program = a trusted driver (main) linked with an implementation (student or reference).
struct ProgramSpec {
  std::string name;                 // "pipeline"
  std::filesystem::path driver;     // absolute path to the driver source
};

struct BuildSpec {
  std::vector<std::string> sources;  // files the student submits, relative names ("pipeline.c")
  std::vector<std::string> headers;  // lab-provided headers (relative to the lab dir); never taken from a submission
  std::string compiler = "cc";
  std::vector<std::string> cflags;
  std::vector<std::string> ldflags;
  // Symbols the student's object files must not use (looked up before linking): a lab's policy,
  // judged by its checks (runner/forbidden_symbols.hpp).
  std::vector<std::string> forbidden_symbols;
  Limits limits = default_build_limits();  // for the compiler
  // Link every program with the harness's sync interposer (-Wl,--wrap of the synchronization
  // calls, harness/sync): lab.toml `[build] interpose_sync = true`.
  bool interpose_sync = false;
  // The schedule every test runs under unless the test or the grader's --schedule says otherwise
  // (`[build] schedule`).
  SyncMode schedule = SyncMode::delays;
};

struct TestSpec {
  std::string name;
  std::string description;
  std::string property;  // human name of the checked property
  Translations description_i18n;  // description_ko, ...
  Translations property_i18n;     // property_ko, ...
  std::string hint;               // what to fix when the test does not pass (optional)
  Translations hint_i18n;         // hint_ko, ...
  double points = 0;
  Visibility visibility = Visibility::visible;
  std::string check;     // name of a registered check ("lab1.pipeline_output")
  std::map<std::string, Impl> roles;  // program name -> which implementation runs it
  Limits limits;         // the lab's run limits with this test's overrides applied
  nlohmann::json params = nlohmann::json::object();  // check-specific parameters
  std::optional<SyncMode> schedule;  // this test's `schedule`, overriding [build] schedule
  int line = 0;          // line of the test's [[tests]] header in lab.toml, for error messages
};

struct LabSpec {
  int number = 0;                   // 1
  std::string id;                   // "lab1"
  std::string folder;               // "lab1-pipe"
  std::string title;
  std::string mechanism;            // "anonymous pipe"
  Translations title_i18n;          // title_ko, ...
  Translations mechanism_i18n;      // mechanism_ko, ...
  std::filesystem::path dir;        // absolute path of labs/<folder>
  std::filesystem::path toml_path;
  std::filesystem::path skeleton_dir;    // where a student works (default: <dir>/skeleton)
  std::filesystem::path reference_dir;   // reference implementation (default: <reference_root>/<folder>)
  BuildSpec build;
  std::map<std::string, ProgramSpec> programs;
  std::vector<std::string> syscall_sets;  // named sets this lab allows beyond the baseline
  Limits run_limits;                // defaults for every test
  std::vector<TestSpec> tests;
  std::string spec_hash;            // sha256 hex of the lab.toml bytes

  const TestSpec* find_test(std::string_view name) const;
};

// Reads and validates one lab.toml. `reference_root` is the reference/ folder itself: the default
// reference_dir is <reference_root>/<folder>. Every error is Errc::config (Errc::io if the file
// cannot be read) with the message "<file>:<line>:<column>: <key path>: <what is wrong>".
Result<LabSpec> load_lab_spec(const std::filesystem::path& toml_path,
                              const std::filesystem::path& reference_root);

// Every <labs_root>/*/lab.toml, sorted by lab number. Duplicate numbers or ids are an error.
Result<std::vector<LabSpec>> load_all_labs(const std::filesystem::path& labs_root,
                                           const std::filesystem::path& reference_root);

// Finds a lab by "lab1", "1" or its folder name "lab1-pipe".
const LabSpec* find_lab(const std::vector<LabSpec>& labs, std::string_view key);


}  // namespace ipcg
