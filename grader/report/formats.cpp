#include "report/formats.hpp"

#include "report/autolab_report.hpp"
#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "report/tap_report.hpp"
#include "report/text_report.hpp"

#include <fmt/format.h>

#include <array>

namespace ipcg {
namespace {

using Writer = void (*)(const LabResult&, const ReportOptions&, std::ostream&);

struct Format {
  std::string_view name;
  Writer write;
};

void text(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  write_text_report(r, os, {o.color, o.verbose, o.show_hidden_details, o.lang, o.lab_text});
}

void json(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  os << json_report(r, {.show_hidden_details = o.show_hidden_details, .indent = o.json_indent})
     << '\n';
}

void gradescope(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  GradescopeOptions g = o.gradescope;
  g.verbose = o.verbose;
  g.show_hidden_details = o.show_hidden_details;
  g.indent = o.json_indent;
  write_gradescope_report(r, os, g);
}

void prairielearn(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  PrairieLearnOptions p = o.prairielearn;
  p.verbose = o.verbose;
  p.show_hidden_details = o.show_hidden_details;
  p.indent = o.json_indent;
  write_prairielearn_report(r, os, p);
}

void autolab(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  write_autolab_report(r, os, {o.verbose, o.show_hidden_details});
}

void junit(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  write_junit_report(r, os, {o.show_hidden_details});
}

void tap(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  write_tap_report(r, os, {o.verbose, o.show_hidden_details});
}

void github(const LabResult& r, const ReportOptions& o, std::ostream& os) {
  GithubOptions g = o.github;
  g.verbose = o.verbose;
  g.show_hidden_details = o.show_hidden_details;
  write_github_report(r, os, g);
  if (o.github_summary != nullptr) *o.github_summary << github_summary(r, g);
}

constexpr std::array<Format, 8> kFormats = {{{"text", text},
                                         {"json", json},
                                         {"gradescope", gradescope},
                                         {"prairielearn", prairielearn},
                                         {"autolab", autolab},
                                         {"junit", junit},
                                         {"tap", tap},
                                         {"github", github}}};

}  // namespace

std::vector<std::string_view> report_formats() {
  std::vector<std::string_view> names;
  for (const Format& f : kFormats) names.push_back(f.name);
  return names;
}

Result<void> write_report(std::string_view format, const LabResult& result,
                          const ReportOptions& options, std::ostream& os) {
  for (const Format& f : kFormats) {
    if (f.name != format) continue;
    f.write(result, options, os);
    return {};
  }
  return fail(Errc::usage, fmt::format("unknown report format '{}' (one of: {})", format,
                                       fmt::join(report_formats(), ", ")));
}

}  // namespace ipcg
