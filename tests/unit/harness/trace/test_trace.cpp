// The trace model and its Chrome/Perfetto trace-event writer (harness/trace/trace.hpp): the document is
// valid JSON, every process has a named track, messages are X slices with a duration, and each
// message delivered has exactly one flow start and one flow end sharing its integer id.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "harness/trace/trace.hpp"

namespace {

using ipcg::Trace;
using ipcg::TraceWindow;
using Json = nlohmann::json;

// A parent sends two requests, the child reads them and replies to the first; request 2 was early.
Trace sample_trace() {
  Trace t;
  t.process(100, "parent (student)");
  t.process(200, "child");
  t.process_start(100);
  t.send(100, 1, "write request 1", TraceWindow{10, 20});
  t.receive(200, 1, "read request 1", TraceWindow{20, 30});
  t.send(100, 3, "write request 2", TraceWindow{20, 30});
  t.instant(100, "request 2 sent before reply 1 was read", {{"unread_bytes", "4"}});
  t.send(200, 2, "write reply 1", TraceWindow{30, 30});  // seen in one look: zero-length window
  t.receive(100, 2, "read reply 1", TraceWindow{30, 45});
  t.exit(100);
  return t;
}

std::vector<Json> events_with(const Json& doc, const std::string& ph) {
  std::vector<Json> out;
  for (const auto& e : doc.at("traceEvents"))
    if (e.at("ph") == ph) out.push_back(e);
  return out;
}

TEST(TraceWriter, IsValidTraceEventJson) {
  const Json doc = Json::parse(ipcg::trace_event_json(sample_trace()));
  ASSERT_TRUE(doc.at("traceEvents").is_array());
  for (const auto& e : doc.at("traceEvents")) {
    EXPECT_TRUE(e.at("ph").is_string());
    EXPECT_TRUE(e.at("pid").is_number_integer());
    EXPECT_TRUE(e.at("tid").is_number_integer());
    EXPECT_TRUE(e.at("name").is_string());
    if (e.at("ph") != "M") {
      EXPECT_TRUE(e.at("ts").is_number_integer()) << e;
    }
  }
}

TEST(TraceWriter, NamesEveryProcessTrackOnce) {
  const Json doc = Json::parse(ipcg::trace_event_json(sample_trace()));
  std::map<int, std::string> names;
  for (const auto& m : events_with(doc, "M")) {
    EXPECT_EQ(m.at("name"), "process_name");
    EXPECT_TRUE(names.emplace(m.at("pid").get<int>(), m.at("args").at("name").get<std::string>()).second);
  }
  ASSERT_EQ(names.size(), 2u);
  EXPECT_NE(names.at(100).find("parent (student)"), std::string::npos);
  EXPECT_NE(names.at(200).find("child"), std::string::npos);
}

TEST(TraceWriter, MessagesAreSlicesWithADuration) {
  const Json doc = Json::parse(ipcg::trace_event_json(sample_trace()));
  const auto slices = events_with(doc, "X");
  ASSERT_EQ(slices.size(), 5u);  // 3 sends, 2 receives
  for (const auto& x : slices) {
    ASSERT_TRUE(x.contains("dur")) << x;
    EXPECT_GE(x.at("dur").get<long>(), 1) << x;  // a zero-length window still shows
  }
}

TEST(TraceWriter, OneFlowStartAndEndPerDeliveredMessageWithItsSequenceNumber) {
  const Json doc = Json::parse(ipcg::trace_event_json(sample_trace()));
  std::multiset<long> starts, ends;
  for (const auto& s : events_with(doc, "s")) starts.insert(s.at("id").get<long>());
  for (const auto& f : events_with(doc, "f")) {
    EXPECT_EQ(f.at("bp"), "e");
    ends.insert(f.at("id").get<long>());
  }
  // Messages 1 and 2 were delivered; message 3 (request 2) was sent but never read: no arrow.
  EXPECT_EQ(starts, (std::multiset<long>{1, 2}));
  EXPECT_EQ(ends, (std::multiset<long>{1, 2}));
}

// A flow end binds to the slice enclosing its ts on the receiver's track, so it must lie inside
// the receive slice, and the start inside the send slice.
TEST(TraceWriter, FlowEndsLieInsideTheirSlices) {
  const Json doc = Json::parse(ipcg::trace_event_json(sample_trace()));
  const auto slices = events_with(doc, "X");
  auto inside = [&](const Json& point, const std::string& cat) {
    for (const auto& x : slices)
      if (x.at("cat") == cat && x.at("args").at("seq") == point.at("id") && x.at("pid") == point.at("pid"))
        return point.at("ts") >= x.at("ts") && point.at("ts").get<long>() < x.at("ts").get<long>() + x.at("dur").get<long>();
    return false;
  };
  for (const auto& s : events_with(doc, "s")) EXPECT_TRUE(inside(s, "send")) << s;
  for (const auto& f : events_with(doc, "f")) EXPECT_TRUE(inside(f, "receive")) << f;
}

TEST(TraceWriter, ViolationsAreProcessInstants) {
  const Json doc = Json::parse(ipcg::trace_event_json(sample_trace()));
  std::vector<Json> violations;
  for (const auto& i : events_with(doc, "i"))
    if (i.at("cat") == "violation") violations.push_back(i);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].at("pid"), 100);
  EXPECT_EQ(violations[0].at("s"), "p");
  EXPECT_EQ(violations[0].at("args").at("unread_bytes"), "4");
}

TEST(TraceWriter, StudentBytesStayValidUtf8) {
  Trace t;
  t.instant(1, std::string("bad \xff byte"));
  std::string text = ipcg::trace_event_json(t);
  EXPECT_TRUE(Json::accept(text));
}

TEST(Trace, WindowsFollowOneAnother) {
  Trace t;
  const TraceWindow a = t.window();
  const TraceWindow b = t.window();
  EXPECT_EQ(a.begin_us, 0);
  EXPECT_LE(a.begin_us, a.end_us);
  EXPECT_EQ(b.begin_us, a.end_us);
  EXPECT_LE(b.begin_us, b.end_us);
}

TEST(TraceFile, WritesTheDocumentAndReportsAnUnwritablePath) {
  const auto dir = std::filesystem::temp_directory_path() / ("ipcg-trace-" + std::to_string(::getpid()));
  const auto path = dir / "sub" / "t.trace.json";
  ASSERT_TRUE(ipcg::write_trace_file(sample_trace(), path));
  std::ifstream in(path);
  EXPECT_TRUE(Json::parse(in).contains("traceEvents"));
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(ipcg::write_trace_file(sample_trace(), "/proc/no/such/dir/t.json"));
}

}  // namespace
