// Joins the output folders of shards into one, equal to an unsharded run's:
//
//   IPCG_CHECK(merge_outputs({"shard-1", "shard-2"}, "grades"));
//   // grades/results.jsonl, grades/gradebook.csv (rows by submission name), grades/reports/
//
// Shards graded under different lab.toml hashes or grader versions are refused (Errc::usage):
// their scores are not comparable.
#pragma once

#include <filesystem>
#include <vector>

#include "batch/results_log.hpp"

namespace ipcg {

// The rows of every shard, latest per submission, sorted; refuses mixed spec_hash/grader_version.
// `sources` names each shard in messages.
Result<std::vector<ResultRow>> merge_rows(const std::vector<std::vector<ResultRow>>& shards,
                                          const std::vector<std::string>& sources);

Result<void> merge_outputs(const std::vector<std::filesystem::path>& shard_dirs, const std::filesystem::path& out);

}  // namespace ipcg
