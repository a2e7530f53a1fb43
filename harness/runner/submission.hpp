// Copies a submission's source files into the work folder, trusting nothing about them:
// each is opened without following symlinks, must be a regular file, and is size-capped.
//
//   std::vector<std::string> problems;
//   IPCG_CHECK(copy_sources(submission_dir, {"pipeline.c"}, work_src_dir, problems));
//   if (!problems.empty()) -> the build fails with these messages as feedback
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg {

inline constexpr std::uintmax_t kMaxSourceBytes = 1 << 20;

// Problems with the student's files (missing, symlink, too big) go to `problems`;
// an Error means the grader itself could not read or write.
Result<void> copy_sources(const std::filesystem::path& from_dir, const std::vector<std::string>& names,
                          const std::filesystem::path& to_dir, std::vector<std::string>& problems);

// Copies one trusted file (a lab header, a driver) into to_dir under `name`.
Result<void> copy_trusted_file(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace ipcg
