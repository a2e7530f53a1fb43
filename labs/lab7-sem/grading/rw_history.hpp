// Part B's history for the harness's bounded-bypass check (harness/sync/bypass.hpp): the board's
// log of readers' and writers' sections (asked, in, out, CLOCK_MONOTONIC times from one machine)
// as the harness's lab-neutral section events. Pure: no processes.
#pragma once

#include <vector>

#include "drivers/lab7_board.h"
#include "harness/sync/bypass.hpp"

namespace lab7 {

inline std::vector<ipcg::SectionEvent> section_history(const std::vector<lab7_event>& log) {
  using Step = ipcg::SectionEvent::Step;
  using Kind = ipcg::SectionEvent::Kind;
  std::vector<ipcg::SectionEvent> out;
  out.reserve(log.size());
  for (const auto& e : log) {
    Step step;
    switch (e.kind) {
      case LAB7_READ_ASK: case LAB7_WRITE_ASK: step = Step::ask; break;
      case LAB7_READ_IN: case LAB7_WRITE_IN: step = Step::enter; break;
      case LAB7_READ_OUT: case LAB7_WRITE_OUT: step = Step::leave; break;
      default: continue;  // a record its writer had not finished
    }
    const Kind kind = e.kind >= LAB7_WRITE_ASK ? Kind::exclusive : Kind::shared;
    out.push_back({step, kind, e.actor, e.pid, e.step, e.t_ns});
  }
  return out;
}

}  // namespace lab7
