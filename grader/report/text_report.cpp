#include "report/text_report.hpp"

#include "report/feedback.hpp"
#include "report/format.hpp"
#include "report/sanitize.hpp"

#include <fmt/format.h>


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

struct Context {
  std::ostream& os;
  const TextOptions& options;
  Painter paint;
};

void write_indented(Context& cx, std::string_view text, std::string_view indent = kIndent) {
  for (const std::string& line : display_lines(text)) cx.os << indent << line << '\n';
}

void write_header(Context& cx, const LabResult& r) {
  std::string title = display_one_line(r.lab) + " — " + display_one_line(r.title);
  if (!r.mechanism.empty()) title += fmt::format(" ({})", display_one_line(r.mechanism));
  cx.os << cx.paint(kBanner, Colour::green) << ' ' << title << '\n';
  if (!r.submission.empty())
    cx.os << kInfo << " submission: " << display_one_line(r.submission) << '\n';
  const bool reduced = r.isolation.level == IsolationLevel::reduced;
  cx.os << cx.paint(kInfo, reduced ? Colour::yellow : Colour::none) << ' '
        << isolation_line(r.isolation) << '\n';
  cx.os << kInfo << fmt::format(" seed: {}  (rerun with --seed {})\n", r.seed, r.seed);
}

// The compiler quotes the student's source, so its output is untrusted text like any other.
void write_build(Context& cx, const BuildResult& b) {
  const std::string_view verdict = b.ok ? "ok" : "FAILED";
  cx.os << cx.paint(kInfo, b.ok ? Colour::none : Colour::red) << " build: " << verdict << " ("
        << format_duration(b.duration_seconds) << ")\n";
  if (!b.ok || cx.options.verbose) write_indented(cx, b.compiler_output);
}

std::string test_line(const Context& cx, const TestResult& t) {
  const std::string tag = cx.paint(text_tag(t.status), colour_for(t.status));
  std::string line = fmt::format("{} {} ({}/{} pts", tag, display_one_line(t.name),
                                 format_points(t.score), format_points(t.max_score));
  if (cx.options.verbose) line += ", " + format_duration(t.duration_seconds);
  line += ')';
  if (names_property(t.status) && !t.property.empty())
    line += " — " + display_one_line(t.property);
  return line;
}

void write_details(Context& cx, const TestResult& t) {
  if (t.status != Status::passed) {
    write_indented(cx, t.message);
    for (const std::string& item : t.evidence) write_indented(cx, item);
    if (!t.trace_file.empty())
      write_indented(cx, "trace: " + t.trace_file + " (open it in https://ui.perfetto.dev or chrome://tracing)");
  } else if (!t.leftovers.empty()) {
    // A passing test still hears what it did not clean up (failed ones have it in the evidence).
    write_indented(cx, fmt::format("left behind after the test: {}", fmt::join(t.leftovers, "; ")));
  }
  if (cx.options.verbose && !t.output.empty()) {
    cx.os << kIndent << "output:\n";
    write_indented(cx, t.output, kOutputGutter);
  }
}

// Hidden tests keep their inputs secret: saying what went wrong would reveal them.
bool would_show_details(const Context& cx, const TestResult& t) {
  return t.status != Status::passed || !t.leftovers.empty() || (cx.options.verbose && !t.output.empty());
}

void write_test(Context& cx, const TestResult& t) {
  cx.os << test_line(cx, t) << '\n';
  const bool withheld = t.visibility == Visibility::hidden && !cx.options.show_hidden_details;
  if (!withheld) write_details(cx, t);
  else if (would_show_details(cx, t)) cx.os << kIndent << "(hidden test: details withheld)\n";
}

// The footer's last line: what reproduces the verdict (the seed), and what produced it.
std::string footer_provenance(const LabResult& r) {
  std::string line = fmt::format("seed {}", r.seed);
  if (!r.spec_hash.empty()) {
    const bool cut = r.spec_hash.size() > 8;
    line += fmt::format(" · spec sha256:{}{}", display_one_line(r.spec_hash.substr(0, 8)),
                        cut ? "…" : "");
  }
  if (!r.grader_version.empty()) line += " · grader " + display_one_line(r.grader_version);
  return line + " · " + format_duration(r.duration_seconds);
}

void write_footer(Context& cx, const LabResult& r) {
  const Colour colour = r.all_passed() ? Colour::green : Colour::red;
  cx.os << cx.paint(kBanner, colour) << ' ' << lab_summary(r) << '\n';
  cx.os << footer_provenance(r) << '\n';
}

}  // namespace

std::string_view text_tag(Status status) {
  switch (status) {
    case Status::passed: return "[  PASSED  ]";
    case Status::failed: return "[  FAILED  ]";
    case Status::timeout: return "[ TIMEOUT  ]";
    case Status::crashed: return "[ CRASHED  ]";
    case Status::killed_by_filter: return "[ KILLED   ]";
    case Status::build_failed: return "[ NO BUILD ]";
    case Status::skipped: return "[ SKIPPED  ]";
    case Status::error: return "[  ERROR   ]";
  }
  return "[  ERROR   ]";
}

void write_text_report(const LabResult& result, std::ostream& os, const TextOptions& options) {
  Context cx{os, options, Painter(options.color)};
  write_header(cx, result);
  write_build(cx, result.build);
  cx.os << kInfo << fmt::format(" {} {}, {} points\n", result.tests.size(),
                                result.tests.size() == 1 ? "test" : "tests",
                                format_points(result.max_score));
  for (const TestResult& t : result.tests) write_test(cx, t);
  write_footer(cx, result);
}

}  // namespace ipcg
