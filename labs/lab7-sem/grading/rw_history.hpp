// Part B's history judged offline: the board's log of readers' and writers' sections (asked,
// in, out, with CLOCK_MONOTONIC times from one machine). Pure: no processes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "drivers/lab7_board.h"

namespace lab7 {

// The longest wait of a writer, counted in read sections that began (a reader got in) after the
// writer asked and before it got in.
struct Bypass {
  pid_t writer_pid = 0;
  int step = 0;                 // the writer's section
  int bypassed = 0;             // readers that got in meanwhile
  std::int64_t waited_ns = 0;   // from asking to getting in
};

// A moment the grader saw a writer asleep in semop: its wait has reached the set. A writer's wait
// counts from the first such sighting, not from its driver's "asked" record: a writer preempted
// between that record and its semop (a loaded machine) lets readers in legitimately, since no
// writer is waiting yet. Conservative: a bypass before the first sighting is not counted.
struct Asleep {
  int actor = 0;
  std::int64_t t_ns = 0;  // CLOCK_MONOTONIC, as the log's
};

inline std::optional<Bypass> worst_bypass(const std::vector<lab7_event>& log, const std::vector<Asleep>& asleep) {
  std::optional<Bypass> worst;
  for (const auto& ask : log) {
    if (ask.kind != LAB7_WRITE_ASK) continue;
    const lab7_event* in = nullptr;
    for (const auto& e : log)
      if (e.kind == LAB7_WRITE_IN && e.pid == ask.pid && e.step == ask.step) in = &e;
    if (!in) continue;  // never got in: the role's own failure says why
    std::optional<std::int64_t> waiting_from;
    for (const auto& a : asleep)
      if (a.actor == ask.actor && a.t_ns >= ask.t_ns && a.t_ns <= in->t_ns && (!waiting_from || a.t_ns < *waiting_from))
        waiting_from = a.t_ns;
    Bypass b{ask.pid, ask.step, 0, in->t_ns - ask.t_ns};
    if (waiting_from)
      for (const auto& e : log)
        if (e.kind == LAB7_READ_IN && e.t_ns > *waiting_from && e.t_ns < in->t_ns) b.bypassed++;
    if (!worst || b.bypassed > worst->bypassed) worst = b;
  }
  return worst;
}

}  // namespace lab7
