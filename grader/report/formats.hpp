// Every report format behind one call; the CLI's --format picks one by name:
//
//   ReportOptions options{.color = isatty(1), .verbose = v, .show_hidden_details = ta};
//   options.github.nonce = random_u64();
//   options.github_summary = &step_summary_file;      // github: $GITHUB_STEP_SUMMARY, appended
//   IPCG_CHECK(write_report(format, result, options, std::cout));
//   return exit_code_for(result);
//
// The fields at the top of ReportOptions apply to every format and override the same-named
// fields of the per-format structs below them, which carry only that format's own knobs.
#pragma once

#include "harness/core/error.hpp"
#include "harness/core/result.hpp"
#include "report/exit_code.hpp"  // every caller of a writer also needs the exit code
#include "report/github_report.hpp"
#include "report/gradescope_report.hpp"
#include "report/prairielearn_report.hpp"
#include "report/text_report.hpp"

#include <ostream>
#include <string_view>
#include <vector>

namespace ipcg {

struct ReportOptions {
  bool color = false;                // text: ANSI colours (the CLI decides: TTY, NO_COLOR, TERM)
  bool verbose = false;              // captured output of passed tests, build warnings
  bool show_hidden_details = false;  // TAs: message/evidence/output of hidden tests
  int json_indent = 2;               // json, gradescope, prairielearn: -1 for one line
  GradescopeOptions gradescope{};    // visibilities, leaderboard
  PrairieLearnOptions prairielearn{};  // max_bytes
  GithubOptions github{};            // nonce, source_dir
  std::ostream* github_summary = nullptr;  // github: where the Markdown summary goes, if wanted
  // text only: the language of the human report and the lab's strings in it (docs/i18n.md).
  // Every other format ignores both and is byte-identical in every language.
  Lang lang = Lang::en;
  LabText lab_text{};
};

// text, json, gradescope, prairielearn, autolab, junit, tap, github (text is the default).
std::vector<std::string_view> report_formats();

// Writes result in format to os; an unknown format is Errc::usage and writes nothing.
Result<void> write_report(std::string_view format, const LabResult& result,
                          const ReportOptions& options, std::ostream& os);

}  // namespace ipcg
