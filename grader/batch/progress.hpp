// How a batch shows progress: a bar redrawn in place on a TTY, plain lines otherwise.
//
//   TerminalProgress progress(std::cout, ::isatty(STDOUT_FILENO));
//   run_batch(lab, options, progress);
//
//   plain:  [3/12] alice: 120/140 (2.1 s)
//   TTY:    [########............] 3/12  pass 67%  ETA 0:42
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace ipcg {

// One submission finished (or failed to be graded).
struct BatchOutcome {
  std::string submission;
  bool error = false;     // the grader itself failed; message says why
  bool passed = false;    // every test passed
  double score = 0;
  double max_score = 0;
  double seconds = 0;
  std::string message;
  std::string not_submitted;  // nothing graded: collect.json's reason
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void started(int to_grade, int skipped, std::uint64_t seed) = 0;
  virtual void finished_one(const BatchOutcome& outcome) = 0;
  virtual void finished_all() = 0;
};

std::string progress_line(int done, int total, const BatchOutcome& outcome);
std::string progress_bar(int done, int total, int passed, double elapsed_seconds, int width = 20);

class TerminalProgress : public ProgressSink {
 public:
  TerminalProgress(std::ostream& out, bool tty) : out_(out), tty_(tty) {}
  void started(int to_grade, int skipped, std::uint64_t seed) override;
  void finished_one(const BatchOutcome& outcome) override;
  void finished_all() override;

 private:
  std::ostream& out_;
  bool tty_;
  int total_ = 0, done_ = 0, passed_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ipcg
