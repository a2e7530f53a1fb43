// The message log's checks on hand-written logs (no processes): each property broken once and
// named with its evidence, each race the times cannot decide left alone, and the record format
// read back from bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <string>

#include "harness/msglog/log_trace.hpp"
#include "harness/msglog/message_log.hpp"

extern "C" int write_test_records(int log_fd, unsigned n);  // record_writer.c
extern "C" int tag_round_trip(std::size_t len, std::uint32_t producer, std::uint64_t seq, int upper,
                              std::uint32_t* got_producer, std::uint64_t* got_seq);

namespace ipcg {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr std::uint64_t kMs = 1'000'000;

// A payload's length and digest stand for its bytes: producer p's message s is 16 + s bytes.
std::uint32_t length_of(std::uint32_t, std::uint64_t seq) { return static_cast<std::uint32_t>(16 + seq); }
std::uint64_t digest_of(std::uint32_t producer, std::uint64_t seq) { return producer * 1000003ull + seq; }

MessageEvent send(std::uint32_t producer, std::uint64_t seq, std::uint64_t call_ms, std::uint64_t return_ms,
                  std::int64_t priority = 0) {
  MessageEvent e;
  e.op = MessageEvent::Op::send;
  e.pid = static_cast<pid_t>(100 + producer);
  e.producer = producer;
  e.seq = seq;
  e.length = length_of(producer, seq);
  e.digest = digest_of(producer, seq);
  e.priority = priority;
  e.call_ns = call_ms * kMs;
  e.return_ns = return_ms * kMs;
  return e;
}

MessageEvent receive(pid_t pid, std::uint32_t producer, std::uint64_t seq, std::uint64_t call_ms,
                     std::uint64_t return_ms, std::int64_t priority = 0) {
  MessageEvent e = send(producer, seq, call_ms, return_ms, priority);
  e.op = MessageEvent::Op::receive;
  e.pid = pid;
  return e;
}

// Two producers, one consumer, everything in order.
MessageLog in_order() {
  return {send(1, 0, 0, 1), send(2, 0, 1, 2), send(1, 1, 2, 3), send(2, 1, 3, 4),
          receive(50, 1, 0, 5, 6), receive(50, 2, 0, 6, 7), receive(50, 1, 1, 7, 8), receive(50, 2, 1, 8, 9)};
}

TEST(MessageLog, AGoodLogPassesEveryCheck) {
  const MessageLog log = in_order();
  EXPECT_THAT(check_exactly_once(log), IsEmpty());
  EXPECT_FALSE(check_fifo(log, FifoScope::per_producer));
  EXPECT_FALSE(check_fifo(log, FifoScope::per_priority));
  EXPECT_FALSE(check_priority_order(log));
  EXPECT_THAT(check_boundaries(log), IsEmpty());
}

TEST(ExactlyOnce, NamesTheLostTheDuplicatedAndTheInvented) {
  MessageLog log = in_order();
  log.erase(log.begin() + 6);              // producer 1's message 1 never received
  log.push_back(receive(51, 2, 0, 9, 10));  // producer 2's message 0 received twice
  log.push_back(receive(51, 7, 3, 10, 11)); // nobody is producer 7
  const auto found = check_exactly_once(log);
  ASSERT_THAT(found, SizeIs(3));
  EXPECT_EQ(found[0].message, "1 of 4 sent messages never received: producer 1's message 1");
  EXPECT_THAT(found[1].message, HasSubstr("1 messages received more than once: producer 2's message 0"));
  EXPECT_THAT(found[1].message, HasSubstr("received 2 times"));
  EXPECT_EQ(found[2].message, "1 receives returned a message no one sent: producer 7's message 3");
  for (const auto& v : found) EXPECT_EQ(v.property, "exactly once");
}

TEST(ExactlyOnce, NamesAFewAndCountsTheRest) {
  MessageLog log;
  for (std::uint64_t s = 0; s < 20; ++s) log.push_back(send(1, s, s, s + 1));
  const auto found = check_exactly_once(log);
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_THAT(found[0].message, HasSubstr("20 of 20 sent messages never received"));
  EXPECT_THAT(found[0].message, HasSubstr("producer 1's message 7 and 12 more"));
  EXPECT_THAT(found[0].events, SizeIs(20));
}

TEST(Fifo, NamesTheFirstInversionOfAProducer) {
  MessageLog log = {send(2, 16, 0, 1), send(2, 17, 2, 3), receive(50, 2, 17, 4, 5), receive(50, 2, 16, 6, 7)};
  const auto found = check_fifo(log, FifoScope::per_producer);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->property, "FIFO");
  EXPECT_THAT(found->message, HasSubstr("producer 2's message 17 arrived before producer 2's message 16, which was "
                                        "sent first"));
  EXPECT_THAT(found->message, HasSubstr("received by pid 50 at 4.000 ms, by pid 50 at 6.000 ms"));
}

TEST(Fifo, OverlappingSendsOrReceivesAreNotInversions) {
  // The sends overlap: which went first is not certain.
  EXPECT_FALSE(check_fifo({send(1, 0, 0, 5), send(1, 1, 2, 3), receive(50, 1, 1, 6, 7), receive(50, 1, 0, 8, 9)},
                          FifoScope::per_producer));
  // The receives overlap (two consumers): either may have taken its message first.
  EXPECT_FALSE(check_fifo({send(1, 0, 0, 1), send(1, 1, 2, 3), receive(50, 1, 1, 4, 8), receive(51, 1, 0, 5, 9)},
                          FifoScope::per_producer));
}

TEST(Fifo, TwoConsumersCertainlyOutOfOrderAreCaught) {
  const auto found = check_fifo(
      {send(1, 0, 0, 1), send(1, 1, 2, 3), receive(51, 1, 1, 4, 5), receive(50, 1, 0, 6, 7)}, FifoScope::per_producer);
  ASSERT_TRUE(found);
  EXPECT_THAT(found->message, HasSubstr("received by pid 51 at 4.000 ms, by pid 50 at 6.000 ms"));
}

TEST(Fifo, PerPriorityComparesProducersOfOnePriority) {
  // A queue drained after it was filled: priority 5's messages must leave in the order they came.
  MessageLog log = {send(1, 0, 0, 1, 5), send(2, 0, 2, 3, 5), send(3, 0, 4, 5, 1),
                    receive(50, 2, 0, 6, 7, 5), receive(50, 1, 0, 8, 9, 5), receive(50, 3, 0, 10, 11, 1)};
  EXPECT_FALSE(check_fifo(log, FifoScope::per_producer));  // each producer sent one message
  const auto found = check_fifo(log, FifoScope::per_priority);
  ASSERT_TRUE(found);
  EXPECT_THAT(found->message, HasSubstr("producer 2's message 0 arrived before producer 1's message 0"));
  EXPECT_THAT(found->message, HasSubstr("priority 5"));
}

TEST(PriorityOrder, AReceiveThatPassedOverAWaitingHigherPriorityIsNamed) {
  MessageLog log = {send(1, 0, 0, 1, 0), send(2, 0, 2, 3, 9), receive(50, 1, 0, 4, 5, 0), receive(50, 2, 0, 6, 7, 9)};
  const auto found = check_priority_order(log);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->property, "priority order");
  EXPECT_EQ(found->message,
            "pid 50 received producer 1's message 0 (priority 0) at 4.000 ms while producer 2's message 0 (priority 9) "
            "had been in the queue since 3.000 ms and was received only at 6.000 ms");
}

TEST(PriorityOrder, ANeverReceivedHigherPriorityCountsAsWaiting) {
  const auto found = check_priority_order({send(1, 0, 0, 1, 0), send(2, 0, 2, 3, 9), receive(50, 1, 0, 4, 5, 0)});
  ASSERT_TRUE(found);
  EXPECT_THAT(found->message, HasSubstr("was never received"));
}

TEST(PriorityOrder, RacesOfTheObservationAreNotViolations) {
  // The high-priority send returned after the receive was called: it may have arrived too late.
  EXPECT_FALSE(check_priority_order({send(1, 0, 0, 1, 0), send(2, 0, 2, 5, 9), receive(50, 1, 0, 4, 6, 0),
                                     receive(50, 2, 0, 7, 8, 9)}));
  // Its receive was called before the low one returned: another consumer may have had it already.
  EXPECT_FALSE(check_priority_order({send(1, 0, 0, 1, 0), send(2, 0, 2, 3, 9), receive(50, 1, 0, 4, 8, 0),
                                     receive(51, 2, 0, 5, 9, 9)}));
  // Equal priority is no inversion here (that is FIFO's business).
  EXPECT_FALSE(check_priority_order({send(1, 0, 0, 1, 4), send(2, 0, 2, 3, 4), receive(50, 2, 0, 4, 5, 4),
                                     receive(50, 1, 0, 6, 7, 4)}));
}

TEST(Boundaries, CutMergedAndUntaggedReceivesAreNamed) {
  MessageLog log = in_order();
  log[4].length = 7;                 // the receive of producer 1's message 0 got 7 of its 16 bytes
  log[5].digest ^= 1;                // same length, other bytes
  MessageEvent garbage = receive(50, 0, 0, 10, 11);
  garbage.producer = IPCG_MSG_NO_PRODUCER;
  garbage.length = 3;
  log.push_back(garbage);
  const auto found = check_boundaries(log);
  ASSERT_THAT(found, SizeIs(2));
  EXPECT_EQ(found[0].message, "1 receives returned bytes that are not one sent message (the first: pid 50, 3 bytes "
                              "at 10.000 ms)");
  EXPECT_EQ(found[1].message, "2 receives returned a message cut or merged with another: the first, by pid 50, "
                              "returned 7 bytes of producer 1's message 0, which was sent as 16 bytes");
}

TEST(Capacity, MorePutInThanTheBufferHoldsIsNamedAtTheSendThatOverflowed) {
  const MessageLog log = in_order();  // four sends returned before the first receive was called
  EXPECT_FALSE(check_capacity(log, 4));
  const auto v = check_capacity(log, 3);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "capacity");
  EXPECT_THAT(v->message, HasSubstr("4 messages had been put in by 4.000 ms"));
  EXPECT_THAT(v->message, HasSubstr("4 in a buffer of 3; the last put: producer 2's message 1"));
  EXPECT_EQ(v->events, std::vector<size_t>{3});
}

TEST(Capacity, AReceiveCalledBeforeTheSendReturnedMayHaveMadeRoom) {
  // Buffer of 1: the second send returns at 4 ms, the receive was called at 3 ms (it may have
  // taken the first message already): not certainly two inside.
  const MessageLog log = {send(1, 0, 0, 1), receive(50, 1, 0, 3, 5), send(1, 1, 2, 4), receive(50, 1, 1, 6, 7)};
  EXPECT_FALSE(check_capacity(log, 1));
  const MessageLog late = {send(1, 0, 0, 1), send(1, 1, 2, 4), receive(50, 1, 0, 5, 6), receive(50, 1, 1, 6, 7)};
  EXPECT_TRUE(check_capacity(late, 1));
}

// Requests sent by clients (roles 1 and 2, producers 1 and 2) come back as replies with their
// request's tag; a reply that reaches the other client is named with who should have had it.
TEST(Addressee, AReplyThatReachedAnotherClientIsNamedWithItsOwner) {
  auto as = [](MessageEvent e, std::uint32_t role) {
    e.role = role;
    return e;
  };
  MessageLog log = {as(send(1, 0, 0, 1), 1), as(send(2, 0, 1, 2), 2),
                    as(receive(101, 1, 0, 5, 6), 1), as(receive(102, 2, 0, 6, 7), 2)};
  EXPECT_EQ(check_returned_to_sender(log), std::nullopt);
  log[2].role = 2;  // client 2 took client 1's reply, and client 1 got nothing
  log[2].pid = 102;
  const auto v = check_returned_to_sender(log, [](std::uint32_t role) { return "client " + std::to_string(role); });
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->property, "addressee");
  EXPECT_THAT(v->message, HasSubstr("1 message(s) reached the wrong receiver"));
  EXPECT_THAT(v->message, HasSubstr("client 2 (pid 102) received producer 1's message 0, which was meant for client 1"));
  EXPECT_EQ(v->events, std::vector<size_t>{2});
}

// A queue routed by type: producer p's messages belong to role 100 + p; an untagged receive and a
// producer nobody owns are nobody's business here (exactly once and boundaries judge those).
TEST(Addressee, RoutedByTypeCountsEveryStrayAndSkipsWhatNoOneOwns) {
  auto at = [](MessageEvent e, std::uint32_t role) {
    e.role = role;
    return e;
  };
  MessageEvent untagged = receive(103, 1, 0, 9, 10);
  untagged.producer = IPCG_MSG_NO_PRODUCER;
  const MessageLog log = {send(2, 0, 0, 1), send(3, 0, 1, 2), send(9, 0, 2, 3),
                          at(receive(103, 2, 0, 5, 6), 103), at(receive(102, 3, 0, 6, 7), 102),
                          at(receive(104, 9, 0, 7, 8), 104), at(untagged, 103)};
  const auto v = check_addressee(log, [](std::uint32_t p) -> std::optional<std::uint32_t> {
    if (p == 9) return std::nullopt;
    return 100 + p;
  });
  ASSERT_TRUE(v.has_value());
  EXPECT_THAT(v->message, HasSubstr("2 message(s) reached the wrong receiver: the first, role 103 (pid 103) received "
                                    "producer 2's message 0, which was meant for role 102"));
  EXPECT_EQ(v->events, (std::vector<size_t>{3, 4}));
}

TEST(MessageLogFormat, RecordsReadBackAndBadBytesAreErrors) {
  const MessageLog log = in_order();
  std::string bytes;
  for (const MessageEvent& e : log) {
    const ipcg_msg_record r = to_record(e);
    bytes.append(reinterpret_cast<const char*>(&r), sizeof r);
  }
  auto back = parse_message_log(bytes);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_THAT(*back, SizeIs(log.size()));
  EXPECT_EQ((*back)[3].seq, 1u);
  EXPECT_EQ((*back)[3].producer, 2u);
  EXPECT_EQ((*back)[5].op, MessageEvent::Op::receive);
  EXPECT_EQ((*back)[5].call_ns, 6 * kMs);

  auto cut = parse_message_log(bytes.substr(0, bytes.size() - 1));
  ASSERT_FALSE(cut);
  EXPECT_THAT(cut.error().message, HasSubstr("not a whole number of 64-byte records"));
  std::string bad = bytes;
  bad[64] ^= 0x5a;  // the second record's magic
  auto wrong = parse_message_log(bad);
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message, HasSubstr("record 1 is not a message event"));
}

// A role in another process writes through a real pipe with the C helpers; the grader's side
// reads every record back whole and in order.
TEST(MessageLogFormat, AChildsRecordsThroughAPipeReadBack) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    ::_exit(write_test_records(fds[1], 500) == 0 ? 0 : 1);
  }
  ::close(fds[1]);
  std::string bytes;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0);
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(status, 0);
  auto log = parse_message_log(bytes);
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_THAT(*log, SizeIs(1000));
  for (const MessageEvent& e : *log) {
    EXPECT_EQ(e.pid, child);
    EXPECT_LE(e.call_ns, e.return_ns);
  }
  EXPECT_EQ((*log)[7].role, 2u);
  EXPECT_EQ((*log)[7].length, std::string("p1 m3").size());
  EXPECT_EQ((*log)[7].digest, ipcg_msg_digest("p1 m3", 5));
  EXPECT_THAT(check_exactly_once(*log), IsEmpty());
  EXPECT_THAT(check_boundaries(*log), IsEmpty());
  EXPECT_FALSE(check_fifo(*log, FifoScope::per_producer));
}

TEST(MessageLogFormat, DigestIsFnv1a) {
  EXPECT_EQ(ipcg_msg_digest("", 0), 14695981039346656037ull);
  EXPECT_EQ(ipcg_msg_digest("a", 1), 0xaf63dc4c8601ec8cull);
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

TEST(LogTrace, SendsAndReceivesAreSlicesJoinedByFlowsAndViolationsAreMarked) {
  Trace trace;
  MessageLog log = {send(1, 0, 0, 1), send(1, 1, 2, 3), receive(50, 1, 1, 4, 5), receive(50, 1, 0, 6, 7)};
  const std::uint64_t base = monotonic_ns();  // the log's times as if it started now
  for (MessageEvent& e : log) e.call_ns += base, e.return_ns += base;
  const auto inversion = check_fifo(log, FifoScope::per_producer);
  ASSERT_TRUE(inversion);
  trace.process(50, "consumer (student)");
  draw_message_log(trace, log, {*inversion});

  ASSERT_THAT(trace.events(), SizeIs(log.size() + inversion->events.size()));
  EXPECT_EQ(trace.events()[0].kind, TraceKind::send);
  EXPECT_EQ(trace.events()[2].kind, TraceKind::receive);
  EXPECT_EQ(trace.events()[2].name, "receive producer 1's message 1");
  // The log's monotonic times land on the trace's clock, 1 ms apart as they were.
  EXPECT_EQ(trace.events()[1].when.begin_us - trace.events()[0].when.begin_us, 2000);
  EXPECT_EQ(trace.events()[0].when.end_us - trace.events()[0].when.begin_us, 1000);
  EXPECT_GE(trace.events()[0].when.begin_us, 0);
  EXPECT_LT(trace.events()[0].when.begin_us, 5'000'000);
  for (const MessageEvent& e : log) {
    EXPECT_TRUE(trace.has_send(flow_id(e)));
    EXPECT_TRUE(trace.has_receive(flow_id(e)));
  }
  EXPECT_NE(flow_id(log[0]), flow_id(log[1]));
  EXPECT_EQ(trace.processes().at(50), "consumer (student)");  // the caller's label wins
  EXPECT_EQ(trace.processes().at(101), "role 0");
  const TraceEvent& mark = trace.events().back();
  EXPECT_EQ(mark.kind, TraceKind::instant);
  EXPECT_EQ(mark.name, "FIFO violated");
  EXPECT_EQ(mark.args.at("why"), inversion->message);
  const auto doc = nlohmann::json::parse(trace_event_json(trace));
  EXPECT_GE(doc["traceEvents"].size(), log.size());
}

TEST(PayloadTag, IsReadBackFromAWholePayloadEvenUpperCasedButNotFromACutOne) {
  std::uint32_t producer = 0;
  std::uint64_t seq = 0;
  ASSERT_EQ(tag_round_trip(64, 3, 1234567890123ull, 0, &producer, &seq), 1);
  EXPECT_EQ(producer, 3u);
  EXPECT_EQ(seq, 1234567890123ull);
  ASSERT_EQ(tag_round_trip(20, 12, 7, 1, &producer, &seq), 1);  // "P12:S7:" then filler, upper-cased
  EXPECT_EQ(producer, 12u);
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(tag_round_trip(5, 12, 7, 0, &producer, &seq), 0);  // "P12:S": cut inside the tag
}

}  // namespace
}  // namespace ipcg
