// Bounded bypass (starvation), judged offline: how many sections of the other kind began while a
// process waited for its own. A readers-writers lock with writer preference lets at most a few
// readers in once a writer waits; one that starves writers lets them in without bound. Pure: a
// lab translates its own log into SectionEvents and the moments it saw a process asleep in its
// wait into WaitSightings, and tests build both by hand.
//
//   std::vector<SectionEvent> history = {
//       {SectionEvent::Step::ask, SectionEvent::Kind::exclusive, /*actor*/ 4, /*pid*/ 71, /*section*/ 0, 1000},
//       {SectionEvent::Step::enter, SectionEvent::Kind::shared, 1, 60, 7, 2500},
//       {SectionEvent::Step::enter, SectionEvent::Kind::exclusive, 4, 71, 0, 3000}};
//   std::vector<WaitSighting> seen = {{4, 2000}};      // actor 4 seen asleep in semop at t = 2000
//   auto worst = worst_bypass(history, seen);          // writer pid 71: bypassed 1, waited 2000 ns
//
// A wait counts from the first sighting of the waiter asleep (between its ask and its enter), not
// from its ask: a process preempted between asking and reaching the lock lets others in
// legitimately, since it is not waiting yet. Conservative: entries before that sighting are not
// counted, and a waiter never seen asleep was bypassed by nobody.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace ipcg {

struct SectionEvent {
  enum class Step { ask, enter, leave };
  enum class Kind { shared, exclusive };  // a reader's section, a writer's
  Step step = Step::ask;
  Kind kind = Kind::shared;
  int actor = 0;            // the role's number in the test: who asked, entered or left
  pid_t pid = 0;
  int section = 0;          // the actor's own count of its sections: pairs an ask with its enter
  std::int64_t t_ns = 0;    // one clock for the whole history (CLOCK_MONOTONIC)
};

// A moment the grader saw `actor` asleep in its wait for the lock.
struct WaitSighting {
  int actor = 0;
  std::int64_t t_ns = 0;
};

struct Bypass {
  int actor = 0;
  pid_t pid = 0;
  int section = 0;             // the waiter's section
  int bypassed = 0;            // sections of the other kind that began while it was seen waiting
  std::int64_t waited_ns = 0;  // from its ask to its enter
};

// The waiter of kind `waiter` (writers, by default) bypassed most often by sections of kind
// `bypasser` (readers): entries strictly after the first sighting of it asleep and strictly
// before it entered. A waiter that never entered is left out (its role's own failure says why).
// nullopt when no waiter of that kind ever entered; ties keep the earliest ask.
std::optional<Bypass> worst_bypass(const std::vector<SectionEvent>& history, const std::vector<WaitSighting>& seen,
                                   SectionEvent::Kind waiter = SectionEvent::Kind::exclusive,
                                   SectionEvent::Kind bypasser = SectionEvent::Kind::shared);

}  // namespace ipcg
