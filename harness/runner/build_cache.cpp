#include "build_cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness/core/sha256.hpp"

namespace ipcg {

namespace internal {
// What a successful reference build leaves beyond what was staged (objects, programs), and what
// BuiltImpl says about it. Never a partial build: only a build whose every program linked.
struct CachedBuild {
  struct File {
    std::string name;  // in the build folder's top level
    unsigned mode = 0;
    std::string bytes;
  };
  std::vector<File> files;
  std::string output;                                // the sources' compiler output
  std::map<std::string, std::string> program_output;  // each program's link output
  std::vector<SymbolUse> forbidden_used;
};
}  // namespace internal

namespace {

using internal::CachedBuild;
namespace fs = std::filesystem;

constexpr int kFormat = 1;
constexpr std::size_t kMaxFileBytes = 64u << 20;
constexpr std::size_t kMaxManifestBytes = 4u << 20;
constexpr const char* kManifest = "manifest.json";
constexpr const char* kFiles = "files";
constexpr const char* kNoEntry = "no entry";  // a plain miss, not a bad entry
// The PATH the sandbox gives the compiler (spawn_request.cpp), so `cc` names the same program.
constexpr const char* kSandboxPath = "/usr/local/bin:/usr/bin:/bin";

double seconds_since_staged(const StagedBuild& staged) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - staged.started).count();
}

// A name the cache writes or reads inside one folder: never a path, never hidden.
bool plain_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos && name.size() < 256;
}

Result<std::string> read_at(int dir_fd, const std::string& name, std::size_t cap) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return sys_fail("open " + name);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail("fstat " + name);
  if (!S_ISREG(st.st_mode)) return fail(Errc::io, name + " is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > cap) return fail(Errc::io, name + " is too large");
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t r = ::read(fd.get(), data.data() + done, data.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_fail("read " + name);
    if (r == 0) return fail(Errc::io, name + " shrank while read");
    done += static_cast<std::size_t>(r);
  }
  return data;
}

// A new file with exactly `mode` (not the umask's), refusing to replace or follow anything.
Result<void> write_at(int dir_fd, const std::string& name, std::string_view bytes, unsigned mode) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_fail("create " + name);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return sys_fail("write " + name);
    done += static_cast<std::size_t>(w);
  }
  if (::fchmod(fd.get(), mode) != 0) return sys_fail("chmod " + name);
  return {};
}

UniqueFd open_dir_at(int dir_fd, const std::string& name) {
  return UniqueFd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

std::vector<std::string> top_level_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// `--verbose`: how the reference's folder was filled and how long that took (the report does
// not carry the reference's build).
void say_reference_build(const LabSpec& lab, const StagedBuild& staged, const std::string& how, const std::string& key) {
  fmt::print(stderr, "grader: reference build of {}: {} in {:.3f} s (key {})\n", lab.id, how,
             seconds_since_staged(staged), key.empty() ? "none" : key.substr(0, 12));
}

// --- the key -------------------------------------------------------------------------------------

void add_field(std::string& text, std::string_view tag, std::string_view value) {
  text += tag;
  text += '\0';
  text += std::to_string(value.size());
  text += '\0';
  text += value;
}

std::string resolve_compiler(const std::string& compiler) {
  if (compiler.find('/') != std::string::npos) return compiler;
  std::stringstream dirs(kSandboxPath);
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (::access((dir + "/" + compiler).c_str(), X_OK) == 0) return dir + "/" + compiler;
  return compiler;
}

// `<compiler> --version` (stdout and stderr) in the C locale: the compiler's identity in the key.
Result<std::string> run_version(const std::string& path) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_fail("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::string path_env = std::string("PATH=") + kSandboxPath;
  char lc_all[] = "LC_ALL=C";
  char* envp[] = {path_env.data(), lc_all, nullptr};
  std::string arg0 = path, arg1 = "--version";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(Errc::io, fmt::format("cannot run {} --version: {}", path, std::strerror(rc)));
  write_end = UniqueFd();
  std::string text;
  char buf[4096];
  for (ssize_t r; (r = ::read(read_end.get(), buf, sizeof buf)) != 0;) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (text.size() < 65536) text.append(buf, static_cast<std::size_t>(r));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(Errc::io, path + " --version failed");
  return text;
}

// Once per compiler per process: it does not change while the grader runs.
Result<std::string> compiler_version(const std::string& compiler) {
  static std::mutex mutex;
  static std::map<std::string, Result<std::string>> known;
  std::lock_guard lock(mutex);
  auto it = known.find(compiler);
  if (it == known.end()) {
    const std::string path = resolve_compiler(compiler);
    auto version = run_version(path);
    if (version) *version = path + "\n" + *version;
    it = known.emplace(compiler, std::move(version)).first;
  }
  return it->second;
}

// Every regular file under the staged folder, by relative path in sorted order, with its bytes:
// what the compiler reads of ours (sources, lab headers, drivers, the driver kit).
Result<void> add_staged_files(std::string& text, const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), dir));
  if (ec) return fail(Errc::io, "listing " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(dir / file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) return fail(Errc::io, "cannot read " + (dir / file).string());
    add_field(text, "file", file.string());
    add_field(text, "bytes", bytes.str());
  }
  return {};
}

Result<std::string> build_key(const LabSpec& lab, const fs::path& staged_dir, const std::string& grader_version) {
  IPCG_TRY(const std::string version, compiler_version(lab.build.compiler));
  std::string text;
  add_field(text, "ipcgrade-build-cache", std::to_string(kFormat));
  add_field(text, "grader", grader_version);
  add_field(text, "compiler", lab.build.compiler);
  add_field(text, "version", version);
  for (const auto& flag : lab.build.cflags) add_field(text, "cflag", flag);
  for (const auto& flag : lab.build.ldflags) add_field(text, "ldflag", flag);
  for (const auto& source : lab.build.sources) add_field(text, "source", source);
  for (const auto& symbol : lab.build.forbidden_symbols) add_field(text, "forbidden", symbol);
  add_field(text, "interpose_sync", lab.build.interpose_sync ? "1" : "0");
  for (const auto& [name, program] : lab.programs) {
    add_field(text, "program", name);
    add_field(text, "driver", program.driver.filename().string());
  }
  IPCG_CHECK(add_staged_files(text, staged_dir));
  return sha256_hex(text);
}

// --- entries -------------------------------------------------------------------------------------

// What the build added to the staged folder: its top-level regular files that were not staged.
Result<CachedBuild> harvest(const BuiltImpl& built, const std::vector<std::string>& staged_names) {
  CachedBuild entry;
  entry.output = built.output;
  entry.forbidden_used = built.forbidden_used;
  for (const auto& [name, program] : built.programs) entry.program_output[name] = program.output;
  UniqueFd dir(::open(built.bin_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return sys_fail("open " + built.bin_dir.string());
  for (const auto& name : top_level_names(built.bin_dir)) {
    if (std::binary_search(staged_names.begin(), staged_names.end(), name)) continue;
    if (!plain_name(name)) return fail(Errc::io, "the build left " + name + ", a name the cache does not keep");
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      return fail(Errc::io, "the build left " + name + ", which is not a regular file");
    IPCG_TRY(std::string bytes, read_at(dir.get(), name, kMaxFileBytes));
    entry.files.push_back({name, static_cast<unsigned>(st.st_mode & 0777), std::move(bytes)});
  }
  return entry;
}

// The cached files written into the staged folder, which is then sealed as after a build.
Result<BuiltImpl> materialize(Sandbox& box, const LabSpec& lab, const StagedBuild& staged, const CachedBuild& entry) {
  UniqueFd dir(::open(staged.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return sys_fail("open " + staged.dir.string());
  for (const auto& file : entry.files) IPCG_CHECK(write_at(dir.get(), file.name, file.bytes, file.mode));
  IPCG_CHECK(box.seal_dir(staged.name, staged.role));
  BuiltImpl built;
  built.sources_ok = true;
  built.output = entry.output;
  built.forbidden_used = entry.forbidden_used;
  for (const auto& [name, program] : lab.programs) {
    const auto output = entry.program_output.find(name);
    built.programs[name] = {true, output == entry.program_output.end() ? std::string() : output->second};
  }
  built.bin_dir = staged.dir;
  built.seconds = seconds_since_staged(staged);
  return built;
}

std::string manifest_text(const std::string& key, const CachedBuild& entry) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : entry.files)
    files.push_back({{"name", file.name}, {"mode", file.mode}, {"size", file.bytes.size()},
                     {"sha256", sha256_hex(file.bytes)}});
  nlohmann::json uses = nlohmann::json::array();
  for (const auto& use : entry.forbidden_used) uses.push_back({{"symbol", use.symbol}, {"object", use.object}});
  const nlohmann::json manifest{{"format", kFormat},   {"key", key},
                                {"files", files},      {"output", entry.output},
                                {"programs", entry.program_output}, {"forbidden_used", uses}};
  return manifest.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// An entry on disk, every file checked against the manifest's size and SHA-256, and complete:
// every program of the lab is there. Anything else is an error, and the caller builds.
Result<CachedBuild> load_entry(int cache_fd, const std::string& key, const LabSpec& lab) {
  UniqueFd dir = open_dir_at(cache_fd, key);
  if (!dir) return fail(Errc::io, errno == ENOENT ? kNoEntry : "cannot open the entry");
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    return fail(Errc::io, "the entry is not private to this user");
  IPCG_TRY(const std::string text, read_at(dir.get(), kManifest, kMaxManifestBytes));
  UniqueFd files_dir = open_dir_at(dir.get(), kFiles);
  if (!files_dir) return fail(Errc::io, "the entry has no files folder");
  CachedBuild entry;
  try {
    const auto manifest = nlohmann::json::parse(text);
    if (manifest.at("format").get<int>() != kFormat || manifest.at("key").get<std::string>() != key)
      return fail(Errc::io, "the manifest is for another key or format");
    for (const auto& file : manifest.at("files")) {
      CachedBuild::File f{file.at("name").get<std::string>(), file.at("mode").get<unsigned>(), {}};
      if (!plain_name(f.name) || f.mode > 0777) return fail(Errc::io, "the manifest names a bad file");
      IPCG_TRY(f.bytes, read_at(files_dir.get(), f.name, kMaxFileBytes));
      if (f.bytes.size() != file.at("size").get<std::size_t>() || sha256_hex(f.bytes) != file.at("sha256"))
        return fail(Errc::io, f.name + " does not match the manifest");
      entry.files.push_back(std::move(f));
    }
    entry.output = manifest.at("output").get<std::string>();
    entry.program_output = manifest.at("programs").get<std::map<std::string, std::string>>();
    for (const auto& use : manifest.at("forbidden_used"))
      entry.forbidden_used.push_back({use.at("symbol").get<std::string>(), use.at("object").get<std::string>()});
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::io, std::string("the manifest does not parse: ") + e.what());
  }
  for (const auto& [name, program] : lab.programs) {
    const auto has = [&](const CachedBuild::File& f) { return f.name == name && (f.mode & 0100); };
    if (std::none_of(entry.files.begin(), entry.files.end(), has))
      return fail(Errc::io, "the entry has no program " + name);
  }
  return entry;
}

// Removes a folder of the cache (ours, 0700: nothing in it is anyone else's).
void remove_at(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  fs::remove_all(dir / name, ec);
}

// Written into a temporary folder, then renamed into place: a reader sees a whole entry or
// none. `replace`: the entry there did not verify, so it is moved aside first; otherwise an entry
// there is one another grader stored meanwhile, and it stays (ours is dropped).
Result<void> store_entry(int cache_fd, const fs::path& cache_dir, const std::string& key, const CachedBuild& entry,
                         bool replace) {
  std::string temp = (cache_dir / ".tmp-XXXXXX").string();
  if (!::mkdtemp(temp.data())) return sys_fail("mkdtemp in " + cache_dir.string());
  const std::string temp_name = fs::path(temp).filename().string();
  auto written = [&]() -> Result<void> {
    UniqueFd dir = open_dir_at(cache_fd, temp_name);
    if (!dir || ::mkdirat(dir.get(), kFiles, 0700) != 0) return sys_fail("make " + temp + "/" + kFiles);
    UniqueFd files_dir = open_dir_at(dir.get(), kFiles);
    if (!files_dir) return sys_fail("open " + temp + "/" + kFiles);
    for (const auto& file : entry.files) IPCG_CHECK(write_at(files_dir.get(), file.name, file.bytes, 0600));
    IPCG_CHECK(write_at(dir.get(), kManifest, manifest_text(key, entry), 0600));
    if (::renameat(cache_fd, temp_name.c_str(), cache_fd, key.c_str()) == 0) return {};
    if (errno != EEXIST && errno != ENOTEMPTY) return sys_fail("rename into " + cache_dir.string());
    if (!replace) return {};
    std::string aside = (cache_dir / ".old-XXXXXX").string();
    if (!::mkdtemp(aside.data())) return sys_fail("mkdtemp in " + cache_dir.string());
    const std::string aside_name = fs::path(aside).filename().string();
    ::renameat(cache_fd, key.c_str(), cache_fd, aside_name.c_str());  // ENOENT: another grader did
    remove_at(cache_dir, aside_name);
    if (::renameat(cache_fd, temp_name.c_str(), cache_fd, key.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY)
      return sys_fail("rename into " + cache_dir.string());
    return {};
  }();
  remove_at(cache_dir, temp_name);  // nothing left there once renamed
  return written;
}

Result<UniqueFd> open_cache_folder(const fs::path& dir) {
  if (dir.empty()) return fail(Errc::config, "no cache folder can be named (set IPCG_CACHE_DIR)");
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_fail("mkdir " + dir.string());
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail("open " + dir.string());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail("fstat " + dir.string());
  if (st.st_uid != ::geteuid())
    return fail(Errc::config, fmt::format("{} belongs to uid {}, not to this grader's uid {}", dir.string(),
                                          st.st_uid, ::geteuid()));
  if ((st.st_mode & 022) != 0)
    return fail(Errc::config, fmt::format("{} is writable by others (mode {:o})", dir.string(), st.st_mode & 0777));
  if (::faccessat(fd.get(), ".", W_OK, AT_EACCESS) != 0) return sys_fail("cannot write in " + dir.string());
  return fd;
}

// bin_dir -> key of every reference build_reference made in this process (reference_build_key).
struct KeyRegistry {
  std::mutex mutex;
  std::map<fs::path, std::string> keys;
};
KeyRegistry& key_registry() {
  static KeyRegistry registry;
  return registry;
}

void remember_key(const fs::path& bin_dir, const std::string& key) {
  auto& registry = key_registry();
  std::lock_guard lock(registry.mutex);
  registry.keys[bin_dir] = key;
}

}  // namespace

// --- BuildCache ----------------------------------------------------------------------------------

BuildCache::BuildCache(fs::path dir) : dir_(std::move(dir)) {}
BuildCache::~BuildCache() = default;

BuildCache& BuildCache::shared() {
  static BuildCache cache(default_dir());
  return cache;
}

fs::path BuildCache::default_dir() {
  if (const char* dir = std::getenv("IPCG_CACHE_DIR"); dir && *dir) return dir;
  if (::geteuid() == 0) return "/var/cache/ipcgrade";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return fs::path(xdg) / "ipcgrade";
  if (const char* home = std::getenv("HOME"); home && *home == '/') return fs::path(home) / ".cache" / "ipcgrade";
  return {};
}

BuildCache::Stats BuildCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void BuildCache::note_once(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (std::exchange(noted_, true)) return;
  }
  fmt::print(stderr, "grader: note: the reference build cache is not used ({}); building instead\n", why);
}

int BuildCache::folder_fd() {
  std::unique_lock lock(mutex_);
  if (folder_checked_) return folder_.get();
  folder_checked_ = true;
  auto opened = open_cache_folder(dir_);
  if (opened) {
    folder_ = std::move(*opened);
    return folder_.get();
  }
  lock.unlock();
  note_once(opened.error().message);
  return -1;
}

UniqueFd BuildCache::shelf_fd(const std::string& shelf) {
  const int cache = folder_fd();
  if (cache < 0 || !plain_name(shelf)) return UniqueFd();
  if (::mkdirat(cache, shelf.c_str(), 0700) != 0 && errno != EEXIST) return UniqueFd();
  UniqueFd dir = open_dir_at(cache, shelf);
  struct stat st {};
  if (!dir || ::fstat(dir.get(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) return UniqueFd();
  return dir;
}

std::optional<BuildCache::Record> BuildCache::read_record(const std::string& shelf, const std::string& name) {
  constexpr std::size_t kMaxRecordBytes = 4096;
  const UniqueFd dir = shelf_fd(shelf);
  if (!dir || !plain_name(name)) return std::nullopt;
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_uid != ::geteuid()) return std::nullopt;
  auto text = read_at(dir.get(), name, kMaxRecordBytes);
  if (!text) return std::nullopt;
  const auto written = std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds{st.st_mtim.tv_sec} + std::chrono::nanoseconds{st.st_mtim.tv_nsec})};
  return Record{std::move(*text), std::chrono::system_clock::now() - written};
}

void BuildCache::write_record(const std::string& shelf, const std::string& name, const std::string& text) {
  const UniqueFd dir = shelf_fd(shelf);
  if (!dir || !plain_name(name)) return;
  // One temporary name per thread of this process, so that two writers never share one.
  const std::string temp = fmt::format(".{}.{}.{}", name, ::getpid(), std::hash<std::thread::id>{}(std::this_thread::get_id()));
  ::unlinkat(dir.get(), temp.c_str(), 0);
  if (write_at(dir.get(), temp, text, 0600) && ::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) == 0) return;
  ::unlinkat(dir.get(), temp.c_str(), 0);
}

BuildCache::Entry BuildCache::claim(const std::string& key) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (auto it = entries_.find(key); it != entries_.end()) {
      ++stats_.memory_hits;
      return it->second;
    }
    if (working_.insert(key).second) return nullptr;
    done_.wait(lock);
  }
}

void BuildCache::publish(const std::string& key, Entry entry) {
  {
    std::lock_guard lock(mutex_);
    if (entry) entries_[key] = std::move(entry);
    working_.erase(key);
  }
  done_.notify_all();
}

Result<BuiltImpl> BuildCache::fill(Sandbox& box, const LabSpec& lab, const StagedBuild& staged, const std::string& key,
                                   bool verbose) {
  const auto say = [&](const std::string& how) {
    if (verbose) say_reference_build(lab, staged, how, key);
  };
  if (Entry entry = claim(key)) {
    IPCG_TRY(BuiltImpl built, materialize(box, lab, staged, *entry));
    say("cache hit, this process");
    return built;
  }
  // This thread holds the key: whatever happens below, the waiting threads are let go.
  struct Release {
    BuildCache* cache;
    const std::string& key;
    Entry entry;
    ~Release() { cache->publish(key, std::move(entry)); }
  } release{this, key, nullptr};
  bool replace = false;  // the entry on disk did not verify
  if (const int fd = folder_fd(); fd >= 0) {
    auto loaded = load_entry(fd, key, lab);
    if (loaded) {
      release.entry = std::make_shared<const CachedBuild>(std::move(*loaded));
      IPCG_TRY(BuiltImpl built, materialize(box, lab, staged, *release.entry));
      {
        std::lock_guard lock(mutex_);
        ++stats_.disk_hits;
      }
      say("cache hit, " + dir_.string());
      return built;
    }
    replace = loaded.error().message != kNoEntry;
    if (verbose && replace)
      fmt::print(stderr, "grader: the cached reference build {} is ignored: {}\n", key.substr(0, 12),
                 loaded.error().message);
  }
  IPCG_TRY(BuiltImpl built, build_and_keep(box, lab, staged, key, replace, release.entry));
  say("built");
  return built;
}

Result<BuiltImpl> BuildCache::build_and_keep(Sandbox& box, const LabSpec& lab, const StagedBuild& staged,
                                             const std::string& key, bool replace, Entry& kept) {
  const std::vector<std::string> staged_names = top_level_names(staged.dir);
  {
    std::lock_guard lock(mutex_);
    ++stats_.builds;
  }
  IPCG_TRY(BuiltImpl built, compile_staged(box, lab, staged));
  if (!built.all_ok()) return built;  // never cached: the runner stops on it
  auto entry = harvest(built, staged_names);
  if (!entry) {
    note_once(entry.error().message);
    return built;
  }
  kept = std::make_shared<const CachedBuild>(std::move(*entry));
  if (const int fd = folder_fd(); fd >= 0)
    if (auto stored = store_entry(fd, dir_, key, *kept, replace); !stored) note_once(stored.error().message);
  return built;
}

Result<BuiltImpl> build_reference(Sandbox& box, const LabSpec& lab, const ReferenceBuildOptions& options) {
  IPCG_TRY(StagedBuild staged, stage_build(box, lab, lab.reference_dir, "reference", Role::reference_build));
  // Missing reference sources: the build fails with the runner's message, nothing is keyed.
  if (!staged.problems.empty()) {
    remember_key(staged.dir, "");
    return compile_staged(box, lab, staged);
  }
  const Result<std::string> key = build_key(lab, staged.dir, options.grader_version);
  remember_key(staged.dir, key ? *key : std::string());
  if (!options.cache) {
    IPCG_TRY(BuiltImpl built, compile_staged(box, lab, staged));
    if (options.verbose) say_reference_build(lab, staged, "built, cache off", key ? *key : std::string());
    return built;
  }
  BuildCache& cache = options.cache_in ? *options.cache_in : BuildCache::shared();
  if (!key) {
    cache.note_once(key.error().message);
    return compile_staged(box, lab, staged);
  }
  return cache.fill(box, lab, staged, *key, options.verbose);
}

std::string reference_build_key(const fs::path& reference_bin) {
  auto& registry = key_registry();
  std::lock_guard lock(registry.mutex);
  const auto it = registry.keys.find(reference_bin);
  return it == registry.keys.end() ? std::string() : it->second;
}

}  // namespace ipcg
