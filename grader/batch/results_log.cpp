#include "batch/results_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "report/json_report.hpp"

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;

Result<void> write_all(int fd, std::string_view text, const std::string& what) {
  // One write() for the whole line; the loop only matters if the kernel takes less (disk full).
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_fail("writing " + what);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) return sys_fail("fsync " + what);
  return {};
}

std::string joined(const std::vector<ResultRow>& rows) {
  std::string text;
  for (const auto& row : rows) text += row.line + "\n";
  return text;
}

}  // namespace

bool ResultRow::is_error() const { return doc.contains("error"); }

std::string ResultRow::field(const char* key) const {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<ResultRow> parse_row(std::string_view line) {
  Json doc = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("submission") || !doc["submission"].is_string())
    return fail(Errc::config, "not a results.jsonl row");
  std::string name = doc["submission"].get<std::string>();
  return ResultRow{std::move(name), std::string(line), std::move(doc)};
}

ParsedResults parse_results(std::string_view text) {
  ParsedResults parsed;
  const auto last_newline = text.rfind('\n');
  parsed.complete_bytes = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  // Whatever follows the last newline was cut off by a kill before its write finished.
  if (parsed.complete_bytes < text.size()) ++parsed.ignored_lines;
  std::string_view rest = text.substr(0, parsed.complete_bytes);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (line.empty()) continue;
    if (auto row = parse_row(line)) parsed.rows.push_back(std::move(*row));
    else ++parsed.ignored_lines;
  }
  parsed.rows = latest_rows(std::move(parsed.rows));
  return parsed;
}

std::vector<ResultRow> latest_rows(std::vector<ResultRow> rows) {
  std::map<std::string, ResultRow> by_name;  // sorted by name; assignment keeps the later row
  for (auto& row : rows) by_name.insert_or_assign(row.submission, std::move(row));
  std::vector<ResultRow> out;
  for (auto& [name, row] : by_name) out.push_back(std::move(row));
  return out;
}

std::string result_line(const LabResult& result, const std::string& submission) {
  LabResult named = result;
  named.submission = submission;  // the subfolder name, not the path it was graded from
  return json_report(named, {.show_hidden_details = false, .indent = -1});
}

std::string error_line(const std::string& submission, const std::string& message, const std::string& lab,
                       const std::string& spec_hash, const std::string& grader_version) {
  const Json doc = {{"submission", submission}, {"error", message}, {"lab", lab},
                    {"spec_hash", spec_hash}, {"grader_version", grader_version}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool already_graded(const ResultRow& row, std::string_view spec_hash, std::string_view grader_version) {
  // An error row is not a grade: the rerun tries that submission again.
  return !row.is_error() && row.field("spec_hash") == spec_hash && row.field("grader_version") == grader_version;
}

Result<std::string> read_text_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::string();
  if (!fd) return sys_fail("open " + path.string());
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail("read " + path.string());
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  const auto temp = path.string() + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return sys_fail("create " + temp);
  IPCG_CHECK(write_all(fd.get(), text, temp));
  if (::rename(temp.c_str(), path.c_str()) != 0) return sys_fail("rename " + temp);
  return {};
}

Result<ResultsLog> ResultsLog::open(const std::filesystem::path& path) {
  ResultsLog log;
  log.path_ = path;
  log.fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.fd_) return sys_fail("open " + path.string());
  if (::flock(log.fd_.get(), LOCK_EX | LOCK_NB) != 0)
    return fail(Errc::usage, path.string() + " is in use by another grader batch");
  IPCG_TRY(std::string text, read_text_file(path));
  ParsedResults parsed = parse_results(text);
  if (parsed.complete_bytes < text.size() &&
      ::ftruncate(log.fd_.get(), static_cast<off_t>(parsed.complete_bytes)) != 0)
    return sys_fail("truncate the cut-off line of " + path.string());
  log.rows_ = std::move(parsed.rows);
  log.ignored_lines_ = parsed.ignored_lines;
  return log;
}

Result<void> ResultsLog::append(const std::string& line) {
  IPCG_TRY(ResultRow row, parse_row(line));
  IPCG_CHECK(write_all(fd_.get(), line + "\n", path_.string()));
  rows_.push_back(std::move(row));
  rows_ = latest_rows(std::move(rows_));
  return {};
}

Result<void> ResultsLog::compact() { return write_file_atomically(path_, joined(rows_)); }

}  // namespace ipcg
