#include "report/junit_report.hpp"

#include "report/feedback.hpp"
#include "report/format.hpp"
#include "report/sanitize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace ipcg {
namespace {

// The element a status becomes, or "" for passed.
std::string_view element_for(Status status) {
  switch (status) {
    case Status::passed: return "";
    case Status::failed: return "failure";
    case Status::skipped: return "skipped";
    case Status::timeout: case Status::hung: return "error";  // it did not end: no verdict on the output
    default: return "error";
  }
}

struct Counts {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
};

Counts count(const LabResult& r) {
  Counts c{.tests = r.tests.size()};
  for (const TestResult& t : r.tests) {
    const std::string_view element = element_for(t.status);
    c.failures += element == "failure";
    c.errors += element == "error";
    c.skipped += element == "skipped";
  }
  return c;
}

std::string attr(std::string_view name, std::string_view value) {
  return fmt::format(" {}=\"{}\"", name, xml_escape(value, true));
}

std::string count_attrs(const LabResult& r) {
  const Counts c = count(r);
  return fmt::format(" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\"",
                     c.tests, c.failures, c.errors, c.skipped, r.duration_seconds);
}

std::string isolation_text(const IsolationInfo& iso) {
  std::string text(to_string(iso.level));
  if (!iso.setting.empty()) text += " (" + iso.setting + ")";
  if (!iso.reason.empty()) text += ": " + iso.reason;
  return text;
}

void write_properties(const LabResult& r, std::ostream& os) {
  const std::pair<std::string_view, std::string> properties[] = {
      {"title", r.title},
      {"mechanism", r.mechanism},
      {"submission", r.submission},
      {"seed", std::to_string(r.seed)},
      {"score", format_points(r.score)},
      {"max_score", format_points(r.max_score)},
      {"isolation", isolation_text(r.isolation)},
      {"grader_version", r.grader_version},
      {"spec_hash", r.spec_hash}};
  os << "    <properties>\n";
  for (const auto& [name, value] : properties)
    os << "      <property" << attr("name", name) << attr("value", value) << "/>\n";
  os << "    </properties>\n";
}

// Mixed verdicts across seeds make a test flaky: then every seed that did not pass is listed.
bool is_flaky(const TestResult& t) {
  const auto passed = [](const Attempt& a) { return a.status == Status::passed; };
  return std::any_of(t.attempts.begin(), t.attempts.end(), passed) &&
         !std::all_of(t.attempts.begin(), t.attempts.end(), passed);
}

void write_flaky(const TestResult& t, bool withheld, std::ostream& os) {
  for (const Attempt& a : t.attempts) {
    if (a.status == Status::passed) continue;
    std::string message = fmt::format("seed {}", a.seed);
    if (!withheld && !a.message.empty()) message += ": " + display_one_line(a.message);
    os << "      <flakyFailure" << attr("message", message) << attr("type", to_string(a.status))
       << "/>\n";
  }
}

void write_verdict(const TestResult& t, bool withheld, std::ostream& os) {
  const std::string_view element = element_for(t.status);
  if (element.empty()) return;
  const std::string message = withheld ? std::string(kWithheldNote) : display_one_line(t.message);
  os << "      <" << element << attr("message", message) << attr("type", to_string(t.status));
  const std::string details = withheld ? "" : test_feedback(t, {});
  if (element == "skipped" || details.empty()) {
    os << "/>\n";
    return;
  }
  os << '>' << xml_escape(details) << "</" << element << ">\n";
}

std::string classname(const LabResult& r, const TestResult& t) {
  return r.lab + "." + (t.property.empty() ? t.name : t.property);
}

void write_testcase(const LabResult& r, const TestResult& t, const JunitOptions& options,
                    std::ostream& os) {
  const bool withheld = details_withheld(t, options.show_hidden_details);
  std::ostringstream children;
  write_verdict(t, withheld, children);
  if (is_flaky(t)) write_flaky(t, withheld, children);
  if (!withheld && !t.output.empty())
    children << "      <system-out>" << xml_escape(t.output) << "</system-out>\n";
  os << "    <testcase" << attr("name", t.name) << attr("classname", classname(r, t))
     << fmt::format(" time=\"{:.3f}\"", t.duration_seconds);
  if (children.str().empty()) os << "/>\n";
  else os << ">\n" << children.str() << "    </testcase>\n";
}

}  // namespace

std::string xml_escape(std::string_view text, bool attribute) {
  const std::string clean = sanitize_for_display(text);
  std::string out;
  out.reserve(clean.size());
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    // U+FFFE and U+FFFF (EF BF BE/BF) are valid UTF-8 but not XML characters.
    if (clean.compare(i, 2, "\xEF\xBF") == 0 && i + 2 < clean.size() &&
        (clean[i + 2] == '\xBE' || clean[i + 2] == '\xBF')) {
      i += 2;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;  // attributes are double-quoted
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      default: out += c;
    }
  }
  return out;
}

void write_junit_report(const LabResult& r, std::ostream& os, const JunitOptions& options) {
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  os << "<testsuites" << attr("name", r.lab) << count_attrs(r) << ">\n";
  os << "  <testsuite" << attr("name", r.lab) << count_attrs(r) << ">\n";
  write_properties(r, os);
  for (const TestResult& t : r.tests) write_testcase(r, t, options, os);
  // The compiler writes to stderr; its output is the feedback when the build failed.
  if (!r.build.compiler_output.empty())
    os << "    <system-err>" << xml_escape(r.build.compiler_output) << "</system-err>\n";
  os << "  </testsuite>\n</testsuites>\n";
}

}  // namespace ipcg
