// Bounded bypass over a history of sections (bypass.hpp).
#include "harness/sync/bypass.hpp"

#include <algorithm>

namespace ipcg {
namespace {

using Step = SectionEvent::Step;

const SectionEvent* entry_of(const std::vector<SectionEvent>& history, const SectionEvent& ask) {
  for (const auto& e : history)
    if (e.step == Step::enter && e.kind == ask.kind && e.actor == ask.actor && e.section == ask.section) return &e;
  return nullptr;
}

// The first time the waiter was seen asleep between its ask and its entry.
std::optional<std::int64_t> first_seen_waiting(const std::vector<WaitSighting>& seen, const SectionEvent& ask,
                                               const SectionEvent& in) {
  std::optional<std::int64_t> first;
  for (const auto& s : seen)
    if (s.actor == ask.actor && s.t_ns >= ask.t_ns && s.t_ns <= in.t_ns && (!first || s.t_ns < *first)) first = s.t_ns;
  return first;
}

}  // namespace

std::optional<Bypass> worst_bypass(const std::vector<SectionEvent>& history, const std::vector<WaitSighting>& seen,
                                   SectionEvent::Kind waiter, SectionEvent::Kind bypasser) {
  std::optional<Bypass> worst;
  for (const auto& ask : history) {
    if (ask.step != Step::ask || ask.kind != waiter) continue;
    const SectionEvent* in = entry_of(history, ask);
    if (in == nullptr) continue;
    Bypass b{ask.actor, ask.pid, ask.section, 0, in->t_ns - ask.t_ns};
    if (const auto from = first_seen_waiting(seen, ask, *in))
      b.bypassed = static_cast<int>(std::count_if(history.begin(), history.end(), [&](const SectionEvent& e) {
        return e.step == Step::enter && e.kind == bypasser && e.t_ns > *from && e.t_ns < in->t_ns;
      }));
    if (!worst || b.bypassed > worst->bypassed) worst = b;
  }
  return worst;
}

}  // namespace ipcg
