// What `grader stress` says about one submission graded under many seeds: per test, how many
// seeds passed, which did not (with the first message), and the median duration of passing and
// of failing runs (time to detection, for a buggy sample). Sees only the result model.
//
//   StressSummary s;
//   for (auto& r : results) s.add(r);
//   write_stress_text(s, std::cout);   // or write_stress_json
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "harness/core/result.hpp"

namespace ipcg {

struct StressTest {
  std::string name;
  int passed = 0;
  int not_passed = 0;                       // failed, crashed, timed out...: every status but passed/skipped
  int skipped = 0;
  std::vector<std::uint64_t> failing_seeds;  // in the order run
  std::string first_failure;                 // the first failing run's status and message
  std::vector<double> pass_seconds, fail_seconds;
};

struct StressSummary {
  std::string lab, submission, schedule;  // schedule: the first interposed test's, else empty
  IsolationInfo isolation;
  int runs = 0;
  int full_marks = 0;                       // seeds where every test that ran passed
  std::vector<StressTest> tests;            // in the lab's order
  std::vector<std::uint64_t> seeds;

  void add(const LabResult& result);
  bool all_passed() const { return full_marks == runs; }
};

// The median of a list (0 for none): the middle value, or the mean of the two middle ones.
double median_of(std::vector<double> values);

// One line for a seed that did not get full marks ("seed 17: 90/100; writers_not_starved failed: ...").
std::string stress_seed_line(const LabResult& result);

void write_stress_text(const StressSummary& summary, std::ostream& out);
void write_stress_json(const StressSummary& summary, std::ostream& out);

}  // namespace ipcg
