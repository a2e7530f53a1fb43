#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "gradebook/gradebook.hpp"

namespace ipcg::gradebook {
namespace {

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Tests in the order they first appear (lab order), with their pass counts.
std::vector<TestRate> pass_rates(const std::vector<Submission>& submissions) {
  std::vector<TestRate> rates;
  std::map<std::string, std::size_t> index;
  for (const Submission& s : submissions)
    for (const TestCell& t : s.tests) {
      auto [it, added] = index.try_emplace(t.name, rates.size());
      if (added) rates.push_back({t.name, t.property, t.max_score, 0, 0});
      TestRate& rate = rates[it->second];
      ++rate.total;
      if (t.status == "passed") ++rate.passed;
    }
  // Most failed first: the property the class fails most leads the chart. Stable: ties keep
  // lab order, so the page is the same for the same file.
  std::stable_sort(rates.begin(), rates.end(),
                   [](const TestRate& a, const TestRate& b) { return a.pass_rate() < b.pass_rate(); });
  return rates;
}

bool any_test(const Submission& s, std::string_view status) {
  return std::any_of(s.tests.begin(), s.tests.end(), [&](const TestCell& t) { return t.status == status; });
}

OutcomeCounts outcomes_of(const std::vector<Submission>& submissions) {
  OutcomeCounts c;
  for (const Submission& s : submissions) {
    c.timeout += any_test(s, "timeout");
    c.hung += any_test(s, "hung");
    c.crashed += any_test(s, "crashed");
    c.killed_by_filter += any_test(s, "killed_by_filter");
    c.error += any_test(s, "error");
    c.build_failed += !s.built || any_test(s, "build_failed");
  }
  return c;
}

}  // namespace

int histogram_bin(double score, double max_score) {
  if (max_score <= 0) return 0;
  // The epsilon keeps 7/10 in the 70% bin although 10 * 0.7 may round below 7.
  const int bin = static_cast<int>(std::floor(kHistogramBins * score / max_score + 1e-9));
  return std::clamp(bin, 0, kHistogramBins - 1);
}

Summary summarize(const Gradebook& book) {
  Summary s;
  s.graded = static_cast<int>(book.submissions.size());
  s.submissions = s.graded + static_cast<int>(book.errors.size());
  std::vector<double> scores;
  for (const Submission& sub : book.submissions) {
    scores.push_back(sub.score);
    s.max_score = std::max(s.max_score, sub.max_score);
    ++s.histogram[histogram_bin(sub.score, sub.max_score)];
  }
  if (!scores.empty()) s.mean = std::accumulate(scores.begin(), scores.end(), 0.0) / scores.size();
  s.median = median_of(std::move(scores));
  s.tests = pass_rates(book.submissions);
  s.outcomes = outcomes_of(book.submissions);
  return s;
}

}  // namespace ipcg::gradebook
