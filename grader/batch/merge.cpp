#include "batch/merge.hpp"

#include <fmt/format.h>

#include "batch/gradebook.hpp"
#include "batch/shard_manifest.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

struct Origin {
  std::string spec_hash, grader_version, source;
};

Result<void> check_same(const Origin& first, const Origin& other) {
  if (first.spec_hash != other.spec_hash)
    return fail(Errc::usage, fmt::format("{} was graded with lab spec_hash {}, {} with {}: regrade one of them",
                                         first.source, first.spec_hash, other.source, other.spec_hash));
  if (first.grader_version != other.grader_version)
    return fail(Errc::usage, fmt::format("{} was graded by grader {}, {} by grader {}: regrade one of them",
                                         first.source, first.grader_version, other.source, other.grader_version));
  return {};
}

// A folder as it is on disk; whatever is wrong with it is said, not returned, so that merge can
// name every problem at once.
ShardFolder read_folder(const fs::path& dir) {
  ShardFolder folder{.source = dir.string()};
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    folder.unreadable = "no such folder (its task never started?)";
    return folder;
  }
  auto manifest_text = read_text_file(dir / "shard.json");
  if (!manifest_text || manifest_text->empty()) {
    folder.unreadable = "no shard.json: not the output folder of `grader batch`, or its task never started";
    return folder;
  }
  auto manifest = parse_manifest(*manifest_text);
  if (!manifest) {
    folder.unreadable = manifest.error().message;
    return folder;
  }
  folder.manifest = std::move(*manifest);
  if (auto text = read_text_file(dir / "results.jsonl")) {
    auto parsed = parse_results(*text);
    folder.rows = std::move(parsed.rows);
    folder.cut_off_lines = parsed.ignored_lines;
  }
  return folder;
}

// Reports of every shard, each under its own name; a missing reports/ folder is not an error.
Result<void> copy_reports(const std::vector<fs::path>& dirs, const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out / "reports", ec);
  for (const auto& dir : dirs) {
    if (!fs::is_directory(dir / "reports")) continue;
    for (const auto& entry : fs::directory_iterator(dir / "reports", ec))
      fs::copy_file(entry.path(), out / "reports" / entry.path().filename(), fs::copy_options::overwrite_existing, ec);
  }
  if (ec) return fail(Errc::io, "copying reports into " + out.string() + ": " + ec.message());
  return {};
}

}  // namespace

Result<std::vector<ResultRow>> merge_rows(const std::vector<std::vector<ResultRow>>& shards,
                                          const std::vector<std::string>& sources) {
  std::vector<ResultRow> all;
  std::optional<Origin> first;
  for (std::size_t i = 0; i < shards.size(); ++i)
    for (const auto& row : shards[i]) {
      Origin origin{row.field("spec_hash"), row.field("grader_version"), sources.at(i)};
      if (!first) first = origin;
      IPCG_CHECK(check_same(*first, origin));
      all.push_back(row);
    }
  return latest_rows(std::move(all));
}

Result<void> merge_outputs(const std::vector<fs::path>& shard_dirs, const fs::path& out) {
  std::vector<ShardFolder> folders;
  for (const auto& dir : shard_dirs) folders.push_back(read_folder(dir));
  if (auto problems = shard_problems(folders); !problems.empty()) {
    std::string message = "the shards given do not hold the whole class; nothing merged:";
    for (const auto& problem : problems) message += "\n  " + problem;
    message += "\nrerun each shard named (same lab, folder, --seed, --shard and --out: a rerun resumes), then merge again";
    return fail(Errc::usage, message);
  }
  std::vector<std::vector<ResultRow>> shards;
  std::vector<std::string> sources;
  for (auto& folder : folders) {
    shards.push_back(std::move(folder.rows));
    sources.push_back(folder.source);
  }
  IPCG_TRY(std::vector<ResultRow> rows, merge_rows(shards, sources));
  IPCG_CHECK(copy_reports(shard_dirs, out));
  std::string jsonl;
  for (const auto& row : rows) jsonl += row.line + "\n";
  IPCG_CHECK(write_file_atomically(out / "results.jsonl", jsonl));
  return write_file_atomically(out / "gradebook.csv", gradebook_csv(rows));
}

}  // namespace ipcg
