// shard.json: what one batch output folder was asked to grade, and whether it finished.
//
//   ShardManifest m = manifest_for(shard, names, lab, seed, version);   // complete = false
//   IPCG_CHECK(write_manifest(out, m));   // first, before any grading
//   ...grade, write results.jsonl and gradebook.csv...
//   m.complete = true;
//   IPCG_CHECK(write_manifest(out, m));   // last, atomically: the folder is finished
//
// `grader merge` reads every folder's manifest and refuses (Errc::usage) a set of folders that
// would silently lack students: a shard K of N that is not among them, one that did not finish
// (its task was killed, even while writing), one given twice, or folders of different seeds,
// shard counts or class listings. Each refusal names the shard and the submissions it holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "batch/results_log.hpp"
#include "batch/shard.hpp"

namespace ipcg {

struct ShardManifest {
  Shard shard;
  std::string lab, spec_hash, grader_version;
  std::uint64_t seed = 0;
  std::vector<std::string> everyone;     // every submission of the folder graded, sorted
  std::vector<std::string> submissions;  // this shard's part of them, sorted
  bool complete = false;                 // written last, once every row is in results.jsonl
};

ShardManifest manifest_for(const Shard& shard, const std::vector<std::string>& everyone, std::string lab,
                           std::string spec_hash, std::string grader_version, std::uint64_t seed);

std::string manifest_json(const ShardManifest& manifest);
Result<ShardManifest> parse_manifest(std::string_view text);  // Errc::config when malformed

// dir/shard.json, written through a temporary file and rename.
Result<void> write_manifest(const std::filesystem::path& dir, const ShardManifest& manifest);

// One output folder as `merge` found it.
struct ShardFolder {
  std::string source;                     // the folder, as named in messages
  std::optional<ShardManifest> manifest;  // unset: no readable shard.json
  std::string unreadable;                 // why, when unset
  std::vector<ResultRow> rows;            // results.jsonl's complete lines
  int cut_off_lines = 0;                  // lines a kill cut short
};

// Every reason the folders do not make the whole class, one line each (empty: they do). Pure.
std::vector<std::string> shard_problems(const std::vector<ShardFolder>& folders);

}  // namespace ipcg
