// The human report, laid out like GoogleTest's output (docs/report-format.md has the layout):
//
//   write_text_report(result, std::cout, {.color = isatty(1), .verbose = false,
//                                         .show_hidden_details = false});
//
//   [==========] lab1 — Anonymous pipes (anonymous pipe)
//   [  FAILED  ] pipe_ends_closed (0/10 pts) — unused pipe ends closed
//       pid 412 still holds fd 4 (pipe:[31337], write end)
//   [==========] 120/160 points, 14/16 tests passed
//
// Every string that may come from a student is sanitized and indented, so lines at column 0
// (and every "[" tag) come only from the grader.
//
// In Korean (docs/i18n.md) the grader's fixed text comes from the catalogue (messages.hpp) and
// the lab's own strings from LabText; a check's message and evidence print as the check wrote them:
//
//   write_text_report(result, std::cout, {.lang = Lang::ko, .lab_text = lab_text_for(spec, Lang::ko)});
//   [==========] lab1 — 익명 파이프 (익명 파이프)
//   [   실패   ] pipe_ends_closed (0/10점) — 쓰지 않는 파이프 끝을 닫음
#pragma once

#include "harness/core/result.hpp"
#include "report/exit_code.hpp"  // every caller of a writer also needs the exit code
#include "report/messages.hpp"

#include <functional>
#include <map>
#include <ostream>
#include <string>

namespace ipcg {

// A lab's own strings in the report's language (lab.toml's title_ko, property_ko, ...), which the
// result model carries in English only. The CLI fills it from the LabSpec; a writer never sees the
// spec. An empty string or a test not listed: the result's English text.
struct LabText {
  struct Test {
    std::string description;
    std::string property;
    std::string hint;
  };
  std::string title;
  std::string mechanism;
  std::map<std::string, Test, std::less<>> tests;  // by test name
};

struct TextOptions {
  bool color = false;                // ANSI colours on the tags (green/red/yellow)
  bool verbose = false;              // captured output, build warnings and test durations
  bool show_hidden_details = false;  // TAs: message/evidence/output of hidden tests
  Lang lang = Lang::en;              // the language of the grader's fixed text
  LabText lab_text;                  // the lab's strings in lang; empty: English
};

void write_text_report(const LabResult& result, std::ostream& os,
                       const TextOptions& options = {});

// The 12-column tag for a status: "[  PASSED  ]", "[ KILLED   ]", ...; in Korean "[   통과   ]"
// (12 terminal columns: Hangul takes two).
std::string_view text_tag(Status status, Lang lang = Lang::en);

}  // namespace ipcg
