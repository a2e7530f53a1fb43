#include "report/text_report.hpp"

#include "report/feedback.hpp"
#include "report/format.hpp"
#include "report/sanitize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace ipcg {
namespace {

// Everything a student controls is printed under one of these, never at column 0.
constexpr std::string_view kIndent = "    ";
constexpr std::string_view kOutputGutter = "    | ";
constexpr std::string_view kBanner = "[==========]";
constexpr std::string_view kInfo = "[----------]";

enum class Colour { none, green, red, yellow };

// Colours go on grader-written tags only; a student's text is never wrapped in them.
class Painter {
 public:
  explicit Painter(bool enabled) : enabled_(enabled) {}
  std::string operator()(std::string_view text, Colour colour) const {
    if (!enabled_ || colour == Colour::none) return std::string(text);
    return fmt::format("\033[0;{}m{}\033[m", code(colour), text);
  }

 private:
  static int code(Colour c) { return c == Colour::green ? 32 : c == Colour::red ? 31 : 33; }
  bool enabled_;
};

Colour colour_for(Status status) {
  switch (status) {
    case Status::passed: return Colour::green;
    case Status::skipped: return Colour::yellow;
    default: return Colour::red;
  }
}

// A cause several tests hung by (hang_cause): the report says it once, before the tests.
struct HangGroup {
  std::string cause;
  std::size_t tests = 0;
};

bool ended_blocked(Status s) { return s == Status::timeout || s == Status::hung; }

bool withheld_from(const TestResult& t, const TextOptions& options) {
  return t.visibility == Visibility::hidden && !options.show_hidden_details;
}

// The causes shared by two tests or more, in the order the tests first show them. A withheld
// hidden test is not counted: its cause would tell what it does.
std::vector<HangGroup> hang_groups(const LabResult& r, const TextOptions& options) {
  std::vector<HangGroup> all;
  for (const TestResult& t : r.tests) {
    if (!ended_blocked(t.status) || t.hang_cause.empty() || withheld_from(t, options)) continue;
    const auto it = std::find_if(all.begin(), all.end(), [&](const HangGroup& g) { return g.cause == t.hang_cause; });
    if (it == all.end()) all.push_back({t.hang_cause, 1});
    else ++it->tests;
  }
  std::vector<HangGroup> shared;
  std::copy_if(all.begin(), all.end(), std::back_inserter(shared), [](const HangGroup& g) { return g.tests >= 2; });
  return shared;
}

struct Context {
  std::ostream& os;
  const TextOptions& options;
  Painter paint;
  std::vector<HangGroup> hang_groups;

  // The group a test's cause is said in (numbered from 1), or 0.
  std::size_t group_of(const TestResult& t) const {
    if (!ended_blocked(t.status) || t.hang_cause.empty()) return 0;
    for (std::size_t i = 0; i < hang_groups.size(); ++i)
      if (hang_groups[i].cause == t.hang_cause) return i + 1;
    return 0;
  }

  Lang lang() const { return options.lang; }
  // The lab's own string in the report's language, else the result's English.
  static const std::string& either(const std::string& translated, const std::string& english) {
    return translated.empty() ? english : translated;
  }
  const std::string& property_of(const TestResult& t) const {
    const auto it = options.lab_text.tests.find(t.name);
    return it == options.lab_text.tests.end() ? t.property : either(it->second.property, t.property);
  }
  const std::string& hint_of(const TestResult& t) const {
    const auto it = options.lab_text.tests.find(t.name);
    return it == options.lab_text.tests.end() ? t.hint : either(it->second.hint, t.hint);
  }
};

void write_indented(Context& cx, std::string_view text, std::string_view indent = kIndent) {
  for (const std::string& line : display_lines(text)) cx.os << indent << line << '\n';
}

void write_header(Context& cx, const LabResult& r) {
  const LabText& lab = cx.options.lab_text;
  std::string title = display_one_line(r.lab) + " — " + display_one_line(Context::either(lab.title, r.title));
  if (!r.mechanism.empty())
    title += fmt::format(" ({})", display_one_line(Context::either(lab.mechanism, r.mechanism)));
  cx.os << cx.paint(kBanner, Colour::green) << ' ' << title << '\n';
  if (!r.submission.empty())
    cx.os << kInfo << ' ' << tr(cx.lang(), Msg::submission, display_one_line(r.submission)) << '\n';
  const bool less_than_full = r.isolation.level != IsolationLevel::full;
  cx.os << cx.paint(kInfo, less_than_full ? Colour::yellow : Colour::none) << ' '
        << isolation_line(r.isolation, cx.lang()) << '\n';
  cx.os << kInfo << ' ' << tr(cx.lang(), Msg::seed_line, r.seed) << '\n';
}

// The compiler quotes the student's source, so its output is untrusted text like any other.
void write_build(Context& cx, const BuildResult& b) {
  cx.os << cx.paint(kInfo, b.ok ? Colour::none : Colour::red) << ' '
        << tr(cx.lang(), b.ok ? Msg::build_ok : Msg::build_failed, format_duration(b.duration_seconds))
        << '\n';
  if (!b.ok || cx.options.verbose) write_indented(cx, b.compiler_output);
}

std::string test_line(const Context& cx, const TestResult& t) {
  const std::string tag = cx.paint(text_tag(t.status, cx.lang()), colour_for(t.status));
  std::string line = fmt::format("{} {} ({}", tag, display_one_line(t.name),
                                 tr(cx.lang(), Msg::test_points, format_points(t.score),
                                    format_points(t.max_score)));
  if (cx.options.verbose) line += ", " + format_duration(t.duration_seconds);
  line += ')';
  const std::string& property = cx.property_of(t);
  if (names_property(t.status) && !property.empty()) line += " — " + display_one_line(property);
  return line;
}

void write_details(Context& cx, const TestResult& t, std::uint64_t seed) {
  if (t.status != Status::passed) {
    write_indented(cx, t.message);
    if (const std::size_t k = cx.group_of(t); k > 0)  // the cause in words is above; the pids and fds below
      write_indented(cx, tr(cx.lang(), Msg::hang_group_ref, k, cx.hang_groups[k - 1].tests));
    for (const std::string& item : t.evidence) write_indented(cx, item);
    if (ended_blocked(t.status) && !t.limit_note.empty()) write_indented(cx, t.limit_note);
    if (!t.schedule.empty())  // the mode beside the seed: what a rerun replays
      write_indented(cx, tr(cx.lang(), t.exact_replay ? Msg::schedule_exact : Msg::schedule_best_effort,
                            display_one_line(t.schedule), seed, display_one_line(t.name)));
    if (!t.attempts.empty()) {
      const auto not_passed = std::count_if(t.attempts.begin(), t.attempts.end(),
                                            [](const Attempt& a) { return a.status != Status::passed; });
      const bool same = std::all_of(t.attempts.begin(), t.attempts.end(),
                                    [&](const Attempt& a) { return a.status == t.status; });
      if (same)  // kept only for a perturbing schedule: how often its best-effort replay failed again
        write_indented(cx, tr(cx.lang(), Msg::failure_came_back, t.attempts.size(), t.attempts.size()));
      else if (static_cast<std::size_t>(not_passed) == t.attempts.size())
        write_indented(cx, tr(cx.lang(), Msg::failed_differently, t.attempts.size()));
      else
        write_indented(cx, tr(cx.lang(), Msg::scheduling_dependent, not_passed, t.attempts.size()));
    }
    if (const std::string& hint = cx.hint_of(t); !hint.empty()) write_indented(cx, tr(cx.lang(), Msg::hint_line, hint));
    if (!t.trace_file.empty())
      write_indented(cx, tr(cx.lang(), Msg::trace_hint, t.trace_file));
  } else if (!t.leftovers.empty()) {
    // A passing test still hears what it did not clean up (failed ones have it in the evidence).
    write_indented(cx, tr(cx.lang(), Msg::leftovers, fmt::to_string(fmt::join(t.leftovers, "; "))));
  }
  if (cx.options.verbose && !t.output.empty()) {
    cx.os << kIndent << message(cx.lang(), Msg::output_heading) << '\n';
    write_indented(cx, t.output, kOutputGutter);
  }
}

// Hidden tests keep their inputs secret: saying what went wrong would reveal them.
bool would_show_details(const Context& cx, const TestResult& t) {
  return t.status != Status::passed || !t.leftovers.empty() || (cx.options.verbose && !t.output.empty());
}

void write_test(Context& cx, const TestResult& t, std::uint64_t seed) {
  cx.os << test_line(cx, t) << '\n';
  const bool withheld = withheld_from(t, cx.options);
  if (!withheld) write_details(cx, t, seed);
  else if (would_show_details(cx, t)) cx.os << kIndent << message(cx.lang(), Msg::hidden_withheld) << '\n';
}

// The footer's last line: what reproduces the verdict (the seed), and what produced it.
std::string footer_provenance(const LabResult& r, Lang lang) {
  std::string line = tr(lang, Msg::provenance_seed, r.seed);
  if (!r.spec_hash.empty()) {
    const bool cut = r.spec_hash.size() > 8;
    line += " · " + tr(lang, Msg::provenance_spec,
                       display_one_line(r.spec_hash.substr(0, 8)) + (cut ? "…" : ""));
  }
  if (!r.grader_version.empty())
    line += " · " + tr(lang, Msg::provenance_grader, display_one_line(r.grader_version));
  return line + " · " + format_duration(r.duration_seconds);
}

void write_footer(Context& cx, const LabResult& r) {
  const Colour colour = r.all_passed() ? Colour::green : Colour::red;
  cx.os << cx.paint(kBanner, colour) << ' ' << lab_summary(r, cx.lang()) << '\n';
  cx.os << footer_provenance(r, cx.lang()) << '\n';
}

Msg tag_id(Status status) {
  switch (status) {
    case Status::passed: return Msg::tag_passed;
    case Status::failed: return Msg::tag_failed;
    case Status::timeout: return Msg::tag_timeout;
    case Status::hung: return Msg::tag_hung;
    case Status::crashed: return Msg::tag_crashed;
    case Status::killed_by_filter: return Msg::tag_killed_by_filter;
    case Status::build_failed: return Msg::tag_build_failed;
    case Status::skipped: return Msg::tag_skipped;
    case Status::error: return Msg::tag_error;
  }
  return Msg::tag_error;
}

}  // namespace

std::string_view text_tag(Status status, Lang lang) { return message(lang, tag_id(status)); }

void write_text_report(const LabResult& result, std::ostream& os, const TextOptions& options) {
  Context cx{os, options, Painter(options.color), hang_groups(result, options)};
  write_header(cx, result);
  write_build(cx, result.build);
  const Msg count = result.tests.size() == 1 ? Msg::test_count_one : Msg::test_count_other;
  cx.os << kInfo << ' ' << tr(cx.lang(), count, result.tests.size(), format_points(result.max_score))
        << '\n';
  for (std::size_t i = 0; i < cx.hang_groups.size(); ++i)
    cx.os << cx.paint(kInfo, Colour::red) << ' '
          << tr(cx.lang(), Msg::hang_group, cx.hang_groups[i].tests, i + 1, display_one_line(cx.hang_groups[i].cause))
          << '\n';
  for (const TestResult& t : result.tests) write_test(cx, t, result.seed);
  write_footer(cx, result);
}

}  // namespace ipcg
