// Students `grader collect` found nothing to grade for: a gradebook row with the reason instead of
// a build that fails on a missing file (docs/grading-a-class.md, "Submissions in").
//
//   IPCG_TRY(auto absent, read_not_submitted(folder, lab.build.sources));  // {"1003": "nothing submitted"}
//   log.append(not_submitted_line("1003", absent["1003"], lab.id, lab.spec_hash, version));
//
// The submissions folder's collect.json says who (status "not_submitted"). A folder a TA has put
// one of the lab's sources into since is graded as usual. The row,
// {"submission", "not_submitted": reason, "lab", "spec_hash", "grader_version"}, has no score: it
// is not a zero, and a rerun decides it again rather than skipping it.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "batch/results_log.hpp"
#include "harness/core/error.hpp"

namespace ipcg {

// Submission name -> reason; empty without collect.json. Errc::config when it is not collect.json.
Result<std::map<std::string, std::string>> read_not_submitted(const std::filesystem::path& folder,
                                                              const std::vector<std::string>& sources);

std::string not_submitted_line(const std::string& submission, const std::string& reason, const std::string& lab,
                               const std::string& spec_hash, const std::string& grader_version);

bool is_not_submitted(const ResultRow& row);
std::string not_submitted_status(const ResultRow& row);  // "not submitted: <reason>"

}  // namespace ipcg
