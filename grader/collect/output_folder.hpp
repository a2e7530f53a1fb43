// Writing the collected class: every file into a temporary folder beside DIR, then one rename,
// so DIR appears whole or not at all. Every write goes through openat() under a folder fd with
// O_NOFOLLOW|O_EXCL, so no symlink can redirect it.
//
//   IPCG_CHECK(write_output_folder("subs", {{"1001", "pipeline.c", bytes}, {"", "roster.csv", csv}}));
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::collect {

struct OutputFile {
  std::string folder;  // a plain name (a student's id), or "" for DIR itself
  std::string name;    // a plain name
  std::string bytes;
};

// Refuses (Errc::usage) when DIR exists and is not an empty folder, or is a symlink.
Result<void> check_output_folder(const std::filesystem::path& dir);

// Folders listed in `folders` are created even when no file goes in them.
Result<void> write_output_folder(const std::filesystem::path& dir, const std::vector<std::string>& folders,
                                 const std::vector<OutputFile>& files);

}  // namespace ipcg::collect
