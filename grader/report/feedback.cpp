#include "report/feedback.hpp"

#include "report/format.hpp"
#include "report/sanitize.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ipcg {
namespace {

void append_lines(std::string& out, std::string_view text, std::string_view prefix = "") {
  for (const std::string& line : display_lines(text)) {
    out += prefix;
    out += line;
    out += '\n';
  }
}

std::string provenance_line(const LabResult& r) {
  std::string line = fmt::format("seed {} (rerun with --seed {})", r.seed, r.seed);
  if (!r.spec_hash.empty())
    line += fmt::format(" · spec sha256:{}{}", display_one_line(r.spec_hash.substr(0, 8)),
                        r.spec_hash.size() > 8 ? "…" : "");
  if (!r.grader_version.empty()) line += " · grader " + display_one_line(r.grader_version);
  return line + " · " + format_duration(r.duration_seconds);
}

// The largest n <= want such that text[n] does not continue a UTF-8 sequence.
std::size_t boundary_before(std::string_view text, std::size_t want) {
  std::size_t n = std::min(want, text.size());
  while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

std::string isolation_line(const IsolationInfo& iso, Lang lang) {
  const Msg level = iso.level == IsolationLevel::full ? Msg::isolation_full
                    : iso.namespaces()                  ? Msg::isolation_without_role_uids
                                                        : Msg::isolation_reduced;
  std::string line(message(lang, level));
  if (!iso.setting.empty()) line += fmt::format(" ({})", display_one_line(iso.setting));
  if (!iso.reason.empty()) line += " — " + display_one_line(iso.reason);
  return line;
}

bool details_withheld(const TestResult& test, bool show_hidden_details) {
  return test.visibility == Visibility::hidden && !show_hidden_details;
}

bool shows_output(const TestResult& test, bool verbose) {
  return !test.output.empty() && (verbose || test.status != Status::passed);
}

bool names_property(Status status) {
  return status == Status::failed || status == Status::timeout || status == Status::hung || status == Status::crashed ||
         status == Status::killed_by_filter;
}

std::string verdict_line(const TestResult& test) {
  std::string line(to_string(test.status));
  if (names_property(test.status) && !test.property.empty())
    line += ": " + display_one_line(test.property);
  return line;
}

std::string test_feedback(const TestResult& test, FeedbackParts parts) {
  std::string out;
  if (parts.message) append_lines(out, test.message);
  if (parts.evidence) {
    for (const std::string& item : test.evidence) append_lines(out, item);
    if (test.status == Status::timeout || test.status == Status::hung) append_lines(out, test.limit_note);
  }
  if (parts.output && !test.output.empty()) {
    out += "output:\n";
    append_lines(out, test.output, "| ");
  }
  if (!out.empty()) out.pop_back();  // the caller decides how the text ends
  return out;
}

std::size_t count_status(const LabResult& result, Status status) {
  return static_cast<std::size_t>(
      std::count_if(result.tests.begin(), result.tests.end(),
                    [status](const TestResult& t) { return t.status == status; }));
}

std::string lab_heading(const LabResult& r) {
  std::string heading = display_one_line(r.lab) + " — " + display_one_line(r.title);
  if (!r.mechanism.empty()) heading += fmt::format(" ({})", display_one_line(r.mechanism));
  return heading;
}

std::string lab_summary(const LabResult& r, Lang lang) {
  std::string line = tr(lang, Msg::summary, format_points(r.score), format_points(r.max_score),
                        count_status(r, Status::passed), r.tests.size());
  if (const std::size_t skipped = count_status(r, Status::skipped); skipped > 0)
    line += tr(lang, Msg::summary_skipped, skipped);
  return line;
}

std::string run_overview(const LabResult& r, bool verbose) {
  std::string out = lab_heading(r) + '\n' + lab_summary(r) + '\n';
  out += fmt::format("build: {} ({})\n", r.build.ok ? "ok" : "FAILED",
                     format_duration(r.build.duration_seconds));
  if (!r.build.ok || verbose) append_lines(out, r.build.compiler_output, "    ");
  out += isolation_line(r.isolation) + '\n';
  return out + provenance_line(r);
}

std::string truncate_middle(std::string_view text, std::size_t keep, std::string_view why) {
  if (text.size() <= keep) return std::string(text);
  const std::size_t head = boundary_before(text, keep - keep / 4);
  std::size_t tail_start = boundary_before(text, text.size() - keep / 4);
  tail_start = std::max(tail_start, head);
  const std::size_t shown = head + (text.size() - tail_start);
  return fmt::format("{}\n[... {}: {} of {} bytes shown ...]\n{}", text.substr(0, head), why,
                     shown, text.size(), text.substr(tail_start));
}

}  // namespace ipcg
