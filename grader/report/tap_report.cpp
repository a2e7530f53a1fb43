#include "report/tap_report.hpp"

#include "report/feedback.hpp"
#include "report/sanitize.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kYamlIndent = "  ";

// A YAML scalar that stays on its line: JSON is YAML 1.2's flow syntax.
std::string scalar(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// TAP 14 reserves '#' (a directive follows) and '\' (its escape) in a description.
std::string description(std::string_view name) {
  std::string out;
  for (char c : display_one_line(name)) {
    if (c == '#' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void write_comment_lines(std::ostream& os, std::string_view text) {
  for (const std::string& line : display_lines(text)) os << "#   " << line << '\n';
}

void write_header(const LabResult& r, std::ostream& os, const TapOptions& options) {
  os << "TAP version 14\n";
  os << "1.." << r.tests.size() << '\n';
  os << "# " << lab_heading(r) << '\n';
  os << "# seed " << r.seed << " (rerun with --seed " << r.seed << ")\n";
  os << "# build: " << (r.build.ok ? "ok" : "FAILED") << '\n';
  if (!r.build.ok || options.verbose) write_comment_lines(os, r.build.compiler_output);
}

void write_yaml(const TestResult& t, const TapOptions& options, std::ostream& os) {
  const bool withheld = details_withheld(t, options.show_hidden_details);
  const auto line = [&os](std::string_view key, const Json& value) {
    os << kYamlIndent << key << ": " << scalar(value) << '\n';
  };
  os << kYamlIndent << "---\n";
  line("status", to_string(t.status));
  if (!t.property.empty()) line("property", t.property);
  line("score", t.score);
  line("max_score", t.max_score);
  line("duration_seconds", t.duration_seconds);
  if (withheld) {
    line("details_withheld", true);
  } else {
    if (!t.message.empty()) line("message", sanitize_for_display(t.message));
    if (!t.evidence.empty()) {
      os << kYamlIndent << "evidence:\n";
      for (const std::string& item : t.evidence)
        os << kYamlIndent << "  - " << scalar(sanitize_for_display(item)) << '\n';
    }
    if (shows_output(t, options.verbose)) line("output", sanitize_for_display(t.output));
  }
  os << kYamlIndent << "...\n";
}

void write_test(const TestResult& t, std::size_t number, const TapOptions& options,
                std::ostream& os) {
  const bool ok = t.status == Status::passed || t.status == Status::skipped;
  os << (ok ? "ok " : "not ok ") << number << " - " << description(t.name);
  if (t.status == Status::skipped) {
    os << " # SKIP";
    const bool withheld = details_withheld(t, options.show_hidden_details);
    if (!withheld && !t.message.empty()) os << ' ' << display_one_line(t.message);
    os << '\n';
    return;
  }
  os << '\n';
  if (t.status != Status::passed || shows_output(t, options.verbose)) write_yaml(t, options, os);
}

}  // namespace

void write_tap_report(const LabResult& r, std::ostream& os, const TapOptions& options) {
  write_header(r, os, options);
  for (std::size_t i = 0; i < r.tests.size(); ++i) write_test(r.tests[i], i + 1, options, os);
  os << "# " << lab_summary(r) << '\n';
}

}  // namespace ipcg
