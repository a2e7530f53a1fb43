#include "report/autolab_report.hpp"

#include "report/text_report.hpp"

#include <nlohmann/json.hpp>

namespace ipcg {

// Autolab matches "scores" keys to the assessment's problem names: name the problems after the
// tests. The scoreboard's columns are the total, then each test in lab order.
std::string autolab_scores_line(const LabResult& r) {
  using Json = nlohmann::ordered_json;
  Json scores = Json::object();
  Json scoreboard = Json::array({r.score});
  for (const TestResult& t : r.tests) {
    scores[t.name] = t.score;
    scoreboard.push_back(t.score);
  }
  const Json line = {{"scores", scores}, {"scoreboard", scoreboard}};
  // One line whatever the names hold: dump(-1) escapes newlines inside strings.
  return line.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void write_autolab_report(const LabResult& result, std::ostream& os,
                          const AutolabOptions& options) {
  write_text_report(result, os,
                    {.color = false, .verbose = options.verbose,
                     .show_hidden_details = options.show_hidden_details});
  os << autolab_scores_line(result) << '\n';
}

}  // namespace ipcg
