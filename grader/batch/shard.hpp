// Which submissions one shard of a batch grades: a stable split by a hash of the submission name,
// so a CI matrix, a Kubernetes Indexed Job or a Slurm array all pick the same subsets.
//
//   IPCG_TRY(Shard shard, parse_shard("auto/4", environment_lookup()));  // or "2/4"
//   for (const auto& name : names) if (shard.contains(name)) ...
//
// "auto/N" takes K from JOB_COMPLETION_INDEX (Kubernetes, 0-based) or SLURM_ARRAY_TASK_ID (K
// itself: the array is --array=1-N, so a task resubmitted alone, --array=K, still grades shard K).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "harness/core/error.hpp"

namespace ipcg {

// FNV-1a 64 of the bytes: the documented shard hash (docs/grading-a-class.md).
std::uint64_t fnv1a64(std::string_view bytes);

struct Shard {
  int index = 1;  // K, 1-based
  int count = 1;  // N
  bool contains(std::string_view submission) const;
  std::string label() const;  // "2/4"
};

// Reads an environment variable; a seam so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup environment_lookup();

// "K/N" (1 <= K <= N) or "auto/N"; anything else is Errc::usage naming what is wrong.
Result<Shard> parse_shard(std::string_view text, const EnvLookup& env);

}  // namespace ipcg
