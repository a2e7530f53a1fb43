// The one catalogue of the fixed text a student reads in the human text report, in every language
// the report speaks (docs/i18n.md). A writer holds no literal a student reads: it asks by id.
//
//   const Lang lang = parse_lang("ko").value_or(Lang::en);
//   std::string line = tr(lang, Msg::summary, "15", "65", 2, 9);  // "15/65점, 테스트 9개 중 2개 통과"
//   std::string_view tag = message(lang, Msg::tag_passed);       // "[   통과   ]"
//
// Patterns are fmt format strings. An id takes the same arguments, in the same order, in every
// language; a translation may reorder them with {0}, {1}. The machine formats (JSON, JUnit, TAP,
// Gradescope, ...) never use this: they read the same in every language.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipcg {

enum class Lang { en, ko };

// "en", "ko": the code --lang takes and lab.toml's key suffix (`property_ko`) uses.
std::string_view to_string(Lang lang);
std::optional<Lang> parse_lang(std::string_view code);
std::vector<Lang> report_languages();  // every Lang, English first

// The language a POSIX locale asks for: the first of LC_ALL, LC_MESSAGES, LANG that is set and
// not empty decides; a Korean locale ("ko", "ko_KR.UTF-8", "ko.UTF-8") is Korean, anything else
// (unset, "C", "en_US.UTF-8", "ja_JP") English. Pass "" for an unset variable.
Lang lang_from_locale(std::string_view lc_all, std::string_view lc_messages, std::string_view lang);

enum class Msg {
  // header
  submission,         // "submission: {path}"
  isolation_full,     // "isolation: full"; the setting and reason follow as given
  isolation_without_role_uids,  // "isolation: user namespace without role uids"
  isolation_reduced,  // "isolation: reduced"
  seed_line,          // "seed: {seed}  (rerun with --seed {seed})"
  build_ok,           // "build: ok ({duration})"
  build_failed,       // "build: FAILED ({duration})"
  test_count_one,     // "{n} test, {points} points"
  test_count_other,   // "{n} tests, {points} points"
  // one line per test; the tags are 12 terminal columns wide in every language
  tag_passed,
  tag_failed,
  tag_timeout,
  tag_hung,
  tag_crashed,
  tag_killed_by_filter,
  tag_build_failed,
  tag_skipped,
  tag_error,
  test_points,     // "{score}/{max} pts"
  trace_hint,      // "trace: {file} (open it in ...)"
  leftovers,       // "left behind after the test: {objects}"
  scheduling_dependent,  // "{not passed} of {runs} runs with this seed did not pass: ..."
  failed_differently,    // "all {runs} runs with this seed failed, not all the same way: ..."
  failure_came_back,     // "the failure came back in {runs} of {runs} runs with this seed"
  schedule_exact,        // "schedule {mode}; exact replay: --seed {seed} --only {test} ..."
  schedule_best_effort,  // "schedule {mode}; best-effort replay: --seed {seed} --only {test} ..."
  hint_line,             // "to fix: {the test's hint}"
  hang_group,            // "{n} tests hung the same way (cause {k}): {cause}", once before the tests
  hang_group_ref,        // "cause {k}, said above: the same for {n} tests", in each such test's block
  output_heading,  // "output:"
  hidden_withheld, // "(hidden test: details withheld)"
  // footer
  summary,          // "{score}/{max} points, {passed}/{tests} tests passed"
  summary_skipped,  // ", {n} skipped"
  provenance_seed,  // "seed {seed}"
  provenance_spec,  // "spec sha256:{hash}"
  provenance_grader,  // "grader {version}"
  // grader batch: reports/<submission>.txt of a submission the grader could not grade
  grader_error,  // "grader error: {message}"
  count_,        // not a message: the number of ids
};

// The id as it is written in docs and tests: "tag_passed".
std::string_view message_id(Msg id);

// How many arguments the id's pattern takes (in every language).
std::size_t message_arity(Msg id);

// The pattern of id in lang; "" only if the catalogue lacks it (a test makes sure it does not).
std::string_view message(Lang lang, Msg id);

// The pattern of id in lang, formatted. Arguments are formatted with plain {} (no format specs).
template <typename... Args>
std::string tr(Lang lang, Msg id, const Args&... args) {
  return fmt::vformat(fmt::string_view(message(lang, id).data(), message(lang, id).size()),
                      fmt::make_format_args(args...));
}

// Terminal columns text takes: Hangul, CJK and other East Asian wide characters take 2, control
// characters 0, everything else 1. Invalid UTF-8 counts a column per byte.
std::size_t display_width(std::string_view utf8);

}  // namespace ipcg
