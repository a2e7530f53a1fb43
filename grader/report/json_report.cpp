#include "report/json_report.hpp"

#include <nlohmann/json.hpp>

namespace ipcg {
namespace {

// ordered_json keeps the fields in schema order, so a person reading the file finds them where
// docs/report-format.md lists them.
using Json = nlohmann::ordered_json;

Json isolation_json(const IsolationInfo& iso) {
  return {{"level", to_string(iso.level)}, {"setting", iso.setting}, {"reason", iso.reason}};
}

Json build_json(const BuildResult& b) {
  return {{"ok", b.ok}, {"output", b.compiler_output}, {"duration_seconds", b.duration_seconds}};
}

// Withheld fields keep their types (empty string, empty array) so consumers need no special
// case; "details_withheld" says the emptiness is deliberate.
// Every run of a test whose reruns under one seed disagreed (empty: the seed replays it).
Json attempts_json(const TestResult& t, bool withheld) {
  Json runs = Json::array();
  for (const Attempt& a : t.attempts)
    runs.push_back({{"status", to_string(a.status)}, {"message", withheld ? std::string() : a.message}});
  return runs;
}

Json test_json(const TestResult& t, const JsonOptions& options) {
  const bool withheld = t.visibility == Visibility::hidden && !options.show_hidden_details;
  Json test = {{"name", t.name},
          {"description", t.description},
          {"property", t.property},
          {"hint", withheld ? std::string() : t.hint},
          {"score", t.score},
          {"max_score", t.max_score},
          {"status", to_string(t.status)},
          {"visibility", to_string(t.visibility)},
          {"details_withheld", withheld},
          {"message", withheld ? std::string() : t.message},
          {"evidence", withheld ? std::vector<std::string>() : t.evidence},
          {"output", withheld ? std::string() : t.output},
          {"duration_seconds", t.duration_seconds},
          {"trace_file", withheld ? std::string() : t.trace_file},
          {"leftovers", withheld ? std::vector<std::string>() : t.leftovers},
          {"attempts", attempts_json(t, withheld)}};
  // Labs that perturb their synchronization calls: the schedule beside the seed, and whether the
  // seed replays the processes' order ("exact") or only the perturbations ("best-effort").
  if (!t.schedule.empty()) {
    test["schedule"] = t.schedule;
    test["replay"] = t.exact_replay ? "exact" : "best-effort";
  }
  // A test that ended blocked: the limit it ran under, and its cause in words shared by every test
  // that hung the same way (a consumer groups by it). Absent when empty, and for a withheld test.
  if (!withheld && !t.limit_note.empty()) test["limit_note"] = t.limit_note;
  if (!withheld && !t.hang_cause.empty()) test["hang_cause"] = t.hang_cause;
  return test;
}

Json tests_json(const std::vector<TestResult>& tests, const JsonOptions& options) {
  Json array = Json::array();
  for (const TestResult& t : tests) array.push_back(test_json(t, options));
  return array;
}

}  // namespace

std::string json_report(const LabResult& r, const JsonOptions& options) {
  const Json doc = {{"schema_version", kJsonSchemaVersion},
                    {"lab", r.lab},
                    {"title", r.title},
                    {"mechanism", r.mechanism},
                    {"submission", r.submission},
                    {"score", r.score},
                    {"max_score", r.max_score},
                    {"seed", r.seed},
                    {"isolation", isolation_json(r.isolation)},
                    {"grader_version", r.grader_version},
                    {"spec_hash", r.spec_hash},
                    {"duration_seconds", r.duration_seconds},
                    {"build", build_json(r.build)},
                    {"tests", tests_json(r.tests, options)}};
  // Student output may hold any bytes; replace makes each invalid one U+FFFD instead of
  // throwing, so the document is always valid UTF-8.
  return doc.dump(options.indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ipcg
