// What the course-platform writers (gradescope, prairielearn, autolab, junit, tap, github) say
// alike, so a test reads the same on every platform (internal to grader_report):
//
//   const bool withheld = details_withheld(test, options.show_hidden_details);
//   std::string text = withheld ? std::string(kWithheldNote)
//                               : test_feedback(test, {.output = shows_output(test, verbose)});
//   std::string line = lab_summary(result);   // "15/65 points, 2/9 tests passed, 1 skipped"
//
// Every string returned here is sanitized (sanitize.hpp): valid UTF-8, no control character but
// '\t' and '\n', so a writer only adds its own format's escaping.
#pragma once

#include "harness/core/result.hpp"
#include "report/messages.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ipcg {

inline constexpr std::string_view kWithheldNote = "(hidden test: details withheld)";

// A hidden test keeps its inputs secret: its message, evidence and output would reveal them.
bool details_withheld(const TestResult& test, bool show_hidden_details);

// A test's captured output is feedback when it did not pass; a passed test's only on request.
bool shows_output(const TestResult& test, bool verbose);

// The statuses of a test that ran and did not establish its property (failed, timeout, crashed,
// killed_by_filter): only those name it. A skipped, unbuilt or grader-error test never checked it.
bool names_property(Status status);

// "isolation: full (root)", or "isolation: reduced (unprivileged) — why", on one line. The
// platform writers say it in English; the text report in its language (the setting and the reason
// as the sandbox gave them).
std::string isolation_line(const IsolationInfo& iso, Lang lang = Lang::en);

// "timeout: output equals the reference's", or just the status when it names no property.
std::string verdict_line(const TestResult& test);

struct FeedbackParts {
  bool message = true;
  bool evidence = true;
  bool output = false;  // under an "output:" line, each line behind "| "
};

// The parts asked for, one per line, sanitized; "" when there is nothing to say. The evidence of
// a timed-out or hung test ends with its limit_note.
std::string test_feedback(const TestResult& test, FeedbackParts parts);

std::size_t count_status(const LabResult& result, Status status);

// "lab1 — <title> (<mechanism>)", on one line.
std::string lab_heading(const LabResult& result);

// "15/65 points, 2/9 tests passed, 1 skipped" (the text report's footer says the same, in its
// language).
std::string lab_summary(const LabResult& result, Lang lang = Lang::en);

// Heading, summary, build verdict (with the compiler output when the build failed, or always
// when verbose), isolation and provenance: the text a platform shows for the whole submission.
std::string run_overview(const LabResult& result, bool verbose);

// text cut to about keep bytes: its head and tail around a line saying what was cut and why
// ("[... <why>: 1000 of 5000000 bytes shown ...]"), split at UTF-8 boundaries. The tail is kept
// because the end of a log (the crash, the last request) is often where the failure shows.
std::string truncate_middle(std::string_view text, std::size_t keep, std::string_view why);

}  // namespace ipcg
