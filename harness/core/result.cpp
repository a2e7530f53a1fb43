#include "harness/core/result.hpp"

#include <algorithm>

namespace ipcg {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::passed: return "passed";
    case Status::failed: return "failed";
    case Status::timeout: return "timeout";
    case Status::hung: return "hung";
    case Status::crashed: return "crashed";
    case Status::killed_by_filter: return "killed_by_filter";
    case Status::build_failed: return "build_failed";
    case Status::skipped: return "skipped";
    case Status::error: return "error";
  }
  return "error";
}

std::string_view to_string(Visibility v) { return v == Visibility::visible ? "visible" : "hidden"; }

std::string_view to_string(IsolationLevel l) {
  switch (l) {
    case IsolationLevel::full: return "full";
    case IsolationLevel::user_namespace_without_role_uids: return "user_namespace_without_role_uids";
    case IsolationLevel::reduced: return "reduced";
  }
  return "reduced";
}

bool LabResult::all_passed() const {
  return build.ok && std::all_of(tests.begin(), tests.end(), [](const TestResult& t) {
           return t.status == Status::passed || t.status == Status::skipped;
         });
}

}  // namespace ipcg
