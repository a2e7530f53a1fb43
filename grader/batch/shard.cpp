#include "batch/shard.hpp"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace ipcg {
namespace {

std::optional<long long> parse_int(std::string_view text) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// K from the engine's task index. Kubernetes counts from 0. A Slurm task's id is K itself
// (--array=1-N): resubmitting one index alone (--array=2) makes SLURM_ARRAY_TASK_MIN that index,
// so subtracting the minimum would regrade shard 1 into shard 2's folder.
Result<long long> auto_index(const EnvLookup& env) {
  if (auto k8s = env("JOB_COMPLETION_INDEX")) {
    if (auto index = parse_int(*k8s)) return *index + 1;
    return fail(Errc::usage, "JOB_COMPLETION_INDEX is not a number: '" + *k8s + "'");
  }
  if (auto slurm = env("SLURM_ARRAY_TASK_ID")) {
    auto index = parse_int(*slurm);
    if (!index) return fail(Errc::usage, "SLURM_ARRAY_TASK_ID is not a number: '" + *slurm + "'");
    if (*index < 1)
      return fail(Errc::usage, "SLURM_ARRAY_TASK_ID is " + *slurm + ": number the array from 1 (--array=1-N), "
                               "task K grades shard K");
    return *index;
  }
  return fail(Errc::usage, "--shard auto/N needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment");
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool Shard::contains(std::string_view submission) const {
  return fnv1a64(submission) % static_cast<std::uint64_t>(count) == static_cast<std::uint64_t>(index - 1);
}

std::string Shard::label() const { return fmt::format("{}/{}", index, count); }

EnvLookup environment_lookup() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

Result<Shard> parse_shard(std::string_view text, const EnvLookup& env) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return fail(Errc::usage, fmt::format("--shard '{}': expected K/N or auto/N", text));
  auto count = parse_int(text.substr(slash + 1));
  if (!count || *count < 1 || *count > 1000000)
    return fail(Errc::usage, fmt::format("--shard '{}': N must be a number from 1", text));
  const auto k_text = text.substr(0, slash);
  Result<long long> index = k_text == "auto" ? auto_index(env) : Result<long long>(0);
  if (!index) return tl::unexpected(index.error());
  if (k_text != "auto") {
    auto k = parse_int(k_text);
    if (!k) return fail(Errc::usage, fmt::format("--shard '{}': K must be a number or 'auto'", text));
    index = *k;
  }
  if (*index < 1 || *index > *count)
    return fail(Errc::usage, fmt::format("--shard '{}': K is {}, outside 1..{}", text, *index, *count));
  return Shard{static_cast<int>(*index), static_cast<int>(*count)};
}

}  // namespace ipcg
