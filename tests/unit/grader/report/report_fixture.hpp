// The hand-built results every report test grades, and the golden-file helpers, shared by
// test_report.cpp (text, JSON) and test_report_formats.cpp (the course platforms' formats):
//
//   using namespace report_fixture;
//   expect_golden("report.json", json_report(mixed_result()) + "\n");
//
// Golden files live in tests/unit/data/report/ (the per-language text reports in tests/golden/,
// docs/i18n.md); IPCG_UPDATE_GOLDEN=1 rewrites them (then review the diff). Without the variable
// a missing or different golden file fails the test.
#pragma once

#include "harness/core/result.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace ipcg::report_fixture {

inline const std::string kGoldenDir = std::string(IPCG_SOURCE_DIR) + "/tests/unit/data/report/";
inline const std::string kLanguageGoldenDir = std::string(IPCG_SOURCE_DIR) + "/tests/golden/";

inline TestResult make_test(std::string name, Status status, double score, double max_score) {
  TestResult t;
  t.name = std::move(name);
  t.description = "checks " + t.name;
  t.property = "output equals the reference's";
  t.status = status;
  t.score = score;
  t.max_score = max_score;
  t.duration_seconds = 0.042;
  return t;
}

inline LabResult lab_header() {
  LabResult r;
  r.lab = "lab1";
  r.title = "Anonymous pipes: pipelines and a duplex conversation";
  r.mechanism = "anonymous pipe";
  r.submission = "submissions/alice";
  r.seed = 42;
  r.isolation = {IsolationLevel::full, "root", ""};
  r.grader_version = "0.1.0";
  r.spec_hash = "abcd1234ef5678900fedcba987654321abcd1234ef5678900fedcba987654321";
  r.duration_seconds = 3.24;
  return r;
}

inline void add_runtime_failures(LabResult& r) {
  TestResult closed = make_test("pipe_ends_closed", Status::failed, 0, 10);
  closed.property = "unused pipe ends closed";
  closed.message = "child pid 412 still holds the write end of the pipe";
  closed.evidence = {"pid 412 fd 4 -> pipe:[31337] (write end)",
                     "pid 413 blocked in read(3) for 2.0 s: the EOF never came"};
  closed.output = "reading...\n";
  // Rerun under two more seeds: it passed under one of them, so the failure is flaky.
  closed.attempts = {{42, Status::failed, "child pid 412 still holds the write end of the pipe"},
                     {43, Status::passed, ""},
                     {44, Status::failed, "child pid 977 still holds the write end of the pipe"}};
  r.tests.push_back(closed);
  TestResult slow = make_test("pipeline_larger_than_pipe_buffer", Status::timeout, 0, 10);
  slow.message = "wall-clock limit of 5000 ms exceeded; the process tree was killed";
  slow.evidence = {"pid 415 blocked in pipe_write: the reader never drained the pipe"};
  slow.duration_seconds = 5.01;
  r.tests.push_back(slow);
  TestResult crash = make_test("duplex_conversation", Status::crashed, 0, 10);
  crash.property = "parent and child exchange every message";
  crash.message = "pid 420 killed by SIGSEGV (Segmentation fault)";
  crash.output = "ping 1\nping 2\n[... output truncated: 65536 of 70000 bytes shown ...]\n";
  r.tests.push_back(crash);
  TestResult filtered = make_test("no_forbidden_syscalls", Status::killed_by_filter, 0, 5);
  filtered.property = "only pipe, file and process syscalls";
  filtered.message = "pid 421 made a forbidden syscall: socket (41)";
  filtered.evidence = {"allowed syscall sets: process, file, pipe"};
  r.tests.push_back(filtered);
}

inline void add_hidden_and_other(LabResult& r) {
  TestResult secret = make_test("pipeline_single_stage", Status::failed, 0, 5);
  secret.visibility = Visibility::hidden;
  secret.message = "SECRET-MESSAGE: expected 'abc' got 'ab'";
  secret.evidence = {"SECRET-EVIDENCE"};
  secret.output = "SECRET-OUTPUT\n";
  r.tests.push_back(secret);
  TestResult hidden_pass = make_test("pipeline_many_stages", Status::passed, 5, 5);
  hidden_pass.visibility = Visibility::hidden;
  hidden_pass.output = "SECRET-PASS-OUTPUT\n";
  r.tests.push_back(hidden_pass);
  TestResult skipped = make_test("duplex_large_messages", Status::skipped, 0, 5);
  skipped.message = "not selected by --only";
  r.tests.push_back(skipped);
  TestResult error = make_test("pipeline_fd_hygiene", Status::error, 0, 5);
  error.message = "grader error: could not create cgroup: Permission denied";
  r.tests.push_back(error);
}

// One test of every runtime status, two of them hidden; built, 15 of 65 points.
inline LabResult mixed_result() {
  LabResult r = lab_header();
  r.build = {true, "pipeline.c:12:7: warning: unused variable 'n' [-Wunused-variable]\n", 0.81};
  TestResult pass = make_test("pipeline_two_stages", Status::passed, 10, 10);
  pass.output = "HELLO PIPES\nENIL DNOCES\n";
  r.tests.push_back(pass);
  add_runtime_failures(r);
  add_hidden_and_other(r);
  r.score = 15;
  r.max_score = 65;
  return r;
}

inline LabResult build_failed_result() {
  LabResult r = lab_header();
  r.isolation = {IsolationLevel::reduced, "unprivileged",
                 "user namespaces are not available (AppArmor restricts them)"};
  r.build = {false,
             "pipeline.c: In function 'run_pipeline':\n"
             "pipeline.c:7:8: error: expected ';' before 'return'\n"
             "    7 |   x = 1\n      |        ^\n",
             0.35};
  for (const char* name : {"pipeline_two_stages", "pipeline_single_stage"}) {
    TestResult t = make_test(name, Status::build_failed, 0, 10);
    t.message = "the submission did not build";
    t.duration_seconds = 0;
    r.tests.push_back(t);
  }
  r.tests.back().visibility = Visibility::hidden;
  r.max_score = 20;
  return r;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool updating_goldens() {
  const char* update = std::getenv("IPCG_UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

inline void expect_golden(const std::string& name, const std::string& actual,
                          const std::string& dir = kGoldenDir) {
  const std::string path = dir + name;
  if (updating_goldens()) {
    std::ofstream(path, std::ios::binary) << actual;
    std::cout << "updated " << path << '\n';
  }
  const std::string expected = read_file(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing: run with IPCG_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, expected) << "differs from " << path
                              << " (if intended: IPCG_UPDATE_GOLDEN=1, then review the diff)";
}

}  // namespace ipcg::report_fixture
