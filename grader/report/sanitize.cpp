#include "report/sanitize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace ipcg {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

struct Decoded {
  char32_t cp = kInvalid;  // kInvalid: the byte at the front starts no valid sequence
  std::size_t length = 1;
};

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;  // C0/C1 leads only make overlong forms
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;  // above F4 is past U+10FFFF
  return 0;
}

// The smallest code point each length may encode: anything below is an overlong form, which
// decoders disagree about and so must not pass.
constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};

Decoded decode(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  const std::size_t n = sequence_length(lead);
  if (n == 0 || n > s.size()) return {};
  if (n == 1) return {lead, 1};
  char32_t cp = lead & (0x7F >> n);
  for (std::size_t i = 1; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (c & 0x3F);
  }
  const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  if (cp < kMinForLength[n] || cp > 0x10FFFF || surrogate) return {};
  return {cp, n};
}

// Code points a terminal or viewer acts on instead of showing: they could move the cursor,
// recolour, or reorder what follows (bidi overrides, "Trojan Source").
bool is_control(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return cp != '\t' && cp != '\n';
  if (cp >= 0x80 && cp <= 0x9F) return true;
  if (cp == 0x2028 || cp == 0x2029) return true;  // line and paragraph separators
  if (cp >= 0x202A && cp <= 0x202E) return true;
  if (cp >= 0x2066 && cp <= 0x2069) return true;
  return cp == 0x200E || cp == 0x200F || cp == 0x061C;  // bidi marks
}

std::string escape(char32_t cp) {
  if (cp == '\r') return "\\r";
  if (cp < 0x80) return fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
  return fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
}

void append_sanitized(std::string& out, std::string_view rest, Decoded d) {
  if (d.cp == kInvalid) {
    out += kReplacement;
  } else if (d.cp == '\r' && rest.size() > 1 && rest[1] == '\n') {
    // CRLF: the '\n' that follows ends the line anyway.
  } else if (is_control(d.cp)) {
    out += escape(d.cp);
  } else {
    out.append(rest.substr(0, d.length));
  }
}

}  // namespace

std::string sanitize_for_display(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const Decoded d = decode(text);
    append_sanitized(out, text, d);
    text.remove_prefix(d.length);
  }
  return out;
}

std::vector<std::string> display_lines(std::string_view text) {
  const std::string clean = sanitize_for_display(text);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < clean.size()) {
    const std::size_t end = std::min(clean.find('\n', start), clean.size());
    lines.push_back(clean.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string display_one_line(std::string_view text) {
  const std::string clean = sanitize_for_display(text);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  while (!text.empty()) {
    const Decoded d = decode(text);
    if (d.cp == kInvalid) return false;
    text.remove_prefix(d.length);
  }
  return true;
}

}  // namespace ipcg
