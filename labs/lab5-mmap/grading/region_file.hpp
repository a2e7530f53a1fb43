// lab5's part of a scene: the test's own folder for its files, the drivers' gates, and the
// region file read back by the grader itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/labkit/scene.hpp"
#include "mmlab.h"

namespace lab5 {

using namespace ipcg;

inline constexpr long kSysFutex = 202;

// The folder a test's files live in: in the sandbox's work folder (on the host's disk, so that
// msync has something to write back, unlike the box's /tmp tmpfs), named from ctx.ipc_names(),
// writable by the student's and the reference's uids alike (0777). Removed, with
// whatever the roles left in it, when the check ends.
class TestFolder {
 public:
  static Result<TestFolder> make(TestContext& ctx);
  TestFolder(TestFolder&& other) noexcept;
  TestFolder& operator=(TestFolder&&) = delete;
  ~TestFolder();
  std::filesystem::path host(std::string_view file) const { return host_ / file; }  // the grader's path
  std::string box(std::string_view file) const { return (box_ / file).string(); }   // the roles' path
  // msync writes nothing back on tmpfs: dirty pages cannot be judged there.
  bool on_tmpfs() const;

 private:
  TestFolder(std::filesystem::path host, std::filesystem::path box) : host_(std::move(host)), box_(std::move(box)) {}
  std::filesystem::path host_, box_;
};

// Runs the scene until `a` stopped itself at "gate NAME" (its control line, then SIGSTOP), or
// exited: true when stopped there.
Result<bool> run_to_gate(Scene& scene, Actor& a, std::string_view name);
void resume(const Actor& a);  // SIGCONT
// Sends sig to the actor's process.
void signal_actor(const Actor& a, int sig);

// A regular file's bytes, opened without following a symlink (the folder is the roles' to write
// in); nullopt when it is missing or not a regular file.
std::optional<std::string> read_regular_file(const std::filesystem::path& file);

// The region as its file holds it, read by the grader (never by a role).
struct RegionContent {
  std::uint64_t count = 0, records = 0;
  std::vector<mm_record> log;
};
std::optional<RegionContent> read_region(const std::filesystem::path& file);

// Pages of the file's page cache that are dirty or under writeback (cachestat(2)); nullopt when
// the kernel cannot say.
struct CacheState {
  std::uint64_t cached = 0, dirty = 0, writeback = 0;
};
std::optional<CacheState> cache_state(const std::filesystem::path& file);

}  // namespace lab5
