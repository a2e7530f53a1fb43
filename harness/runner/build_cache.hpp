// The reference's build, made once: cached by the SHA-256 of every input of the build (the staged
// folder: reference sources, lab headers, drivers, the driver kit; the compiler, its flags and its
// `--version`; the lab's programs; the grader's version). Every job of a batch shares one build
// (threads wait for the one that compiles a key), and later graders find it on disk, verified.
//
//   IPCG_TRY(BuiltImpl reference, build_reference(box, lab, {.grader_version = "1.4.0"}));   // build.hpp
//   BuildCache mine(dir);  build_reference(box, lab, {.cache_in = &mine});               // a folder of one's own
//
// A hit copies the cached programs and objects into the box's freshly staged reference folder,
// then seals it as a build would: the folder's files, owners and modes are those of a fresh build.
// The cache never fails grading: a folder it cannot use, an entry that does not verify against
// its manifest, a store that fails: the reference is built, and why is said once on stderr.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "build.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg {

namespace internal {
struct CachedBuild;
}

class BuildCache {
 public:
  // `dir` empty: nowhere on disk (the threads of this process still share builds).
  explicit BuildCache(std::filesystem::path dir);
  ~BuildCache();
  BuildCache(const BuildCache&) = delete;
  BuildCache& operator=(const BuildCache&) = delete;

  // The process's cache, in default_dir().
  static BuildCache& shared();
  // IPCG_CACHE_DIR if set; else /var/cache/ipcgrade as root, else $XDG_CACHE_HOME/ipcgrade or
  // ~/.cache/ipcgrade; empty when none of them can be named.
  static std::filesystem::path default_dir();

  const std::filesystem::path& dir() const { return dir_; }

  struct Stats {
    int builds = 0;       // compiler runs (a miss, or a build that could not be cached)
    int memory_hits = 0;  // built or loaded earlier by this process (another job of a batch)
    int disk_hits = 0;    // an entry on disk that verified
  };
  Stats stats() const;

  // Fills `staged` (a reference folder just staged, nothing compiled) for `key`: from memory, from
  // disk, or by compiling it (then kept in memory and stored on disk when it built).
  Result<BuiltImpl> fill(Sandbox& box, const LabSpec& lab, const StagedBuild& staged, const std::string& key,
                         bool verbose);
  // Says on stderr why the cache is not used, the first time only.
  void note_once(const std::string& why);

  // Small records kept beside the builds, in the cache folder's `shelf` subfolder (created 0700,
  // used only while it is ours and private): the reference's own-run timings. A record is written
  // whole by rename; read back with its age, nullopt when missing, unreadable or in a folder that
  // is not private. Never throws: a cache that cannot be used is only slower.
  struct Record {
    std::string text;
    std::chrono::system_clock::duration age;
  };
  std::optional<Record> read_record(const std::string& shelf, const std::string& name);
  void write_record(const std::string& shelf, const std::string& name, const std::string& text);

 private:
  using Entry = std::shared_ptr<const internal::CachedBuild>;
  // Waits while another thread works on `key`; returns its entry, or claims the key (null).
  Entry claim(const std::string& key);
  void publish(const std::string& key, Entry entry);
  // Compiles; a build whose every program linked is kept (in `kept`, and stored on disk, in place
  // of the entry there when `replace`: it did not verify).
  Result<BuiltImpl> build_and_keep(Sandbox& box, const LabSpec& lab, const StagedBuild& staged,
                                   const std::string& key, bool replace, Entry& kept);
  // The cache folder, created 0700 or checked (ours, not writable by others) on first use; -1
  // when it cannot be used (said once).
  int folder_fd();
  // Its subfolder `shelf`, created 0700, or an invalid fd when it is not ours and private.
  UniqueFd shelf_fd(const std::string& shelf);

  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::map<std::string, Entry> entries_;  // what this process built or verified
  std::set<std::string> working_;         // keys a thread is loading or building now
  Stats stats_;
  bool folder_checked_ = false;
  UniqueFd folder_;
  bool noted_ = false;
};

// The key of the reference build whose programs are in `reference_bin` (a BuiltImpl::bin_dir
// build_reference made in this process), or "" when it has none (its inputs could not be read).
std::string reference_build_key(const std::filesystem::path& reference_bin);

}  // namespace ipcg
