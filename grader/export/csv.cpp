#include "export/csv.hpp"

namespace ipcg::lms::csv {

Result<std::vector<Record>> parse(std::string_view text, const std::string& source) {
  std::vector<Record> records;
  Record record{.line = 1};
  std::string field;
  int line = 1;
  bool quoted = false, was_quoted = false, field_started = false;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    was_quoted = field_started = false;
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(record));
    record = Record{.line = line};
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      ++line;
      end_record();
    } else if (c == '"' && !field_started) {
      quoted = was_quoted = field_started = true;
    } else if (was_quoted) {
      return fail(Errc::config, source + ":" + std::to_string(line) + ": text after a closing quote");
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return fail(Errc::config, source + ":" + std::to_string(record.line) + ": a quote is never closed");
  if (!record.fields.empty() || !field.empty() || field_started) end_record();
  return records;
}

std::string cell(std::string_view text, bool always_quote) {
  if (!always_quote && text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

bool looks_like_formula(std::string_view text) {
  return !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos;
}

std::string inert(std::string_view text) {
  return looks_like_formula(text) ? "'" + std::string(text) : std::string(text);
}

}  // namespace ipcg::lms::csv
