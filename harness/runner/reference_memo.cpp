#include "harness/runner/reference_memo.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <tuple>

#include "build_cache.hpp"

namespace ipcg {
namespace {

// Enough for every reference run of a batch many times over; `grader stress` (a new seed each
// time, so never a hit) forgets its oldest runs instead of growing without bound.
constexpr std::size_t kMaxKeptBytes = 64u << 20;

struct KeptRun {
  Ending ending = Ending::exited;
  int wait_status = 0;
  std::map<int, CapturedOutput> captures;
  std::size_t bytes = 0;
};

using MemoKey = std::tuple<std::string, std::string, std::uint64_t, std::string, std::string>;

struct RunMemo {
  std::mutex mutex;
  std::map<MemoKey, KeptRun> runs;
  std::deque<MemoKey> order;  // oldest first
  std::size_t bytes = 0;

  void keep(const MemoKey& key, KeptRun kept) {
    std::lock_guard lock(mutex);
    if (!runs.emplace(key, kept).second) return;
    order.push_back(key);
    bytes += kept.bytes;
    while (bytes > kMaxKeptBytes && order.size() > 1) {
      bytes -= runs.at(order.front()).bytes;
      runs.erase(order.front());
      order.pop_front();
    }
  }
};

RunMemo& memo() {
  static RunMemo instance;
  return instance;
}

}  // namespace

ReferenceRunKey reference_run_key(const TestContext& ctx, std::string what) {
  return {ctx.lab.id + "@" + ctx.lab.spec_hash, ctx.test.name, ctx.seed, reference_build_key(ctx.reference_bin),
          std::move(what)};
}

Result<RunOutcome> memo_reference_run(const ReferenceRunKey& key, const std::function<Result<RunOutcome>()>& run_reference) {
  if (key.build.empty()) return run_reference();
  const MemoKey k{key.lab, key.test, key.seed, key.build, key.what};
  {
    std::lock_guard lock(memo().mutex);
    if (auto it = memo().runs.find(k); it != memo().runs.end()) {
      RunOutcome out;
      out.ending = it->second.ending;
      out.wait_status = it->second.wait_status;
      out.captures = it->second.captures;
      return out;
    }
  }
  IPCG_TRY(RunOutcome out, run_reference());
  if (out.ending == Ending::exited) {
    KeptRun kept{out.ending, out.wait_status, out.captures, 0};
    for (const auto& [fd, capture] : kept.captures) kept.bytes += capture.data.size();
    memo().keep(k, std::move(kept));
  }
  return out;
}

Result<RunOutcome> memo_reference_run(const TestContext& ctx, std::string what,
                                      const std::function<Result<RunOutcome>()>& run_reference) {
  return memo_reference_run(reference_run_key(ctx, std::move(what)), run_reference);
}

}  // namespace ipcg
