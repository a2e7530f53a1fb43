// Archives built by the tests themselves with libarchive's writer: ordinary downloads and hostile
// ones (paths out of the folder, links, devices, huge or countless entries).
//
//   ArchiveBuilder zip(ArchiveBuilder::zip);
//   zip.file("doejane_1001_5001_pipeline.c", "int x;").symlink("link", "/etc");
//   write_file(path, zip.bytes());
#pragma once

#include <archive.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace ipcg::collect::testing {

class ArchiveBuilder {
 public:
  enum Format { zip, zip_stored, tar };

  explicit ArchiveBuilder(Format format) : a_(archive_write_new()) {
    if (format == tar) {
      archive_write_set_format_pax_restricted(a_);
    } else {
      archive_write_set_format_zip(a_);
      if (format == zip_stored) archive_write_zip_set_compression_store(a_);
    }
    archive_write_set_bytes_per_block(a_, 0);  // unblocked: the bytes are exactly what was written
    archive_write_open(a_, this, nullptr, &ArchiveBuilder::append, nullptr);
  }
  ArchiveBuilder(const ArchiveBuilder&) = delete;
  ArchiveBuilder& operator=(const ArchiveBuilder&) = delete;
  ~ArchiveBuilder() {
    if (a_) archive_write_free(a_);
  }

  ArchiveBuilder& file(const std::string& path, const std::string& data, std::int64_t mtime = 1700000000) {
    auto* e = entry(path, AE_IFREG, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_mtime(e, mtime, 0);
    write(e, data);
    return *this;
  }
  ArchiveBuilder& folder(const std::string& path) { write(entry(path, AE_IFDIR, 0755), ""); return *this; }
  ArchiveBuilder& symlink(const std::string& path, const std::string& target) {
    auto* e = entry(path, AE_IFLNK, 0777);
    archive_entry_set_symlink(e, target.c_str());
    write(e, "");
    return *this;
  }
  ArchiveBuilder& hardlink(const std::string& path, const std::string& target) {
    auto* e = entry(path, AE_IFREG, 0644);
    archive_entry_set_hardlink(e, target.c_str());
    archive_entry_set_size(e, 0);
    write(e, "");
    return *this;
  }
  ArchiveBuilder& special(const std::string& path, unsigned type) {  // AE_IFCHR, AE_IFBLK, AE_IFIFO
    auto* e = entry(path, type, 0644);
    archive_entry_set_rdev(e, makedev(1, 3));  // /dev/null's numbers
    write(e, "");
    return *this;
  }
  // An entry whose header claims `claimed` bytes but is cut off after `written` of them: the
  // archive ends there, as a crafted one would (the writer's padding is refused by a full buffer).
  std::string truncated_after_claim(const std::string& path, std::int64_t claimed, std::size_t written) {
    auto* e = entry(path, AE_IFREG, 0644);
    archive_entry_set_size(e, claimed);
    archive_write_header(a_, e);
    archive_entry_free(e);
    const std::string data(written, 'x');
    archive_write_data(a_, data.data(), data.size());
    std::string cut = out_;
    refuse_more_ = true;
    archive_write_free(a_);  // tries to pad the entry to its claimed size; the copy above is what we keep
    a_ = nullptr;
    return cut;
  }

  std::string bytes() {
    if (a_) {
      archive_write_close(a_);
      archive_write_free(a_);
      a_ = nullptr;
    }
    return out_;
  }

 private:
  static la_ssize_t append(archive*, void* self, const void* buffer, size_t length) {
    auto* builder = static_cast<ArchiveBuilder*>(self);
    if (builder->refuse_more_ && length > 0) return -1;  // never pad a 2 GB entry
    builder->out_.append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
  }
  archive_entry* entry(const std::string& path, unsigned type, unsigned mode) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    return e;
  }
  void write(archive_entry* e, const std::string& data) {
    if (archive_write_header(a_, e) < ARCHIVE_WARN) {
      archive_entry_free(e);
      throw std::runtime_error(std::string("archive_write_header: ") + archive_error_string(a_));
    }
    if (!data.empty()) archive_write_data(a_, data.data(), data.size());
    archive_entry_free(e);
  }

  archive* a_;
  std::string out_;
  bool refuse_more_ = false;
};

// A folder of the current test's own under the temporary folder, empty; removed at destruction.
class TestFolder {
 public:
  explicit TestFolder(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() /
              ("ipcg-" + tag + "-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
  }
  ~TestFolder() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace ipcg::collect::testing
