// The gradebook page: one self-contained static HTML file (inline CSS and SVG, no script, no
// network) with the class's totals, a score histogram, per-test pass rates and one row per
// submission linking to its text report.
//
//   gradebook::Gradebook book = ...;  // gradebook.hpp
//   std::string page = gradebook::gradebook_html(book, gradebook::summarize(book), {.reports_href = "reports/"});
//
// Every number a test or a script may want carries a stable id or data attribute (ids and
// attributes listed in docs/report-format.md, "Gradebook page"). Every string from the file is
// escaped: submission names and messages are student-controlled.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gradebook/gradebook.hpp"

namespace ipcg::gradebook {

struct HtmlOptions {
  std::string reports_href = "reports/";  // where <submission>.txt lives, relative to the page
  std::optional<RegradeNote> regrade;     // shown as "Last regrade" when set
};

std::string gradebook_html(const Gradebook& book, const Summary& summary, const HtmlOptions& options = {});

// Text for HTML content or a quoted attribute: control characters and invalid UTF-8 made visible
// (as in the text report), then & < > " ' as entities.
std::string html_escape(std::string_view text);

// reports_href + the percent-encoded submission name + ".txt": a name cannot leave the folder
// or the attribute.
std::string report_href(std::string_view reports_href, std::string_view submission);

}  // namespace ipcg::gradebook
