#include "collect/input_files.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <memory>

#include <fmt/format.h>

#include "harness/core/unique_fd.hpp"

namespace ipcg::collect {
namespace {

namespace fs = std::filesystem;

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

tl::unexpected<Error> refuse(std::string_view archive_name, std::string_view entry, std::string_view why) {
  return fail(Errc::usage, fmt::format("{}: entry \"{}\" refused: {}", archive_name, entry, why));
}

// Why an entry of this type may not be unpacked, or "" for a regular file or a folder.
std::string forbidden_type(archive_entry* entry) {
  if (archive_entry_hardlink(entry) != nullptr) return "a hard link (links may point outside the output folder)";
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG: case AE_IFDIR: return "";
    case AE_IFLNK: return "a symbolic link (links may point outside the output folder)";
    case AE_IFCHR: case AE_IFBLK: return "a device file";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    default: return "an entry of unknown type";
  }
}

std::string cap_text(std::uint64_t bytes) { return fmt::format("{} bytes", bytes); }

// Checks an entry's header against the budget; "" when it may be read.
std::string header_refusal(archive_entry* entry, const std::string& path, UnpackBudget& budget) {
  const auto& limits = budget.limits();
  if (++budget.entries > limits.max_entries)
    return fmt::format("more than {} entries in the download (the cap on entries)", limits.max_entries);
  if (std::string why = forbidden_type(entry); !why.empty()) return why;
  if (path.empty()) return "an absolute path, an empty one, or one with a \"..\" component (outside the output folder)";
  if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
      static_cast<std::uint64_t>(archive_entry_size(entry)) > limits.max_entry_bytes)
    return fmt::format("it declares {}, over the cap of {} per file", cap_text(archive_entry_size(entry)),
                       cap_text(limits.max_entry_bytes));
  return "";
}

// The entry's data, counted against the caps as it is decompressed: a header may lie.
Result<std::string> read_entry_data(archive* a, std::string_view archive_name, const std::string& path,
                                    UnpackBudget& budget) {
  const auto& limits = budget.limits();
  std::string data;
  std::array<char, 65536> buffer;
  for (;;) {
    const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
    if (n == 0) return data;
    if (n < 0)
      return fail(Errc::usage, fmt::format("{}: entry \"{}\": {}", archive_name, path,
                                           archive_error_string(a) ? archive_error_string(a) : "unreadable data"));
    data.append(buffer.data(), static_cast<std::size_t>(n));
    budget.total_bytes += static_cast<std::uint64_t>(n);
    if (data.size() > limits.max_entry_bytes)
      return refuse(archive_name, path, fmt::format("it unpacks to more than {}, the cap per file", cap_text(limits.max_entry_bytes)));
    if (budget.total_bytes > limits.max_total_bytes)
      return refuse(archive_name, path, fmt::format("the download unpacks to more than {}, the cap for all files",
                                                    cap_text(limits.max_total_bytes)));
  }
}

const char* entry_name(archive_entry* entry) {
  const char* name = archive_entry_pathname_utf8(entry);
  return name ? name : archive_entry_pathname(entry);
}

Result<InputListing> read_open_archive(archive* a, std::string_view archive_name, UnpackBudget& budget) {
  InputListing listing;
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(a, &entry);
    if (status == ARCHIVE_EOF) return listing;
    if (status < ARCHIVE_WARN)
      return fail(Errc::usage, fmt::format("{}: not a readable archive: {}", archive_name,
                                           archive_error_string(a) ? archive_error_string(a) : "unknown error"));
    const char* raw = entry_name(entry);
    if (raw == nullptr) return refuse(archive_name, "?", "its name cannot be read");
    const std::string path = safe_relative_path(raw);
    if (std::string why = header_refusal(entry, path, budget); !why.empty()) return refuse(archive_name, raw, why);
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      listing.folders.push_back(path);
      continue;
    }
    IPCG_TRY(std::string data, read_entry_data(a, archive_name, path, budget));
    const std::int64_t mtime = archive_entry_mtime_is_set(entry) ? archive_entry_mtime(entry) : 0;
    listing.files.push_back({path, std::move(data), mtime});
  }
}

ArchivePtr new_reader() {
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  return a;
}

Result<std::string> read_plain_file(const fs::path& path, std::uint64_t max_bytes, struct stat& st) {
  // O_NOFOLLOW: the walk saw a regular file; a symlink swapped in since is not followed.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_fail("open " + path.string());
  if (::fstat(fd.get(), &st) != 0) return sys_fail("stat " + path.string());
  if (!S_ISREG(st.st_mode)) return fail(Errc::usage, path.string() + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return fail(Errc::usage, fmt::format("{}: {} bytes, over the cap of {} per file", path.string(),
                                         st.st_size, max_bytes));
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail("read " + path.string());
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  data.resize(done);
  return data;
}

}  // namespace

std::string safe_relative_path(std::string_view path) {
  std::string text(path);
  std::replace(text.begin(), text.end(), '\\', '/');  // zips written on Windows
  if (text.empty() || text.front() == '/') return "";
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('/', start), text.size());
    const std::string part = text.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return "";
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

bool looks_like_archive(std::string_view file_name) {
  std::string lower(file_name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 10> kEndings = {".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2",
                                                                ".tbz2", ".tar.xz", ".txz", ".7z", ".rar"};
  return std::any_of(kEndings.begin(), kEndings.end(), [&](std::string_view e) { return lower.ends_with(e); });
}

Result<InputListing> read_archive_file(const fs::path& path, UnpackBudget& budget) {
  ArchivePtr a = new_reader();
  if (archive_read_open_filename(a.get(), path.c_str(), 65536) != ARCHIVE_OK)
    return fail(Errc::usage, fmt::format("{}: cannot open as an archive: {}", path.string(),
                                         archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error"));
  return read_open_archive(a.get(), path.string(), budget);
}

Result<InputListing> read_archive_bytes(std::string_view name, std::string_view bytes, UnpackBudget& budget) {
  ArchivePtr a = new_reader();
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return fail(Errc::usage, fmt::format("{}: cannot open as an archive: {}", name,
                                         archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error"));
  return read_open_archive(a.get(), name, budget);
}

Result<InputListing> read_folder(const fs::path& root, UnpackBudget& budget) {
  InputListing listing;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    const std::string rel = it->path().lexically_relative(root).generic_string();  // never resolves a link
    if (++budget.entries > budget.limits().max_entries)
      return fail(Errc::usage, fmt::format("{}: more than {} entries (the cap on entries)",
                                           root.string(), budget.limits().max_entries));
    if (fs::is_directory(status)) {
      if (it->path().filename() == ".git") it.disable_recursion_pending();
      else listing.folders.push_back(rel);
      continue;
    }
    if (!fs::is_regular_file(status)) {
      listing.skipped.push_back(rel + ": " + (fs::is_symlink(status) ? "a symbolic link, not followed" : "not a regular file"));
      continue;
    }
    struct stat st{};
    IPCG_TRY(std::string data, read_plain_file(it->path(), budget.limits().max_entry_bytes, st));
    budget.total_bytes += data.size();
    if (budget.total_bytes > budget.limits().max_total_bytes)
      return fail(Errc::usage, fmt::format("{}: more than {} bytes in all (the cap for all files)",
                                           root.string(), budget.limits().max_total_bytes));
    listing.files.push_back({rel, std::move(data), static_cast<std::int64_t>(st.st_mtime)});
  }
  if (ec) return fail(Errc::io, "reading " + root.string() + ": " + ec.message());
  std::sort(listing.files.begin(), listing.files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  std::sort(listing.folders.begin(), listing.folders.end());
  std::sort(listing.skipped.begin(), listing.skipped.end());
  return listing;
}

Result<InputListing> read_input(const fs::path& path, UnpackBudget& budget) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return read_folder(path, budget);
  if (!fs::exists(path, ec)) return fail(Errc::usage, "no file or folder " + path.string());
  return read_archive_file(path, budget);
}

}  // namespace ipcg::collect
