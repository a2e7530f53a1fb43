// The ordering checks over a message log (message_log.hpp). Each builds an index of the sent
// messages by tag, pairs every message with its first receive, then sweeps in time order.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "harness/msglog/message_log.hpp"

namespace ipcg {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();
constexpr size_t kNamedAtMost = 8;  // messages named in one violation; the rest are counted

struct TagHash {
  size_t operator()(const std::pair<std::uint32_t, std::uint64_t>& t) const {
    return std::hash<std::uint64_t>()(t.second * 1000003u ^ t.first);
  }
};
using Tag = std::pair<std::uint32_t, std::uint64_t>;
Tag tag_of(const MessageEvent& e) { return {e.producer, e.seq}; }

// One sent message and what became of it.
struct Delivery {
  size_t send = kNone;
  size_t first_receive = kNone;  // by call time
  size_t receives = 0;
};

struct Index {
  std::vector<Delivery> sent;                         // one per distinct sent tag, in log order
  std::unordered_map<Tag, size_t, TagHash> by_tag;    // tag -> sent
  std::vector<size_t> invented;                       // receives of a tag nobody sent
  std::uint64_t origin = std::numeric_limits<std::uint64_t>::max();  // the earliest call
};

Index index_log(const MessageLog& log) {
  Index ix;
  for (size_t i = 0; i < log.size(); ++i) {
    ix.origin = std::min(ix.origin, log[i].call_ns);
    if (log[i].op != MessageEvent::Op::send || !log[i].tagged()) continue;
    if (ix.by_tag.emplace(tag_of(log[i]), ix.sent.size()).second) ix.sent.push_back({i});
  }
  for (size_t i = 0; i < log.size(); ++i) {
    const MessageEvent& e = log[i];
    if (e.op != MessageEvent::Op::receive || !e.tagged()) continue;
    auto it = ix.by_tag.find(tag_of(e));
    if (it == ix.by_tag.end()) {
      ix.invented.push_back(i);
      continue;
    }
    Delivery& d = ix.sent[it->second];
    ++d.receives;
    if (d.first_receive == kNone || e.call_ns < log[d.first_receive].call_ns) d.first_receive = i;
  }
  return ix;
}

std::string at_ms(const Index& ix, std::uint64_t ns) {
  return fmt::format("{:.3f} ms", static_cast<double>(ns - std::min(ns, ix.origin)) / 1e6);
}

// "producer 1's message 4, producer 2's message 0 and 3 more"
std::string name_some(const MessageLog& log, const std::vector<size_t>& events) {
  std::string out;
  for (size_t i = 0; i < events.size() && i < kNamedAtMost; ++i)
    out += (i ? ", " : "") + describe_message(log[events[i]]);
  if (events.size() > kNamedAtMost) out += fmt::format(" and {} more", events.size() - kNamedAtMost);
  return out;
}

// Max of (value, event) over a prefix of positions, with values only ever raised.
class PrefixMax {
 public:
  explicit PrefixMax(size_t n) : tree_(n + 1, {std::numeric_limits<std::int64_t>::min(), kNone}) {}
  void raise(size_t pos, std::int64_t value, size_t event) {
    for (++pos; pos < tree_.size(); pos += pos & -pos)
      if (value > tree_[pos].first) tree_[pos] = {value, event};
  }
  std::pair<std::int64_t, size_t> max_upto(size_t pos) const {  // positions [0, pos)
    std::pair<std::int64_t, size_t> best{std::numeric_limits<std::int64_t>::min(), kNone};
    for (; pos > 0; pos -= pos & -pos)
      if (tree_[pos].first > best.first) best = tree_[pos];
    return best;
  }

 private:
  std::vector<std::pair<std::int64_t, size_t>> tree_;
};

}  // namespace

std::vector<OrderViolation> check_exactly_once(const MessageLog& log) {
  const Index ix = index_log(log);
  std::vector<size_t> lost, duplicated;
  for (const Delivery& d : ix.sent) {
    if (d.receives == 0) lost.push_back(d.send);
    if (d.receives > 1) duplicated.push_back(d.send);
  }
  std::vector<OrderViolation> out;
  if (!lost.empty())
    out.push_back({"exactly once",
                   fmt::format("{} of {} sent messages never received: {}", lost.size(), ix.sent.size(),
                               name_some(log, lost)),
                   lost});
  if (!duplicated.empty()) {
    std::vector<size_t> shown;
    for (const Delivery& d : ix.sent)
      if (d.receives > 1) shown.push_back(d.first_receive);
    out.push_back({"exactly once",
                   fmt::format("{} messages received more than once: {} (first: received {} times)",
                               duplicated.size(), name_some(log, duplicated),
                               ix.sent[ix.by_tag.at(tag_of(log[duplicated[0]]))].receives),
                   shown});
  }
  if (!ix.invented.empty())
    out.push_back({"exactly once",
                   fmt::format("{} receives returned a message no one sent: {}", ix.invented.size(),
                               name_some(log, ix.invented)),
                   ix.invented});
  return out;
}

std::optional<OrderViolation> check_fifo(const MessageLog& log, FifoScope scope) {
  const Index ix = index_log(log);
  // Groups of received messages: by producer, or by the priority they were sent with.
  std::map<std::int64_t, std::vector<const Delivery*>> groups;
  for (const Delivery& d : ix.sent) {
    if (d.first_receive == kNone) continue;  // lost: exactly-once says so
    const MessageEvent& s = log[d.send];
    groups[scope == FifoScope::per_producer ? std::int64_t(s.producer) : s.priority].push_back(&d);
  }
  std::optional<OrderViolation> first;
  for (auto& [key, members] : groups) {
    // m2 in order of its send call; m1 joins once its send returned before m2's send call.
    std::vector<const Delivery*> by_call = members, by_return = members;
    std::sort(by_call.begin(), by_call.end(),
              [&](auto* a, auto* b) { return log[a->send].call_ns < log[b->send].call_ns; });
    std::sort(by_return.begin(), by_return.end(),
              [&](auto* a, auto* b) { return log[a->send].return_ns < log[b->send].return_ns; });
    const Delivery* latest = nullptr;  // among joined m1: the one whose receive was called last
    size_t joined = 0;
    for (const Delivery* m2 : by_call) {
      const MessageEvent& s2 = log[m2->send];
      for (; joined < by_return.size() && log[by_return[joined]->send].return_ns < s2.call_ns; ++joined)
        if (!latest || log[by_return[joined]->first_receive].call_ns > log[latest->first_receive].call_ns)
          latest = by_return[joined];
      if (!latest) continue;
      const MessageEvent& r1 = log[latest->first_receive];
      const MessageEvent& r2 = log[m2->first_receive];
      if (r1.call_ns <= r2.return_ns) continue;
      if (first && log[first->events[1]].call_ns <= s2.call_ns) break;
      const MessageEvent& s1 = log[latest->send];
      std::string within = scope == FifoScope::per_producer
                               ? fmt::format("producer {}", s1.producer)
                               : fmt::format("priority {}", s1.priority);
      first = OrderViolation{
          "FIFO",
          fmt::format("{} arrived before {}, which was sent first ({}: sent at {} and {}; received by pid {} at "
                      "{}, by pid {} at {})",
                      describe_message(s2), describe_message(s1), within, at_ms(ix, s1.call_ns),
                      at_ms(ix, s2.call_ns), r2.pid, at_ms(ix, r2.call_ns), r1.pid, at_ms(ix, r1.call_ns)),
          {latest->send, m2->send, m2->first_receive, latest->first_receive}};
      break;
    }
  }
  return first;
}

std::optional<OrderViolation> check_priority_order(const MessageLog& log) {
  const Index ix = index_log(log);
  // Coordinates: the call time of each message's first receive; never received = after all.
  std::vector<std::uint64_t> coords;
  for (const Delivery& d : ix.sent)
    if (d.first_receive != kNone) coords.push_back(log[d.first_receive].call_ns);
  std::sort(coords.begin(), coords.end());
  coords.erase(std::unique(coords.begin(), coords.end()), coords.end());
  const size_t n = coords.size() + 1;
  auto position = [&](const Delivery& d) {  // reversed, so that "called later" is a prefix
    if (d.first_receive == kNone) return size_t{0};
    const size_t at = std::lower_bound(coords.begin(), coords.end(), log[d.first_receive].call_ns) - coords.begin();
    return n - 1 - at;
  };
  std::vector<const Delivery*> by_send_return, by_receive_call;
  for (const Delivery& d : ix.sent) {
    by_send_return.push_back(&d);
    if (d.first_receive != kNone) by_receive_call.push_back(&d);
  }
  std::sort(by_send_return.begin(), by_send_return.end(),
            [&](auto* a, auto* b) { return log[a->send].return_ns < log[b->send].return_ns; });
  std::sort(by_receive_call.begin(), by_receive_call.end(),
            [&](auto* a, auto* b) { return log[a->first_receive].call_ns < log[b->first_receive].call_ns; });
  PrefixMax waiting(n);
  size_t joined = 0;
  for (const Delivery* got : by_receive_call) {
    const MessageEvent& r = log[got->first_receive];
    for (; joined < by_send_return.size() && log[by_send_return[joined]->send].return_ns < r.call_ns; ++joined) {
      const Delivery* m = by_send_return[joined];
      waiting.raise(position(*m), log[m->send].priority, m->send);
    }
    // Messages still waiting after r returned: first receive called after r.return_ns, or never.
    const size_t later = std::upper_bound(coords.begin(), coords.end(), r.return_ns) - coords.begin();
    const auto [priority, send] = waiting.max_upto(n - later);
    const std::int64_t received = log[got->send].priority;
    if (send == kNone || priority <= received) continue;
    const Delivery& missed = ix.sent[ix.by_tag.at(tag_of(log[send]))];
    const std::string when = missed.first_receive == kNone
                                 ? std::string("was never received")
                                 : "was received only at " + at_ms(ix, log[missed.first_receive].call_ns);
    return OrderViolation{
        "priority order",
        fmt::format("pid {} received {} (priority {}) at {} while {} (priority {}) had been in the queue since {} "
                    "and {}",
                    r.pid, describe_message(r), received, at_ms(ix, r.call_ns), describe_message(log[send]), priority,
                    at_ms(ix, log[send].return_ns), when),
        {got->first_receive, send}};
  }
  return std::nullopt;
}

std::vector<OrderViolation> check_boundaries(const MessageLog& log) {
  const Index ix = index_log(log);
  std::vector<size_t> untagged, cut;
  for (size_t i = 0; i < log.size(); ++i) {
    const MessageEvent& e = log[i];
    if (e.op != MessageEvent::Op::receive) continue;
    if (!e.tagged()) {
      untagged.push_back(i);
      continue;
    }
    auto it = ix.by_tag.find(tag_of(e));
    if (it == ix.by_tag.end()) continue;  // invented: exactly-once says so
    const MessageEvent& s = log[ix.sent[it->second].send];
    if (s.length != e.length || s.digest != e.digest) cut.push_back(i);
  }
  std::vector<OrderViolation> out;
  if (!untagged.empty())
    out.push_back({"message boundaries",
                   fmt::format("{} receives returned bytes that are not one sent message (the first: pid {}, "
                               "{} bytes at {})",
                               untagged.size(), log[untagged[0]].pid, log[untagged[0]].length,
                               at_ms(ix, log[untagged[0]].call_ns)),
                   untagged});
  if (!cut.empty()) {
    const MessageEvent& e = log[cut[0]];
    const MessageEvent& s = log[ix.sent[ix.by_tag.at(tag_of(e))].send];
    out.push_back({"message boundaries",
                   fmt::format("{} receives returned a message cut or merged with another: the first, by pid {}, "
                               "returned {} bytes of {}, which was sent as {} bytes{}",
                               cut.size(), e.pid, e.length, describe_message(e), s.length,
                               e.length == s.length ? " with other contents" : ""),
                   cut});
  }
  return out;
}

std::optional<OrderViolation> check_addressee(const MessageLog& log, const AddresseeFn& addressee,
                                              const RoleNameFn& role_name) {
  const auto name = [&](std::uint32_t role) { return role_name ? role_name(role) : fmt::format("role {}", role); };
  std::vector<size_t> astray;
  std::uint32_t first_owner = 0;
  for (size_t i = 0; i < log.size(); ++i) {
    const MessageEvent& e = log[i];
    if (e.op != MessageEvent::Op::receive || !e.tagged()) continue;
    const auto owner = addressee(e.producer);
    if (!owner || *owner == e.role) continue;
    if (astray.empty()) first_owner = *owner;
    astray.push_back(i);
  }
  if (astray.empty()) return std::nullopt;
  const MessageEvent& e = log[astray.front()];
  return OrderViolation{"addressee",
                        fmt::format("{} message(s) reached the wrong receiver: the first, {} (pid {}) received {}, which "
                                    "was meant for {}",
                                    astray.size(), name(e.role), e.pid, describe_message(e), name(first_owner)),
                        astray};
}

std::optional<OrderViolation> check_returned_to_sender(const MessageLog& log, const RoleNameFn& role_name) {
  std::unordered_map<std::uint32_t, std::uint32_t> sender_of;  // producer -> the role that sent its messages
  for (const MessageEvent& e : log)
    if (e.op == MessageEvent::Op::send && e.tagged()) sender_of.emplace(e.producer, e.role);
  return check_addressee(
      log,
      [&](std::uint32_t producer) -> std::optional<std::uint32_t> {
        auto it = sender_of.find(producer);
        if (it == sender_of.end()) return std::nullopt;
        return it->second;
      },
      role_name);
}

std::optional<OrderViolation> check_capacity(const MessageLog& log, std::uint64_t capacity) {
  std::vector<std::uint64_t> sends_returned, receives_called;
  std::vector<size_t> sends;
  for (size_t i = 0; i < log.size(); ++i) {
    if (log[i].op == MessageEvent::Op::send) {
      sends_returned.push_back(log[i].return_ns);
      sends.push_back(i);
    } else {
      receives_called.push_back(log[i].call_ns);
    }
  }
  std::sort(sends.begin(), sends.end(), [&](size_t a, size_t b) { return log[a].return_ns < log[b].return_ns; });
  std::sort(sends_returned.begin(), sends_returned.end());
  std::sort(receives_called.begin(), receives_called.end());
  for (size_t k = 0; k < sends.size(); ++k) {
    const std::uint64_t t = log[sends[k]].return_ns;
    const auto in = static_cast<std::uint64_t>(std::upper_bound(sends_returned.begin(), sends_returned.end(), t) -
                                               sends_returned.begin());
    const auto out = static_cast<std::uint64_t>(
        std::upper_bound(receives_called.begin(), receives_called.end(), t) - receives_called.begin());
    if (in <= capacity + out) continue;
    const Index ix = index_log(log);
    return OrderViolation{"capacity",
                          fmt::format("{} messages had been put in by {} (their sends returned) and at most {} taken "
                                      "out (receives called by then): {} in a buffer of {}; the last put: {}, pid {}",
                                      in, at_ms(ix, t), out, in - out, capacity, describe_message(log[sends[k]]),
                                      log[sends[k]].pid),
                          {sends[k]}};
  }
  return std::nullopt;
}

}  // namespace ipcg
