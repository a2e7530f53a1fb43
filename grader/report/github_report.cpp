#include "report/github_report.hpp"

#include "report/feedback.hpp"
#include "report/format.hpp"
#include "report/sanitize.hpp"
#include "report/text_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <sstream>
#include <vector>

namespace ipcg {
namespace {

// Only a name with one of these endings is taken for a source file: evidence such as
// "pipe:[31337]" or "limit: 5000 ms" must not become an annotation on a file that is not there.
constexpr std::array<std::string_view, 7> kSourceSuffixes = {".c", ".h", ".cc", ".cpp",
                                                             ".cxx", ".hpp", ".hh"};
// GitHub shows at most ten annotations of each level per step; more would only hide the tests'.
constexpr std::size_t kMaxCompilerAnnotations = 10;
constexpr std::array<std::string_view, 4> kKinds = {"fatal error", "error", "warning", "note"};

bool is_source_file(std::string_view name) {
  if (name.empty() || name.find(' ') != std::string_view::npos) return false;
  return std::any_of(kSourceSuffixes.begin(), kSourceSuffixes.end(),
                     [name](std::string_view s) { return name.ends_with(s); });
}

// Reads the digits at the front of text into value; returns how many there were.
std::size_t read_number(std::string_view text, int& value) {
  std::size_t n = 0;
  value = 0;
  while (n < text.size() && n < 9 && std::isdigit(static_cast<unsigned char>(text[n])))
    value = value * 10 + (text[n++] - '0');
  return n;
}

std::string_view skip_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

// What follows "file:line[:col]:": "error: msg", "warning: msg" or just a message.
void read_kind_and_message(std::string_view rest, SourceLocation& loc) {
  rest = skip_spaces(rest);
  for (std::string_view kind : kKinds) {
    if (rest.starts_with(kind) && rest.substr(kind.size()).starts_with(": ")) {
      loc.kind = kind;
      rest.remove_prefix(kind.size() + 2);
      break;
    }
  }
  loc.message = rest;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A token the enclosed text does not contain, so nothing inside can end the block early.
std::string stop_token(std::uint64_t nonce, std::string_view enclosed) {
  for (std::uint64_t i = 0;; ++i) {
    std::string token = fmt::format("ipcg-{:016x}", splitmix64(nonce + i));
    if (enclosed.find(token) == std::string_view::npos) return token;
  }
}

struct Annotation {
  std::string_view level;  // "error" or "warning"
  std::optional<SourceLocation> where;
  std::string title;
  std::string message;
};

struct Context {
  const LabResult& result;
  const GithubOptions& options;
  std::string source_dir;
};

std::string default_source_dir(const LabResult& r, const GithubOptions& options) {
  if (options.source_dir) return *options.source_dir;
  return std::filesystem::path(r.submission).is_relative() ? r.submission : "";
}

std::string repository_path(const Context& cx, const std::string& file) {
  if (cx.source_dir.empty() || !std::filesystem::path(file).is_relative()) return file;
  return (std::filesystem::path(cx.source_dir) / file).lexically_normal().string();
}

void write_annotation(const Context& cx, const Annotation& a, std::ostream& os) {
  os << "::" << a.level << ' ';
  if (a.where) {
    os << "file=" << github_escape_property(repository_path(cx, a.where->file))
       << ",line=" << a.where->line;
    if (a.where->column > 0) os << ",col=" << a.where->column;
    os << ',';
  }
  os << "title=" << github_escape_property(display_one_line(a.title))
     << "::" << github_escape_data(sanitize_for_display(a.message)) << '\n';
}

// Errors first: warnings must not use up the annotations GitHub shows.
std::vector<Annotation> compiler_annotations(const LabResult& r) {
  std::vector<Annotation> errors, warnings;
  for (const std::string& line : display_lines(r.build.compiler_output)) {
    const auto loc = parse_source_location(line);
    if (!loc || loc->kind == "note" || loc->kind.empty()) continue;
    const bool warning = loc->kind == "warning";
    auto& list = warning ? warnings : errors;
    if (list.size() == kMaxCompilerAnnotations) continue;
    list.push_back({warning ? "warning" : "error", loc,
                    r.lab + (warning ? ": compiler warning" : ": build failed"), loc->message});
  }
  if (!r.build.ok && errors.empty())
    errors.push_back({"error", std::nullopt, r.lab + ": build failed",
                      "the submission did not build; the compiler output is in the log"});
  errors.insert(errors.end(), warnings.begin(), warnings.end());
  return errors;
}

// The first message or evidence item that names a student's source line.
std::optional<SourceLocation> test_location(const TestResult& t) {
  if (auto loc = parse_source_location(t.message)) return loc;
  for (const std::string& item : t.evidence)
    if (auto loc = parse_source_location(item)) return loc;
  return std::nullopt;
}

Annotation test_annotation(const Context& cx, const TestResult& t) {
  const bool withheld = details_withheld(t, cx.options.show_hidden_details);
  const std::string details = withheld ? std::string(kWithheldNote) : test_feedback(t, {});
  const std::string message = verdict_line(t) + (details.empty() ? "" : "\n" + details);
  return {"error", withheld ? std::nullopt : test_location(t),
          fmt::format("{}: {} ({}/{} pts)", cx.result.lab, t.name, format_points(t.score),
                      format_points(t.max_score)),
          message};
}

// A build failure is annotated once, at the compiler's errors, not once per test.
bool annotates(const TestResult& t) {
  return t.status != Status::passed && t.status != Status::skipped &&
         t.status != Status::build_failed;
}

std::string text_report_of(const LabResult& r, const GithubOptions& options) {
  std::ostringstream text;
  write_text_report(r, text, {.color = false, .verbose = options.verbose,
                              .show_hidden_details = options.show_hidden_details});
  return text.str();
}

// --- Markdown -------------------------------------------------------------------------------

// Backslash-escapes every ASCII punctuation character (CommonMark allows it for each), so a
// student's text can make no link, image, HTML, emphasis or table cell break; one line.
std::string md(std::string_view text) {
  std::string out;
  for (char c : display_one_line(text)) {
    if (std::ispunct(static_cast<unsigned char>(c))) out += '\\';
    out += c;
  }
  return out;
}

std::string status_cell(Status s) {
  const std::string_view mark = s == Status::passed    ? "✅"
                                : s == Status::skipped ? "➖"
                                                       : "❌";
  return fmt::format("{} {}", mark, md(to_string(s)));
}

std::string details_cell(const TestResult& t, const GithubOptions& options) {
  if (t.status == Status::passed) return "";
  if (details_withheld(t, options.show_hidden_details)) return md(kWithheldNote);
  std::string text = names_property(t.status) ? t.property : "";
  if (!t.message.empty()) text += (text.empty() ? "" : ": ") + t.message;
  return md(text);
}

// A fence longer than any backtick run inside, so the text cannot close it.
std::string code_block(std::string_view text) {
  const std::string clean = sanitize_for_display(text);
  std::size_t longest = 0, run = 0;
  for (char c : clean) longest = std::max(longest, run = c == '`' ? run + 1 : 0);
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  std::string body = clean;
  if (!body.empty() && body.back() != '\n') body += '\n';
  return fence + "text\n" + body + fence + '\n';
}

}  // namespace

std::string github_escape_data(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') out += "%25";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

std::string github_escape_property(std::string_view text) {
  std::string out;
  for (char c : github_escape_data(text)) {
    if (c == ':') out += "%3A";
    else if (c == ',') out += "%2C";
    else out += c;
  }
  return out;
}

std::optional<SourceLocation> parse_source_location(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || !is_source_file(text.substr(0, colon))) return {};
  SourceLocation loc;
  loc.file = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  const std::size_t digits = read_number(rest, loc.line);
  if (digits == 0 || loc.line == 0 || digits >= rest.size() || rest[digits] != ':') return {};
  rest.remove_prefix(digits + 1);
  if (const std::size_t col = read_number(rest, loc.column); col > 0) {
    if (col >= rest.size() || rest[col] != ':') return {};
    rest.remove_prefix(col + 1);
  }
  read_kind_and_message(rest, loc);
  return loc;
}

void write_github_report(const LabResult& r, std::ostream& os, const GithubOptions& options) {
  const Context cx{r, options, default_source_dir(r, options)};
  for (const Annotation& a : compiler_annotations(r)) write_annotation(cx, a, os);
  for (const TestResult& t : r.tests)
    if (annotates(t)) write_annotation(cx, test_annotation(cx, t), os);
  os << github_escape_data(display_one_line(r.lab)) << ": " << lab_summary(r) << '\n';
  const std::string report = text_report_of(r, options);
  const std::string token = stop_token(options.nonce, report);
  os << "::group::" << github_escape_data(display_one_line(r.lab)) << " report\n";
  os << "::stop-commands::" << token << '\n' << report << "::" << token << "::\n";
  os << "::endgroup::\n";
}

std::string github_summary(const LabResult& r, const GithubOptions& options) {
  std::string out = "## " + md(lab_heading(r)) + "\n\n";
  out += fmt::format("**{}/{} points** · {}/{} tests passed · seed {}\n\n",
                     format_points(r.score), format_points(r.max_score),
                     count_status(r, Status::passed), r.tests.size(), r.seed);
  if (!r.build.ok)
    out += "**The submission did not build.**\n\n" + code_block(r.build.compiler_output) + '\n';
  out += "| # | Test | Points | Status | What went wrong |\n|---:|---|---:|---|---|\n";
  for (std::size_t i = 0; i < r.tests.size(); ++i) {
    const TestResult& t = r.tests[i];
    out += fmt::format("| {} | {} | {}/{} | {} | {} |\n", i + 1, md(t.name),
                       format_points(t.score), format_points(t.max_score), status_cell(t.status),
                       details_cell(t, options));
  }
  return out;
}

}  // namespace ipcg
