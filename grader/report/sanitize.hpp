// Making untrusted text safe to print: student output may hold escape sequences, carriage
// returns or invalid UTF-8 meant to forge "[  PASSED  ]" lines or colours in a terminal.
//
//   for (const std::string& line : display_lines(test.output)) os << "    " << line << '\n';
//   os << display_one_line(test.name);            // newlines escaped too: stays on one line
//   bool ok = is_valid_utf8(json_text);
//
// Every result is valid UTF-8 with no control character but '\t' (and '\n' between lines).
// Escapes are for reading, not reversible: a student who prints a literal "\x1b" looks the same
// as one who printed ESC, and neither can do more than show those four characters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipcg {

// Invalid UTF-8 becomes U+FFFD (one per bad byte); C0 controls except \t and \n, DEL, C1
// controls, and bidi/line-separator code points become visible escapes (\r, \x1b, \u009b).
// A '\r' right before '\n' is dropped (CRLF output is common and harmless). '\n' is kept.
std::string sanitize_for_display(std::string_view text);

// sanitize_for_display, split at '\n'. A final newline does not make an empty last line;
// empty text gives no lines.
std::vector<std::string> display_lines(std::string_view text);

// sanitize_for_display with '\n' escaped too, so the text cannot leave its line.
std::string display_one_line(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace ipcg
