#include "report/stress_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "report/format.hpp"

namespace ipcg {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string seeds_text(const std::vector<std::uint64_t>& seeds, std::size_t at_most) {
  std::string out;
  for (std::size_t i = 0; i < seeds.size() && i < at_most; ++i) out += (i ? " " : "") + std::to_string(seeds[i]);
  if (seeds.size() > at_most) out += fmt::format(" (+{} more)", seeds.size() - at_most);
  return out;
}

// "1..200" for a run of consecutive seeds, else the list.
std::string seed_range(const std::vector<std::uint64_t>& seeds) {
  if (seeds.empty()) return "none";
  bool consecutive = true;
  for (std::size_t i = 1; i < seeds.size(); ++i) consecutive = consecutive && seeds[i] == seeds[i - 1] + 1;
  if (consecutive && seeds.size() > 1) return fmt::format("{}..{}", seeds.front(), seeds.back());
  return seeds_text(seeds, 20);
}

}  // namespace

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

void StressSummary::add(const LabResult& result) {
  if (runs == 0) {
    lab = result.lab;
    submission = result.submission;
    isolation = result.isolation;
  }
  ++runs;
  seeds.push_back(result.seed);
  bool every_test_passed = true;
  for (const auto& t : result.tests) {
    auto it = std::find_if(tests.begin(), tests.end(), [&](const StressTest& s) { return s.name == t.name; });
    if (it == tests.end()) it = tests.insert(tests.end(), StressTest{.name = t.name});
    if (schedule.empty()) schedule = t.schedule;
    if (t.status == Status::passed) {
      ++it->passed;
      it->pass_seconds.push_back(t.duration_seconds);
    } else if (t.status == Status::skipped) {
      ++it->skipped;
    } else {
      every_test_passed = false;
      ++it->not_passed;
      it->failing_seeds.push_back(result.seed);
      it->fail_seconds.push_back(t.duration_seconds);
      if (it->first_failure.empty())
        it->first_failure = fmt::format("seed {}: {}: {}", result.seed, to_string(t.status), first_line(t.message));
    }
  }
  if (every_test_passed) ++full_marks;
}

std::string stress_seed_line(const LabResult& result) {
  std::string line = fmt::format("seed {}: {}/{}", result.seed, format_points(result.score), format_points(result.max_score));
  for (const auto& t : result.tests)
    if (t.status != Status::passed && t.status != Status::skipped)
      line += fmt::format("; {} {}: {}", t.name, to_string(t.status), first_line(t.message));
  return line;
}

void write_stress_text(const StressSummary& s, std::ostream& out) {
  out << fmt::format("{}: {} under seeds {} ({} runs), isolation {}{}\n", s.lab, s.submission, seed_range(s.seeds),
                     s.runs, to_string(s.isolation.level),
                     s.schedule.empty() ? "" : ", schedule " + s.schedule);
  out << fmt::format("{:<40} {:>9} {:>9} {:>10} {:>10}  {}\n", "test", "passed", "failed", "median ok",
                     "median bad", "failing seeds");
  for (const auto& t : s.tests) {
    const int ran = t.passed + t.not_passed;
    out << fmt::format("{:<40} {:>9} {:>9} {:>10} {:>10}  {}\n", t.name, fmt::format("{}/{}", t.passed, ran),
                       fmt::format("{}/{}", t.not_passed, ran),
                       t.pass_seconds.empty() ? "-" : format_duration(median_of(t.pass_seconds)),
                       t.fail_seconds.empty() ? "-" : format_duration(median_of(t.fail_seconds)),
                       seeds_text(t.failing_seeds, 12));
  }
  out << fmt::format("full marks under {} of {} seeds\n", s.full_marks, s.runs);
  for (const auto& t : s.tests)
    if (!t.first_failure.empty()) out << fmt::format("first failure of {}: {}\n", t.name, t.first_failure);
}

void write_stress_json(const StressSummary& s, std::ostream& out) {
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : s.tests)
    tests.push_back({{"name", t.name},
                     {"passed", t.passed},
                     {"not_passed", t.not_passed},
                     {"skipped", t.skipped},
                     {"failing_seeds", t.failing_seeds},
                     {"first_failure", t.first_failure},
                     {"median_pass_seconds", median_of(t.pass_seconds)},
                     {"median_fail_seconds", median_of(t.fail_seconds)}});
  nlohmann::json doc{{"lab", s.lab},
                     {"submission", s.submission},
                     {"isolation", to_string(s.isolation.level)},
                     {"schedule", s.schedule},
                     {"seeds", s.seeds},
                     {"runs", s.runs},
                     {"full_marks", s.full_marks},
                     {"tests", tests}};
  out << doc.dump(2) << "\n";
}

}  // namespace ipcg
