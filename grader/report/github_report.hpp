// GitHub Actions workflow commands and job summary (docs/report-format.md, "GitHub Actions"):
//
//   GithubOptions gh{.nonce = random_u64()};       // the CLI passes a fresh random nonce
//   write_github_report(result, std::cout, gh);    // annotations, then the report in a
//                                                  // stop-commands block
//   summary_file << github_summary(result, gh);    // append to $GITHUB_STEP_SUMMARY
//
// One `::error file=F,line=L,col=C,title=T::message` per compiler error (`::warning` per compiler
// warning) and per test that did not pass, pointing at the student's source line when the
// compiler or the evidence names one. Everything a student can influence beyond an annotation's
// escaped one-line message is printed between `::stop-commands::<token>` and `::<token>::`,
// where the runner executes no command; the token is derived from the nonce and never occurs
// in the text it encloses.
#pragma once

#include "harness/core/result.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace ipcg {

struct GithubOptions {
  bool verbose = false;              // captured output of every test in the log
  bool show_hidden_details = false;  // message/evidence/output of hidden tests
  std::uint64_t nonce = 0;           // the stop-commands token comes from it: pass a random one
  // The submission folder relative to the repository root, to which the compiler's file names
  // are relative. Unset: the result's submission path when it is relative, else none.
  std::optional<std::string> source_dir{};
};

void write_github_report(const LabResult& result, std::ostream& os,
                         const GithubOptions& options = {});

// Markdown for $GITHUB_STEP_SUMMARY: a heading, the points, a table of the tests (points,
// status, what went wrong) and, when the build failed, the compiler output in a code block.
std::string github_summary(const LabResult& result, const GithubOptions& options = {});

// Workflow-command escaping: data (the message) escapes '%', CR and LF; a property value
// (file, title) also ',' and ':'.
std::string github_escape_data(std::string_view text);
std::string github_escape_property(std::string_view text);

// "pipeline.c:7:8: error: expected ';'" -> {file "pipeline.c", line 7, column 8, kind "error",
// message "expected ';'"}; kind and message empty for a "file:line:" prefix without a kind.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string kind;  // "error", "fatal error", "warning", "note" or ""
  std::string message;
};
std::optional<SourceLocation> parse_source_location(std::string_view text);

}  // namespace ipcg
