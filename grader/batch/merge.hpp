// Joins the output folders of shards into one, equal to an unsharded run's:
//
//   IPCG_CHECK(merge_outputs({"shard-1", "shard-2"}, "grades"));
//   // grades/results.jsonl, grades/gradebook.csv (rows by submission name), grades/reports/
//
// Refused (Errc::usage), every reason named at once: shards graded under different lab.toml
// hashes, grader versions, seeds or shard counts (their scores are not one class's), and any set
// of folders that would lack students: a shard K of N not given, one that did not finish (no
// complete shard.json: its task was killed, even while writing), one given twice
// (batch/shard_manifest.hpp). Each message names the shard and the submissions it should hold.
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
