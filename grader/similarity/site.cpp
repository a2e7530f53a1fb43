#include "similarity/site.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "batch/gradebook.hpp"    // csv_field
#include "batch/results_log.hpp"  // write_file_atomically
#include "gradebook/html.hpp"     // html_escape
#include "report/sanitize.hpp"

namespace ipcg::similarity {
namespace {

namespace fs = std::filesystem;
using gradebook::html_escape;

constexpr int kColours = 8;

std::string page_name(std::size_t rank) { return fmt::format("pair-{}.html", rank); }

bool has_page(const SimilarityReport& r, std::size_t i) {
  return i < r.pairs.size() && r.pairs[i].flagged && i < static_cast<std::size_t>(kMaxPairPages);
}

std::string run_lines(int first, int last) { return first == last ? "1 line" : fmt::format("{} lines", last - first + 1); }

std::string longest_text(const PairResult& p) {
  if (p.longest.tokens == 0) return "none";
  return fmt::format("{} tokens, {}", p.longest.tokens, run_lines(p.longest.left_first, p.longest.left_last));
}

// Why a flag is not a verdict: the same words on every page.
std::string caveat(const SimilarityReport& r) {
  return fmt::format(
      "<div class=\"caveat\" id=\"caveat\"><strong>This page flags, it does not judge.</strong> A flagged pair is a "
      "reason to look at two programs side by side, not evidence of copying. What is counted: sim_c compares "
      "token sequences, ignoring layout, comments, identifier names and the values of numbers and strings. The "
      "code every student received (the lab's skeleton and headers) was taken out first, so it counts for "
      "nobody, and so does code that {} or more submissions hold (a common source: a lecture example, a manual "
      "page, a solution passed around a whole class); shared runs shorter than {} tokens are ignored. What is "
      "left can still be shared honestly: "
      "independent solutions of a small lab converge on the same calls in the same order, students who worked "
      "from the same lecture example or manual page write alike, and a short program leaves little room to "
      "differ. Talk to the students and read the code before concluding anything.</div>\n",
      r.common_limit, r.min_run);
}

const char* kStyle =
    "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}td.n{text-align:right}"
    ".caveat{background:#fff8e0;border:1px solid #e0c060;padding:.8em;max-width:60em;margin:1em 0}"
    ".sides{display:grid;grid-template-columns:1fr 1fr;gap:1em}.side{overflow-x:auto;border:1px solid #ccc}"
    ".side h3{margin:.3em .5em;font-size:1em}.src{font-family:monospace;font-size:12px;white-space:pre}"
    ".src div{padding:0 .4em}.ln{color:#888;display:inline-block;width:4em;text-align:right;margin-right:.6em}"
    ".h{color:#aaa;background:#f4f4f4}.m{color:#99a;background:#eef0f6}.jump{text-decoration:none;margin-left:.5em}"
    ".c0{background:#ffd6d6}.c1{background:#d6f0ff}.c2{background:#dcf5d0}.c3{background:#f3dcff}"
    ".c4{background:#ffe9c7}.c5{background:#d0f2ee}.c6{background:#f7f3b5}.c7{background:#e3e3ff}"
    ".note{color:#a00}";

std::string page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<title>{}</title><style>{}</style></head><body>\n{}</body></html>\n",
      html_escape(title), kStyle, body);
}

std::string summary_line(const SimilarityReport& r, const std::string& lab) {
  const std::string common =
      r.common_limit > 0 ? fmt::format(" and code held by {} or more submissions", r.common_limit) : "";
  return fmt::format("{}: {} submissions, {} pairs compared, {} flagged (either holds at least {}% of the other's text, "
                     "at least {} tokens; skeleton{} removed, runs of at least {} tokens)",
                     lab, r.submissions.size(), r.pairs.size(), r.flagged(), r.threshold, r.min_shared, common, r.min_run);
}

std::string notes_html(const SimilarityReport& r) {
  std::string html;
  for (const auto& s : r.submissions)
    for (const auto& f : s.files)
      if (!f.note.empty())
        html += fmt::format("<li>{}: {} {}</li>\n", html_escape(s.name), html_escape(f.name), html_escape(f.note));
  if (html.empty()) return "";
  return "<h2>Sources not compared in full</h2>\n<ul class=\"note\">\n" + html + "</ul>\n";
}

std::string index_row(const SimilarityReport& r, std::size_t i) {
  const PairResult& p = r.pairs[i];
  const std::string link = has_page(r, i) ? fmt::format("<a href=\"{}\">side by side</a>", page_name(i + 1)) : "";
  return fmt::format(
      "<tr class=\"pair\" data-rank=\"{0}\" data-a=\"{1}\" data-b=\"{2}\" data-a-in-b=\"{3}\" data-b-in-a=\"{4}\">"
      "<td class=\"n\">{0}</td><td>{1}</td><td>{2}</td><td class=\"n\">{3}%</td><td class=\"n\">{4}%</td>"
      "<td>{5}</td><td>{6}</td></tr>\n",
      i + 1, html_escape(r.submissions[p.a].name), html_escape(r.submissions[p.b].name), p.percent_a_in_b,
      p.percent_b_in_a, longest_text(p), link);
}

// One side of a pair page: its lines, each run's lines in the run's colour, the first line of a
// run an anchor that jumps to the same run on the other side.
std::string side_html(const SubmissionText& s, const std::vector<SharedRun>& runs, bool left) {
  const int lines = s.line_count();
  std::vector<int> colour(static_cast<std::size_t>(lines) + 1, -1);
  std::vector<int> starts(static_cast<std::size_t>(lines) + 1, -1);
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const int first = left ? runs[k].left_first : runs[k].right_first;
    const int last = std::min(left ? runs[k].left_last : runs[k].right_last, lines);
    if (first < 1 || first > lines) continue;
    if (starts[first] < 0) starts[first] = static_cast<int>(k);
    for (int l = first; l <= last; ++l)
      if (colour[l] < 0) colour[l] = static_cast<int>(k);
  }
  const char* self = left ? "a" : "b";
  const char* other = left ? "b" : "a";
  std::string html = fmt::format("<div class=\"side\"><h3>{}</h3>\n", html_escape(s.name));
  int doc_line = 1;
  for (const auto& f : s.files) {
    html += fmt::format("<h3>{}{}</h3><div class=\"src\">", html_escape(f.name),
                        f.note.empty() ? "" : " <span class=\"note\">(" + html_escape(f.note) + ")</span>");
    for (std::size_t i = 0; i < f.lines.size(); ++i, ++doc_line) {
      const auto at = static_cast<std::size_t>(doc_line - 1);
      std::string cls = s.handout[at] ? "h" : at < s.common.size() && s.common[at] ? "m" : "";
      if (colour[doc_line] >= 0) cls = fmt::format("c{} run", colour[doc_line] % kColours);
      std::string anchor;
      if (starts[doc_line] >= 0)
        anchor = fmt::format("<a class=\"jump\" id=\"{0}{2}\" href=\"#{1}{2}\" title=\"the same run on the other side\">&#8644;</a>",
                             self, other, starts[doc_line]);
      html += fmt::format("<div class=\"{}\"><span class=\"ln\">{}</span>{}{}</div>", cls, i + 1,
                          html_escape(f.lines[i]), anchor);
    }
    html += "</div>\n";
  }
  return html + "</div>\n";
}

}  // namespace

std::string pairs_csv(const SimilarityReport& r) {
  std::string csv =
      "rank,submission_a,submission_b,percent_a_in_b,percent_b_in_a,longest_run_tokens,longest_run_a,"
      "longest_run_b,flagged,page\r\n";
  for (std::size_t i = 0; i < r.pairs.size(); ++i) {
    const PairResult& p = r.pairs[i];
    const auto& a = r.submissions[p.a];
    const auto& b = r.submissions[p.b];
    const bool run = p.longest.tokens > 0;
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{}\r\n", i + 1, csv_field(a.name), csv_field(b.name),
                       p.percent_a_in_b, p.percent_b_in_a, p.longest.tokens,
                       csv_field(run ? describe_lines(a, p.longest.left_first, p.longest.left_last) : ""),
                       csv_field(run ? describe_lines(b, p.longest.right_first, p.longest.right_last) : ""),
                       p.flagged ? "yes" : "no", has_page(r, i) ? page_name(i + 1) : "");
  }
  return csv;
}

std::string similarity_table(const SimilarityReport& r, const std::string& lab, int max_rows) {
  std::string text = display_one_line(summary_line(r, lab)) + "\n";
  if (r.flagged() == 0) return text + "no pair reached the threshold\n";
  text += fmt::format("{:>5}  {:>6}  {:>6}  {:<24}  {}\n", "rank", "a in b", "b in a", "longest shared run", "a, b");
  int shown = 0;
  for (std::size_t i = 0; i < r.pairs.size() && r.pairs[i].flagged && shown < max_rows; ++i, ++shown) {
    const PairResult& p = r.pairs[i];
    text += fmt::format("{:>5}  {:>5}%  {:>5}%  {:<24}  {}, {}\n", i + 1, p.percent_a_in_b, p.percent_b_in_a,
                        longest_text(p), display_one_line(r.submissions[p.a].name),
                        display_one_line(r.submissions[p.b].name));
  }
  if (r.flagged() > shown) text += fmt::format("... {} more flagged pairs in pairs.csv\n", r.flagged() - shown);
  return text;
}

std::string index_html(const SimilarityReport& r, const std::string& lab) {
  std::string body = fmt::format("<h1>Similar submissions: {}</h1>\n", html_escape(lab)) + caveat(r);
  body += fmt::format("<p id=\"summary\">{}</p>\n", html_escape(summary_line(r, lab)));
  const auto with_common = std::count_if(r.submissions.begin(), r.submissions.end(), [](const SubmissionText& s) {
    return std::find(s.common.begin(), s.common.end(), true) != s.common.end();
  });
  if (with_common > 0)
    body += fmt::format("<p id=\"common\">{} submissions hold code that {} or more submissions hold; it was taken out "
                        "before comparing (blue-grey on the pair pages). A common source explains most such code; a "
                        "solution passed around a large group looks the same: <code>--common 0</code> compares it "
                        "too.</p>\n",
                        with_common, r.common_limit);
  body += "<p>a in b: the share of a's own text (skeleton removed) that is also in b, and the other way round. "
          "Every pair, flagged or not, is in <a href=\"pairs.csv\">pairs.csv</a>.</p>\n";
  if (r.flagged() == 0) {
    body += "<p id=\"no-flags\">No pair reached the threshold.</p>\n";
  } else {
    body += "<table id=\"pairs\"><tr><th>rank</th><th>a</th><th>b</th><th>a in b</th><th>b in a</th>"
            "<th>longest shared run</th><th></th></tr>\n";
    for (std::size_t i = 0; i < r.pairs.size() && r.pairs[i].flagged; ++i) body += index_row(r, i);
    body += "</table>\n";
    if (r.flagged() > kMaxPairPages)
      body += fmt::format("<p>Side-by-side pages are written for the first {} flagged pairs.</p>\n", kMaxPairPages);
  }
  return page("Similar submissions: " + lab, body + notes_html(r));
}

std::string pair_html(const SimilarityReport& r, const std::string& lab, std::size_t rank) {
  const PairResult& p = r.pairs.at(rank - 1);
  const auto& a = r.submissions[p.a];
  const auto& b = r.submissions[p.b];
  std::string body = fmt::format("<p><a href=\"index.html\">all flagged pairs</a></p>\n<h1>{} and {}</h1>\n",
                                 html_escape(a.name), html_escape(b.name));
  body += caveat(r);
  body += fmt::format(
      "<p id=\"numbers\">Rank {}. {}% of {}'s text is also in {}; {}% of {}'s is in {}. Longest shared run: {}. "
      "Each shared run has one colour on both sides; &#8644; jumps to the same run on the other side. Grey lines "
      "are handout code, blue-grey ones code that {} or more submissions hold: neither was compared.</p>\n",
      rank, p.percent_a_in_b, html_escape(a.name), html_escape(b.name), p.percent_b_in_a, html_escape(b.name),
      html_escape(a.name), longest_text(p), r.common_limit);
  body += "<div class=\"sides\">\n" + side_html(a, p.runs, true) + side_html(b, p.runs, false) + "</div>\n";
  return page(lab + ": " + a.name + " and " + b.name, body);
}

Result<void> write_similarity_site(const SimilarityReport& r, const std::string& lab, const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return fail(Errc::io, "create " + out.string() + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("pair-") && name.ends_with(".html")) fs::remove(entry.path(), ec);
  }
  for (std::size_t i = 0; has_page(r, i); ++i)
    IPCG_CHECK(write_file_atomically(out / page_name(i + 1), pair_html(r, lab, i + 1)));
  IPCG_CHECK(write_file_atomically(out / "pairs.csv", pairs_csv(r)));
  return write_file_atomically(out / "index.html", index_html(r, lab));
}

}  // namespace ipcg::similarity
