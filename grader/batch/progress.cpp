#include "batch/progress.hpp"

#include <fmt/format.h>

namespace ipcg {

std::string progress_line(int done, int total, const BatchOutcome& o) {
  if (!o.not_submitted.empty()) return fmt::format("[{}/{}] {}: not submitted: {}", done, total, o.submission, o.not_submitted);
  if (o.error) return fmt::format("[{}/{}] {}: error: {} ({:.1f} s)", done, total, o.submission, o.message, o.seconds);
  return fmt::format("[{}/{}] {}: {}/{} ({:.1f} s)", done, total, o.submission, o.score, o.max_score, o.seconds);
}

std::string progress_bar(int done, int total, int passed, double elapsed, int width) {
  const int filled = total > 0 ? done * width / total : width;
  const int rate = done > 0 ? passed * 100 / done : 0;
  std::string eta = "--:--";
  if (done > 0 && done < total) {
    const auto left = static_cast<long>(elapsed / done * (total - done) + 0.5);
    eta = fmt::format("{}:{:02}", left / 60, left % 60);
  } else if (done == total) {
    eta = "0:00";
  }
  return fmt::format("[{}{}] {}/{}  pass {}%  ETA {}", std::string(filled, '#'), std::string(width - filled, '.'),
                     done, total, rate, eta);
}

void TerminalProgress::started(int to_grade, int skipped, std::uint64_t seed) {
  total_ = to_grade;
  start_ = std::chrono::steady_clock::now();
  out_ << fmt::format("batch seed {} (rerun with --seed {}); {} to grade, {} already graded\n", seed, seed,
                      to_grade, skipped);
  if (tty_) out_ << progress_bar(0, total_, 0, 0) << std::flush;
}

void TerminalProgress::finished_one(const BatchOutcome& outcome) {
  ++done_;
  if (outcome.passed) ++passed_;
  if (!tty_) {
    out_ << progress_line(done_, total_, outcome) << "\n" << std::flush;
    return;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // \r and clear-to-end-of-line redraw the bar in place.
  out_ << "\r\x1b[K" << progress_bar(done_, total_, passed_, elapsed) << std::flush;
}

void TerminalProgress::finished_all() {
  if (tty_) out_ << "\n";
  out_ << fmt::format("{} graded, {} passed every test\n", done_, passed_) << std::flush;
}

}  // namespace ipcg
