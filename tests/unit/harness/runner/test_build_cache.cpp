// The reference build cache (runner/build_cache.hpp), with real builds of lab1's reference in real
// sandboxes. Each test has a cache folder of its own; a BuildCache object of its own stands for a
// grader process (its memory), so two objects on one folder are a grader and a later one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "build_cache.hpp"
#include "harness/core/sha256.hpp"
#include "harness/spec/lab_spec.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = IPCG_SOURCE_DIR;

LabSpec lab1() {
  auto lab = load_lab_spec(kSource / "labs/lab1-pipe/lab.toml", kSource / "reference");
  EXPECT_TRUE(lab) << lab.error().message;
  return *lab;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "ipcg-build-cache-XXXXXX").string();
    EXPECT_NE(::mkdtemp(templ.data()), nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Every file and folder under `dir`: path, type and mode, owner, and a hash of its bytes. Owners
// are said relative to the folder's own (each sandbox has slot uids of its own).
std::string folder_state(const fs::path& dir) {
  struct stat top {};
  EXPECT_EQ(::lstat(dir.c_str(), &top), 0);
  const auto uid = [&](uid_t id) { return id == top.st_uid ? std::string("U") : std::to_string(id); };
  const auto gid = [&](gid_t id) { return id == top.st_gid ? std::string("G") : std::to_string(id); };
  std::vector<std::string> lines{"folder mode " + std::to_string(top.st_mode) + " owner " + std::to_string(top.st_uid)};
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    EXPECT_EQ(::lstat(entry.path().c_str(), &st), 0);
    std::ostringstream line;
    line << fs::relative(entry.path(), dir).string() << " mode " << std::oct << st.st_mode << std::dec << " owner "
         << uid(st.st_uid) << ":" << gid(st.st_gid);
    if (S_ISREG(st.st_mode)) line << " sha256 " << sha256_hex(read_file(entry.path()));
    lines.push_back(line.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// One grading's worth: a sandbox of its own and the reference built into it.
struct Graded {
  Sandbox box;
  BuiltImpl reference;
};

Graded build(const LabSpec& lab, BuildCache* cache) {
  auto box = Sandbox::create({.syscall_sets = lab.syscall_sets});
  EXPECT_TRUE(box) << box.error().message;
  auto built = build_reference(*box, lab, {.cache = cache != nullptr, .cache_in = cache, .grader_version = "test"});
  EXPECT_TRUE(built) << built.error().message;
  EXPECT_TRUE(built->all_ok()) << built->feedback();
  return {std::move(*box), std::move(*built)};
}

fs::path only_entry(const fs::path& cache_dir) {
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(cache_dir)) entries.push_back(entry.path());
  EXPECT_EQ(entries.size(), 1u);
  return entries.empty() ? fs::path() : entries[0];
}

TEST(BuildCache, ASecondBuildOfTheSameInputsIsAHitWithTheSameFolder) {
  const LabSpec lab = lab1();
  TempDir dir;
  BuildCache first(dir.path / "cache");
  const Graded fresh = build(lab, &first);
  EXPECT_EQ(first.stats().builds, 1);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path / "cache").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  const Graded again = build(lab, &first);  // another job of the same batch
  EXPECT_EQ(first.stats().builds, 1);
  EXPECT_EQ(first.stats().memory_hits, 1);

  BuildCache later(dir.path / "cache");  // a later grader: from disk
  const Graded from_disk = build(lab, &later);
  EXPECT_EQ(later.stats().builds, 0);
  EXPECT_EQ(later.stats().disk_hits, 1);

  // Nothing downstream can tell: the same files, modes and owners as a fresh build.
  const Graded uncached = build(lab, nullptr);
  EXPECT_EQ(folder_state(again.reference.bin_dir), folder_state(uncached.reference.bin_dir));
  EXPECT_EQ(folder_state(from_disk.reference.bin_dir), folder_state(uncached.reference.bin_dir));
  EXPECT_EQ(folder_state(fresh.reference.bin_dir), folder_state(uncached.reference.bin_dir));
  EXPECT_EQ(from_disk.reference.programs.size(), lab.programs.size());
  EXPECT_FALSE(reference_build_key(from_disk.reference.bin_dir).empty());
  EXPECT_EQ(reference_build_key(from_disk.reference.bin_dir), reference_build_key(uncached.reference.bin_dir));
}

TEST(BuildCache, AChangedSourceOrFlagIsAMiss) {
  LabSpec lab = lab1();
  TempDir dir;
  fs::copy(lab.reference_dir, dir.path / "reference", fs::copy_options::recursive);
  lab.reference_dir = dir.path / "reference";
  BuildCache cache(dir.path / "cache");
  const Graded original = build(lab, &cache);
  const std::string source = (lab.reference_dir / lab.build.sources.at(0)).string();
  std::ofstream(source, std::ios::app) << "\n/* changed */\n";
  const Graded changed_source = build(lab, &cache);
  lab.build.cflags.push_back("-DIPCG_CACHE_TEST=1");
  const Graded changed_flag = build(lab, &cache);
  EXPECT_EQ(cache.stats().builds, 3);
  EXPECT_EQ(cache.stats().memory_hits + cache.stats().disk_hits, 0);
  const std::string keys[] = {reference_build_key(original.reference.bin_dir),
                              reference_build_key(changed_source.reference.bin_dir),
                              reference_build_key(changed_flag.reference.bin_dir)};
  EXPECT_NE(keys[0], keys[1]);
  EXPECT_NE(keys[1], keys[2]);
}

TEST(BuildCache, TwoThreadsAskingForOneKeyBuildOnce) {
  const LabSpec lab = lab1();
  TempDir dir;
  BuildCache cache(dir.path / "cache");
  std::optional<Graded> a, b;
  std::thread first([&] { a.emplace(build(lab, &cache)); });
  std::thread second([&] { b.emplace(build(lab, &cache)); });
  first.join();
  second.join();
  EXPECT_EQ(cache.stats().builds, 1);
  EXPECT_EQ(cache.stats().memory_hits, 1);
  EXPECT_EQ(folder_state(a->reference.bin_dir), folder_state(b->reference.bin_dir));
}

TEST(BuildCache, ATamperedOrIncompleteEntryIsRebuilt) {
  const LabSpec lab = lab1();
  TempDir dir;
  {
    BuildCache cache(dir.path / "cache");
    build(lab, &cache);
  }
  const fs::path entry = only_entry(dir.path / "cache");
  const fs::path program = entry / "files" / lab.programs.begin()->first;
  std::string bytes = read_file(program);
  bytes[bytes.size() / 2] ^= 1;  // same size, other bytes: only the hash can tell
  std::ofstream(program, std::ios::binary | std::ios::trunc) << bytes;
  {
    BuildCache tampered(dir.path / "cache");
    const Graded rebuilt = build(lab, &tampered);
    EXPECT_EQ(tampered.stats().builds, 1);
    EXPECT_EQ(tampered.stats().disk_hits, 0);
  }
  {
    BuildCache mended(dir.path / "cache");  // the rebuild replaced the entry
    build(lab, &mended);
    EXPECT_EQ(mended.stats().disk_hits, 1);
  }
  fs::remove(entry / "manifest.json");
  BuildCache incomplete(dir.path / "cache");
  build(lab, &incomplete);
  EXPECT_EQ(incomplete.stats().builds, 1);
  EXPECT_EQ(fs::exists(only_entry(dir.path / "cache") / "manifest.json"), true);
}

TEST(BuildCache, AFolderItCannotUseFallsBackToBuilding) {
  const LabSpec lab = lab1();
  TempDir dir;
  std::ofstream(dir.path / "a-file") << "not a folder";
  const fs::path unusable[] = {dir.path / "a-file" / "cache", dir.path / "open-to-all"};
  fs::create_directory(unusable[1]);
  fs::permissions(unusable[1], fs::perms::all);  // 0777: anyone could plant an entry
  for (const auto& folder : unusable) {
    for (int run = 0; run < 2; ++run) {
      BuildCache cache(folder);
      const Graded graded = build(lab, &cache);
      EXPECT_EQ(cache.stats().builds, 1) << folder;
    }
  }
  EXPECT_TRUE(fs::is_empty(unusable[1]));
  if (::geteuid() != 0) return;
  // Root's cache in a folder another uid owns: never trusted.
  const fs::path foreign = dir.path / "foreign";
  fs::create_directory(foreign, dir.path);
  fs::permissions(foreign, fs::perms::owner_all, fs::perm_options::replace);
  ASSERT_EQ(::chown(foreign.c_str(), 65534, 65534), 0);
  BuildCache cache(foreign);
  build(lab, &cache);
  EXPECT_EQ(cache.stats().builds, 1);
  EXPECT_TRUE(fs::is_empty(foreign));
}

// The records kept beside the builds (the reference's own-run timings): read back by a later
// grader with their age; never read from a shelf or file that is not private to this uid.
TEST(BuildCacheRecord, AWrittenRecordIsReadBackByALaterGraderWithItsAge) {
  TempDir dir;
  BuildCache(dir.path / "cache").write_record("pace", "abc", "26\n");
  BuildCache later(dir.path / "cache");
  const auto record = later.read_record("pace", "abc");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->text, "26\n");
  EXPECT_GE(record->age, std::chrono::system_clock::duration::zero());
  EXPECT_LT(record->age, std::chrono::hours(1));
  EXPECT_FALSE(later.read_record("pace", "missing"));
  EXPECT_FALSE(later.read_record("pace", "../cache/pace/abc"));  // a name, never a path
  later.write_record("pace", "abc", "30\n");                    // replaced whole
  EXPECT_EQ(later.read_record("pace", "abc")->text, "30\n");
  EXPECT_EQ((fs::status(dir.path / "cache" / "pace").permissions() & fs::perms::all), fs::perms::owner_all);
}

TEST(BuildCacheRecord, AShelfOthersMayWriteOrALinkedRecordIsNeverRead) {
  TempDir dir;
  BuildCache cache(dir.path / "cache");
  cache.write_record("pace", "abc", "26\n");
  std::ofstream(dir.path / "planted") << "1\n";
  fs::create_symlink(dir.path / "planted", dir.path / "cache" / "pace" / "linked");
  EXPECT_FALSE(cache.read_record("pace", "linked"));
  fs::permissions(dir.path / "cache" / "pace", fs::perms::group_write | fs::perms::others_write, fs::perm_options::add);
  EXPECT_FALSE(cache.read_record("pace", "abc"));
  cache.write_record("pace", "new", "1\n");
  EXPECT_FALSE(fs::exists(dir.path / "cache" / "pace" / "new"));
}

}  // namespace
}  // namespace ipcg
