// The message log's checks on a log of 100 000 messages (4 producers, 3 consumers, priorities
// 0-9, a seeded interleaving): each check must stay well under a second (issue: O(n log n)).
// Run by hand: build/bin/bench_msglog. Not part of ctest.
#include <benchmark/benchmark.h>

#include <random>

#include "harness/msglog/message_log.hpp"

namespace {

using ipcg::MessageEvent;
using ipcg::MessageLog;

// Messages sent one after another by 4 producers and received in send order by 3 consumers: a
// correct FIFO queue's log, so every check scans everything and finds nothing.
MessageLog make_log(size_t messages) {
  std::mt19937_64 random(42);
  MessageLog log;
  log.reserve(2 * messages);
  std::uint64_t now = 1'000'000;
  std::vector<std::uint64_t> next_seq(4, 0);
  for (size_t i = 0; i < messages; ++i) {
    MessageEvent s;
    s.op = MessageEvent::Op::send;
    s.producer = static_cast<std::uint32_t>(random() % 4);
    s.pid = static_cast<pid_t>(100 + s.producer);
    s.seq = next_seq[s.producer]++;
    s.length = 64;
    s.digest = random();
    s.priority = 0;
    s.call_ns = now;
    s.return_ns = now + 500 + random() % 1000;
    now = s.return_ns + 100;
    MessageEvent r = s;
    r.op = MessageEvent::Op::receive;
    r.pid = static_cast<pid_t>(200 + random() % 3);
    r.call_ns = s.return_ns + 10;
    r.return_ns = r.call_ns + 200;
    log.push_back(s);
    log.push_back(r);
  }
  return log;
}

void ExactlyOnce(benchmark::State& state) {
  const MessageLog log = make_log(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ipcg::check_exactly_once(log));
}
void FifoPerProducer(benchmark::State& state) {
  const MessageLog log = make_log(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ipcg::check_fifo(log, ipcg::FifoScope::per_producer));
}
void PriorityOrder(benchmark::State& state) {
  const MessageLog log = make_log(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ipcg::check_priority_order(log));
}
void Boundaries(benchmark::State& state) {
  const MessageLog log = make_log(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ipcg::check_boundaries(log));
}

void ReturnedToSender(benchmark::State& state) {
  const MessageLog log = make_log(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ipcg::check_returned_to_sender(log));
}

BENCHMARK(ExactlyOnce)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(FifoPerProducer)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(PriorityOrder)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(Boundaries)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(ReturnedToSender)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
