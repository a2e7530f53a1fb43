// The language of the human text report and the lab's own strings in it, for the commands that
// print one (run, batch; docs/i18n.md):
//
//   const Lang lang = report_language(args.lang);  // --lang, else LC_ALL/LC_MESSAGES/LANG, else en
//   ReportOptions report{...};
//   report.lang = lang;
//   report.lab_text = lab_text_for(lab, lang);     // title_ko, property_ko, ... from lab.toml
#pragma once

#include <string>
#include <vector>

#include "harness/spec/lab_spec.hpp"
#include "report/messages.hpp"
#include "report/text_report.hpp"

namespace ipcg {

// The --lang value ("en", "ko") when given, else the locale's language (lang_from_locale over the
// environment). The CLI checks the value is one of report_languages() before this runs.
Lang report_language(const std::string& flag);

// The lab's strings in lang, from its LabSpec; empty where lab.toml gives none (English shows).
LabText lab_text_for(const LabSpec& lab, Lang lang);

// "en, ko": for --lang's help and its check.
std::vector<std::string> report_language_codes();

}  // namespace ipcg
