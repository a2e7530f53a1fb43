// A subordinate id range for nobody in /etc/subuid and /etc/subgid while this object lives, as
// Debian's adduser gives every new user: newuidmap then maps it, and an unprivileged grader gives
// its roles uids of their own (`full (user namespace)`). The files are restored exactly (bytes,
// mode, owner, times; same inode) when it is destroyed, a failed assertion included. A host-wide
// change: a test holding one must run alone (RUN_SERIAL), or other graders of nobody's would
// see the range.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ipcg::testing {

class SubordinateIds {
 public:
  // Far above any uid a distribution hands out (adduser starts at 100000).
  static constexpr unsigned long kStart = 1800000000;
  static constexpr unsigned long kCount = 65536;

  explicit SubordinateIds(const std::string& user = "nobody") {
    for (const char* path : {"/etc/subuid", "/etc/subgid"}) {
      Saved saved{path};
      struct stat st {};
      saved.existed = ::stat(path, &st) == 0;
      if (saved.existed) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        saved.text = text.str();
        saved.st = st;
      }
      std::string text = saved.text;
      if (!text.empty() && text.back() != '\n') text += '\n';
      text += user + ":" + std::to_string(kStart) + ":" + std::to_string(kCount) + "\n";
      saved_.push_back(saved);
      ok_ = write_in_place(path, text, saved.existed ? saved.st.st_mode & 07777 : 0644) && ok_;
    }
  }
  SubordinateIds(const SubordinateIds&) = delete;
  SubordinateIds& operator=(const SubordinateIds&) = delete;
  ~SubordinateIds() {
    for (const Saved& s : saved_) {
      if (!s.existed) {
        ::unlink(s.path.c_str());
        continue;
      }
      write_in_place(s.path, s.text, s.st.st_mode & 07777);
      if (::chown(s.path.c_str(), s.st.st_uid, s.st.st_gid) != 0) continue;
      const timespec times[2] = {s.st.st_atim, s.st.st_mtim};
      ::utimensat(AT_FDCWD, s.path.c_str(), times, 0);
    }
  }
  bool ok() const { return ok_; }

 private:
  struct Saved {
    std::string path;
    bool existed = false;
    std::string text;
    struct stat st {};
  };
  // Rewritten through the same inode: what newuidmap reads, and what the host had, stay one file.
  static bool write_in_place(const std::string& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fchmod(fd, mode) == 0;
    return ::close(fd) == 0 && ok;
  }
  std::vector<Saved> saved_;
  bool ok_ = true;
};

}  // namespace ipcg::testing
