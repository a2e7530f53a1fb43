#include "region_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace lab5 {

Result<TestFolder> TestFolder::make(TestContext& ctx) {
  const std::string name = ctx.ipc_names().name("files");
  IPCG_TRY(std::filesystem::path host, ctx.sandbox.make_writable_dir(name, Role::reference));
  // Both uids create and reopen files here. Not sticky: in a sticky world-writable folder
  // fs.protected_regular refuses an O_CREAT open of the other uid's file (a stale region).
  if (::chmod(host.c_str(), 0777) != 0) return fail(Errc::io, "chmod " + host.string() + ": " + std::strerror(errno));
  return TestFolder(host, ctx.sandbox.to_box(host));
}

TestFolder::TestFolder(TestFolder&& other) noexcept : host_(std::move(other.host_)), box_(std::move(other.box_)) {
  other.host_.clear();
}

TestFolder::~TestFolder() {
  if (host_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(host_, ec);
}

bool TestFolder::on_tmpfs() const {
  struct statfs fs {};
  return ::statfs(host_.c_str(), &fs) == 0 && fs.f_type == 0x01021994;  // TMPFS_MAGIC
}

Result<bool> run_to_gate(Scene& scene, Actor& a, std::string_view name) {
  const std::string line = fmt::format("gate {}\n", name);
  IPCG_TRY(bool done, scene.run_until([&] {
    if (scene.exited(a)) return true;
    if (a.ctl_data.find(line) == std::string::npos) return false;
    const auto snap = scene.snapshot(a);
    return snap && snap->state == 'T';
  }));
  return done && !scene.exited(a);
}

void signal_actor(const Actor& a, int sig) {
  if (a.proc && !a.status) ::kill(a.proc->pid(), sig);
}

void resume(const Actor& a) { signal_actor(a, SIGCONT); }

std::optional<std::string> read_regular_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> bytes;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    bytes.emplace();
    char buf[1 << 16];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      bytes->append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return bytes;
}

std::optional<RegionContent> read_region(const std::filesystem::path& file) {
  const auto bytes = read_regular_file(file);
  if (!bytes || bytes->size() < sizeof(mm_region)) return std::nullopt;
  mm_region r;
  std::memcpy(&r, bytes->data(), sizeof r);
  RegionContent c{r.count, r.records, {}};
  const std::uint64_t n = r.records < MM_LOG_CAP ? r.records : MM_LOG_CAP;
  c.log.assign(r.log, r.log + n);
  return c;
}

std::optional<CacheState> cache_state(const std::filesystem::path& file) {
  struct Range {
    std::uint64_t off, len;
  } range{0, 0};
  struct Stat {
    std::uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } st{};
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  constexpr long kSysCachestat = 451;  // Linux 6.5
  const long rc = ::syscall(kSysCachestat, fd, &range, &st, 0);
  ::close(fd);
  if (rc != 0) return std::nullopt;
  return CacheState{st.cache, st.dirty, st.writeback};
}

}  // namespace lab5
