#include "batch/shard_manifest.hpp"

#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace ipcg {
namespace {

using Json = nlohmann::ordered_json;

std::string names_of(const std::vector<std::string>& names) {
  if (names.empty()) return "no submission";
  return fmt::format("{} ({} submission{})", fmt::join(names, ", "), names.size(), names.size() == 1 ? "" : "s");
}

std::vector<std::string> part_of(const std::vector<std::string>& everyone, const Shard& shard) {
  std::vector<std::string> part;
  for (const auto& name : everyone)
    if (shard.contains(name)) part.push_back(name);
  return part;
}

std::string label_of(const ShardFolder& folder) {
  return fmt::format("shard {} ({})", folder.manifest->shard.label(), folder.source);
}

// Folders graded differently cannot be one class's gradebook, whatever their coverage.
std::optional<std::string> mismatch(const ShardFolder& a, const ShardFolder& b) {
  const ShardManifest& x = *a.manifest;
  const ShardManifest& y = *b.manifest;
  auto differ = [&](const char* what, const std::string& u, const std::string& v) {
    return fmt::format("{} was graded with {} {}, {} with {}: grade every shard the same way", a.source, what, u,
                       b.source, v);
  };
  if (x.lab != y.lab) return differ("lab", x.lab, y.lab);
  if (x.spec_hash != y.spec_hash) return differ("lab spec_hash", x.spec_hash, y.spec_hash);
  if (x.grader_version != y.grader_version) return differ("grader", x.grader_version, y.grader_version);
  if (x.seed != y.seed) return differ("--seed", std::to_string(x.seed), std::to_string(y.seed));
  if (x.shard.count != y.shard.count)
    return differ("--shard K/", std::to_string(x.shard.count), std::to_string(y.shard.count));
  if (x.everyone != y.everyone)
    return fmt::format("{} and {} saw different submission folders ({} and {} submissions): grade every shard "
                       "from the same folder",
                       a.source, b.source, x.everyone.size(), y.everyone.size());
  return std::nullopt;
}

// A shard that is there but lacks rows: killed (not complete) or damaged afterwards (complete).
std::optional<std::string> unfinished(const ShardFolder& folder) {
  const ShardManifest& m = *folder.manifest;
  std::set<std::string> graded;
  for (const auto& row : folder.rows) graded.insert(row.submission);
  std::vector<std::string> missing;
  for (const auto& name : m.submissions)
    if (!graded.count(name)) missing.push_back(name);
  const std::string cut = folder.cut_off_lines > 0 ? "; its results.jsonl ends in a line cut short" : "";
  if (!m.complete)
    return fmt::format("{} did not finish (its task was killed or is still running): it should hold {}, no grade yet "
                       "for {}{}; rerun shard {}",
                       label_of(folder), names_of(m.submissions),
                       missing.empty() ? "none" : fmt::format("{}", fmt::join(missing, ", ")), cut, m.shard.index);
  if (!missing.empty())
    return fmt::format("{} says it finished but results.jsonl lacks {}: rerun shard {}", label_of(folder),
                       names_of(missing), m.shard.index);
  return std::nullopt;
}

}  // namespace

ShardManifest manifest_for(const Shard& shard, const std::vector<std::string>& everyone, std::string lab,
                           std::string spec_hash, std::string grader_version, std::uint64_t seed) {
  return ShardManifest{.shard = shard, .lab = std::move(lab), .spec_hash = std::move(spec_hash),
                       .grader_version = std::move(grader_version), .seed = seed, .everyone = everyone,
                       .submissions = part_of(everyone, shard)};
}

std::string manifest_json(const ShardManifest& m) {
  Json doc{{"shard", m.shard.label()}, {"lab", m.lab}, {"spec_hash", m.spec_hash},
           {"grader_version", m.grader_version}, {"seed", m.seed}, {"complete", m.complete},
           {"submissions", m.submissions}, {"everyone", m.everyone}};
  return doc.dump(1) + "\n";
}

Result<ShardManifest> parse_manifest(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [] { return fail(Errc::config, "shard.json is not a shard manifest"); };
  if (!doc.is_object()) return bad();
  try {
    auto shard = parse_shard(doc.at("shard").get<std::string>(), [](const char*) { return std::nullopt; });
    if (!shard) return bad();
    return ShardManifest{.shard = *shard, .lab = doc.at("lab").get<std::string>(),
                         .spec_hash = doc.at("spec_hash").get<std::string>(),
                         .grader_version = doc.at("grader_version").get<std::string>(),
                         .seed = doc.at("seed").get<std::uint64_t>(),
                         .everyone = doc.at("everyone").get<std::vector<std::string>>(),
                         .submissions = doc.at("submissions").get<std::vector<std::string>>(),
                         .complete = doc.at("complete").get<bool>()};
  } catch (const Json::exception&) {
    return bad();
  }
}

Result<void> write_manifest(const std::filesystem::path& dir, const ShardManifest& manifest) {
  return write_file_atomically(dir / "shard.json", manifest_json(manifest));
}

std::vector<std::string> shard_problems(const std::vector<ShardFolder>& folders) {
  std::vector<std::string> problems;
  const ShardFolder* first = nullptr;
  for (const auto& folder : folders) {
    if (!folder.manifest) {
      problems.push_back(folder.source + ": " + folder.unreadable);
      continue;
    }
    if (!first) first = &folder;
    else if (auto differs = mismatch(*first, folder)) {
      problems.push_back(*differs);  // coverage means nothing across different gradings
      return problems;
    }
  }
  if (!first) return problems;
  std::map<int, const ShardFolder*> by_index;
  for (const auto& folder : folders) {
    if (!folder.manifest) continue;
    auto [it, fresh] = by_index.emplace(folder.manifest->shard.index, &folder);
    if (!fresh)
      problems.push_back(fmt::format("shard {} is given twice: {} and {}", folder.manifest->shard.label(),
                                     it->second->source, folder.source));
  }
  const int count = first->manifest->shard.count;
  for (int k = 1; k <= count; ++k) {
    auto it = by_index.find(k);
    if (it == by_index.end()) {
      const Shard shard{k, count};
      problems.push_back(fmt::format("shard {} is missing (no folder given holds it): it should hold {}; rerun shard {}",
                                     shard.label(), names_of(part_of(first->manifest->everyone, shard)), k));
    } else if (auto why = unfinished(*it->second)) {
      problems.push_back(*why);
    }
  }
  return problems;
}

}  // namespace ipcg
