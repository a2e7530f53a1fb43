#include "gradebook/gradebook.hpp"

#include <fmt/format.h>

#include <fstream>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

namespace ipcg::gradebook {
namespace {

using Json = nlohmann::json;

// One line of results.jsonl: a graded submission or a grader error, never both.
struct Line {
  std::optional<Submission> graded;
  std::optional<GraderError> error;
  std::string lab;
};

TestCell cell_from(const Json& t) {
  return {t.value("name", std::string()), t.value("property", std::string()),
          t.value("status", std::string()), t.value("score", 0.0), t.value("max_score", 0.0)};
}

Submission submission_from(const Json& doc, std::string name) {
  Submission s{std::move(name), doc.value("score", 0.0), doc.value("max_score", 0.0), true, {}};
  if (auto build = doc.find("build"); build != doc.end() && build->is_object())
    s.built = build->value("ok", true);
  if (auto tests = doc.find("tests"); tests != doc.end() && tests->is_array())
    for (const Json& t : *tests) s.tests.push_back(cell_from(t));
  return s;
}

// Throws nlohmann's exceptions on malformed lines; parse_results turns them into errors.
Line parse_line(const std::string& text) {
  // A truncated last line (a batch killed mid-write) throws here and is listed, not fatal.
  const Json doc = Json::parse(text, nullptr, true, false);
  if (!doc.is_object()) throw std::invalid_argument("not a JSON object");
  std::string name = doc.at("submission").get<std::string>();
  Line line{.lab = doc.value("lab", std::string())};
  if (doc.contains("error")) {
    line.error = GraderError{std::move(name), doc.at("error").get<std::string>()};
  } else if (doc.contains("not_submitted")) {  // `grader collect` found nothing to grade
    line.error = GraderError{std::move(name), "not submitted: " + doc.at("not_submitted").get<std::string>()};
  } else {
    if (!doc.contains("tests")) throw std::invalid_argument("neither \"tests\" nor \"error\"");
    line.graded = submission_from(doc, std::move(name));
  }
  return line;
}

void take_header(Gradebook& book, const std::string& text) {
  const Json doc = Json::parse(text, nullptr, false);
  if (!doc.is_object()) return;
  book.lab = doc.value("lab", std::string());
  book.title = doc.value("title", std::string());
  book.grader_version = doc.value("grader_version", std::string());
}

const std::string& name_of(const Line& line) { return line.graded ? line.graded->name : line.error->submission; }

// Later lines replace earlier ones of the same submission (a resumed batch may regrade one);
// the survivors keep their file order.
void keep_last_of_each(std::vector<Line>& lines) {
  std::set<std::string> seen;
  std::vector<Line> kept;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (seen.insert(name_of(*it)).second) kept.push_back(std::move(*it));
  lines.assign(std::make_move_iterator(kept.rbegin()), std::make_move_iterator(kept.rend()));
}

}  // namespace

Gradebook parse_results(std::istream& in) {
  Gradebook book;
  std::vector<Line> lines;
  std::vector<GraderError> unreadable;
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      Line line = parse_line(text);
      if (book.lab.empty() && !line.lab.empty()) take_header(book, text);
      if (!line.lab.empty() && line.lab != book.lab)
        unreadable.push_back({"", fmt::format("results.jsonl line {}: a result of {}, not {}", number, line.lab, book.lab)});
      else
        lines.push_back(std::move(line));
    } catch (const std::exception& e) {
      unreadable.push_back({"", fmt::format("results.jsonl line {}: unreadable: {}", number, e.what())});
    }
  }
  keep_last_of_each(lines);
  for (Line& line : lines) {
    if (line.graded) book.submissions.push_back(std::move(*line.graded));
    else book.errors.push_back(std::move(*line.error));
  }
  book.errors.insert(book.errors.end(), unreadable.begin(), unreadable.end());
  return book;
}

Result<Gradebook> read_results(const std::filesystem::path& results_jsonl) {
  std::ifstream in(results_jsonl);
  if (!in) return fail(Errc::io, "cannot read " + results_jsonl.string());
  return parse_results(in);
}

}  // namespace ipcg::gradebook
