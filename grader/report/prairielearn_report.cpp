#include "report/prairielearn_report.hpp"

#include "report/feedback.hpp"
#include "report/sanitize.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;  // fields in the order docs/report-format.md lists them

// Enough of a cut string to still help; below this a field is left as it is.
constexpr std::size_t kMinKept = 1024;
constexpr std::size_t kMaxFormatErrors = 100;  // lines; the whole build log is in "output"
constexpr std::size_t kMaxFormatErrorLine = 500;
constexpr std::string_view kCutReason = "output truncated to fit PrairieLearn's 1 MB limit";

std::string dump(const Json& doc, int indent) {
  return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string test_message(const TestResult& t, bool withheld) {
  if (t.status == Status::passed) return "";
  return withheld ? std::string(kWithheldNote) : sanitize_for_display(t.message);
}

// A test that did not pass starts with its real status and property, then the evidence.
std::string test_output(const TestResult& t, bool withheld, bool verbose) {
  if (t.status == Status::passed)
    return withheld ? "" : test_feedback(t, {.message = false, .evidence = false,
                                             .output = shows_output(t, verbose)});
  if (withheld) return verdict_line(t);
  const std::string details =
      test_feedback(t, {.message = false, .output = shows_output(t, verbose)});
  return details.empty() ? verdict_line(t) : verdict_line(t) + '\n' + details;
}

Json test_json(const TestResult& t, const PrairieLearnOptions& options) {
  const bool withheld = details_withheld(t, options.show_hidden_details);
  return {{"name", t.name},
          {"description", t.description},
          {"points", t.score},
          {"max_points", t.max_score},
          {"message", test_message(t, withheld)},
          {"output", test_output(t, withheld, options.verbose)}};
}

Json format_errors(const BuildResult& build) {
  std::vector<std::string> lines = display_lines(build.compiler_output);
  for (std::string& line : lines) line = truncate_middle(line, kMaxFormatErrorLine, "line cut");
  if (lines.size() > kMaxFormatErrors) {
    const std::size_t more = lines.size() - kMaxFormatErrors;
    lines.resize(kMaxFormatErrors);
    lines.push_back(fmt::format("[... {} more lines in the output ...]", more));
  }
  if (lines.empty()) lines.push_back("the submission did not build");
  return lines;
}

double fraction(const LabResult& r) {
  if (r.max_score <= 0) return 0;
  return std::clamp(r.score / r.max_score, 0.0, 1.0);
}

Json document(const LabResult& r, const PrairieLearnOptions& options) {
  Json tests = Json::array();
  for (const TestResult& t : r.tests) tests.push_back(test_json(t, options));
  Json doc = {{"gradable", r.build.ok},
              {"score", fraction(r)},
              {"message", r.build.ok ? lab_summary(r) : "The submission did not build."},
              {"output", run_overview(r, options.verbose)},
              {"tests", tests}};
  if (!r.build.ok) doc["format_errors"] = format_errors(r.build);
  return doc;
}

// The strings a cut may shorten: outputs and messages, never names or numbers.
std::vector<Json*> cuttable_strings(Json& doc) {
  std::vector<Json*> fields = {&doc["output"], &doc["message"]};
  for (Json& t : doc["tests"]) {
    fields.push_back(&t["output"]);
    fields.push_back(&t["message"]);
  }
  return fields;
}

// Takes the longest string out of fields.
Json* take_longest(std::vector<Json*>& fields) {
  const auto size = [](const Json* j) { return j->get_ref<const std::string&>().size(); };
  const auto it = std::max_element(fields.begin(), fields.end(),
                                   [&](const Json* a, const Json* b) { return size(a) < size(b); });
  Json* field = *it;
  fields.erase(it);
  return field;
}

// Cuts the longest string by the excess (plus room for the mark) until the document fits; each
// raw byte removed shrinks the JSON by at least one byte, so one cut per field suffices unless
// the field is too short to give it all, and then the next longest gives the rest.
std::string fit(Json doc, std::size_t budget, int indent) {
  std::string text = dump(doc, indent);
  std::vector<Json*> fields = cuttable_strings(doc);
  while (text.size() > budget && !fields.empty()) {
    Json* field = take_longest(fields);
    const std::string& value = field->get_ref<const std::string&>();
    if (value.size() <= kMinKept) break;  // only short strings left: nothing worth cutting
    const std::size_t excess = text.size() - budget + 128;  // 128: the mark and its numbers
    const std::size_t keep = value.size() > excess + kMinKept ? value.size() - excess : kMinKept;
    *field = truncate_middle(value, keep, kCutReason);
    text = dump(doc, indent);
  }
  return text;
}

}  // namespace

std::string prairielearn_report(const LabResult& r, const PrairieLearnOptions& options) {
  const std::size_t budget = options.max_bytes > 0 ? options.max_bytes - 1 : 0;  // the newline
  return fit(document(r, options), budget, options.indent);
}

void write_prairielearn_report(const LabResult& result, std::ostream& os,
                               const PrairieLearnOptions& options) {
  os << prairielearn_report(result, options) << '\n';
}

}  // namespace ipcg
