#include "gradebook/html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "report/format.hpp"
#include "report/sanitize.hpp"

namespace ipcg::gradebook {
namespace {

// Inline, so the page needs nothing but itself. Status colours match the text report's idea:
// green passed, red failed, warm colours for the ways a run can die, grey for did-not-run.
constexpr const char* kCss = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1150px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #666; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 110px; background: #fafafa; }
.card .num { font-size: 22px; font-weight: 600; } .card .lbl { color: #666; font-size: 12px; }
.card.bad .num { color: #c62828; }
svg text { font-family: system-ui, sans-serif; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; }
th.test { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; font-size: 11px; max-height: 180px; }
td.st { text-align: center; min-width: 18px; }
.st-passed { background: #c8e6c9; } .st-failed { background: #ffcdd2; } .st-timeout { background: #ffe0b2; }
.st-hung { background: #ffcc80; }
.st-crashed { background: #e1bee7; } .st-killed_by_filter { background: #f8bbd0; }
.st-build_failed { background: #cfd8dc; } .st-skipped { background: #f5f5f5; } .st-error { background: #fff59d; }
.st-unknown { background: #fff; }
.legend span { display: inline-block; padding: 1px 6px; margin: 2px; border: 1px solid #ddd; font-size: 12px; }
.grader-error { white-space: pre-wrap; }
footer { color: #888; font-size: 12px; margin-top: 24px; }
)";

struct StatusLook {
  std::string_view status;
  std::string_view glyph;
  std::string_view label;
};
constexpr StatusLook kLooks[] = {
    {"passed", "✓", "passed"},       {"failed", "✗", "failed"},
    {"timeout", "T", "timeout"},     {"hung", "H", "hung (every process blocked)"},
    {"crashed", "C", "crashed"},
    {"killed_by_filter", "K", "killed by the syscall filter"},
    {"build_failed", "B", "did not build"}, {"skipped", "–", "skipped"},
    {"error", "!", "grader error"},
};

// The status's look; an unknown string (a newer grader) gets a neutral one, never its own class.
StatusLook look_of(std::string_view status) {
  for (const StatusLook& look : kLooks)
    if (look.status == status) return look;
  return {"unknown", "?", "unknown status"};
}

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

std::string fraction_of(double score, double max_score) { return max_score > 0 ? percent(score / max_score) : "–"; }

// Short enough for the chart's label column; the full text is in the row's <title>.
std::string shortened(std::string_view text, std::size_t max_chars) {
  std::string s(text.substr(0, max_chars));
  if (text.size() > max_chars) {
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();  // whole code points
    if (!s.empty()) s.pop_back();
    s += "…";
  }
  return s;
}

// Test names in lab order (first appearance), for the table's columns.
std::vector<const TestCell*> lab_order_columns(const Gradebook& book) {
  std::vector<const TestCell*> columns;
  std::set<std::string> seen;
  for (const Submission& s : book.submissions)
    for (const TestCell& t : s.tests)
      if (seen.insert(t.name).second) columns.push_back(&t);
  return columns;
}

std::string card(std::string_view id, std::string_view attrs, std::string_view number, std::string_view label,
                 bool bad = false) {
  return fmt::format("<div class=\"card{}\"><div class=\"num\" id=\"{}\"{}>{}</div><div class=\"lbl\">{}</div></div>\n",
                     bad ? " bad" : "", id, attrs, number, label);
}

std::string totals_section(const Summary& s) {
  std::string html = "<section class=\"cards\" id=\"totals\">\n";
  html += card("submission-count", fmt::format(" data-count=\"{}\"", s.submissions), std::to_string(s.submissions), "submissions");
  html += card("graded-count", fmt::format(" data-count=\"{}\"", s.graded), std::to_string(s.graded), "graded");
  html += card("mean-score", fmt::format(" data-score=\"{}\" data-max-score=\"{}\"", format_points(s.mean), format_points(s.max_score)),
               fmt::format("{} / {}", format_points(s.mean), format_points(s.max_score)),
               "mean score (" + fraction_of(s.mean, s.max_score) + ")");
  html += card("median-score", fmt::format(" data-score=\"{}\"", format_points(s.median)),
               fmt::format("{} / {}", format_points(s.median), format_points(s.max_score)),
               "median score (" + fraction_of(s.median, s.max_score) + ")");
  return html + "</section>\n";
}

std::string outcome_card(std::string_view id, int count, std::string_view label) {
  return card(id, fmt::format(" data-count=\"{}\"", count), std::to_string(count), label, count > 0);
}

std::string outcomes_section(const Summary& s, std::size_t grader_errors) {
  std::string html = "<h2>How runs ended badly</h2>\n<p class=\"sub\">Graded submissions with at least one test that ended this way.</p>\n<section class=\"cards\" id=\"outcomes\">\n";
  html += outcome_card("count-timeout", s.outcomes.timeout, "timeouts");
  html += outcome_card("count-hung", s.outcomes.hung, "hangs");
  html += outcome_card("count-crashed", s.outcomes.crashed, "crashes");
  html += outcome_card("count-build-failed", s.outcomes.build_failed, "build failures");
  html += outcome_card("count-killed-by-filter", s.outcomes.killed_by_filter, "killed by the syscall filter");
  html += outcome_card("count-test-error", s.outcomes.error, "tests the grader could not run");
  html += outcome_card("count-grader-error", static_cast<int>(grader_errors), "submissions not graded");
  return html + "</section>\n";
}

std::string histogram_bar(int bin, int count, int tallest) {
  constexpr int kLeft = 40, kSlot = 56, kBase = 200, kHeight = 160;
  const int x = kLeft + bin * kSlot;
  const int h = tallest == 0 ? 0 : count * kHeight / tallest;
  const int from = bin * 100 / kHistogramBins, to = (bin + 1) * 100 / kHistogramBins;
  return fmt::format(
      "<g class=\"bin\" data-bin=\"{0}\" data-from=\"{3}\" data-to=\"{4}\" data-count=\"{5}\">"
      "<title>{3}–{4}% of the maximum: {5}</title>"
      "<rect x=\"{1}\" y=\"{2}\" width=\"48\" height=\"{6}\" fill=\"#5c8dd6\"/>"
      "<text x=\"{7}\" y=\"{8}\" text-anchor=\"middle\" font-size=\"13\">{5}</text>"
      "<text x=\"{7}\" y=\"218\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">{3}–{4}%</text></g>\n",
      bin, x, kBase - h, from, to, count, h, x + 24, kBase - h - 4);
}

std::string histogram_svg(const Summary& s) {
  const int tallest = *std::max_element(s.histogram.begin(), s.histogram.end());
  std::string svg = fmt::format(
      "<h2>Scores</h2>\n<svg id=\"histogram\" width=\"620\" height=\"240\" viewBox=\"0 0 620 240\" role=\"img\" "
      "aria-label=\"score histogram\">\n<line x1=\"36\" y1=\"200\" x2=\"604\" y2=\"200\" stroke=\"#999\"/>\n"
      "<text x=\"320\" y=\"236\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">score, % of {} points "
      "(the last bin includes 100%)</text>\n",
      format_points(s.max_score));
  for (int bin = 0; bin < kHistogramBins; ++bin) svg += histogram_bar(bin, s.histogram[bin], tallest);
  return svg + "</svg>\n";
}

std::string rate_row(const TestRate& t, int row) {
  constexpr int kBarX = 390, kBarW = 360, kRowH = 38;
  const int y = 10 + row * kRowH;
  const int pass_w = static_cast<int>(t.pass_rate() * kBarW + 0.5);
  const std::string label = t.property.empty() ? t.name : t.property;
  return fmt::format(
      "<g class=\"test-rate\" data-test=\"{0}\" data-pass-rate=\"{1:.4f}\" data-passed=\"{2}\" data-total=\"{3}\">"
      "<title>{0}: {4}, passed by {2} of {3}</title>"
      "<text x=\"380\" y=\"{5}\" text-anchor=\"end\" font-size=\"13\">{6}</text>"
      "<text x=\"380\" y=\"{7}\" text-anchor=\"end\" font-size=\"10\" fill=\"#777\">{8}</text>"
      "<rect x=\"{9}\" y=\"{10}\" width=\"{11}\" height=\"20\" fill=\"#66bb6a\"/>"
      "<rect x=\"{12}\" y=\"{10}\" width=\"{13}\" height=\"20\" fill=\"#ef5350\"/>"
      "<text x=\"760\" y=\"{5}\" font-size=\"13\" class=\"rate\">{14} ({2}/{3})</text></g>\n",
      html_escape(t.name), t.pass_rate(), t.passed, t.total, html_escape(label), y + 12,
      html_escape(shortened(label, 52)), y + 25, html_escape(shortened(t.name, 60)), kBarX, y + 2, pass_w,
      kBarX + pass_w, kBarW - pass_w, percent(t.pass_rate()));
}

std::string pass_rate_svg(const Summary& s) {
  const int height = 20 + static_cast<int>(s.tests.size()) * 38;
  std::string svg = fmt::format(
      "<h2>Pass rate per test, most failed first</h2>\n<p class=\"sub\">Each bar is the share of graded "
      "submissions that passed the test (green) or did not (red); the label is the property it checks.</p>\n"
      "<svg id=\"pass-rates\" width=\"880\" height=\"{0}\" viewBox=\"0 0 880 {0}\" role=\"img\" "
      "aria-label=\"pass rate per test\">\n",
      height);
  for (std::size_t i = 0; i < s.tests.size(); ++i) svg += rate_row(s.tests[i], static_cast<int>(i));
  return svg + "</svg>\n";
}

std::string status_cell(const Submission& s, const TestCell& column) {
  auto it = std::find_if(s.tests.begin(), s.tests.end(), [&](const TestCell& t) { return t.name == column.name; });
  if (it == s.tests.end()) return "<td></td>";
  const StatusLook look = look_of(it->status);
  return fmt::format("<td class=\"st st-{0}\" data-test=\"{1}\" data-status=\"{0}\" title=\"{1}: {2} ({3}/{4})\">{5}</td>",
                     look.status, html_escape(it->name), look.label, format_points(it->score),
                     format_points(it->max_score), look.glyph);
}

std::string submission_row(const Submission& s, const std::vector<const TestCell*>& columns, const HtmlOptions& o) {
  const std::string name = html_escape(s.name);
  std::string row = fmt::format(
      "<tr class=\"submission\" data-submission=\"{0}\" data-score=\"{1}\" data-max-score=\"{2}\">"
      "<td><a href=\"{3}\">{0}</a></td><td class=\"score\">{1}/{2}</td>",
      name, format_points(s.score), format_points(s.max_score), html_escape(report_href(o.reports_href, s.name)));
  for (const TestCell* column : columns) row += status_cell(s, *column);
  return row + "</tr>\n";
}

std::string legend() {
  std::string html = "<p class=\"legend\">";
  for (const StatusLook& look : kLooks)
    html += fmt::format("<span class=\"st-{}\">{} {}</span>", look.status, look.glyph, look.label);
  return html + "</p>\n";
}

std::string submissions_table(const Gradebook& book, const HtmlOptions& options) {
  const auto columns = lab_order_columns(book);
  std::string html = "<h2>Submissions</h2>\n" + legend() + "<table id=\"submissions\">\n<thead><tr><th>submission</th><th>score</th>";
  for (const TestCell* c : columns) html += fmt::format("<th class=\"test\" title=\"{0}\">{0}</th>", html_escape(c->name));
  html += "</tr></thead>\n<tbody>\n";
  // By name: a batch finishes submissions in any order, the page should not depend on it.
  std::vector<const Submission*> rows;
  for (const Submission& s : book.submissions) rows.push_back(&s);
  std::sort(rows.begin(), rows.end(), [](const Submission* a, const Submission* b) { return a->name < b->name; });
  for (const Submission* s : rows) html += submission_row(*s, columns, options);
  return html + "</tbody>\n</table>\n";
}

std::string errors_section(const Gradebook& book) {
  std::string html = fmt::format("<h2>Not graded ({})</h2>\n<ul id=\"grader-errors\">\n", book.errors.size());
  for (const GraderError& e : book.errors)
    html += fmt::format("<li class=\"grader-error\" data-submission=\"{0}\"><b>{0}</b> {1}</li>\n",
                        html_escape(e.submission), html_escape(e.message));
  if (book.errors.empty()) html += "<li>none: the grader graded every submission</li>\n";
  return html + "</ul>\n";
}

std::string hash_pair(std::string_view what, const std::string& before, const std::string& after) {
  if (before == after) return fmt::format("same {} ({})", what, html_escape(after));
  return fmt::format("{} {} → {}", what, html_escape(before), html_escape(after));
}

// What the last `grader diff --apply` changed: counts, why, and every changed submission.
std::string regrade_section(const RegradeNote& note) {
  std::string html = fmt::format(
      "<h2>Last regrade</h2>\n<section id=\"regrade\" data-when=\"{0}\" data-up=\"{1}\" data-down=\"{2}\" "
      "data-equal=\"{3}\">\n<p class=\"sub\">{0}: {1} up, {2} down, {3} equal; {4}, {5}. The previous results are "
      "in {6}.</p>\n",
      html_escape(note.when), note.up, note.down, note.equal,
      hash_pair("spec_hash", note.old_spec_hash, note.new_spec_hash),
      hash_pair("grader", note.old_grader_version, note.new_grader_version), html_escape(note.archive));
  if (note.changed.empty()) return html + "</section>\n";
  html += "<table id=\"regrade-changes\">\n<thead><tr><th>submission</th><th>old</th><th>new</th><th>why</th></tr></thead>\n<tbody>\n";
  for (const auto& c : note.changed)
    html += fmt::format("<tr data-submission=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td></tr>\n",
                        html_escape(c.submission), format_points(c.old_score), format_points(c.new_score),
                        html_escape(c.reason));
  return html + "</tbody></table>\n</section>\n";
}

std::string page_head(const Gradebook& book, const Summary& s) {
  const std::string lab = html_escape(book.lab.empty() ? "gradebook" : book.lab);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0} gradebook</title>\n"
      "<style>{1}</style>\n</head>\n<body>\n<h1 id=\"title\" data-lab=\"{0}\">{0} — {2}</h1>\n"
      "<p class=\"sub\">{3} submissions, mean {4}/{5}, median {6}/{5}</p>\n",
      lab, kCss, html_escape(book.title), s.submissions, format_points(s.mean), format_points(s.max_score),
      format_points(s.median));
}

}  // namespace

std::string html_escape(std::string_view text) {
  const std::string clean = sanitize_for_display(text);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string report_href(std::string_view reports_href, std::string_view submission) {
  std::string href(reports_href);
  for (unsigned char c : submission) {
    // RFC 3986 unreserved characters, by hand: isalnum would depend on the locale.
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) href += static_cast<char>(c);
    else href += fmt::format("%{:02X}", c);
  }
  return href + ".txt";
}

std::string gradebook_html(const Gradebook& book, const Summary& summary, const HtmlOptions& options) {
  std::string html = page_head(book, summary);
  html += totals_section(summary);
  if (options.regrade) html += regrade_section(*options.regrade);
  html += outcomes_section(summary, book.errors.size());
  html += histogram_svg(summary);
  html += pass_rate_svg(summary);
  html += submissions_table(book, options);
  html += errors_section(book);
  html += fmt::format("<footer>ipcgrade {} · generated from results.jsonl</footer>\n</body>\n</html>\n",
                      html_escape(book.grader_version));
  return html;
}

}  // namespace ipcg::gradebook
