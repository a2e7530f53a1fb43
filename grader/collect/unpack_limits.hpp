// What an untrusted download may unpack to (docs/grading-a-class.md, "Submissions in"): the
// policy, in one place. A download over any cap is refused whole, naming the archive and entry.
//
//   UnpackBudget budget(kDefaultUnpackLimits);
//   IPCG_TRY(auto files, read_input("canvas.zip", budget));
#pragma once

#include <cstdint>

namespace ipcg::collect {

struct UnpackLimits {
  // Entries of every kind (folders too), nested archives' entries included.
  std::uint64_t max_entries = 20'000;
  // One file, as declared in its header and as actually decompressed (a zip bomb lies).
  std::uint64_t max_entry_bytes = 16ull << 20;
  // Every file of the download together, nested archives' files included.
  std::uint64_t max_total_bytes = 512ull << 20;
};

// A class of 300 students submitting a few C files each is far below every cap; a download that
// reaches one is hostile or not a submissions download.
inline constexpr UnpackLimits kDefaultUnpackLimits{};

// What is left of the caps while one download (and the archives inside it) is read.
class UnpackBudget {
 public:
  explicit UnpackBudget(UnpackLimits limits) : limits_(limits) {}
  const UnpackLimits& limits() const { return limits_; }
  std::uint64_t entries = 0;
  std::uint64_t total_bytes = 0;

 private:
  UnpackLimits limits_;
};

}  // namespace ipcg::collect
