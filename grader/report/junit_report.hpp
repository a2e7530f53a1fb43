// JUnit XML, as Jenkins, GitLab, GitHub test reporters and Maven Surefire read it
// (docs/report-format.md, "JUnit"; schema: tests/unit/data/report/junit.xsd):
//
//   write_junit_report(result, file, {});
//
// testsuites > testsuite (the lab) > testcase (one per test, classname "<lab>.<property>").
// failed -> <failure>; timeout, crashed, killed_by_filter, build_failed, error -> <error> with the
// status as type; skipped -> <skipped>. A test rerun under several seeds with mixed verdicts gets
// one <flakyFailure> per seed that did not pass. All text is XML-escaped and sanitized, so the
// file is well-formed XML 1.0 whatever a student printed.
#pragma once

#include "harness/core/result.hpp"

#include <ostream>
#include <string>
#include <string_view>

namespace ipcg {

struct JunitOptions {
  bool show_hidden_details = false;  // message/evidence/output of hidden tests
};

void write_junit_report(const LabResult& result, std::ostream& os,
                        const JunitOptions& options = {});

// text made safe as XML character data or a double-quoted attribute value: sanitized (controls
// shown as escapes, invalid UTF-8 as U+FFFD), U+FFFE/U+FFFF dropped, & < > escaped; in an
// attribute also '"', and tab and newline as character references (attribute-value
// normalization would turn them into spaces).
std::string xml_escape(std::string_view text, bool attribute = false);

}  // namespace ipcg
