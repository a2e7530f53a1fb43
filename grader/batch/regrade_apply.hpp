// `grader diff` on folders: two batch output folders read strictly, compared, and on --apply the
// old folder's results replaced by the new ones, the old ones kept under <old>/regrades/<UTC>/.
//
//   IPCG_TRY(RegradeDiff diff, diff_folders("grades", "grades-new"));   // nothing written
//   IPCG_TRY(AppliedRegrade done, apply_regrade("grades", "grades-new", std::chrono::system_clock::now()));
//   // grades/{results.jsonl,gradebook.csv,reports/} are the new run's; grades/regrade.json says what
//   // changed; grades/regrades/20261206T001936Z/ holds what was there before.
//
// Crash safety: the old files are copied into a hidden staging folder renamed into place before
// anything of the old folder is replaced, and every replaced file or folder is written under a
// temporary name and renamed, so at every instant each file exists whole in the old folder, the
// archive or the new folder.
#pragma once

#include <chrono>
#include <filesystem>

#include "batch/regrade.hpp"

namespace ipcg {

// <dir>/results.jsonl, every line a row: Errc::usage when the file is missing, Errc::config
// naming "<file>:<line>" for a line that is not a row or was cut off. Latest row per submission.
Result<std::vector<ResultRow>> read_output_rows(const std::filesystem::path& dir);

Result<RegradeDiff> diff_folders(const std::filesystem::path& old_dir, const std::filesystem::path& new_dir);

struct AppliedRegrade {
  RegradeDiff diff;
  std::filesystem::path archive;  // <old>/regrades/<UTC stamp>
};

// Locks both results.jsonl (a batch writing either is refused), diffs, archives, replaces,
// writes <old>/regrade.json. `now` names the archive and is regrade.json's "when".
Result<AppliedRegrade> apply_regrade(const std::filesystem::path& old_dir, const std::filesystem::path& new_dir,
                                     std::chrono::system_clock::time_point now);

}  // namespace ipcg
