#include "batch/regrade_apply.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "batch/gradebook.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

std::string utc(std::chrono::system_clock::time_point when, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, format, &tm));
}

Result<void> io_check(const std::error_code& ec, const std::string& what) {
  if (ec) return fail(Errc::io, what + ": " + ec.message());
  return {};
}

// A fresh archive folder name: the stamp, or stamp-2, stamp-3... when applied twice in a second.
fs::path archive_path(const fs::path& old_dir, std::chrono::system_clock::time_point now) {
  const fs::path base = old_dir / "regrades" / utc(now, "%Y%m%dT%H%M%SZ");
  fs::path path = base;
  for (int n = 2; fs::exists(path); ++n) path = base.string() + "-" + std::to_string(n);
  return path;
}

// Copies what the old folder holds of a batch's output into `archive`, whole or not at all.
Result<void> archive_old(const fs::path& old_dir, const fs::path& archive) {
  const fs::path staging = archive.parent_path() / ("." + archive.filename().string() + ".tmp");
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  IPCG_CHECK(io_check(ec, "creating " + staging.string()));
  for (const char* name : {"results.jsonl", "gradebook.csv", "gradebook.html", "regrade.json", "reports"}) {
    if (!fs::exists(old_dir / name)) continue;
    fs::copy(old_dir / name, staging / name, fs::copy_options::recursive, ec);
    IPCG_CHECK(io_check(ec, "copying " + (old_dir / name).string() + " into " + staging.string()));
  }
  fs::rename(staging, archive, ec);
  IPCG_CHECK(io_check(ec, "renaming " + staging.string() + " to " + archive.string()));
  // On disk before anything is replaced: a power cut must not keep the new files and lose the copies.
  UniqueFd dir(::open(archive.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::syncfs(dir.get()) != 0) return sys_fail("syncing " + archive.string());
  return {};
}

// old/reports becomes a copy of new/reports: copied beside it, then swapped in by renames.
Result<void> replace_reports(const fs::path& old_dir, const fs::path& new_dir) {
  const fs::path incoming = old_dir / ".reports.new", outgoing = old_dir / ".reports.old";
  std::error_code ec;
  fs::remove_all(incoming, ec);
  fs::remove_all(outgoing, ec);
  fs::create_directories(incoming, ec);
  if (fs::is_directory(new_dir / "reports")) fs::copy(new_dir / "reports", incoming, fs::copy_options::recursive, ec);
  IPCG_CHECK(io_check(ec, "copying " + (new_dir / "reports").string() + " into " + incoming.string()));
  if (fs::exists(old_dir / "reports")) fs::rename(old_dir / "reports", outgoing, ec);
  IPCG_CHECK(io_check(ec, "moving aside " + (old_dir / "reports").string()));
  fs::rename(incoming, old_dir / "reports", ec);
  IPCG_CHECK(io_check(ec, "renaming " + incoming.string()));
  fs::remove_all(outgoing, ec);  // the archive holds a copy; a leftover here is harmless
  return {};
}

// results.jsonl and gradebook.csv byte for byte as the new run wrote them.
Result<void> replace_files(const fs::path& old_dir, const fs::path& new_dir, const std::vector<ResultRow>& new_rows) {
  IPCG_TRY(std::string results, read_text_file(new_dir / "results.jsonl"));
  IPCG_TRY(std::string csv, read_text_file(new_dir / "gradebook.csv"));
  if (csv.empty()) csv = gradebook_csv(new_rows);  // a folder made by hand: the csv batch would write
  IPCG_CHECK(write_file_atomically(old_dir / "results.jsonl", results));
  return write_file_atomically(old_dir / "gradebook.csv", csv);
}

std::string regrade_record(const RegradeDiff& diff, const fs::path& old_dir, const fs::path& new_dir,
                           const fs::path& archive, std::chrono::system_clock::time_point now) {
  nlohmann::ordered_json doc = {{"when", utc(now, "%Y-%m-%dT%H:%M:%SZ")},
                                {"archive", archive.lexically_relative(old_dir).generic_string()},
                                {"new_folder", fs::absolute(new_dir).lexically_normal().string()}};
  const nlohmann::ordered_json core = regrade_json(diff);  // named: items() must not outlive it
  for (const auto& [key, value] : core.items()) doc[key] = value;
  return doc.dump(2) + "\n";
}

Result<void> check_distinct(const fs::path& old_dir, const fs::path& new_dir) {
  std::error_code ec;
  if (fs::equivalent(old_dir, new_dir, ec))
    return fail(Errc::usage, old_dir.string() + " and " + new_dir.string() + " are the same folder");
  return {};
}

}  // namespace

Result<std::vector<ResultRow>> read_output_rows(const fs::path& dir) {
  const fs::path path = dir / "results.jsonl";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return fail(Errc::usage, "no " + path.string() + " (not a batch output folder)");
  IPCG_TRY(std::string text, read_text_file(path));
  std::vector<ResultRow> rows;
  std::size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos)
      return fail(Errc::config, fmt::format("{}:{}: line cut off (no newline): was the batch killed? rerun it to "
                                            "finish", path.string(), line));
    const std::string_view body(text.data() + start, end - start);
    start = end + 1;
    if (body.empty()) continue;
    auto row = parse_row(body);
    if (!row) return fail(Errc::config, fmt::format("{}:{}: {}", path.string(), line, row.error().message));
    rows.push_back(std::move(*row));
  }
  return latest_rows(std::move(rows));
}

Result<RegradeDiff> diff_folders(const fs::path& old_dir, const fs::path& new_dir) {
  IPCG_TRY(auto old_rows, read_output_rows(old_dir));
  IPCG_TRY(auto new_rows, read_output_rows(new_dir));
  return diff_results(old_rows, new_rows);
}

Result<AppliedRegrade> apply_regrade(const fs::path& old_dir, const fs::path& new_dir,
                                     std::chrono::system_clock::time_point now) {
  IPCG_CHECK(diff_folders(old_dir, new_dir));  // both readable, before open() below could create a file
  IPCG_CHECK(check_distinct(old_dir, new_dir));
  // Held to the end: a batch still writing either folder is refused. Read again under the locks.
  IPCG_TRY(ResultsLog old_lock, ResultsLog::open(old_dir / "results.jsonl"));
  IPCG_TRY(ResultsLog new_lock, ResultsLog::open(new_dir / "results.jsonl"));
  IPCG_TRY(auto old_rows, read_output_rows(old_dir));
  IPCG_TRY(auto new_rows, read_output_rows(new_dir));
  AppliedRegrade applied{diff_results(old_rows, new_rows), archive_path(old_dir, now)};
  IPCG_CHECK(archive_old(old_dir, applied.archive));
  IPCG_CHECK(replace_reports(old_dir, new_dir));
  IPCG_CHECK(replace_files(old_dir, new_dir, new_rows));
  IPCG_CHECK(write_file_atomically(old_dir / "regrade.json",
                                   regrade_record(applied.diff, old_dir, new_dir, applied.archive, now)));
  return applied;
}

}  // namespace ipcg
