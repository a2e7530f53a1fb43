// Reading a download, an archive (zip, tar, tar.gz, ... through libarchive) or a folder, into
// memory as a list of regular files with their relative paths. Nothing is written to disk here.
//
//   UnpackBudget budget(kDefaultUnpackLimits);
//   IPCG_TRY(std::vector<InputFile> files, read_input("submissions.zip", budget));
//
// Archives are untrusted. An entry is refused, with the archive and the entry named, when its
// path is absolute or has a ".." component, when it is a symlink, hardlink, device, FIFO or
// socket, or when it would pass a cap of UnpackLimits. A folder is read without following
// symlinks (a symlink in it is skipped and reported); ".git" folders are skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "collect/unpack_limits.hpp"
#include "harness/core/error.hpp"

namespace ipcg::collect {

struct InputFile {
  std::string path;   // relative, '/'-separated, no "." or ".." components, never empty
  std::string bytes;
  std::int64_t mtime = 0;  // seconds since the epoch, 0 when unknown
};

struct InputListing {
  std::vector<InputFile> files;
  std::vector<std::string> folders;  // relative paths of the folders seen (a student's may hold nothing usable)
  std::vector<std::string> skipped;  // what a folder held that is not read, with why
};

// An archive file or a folder.
Result<InputListing> read_input(const std::filesystem::path& path, UnpackBudget& budget);
Result<InputListing> read_archive_file(const std::filesystem::path& path, UnpackBudget& budget);
// An archive held in memory (an archive inside a download); `name` names it in errors.
Result<InputListing> read_archive_bytes(std::string_view name, std::string_view bytes, UnpackBudget& budget);
Result<InputListing> read_folder(const std::filesystem::path& path, UnpackBudget& budget);

// "hello.zip", "work.tar.gz", ...: a name an archive inside a download would have.
bool looks_like_archive(std::string_view file_name);

// "a/./b" -> "a/b"; "" when the path is absolute, empty, or has a ".." component.
std::string safe_relative_path(std::string_view path);

}  // namespace ipcg::collect
