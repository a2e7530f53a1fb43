// RFC 4180 for the export module: a strict reader (roster.csv) and the cells the writers emit.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::lms::csv {

struct Record {
  int line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
};

// Records of a CSV text (CRLF or LF line ends, quoted fields may hold commas, quotes and line
// breaks); Errc::config naming "<source>:<line>" for a quote left open or text after a closing quote.
Result<std::vector<Record>> parse(std::string_view text, const std::string& source);

// A field quoted when it holds a comma, quote, CR or LF (or always), quotes doubled.
std::string cell(std::string_view text, bool always_quote = false);

// Text a person reads (a name, a section, feedback) that a spreadsheet would take for a formula
// (it starts with =, +, -, @, tab or CR) gets a leading apostrophe, OWASP's advice against CSV
// injection. Identifiers and scores are never passed through it: an LMS matches on them.
std::string inert(std::string_view text);
bool looks_like_formula(std::string_view text);

}  // namespace ipcg::lms::csv
