// Hostile downloads, built here with libarchive's writer, are refused whole: a clear error naming
// the archive and the entry, and nothing written, neither in the output folder nor beside it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "archive_builder.hpp"
#include "collect/collect.hpp"

namespace ipcg::collect {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveBuilder;
using testing::write_bytes;

// Every path under root, relative.
std::set<std::string> listing(const fs::path& root) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(root)) names.insert(fs::relative(e.path(), root).string());
  return names;
}

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_ / "class"); }

  // Collects `bytes` as a Canvas download into class/out; returns the error message ("" when it
  // was not refused) after checking that nothing was written anywhere under the test's folder.
  std::string refusal(const std::string& bytes, UnpackLimits limits = kDefaultUnpackLimits) {
    write_bytes(root_ / "in" / "download.zip", bytes);
    const auto before = listing(root_);
    auto result = collect({.input = root_ / "in" / "download.zip", .from = Lms::canvas, .out = root_ / "class" / "out",
                           .lab = "lab1", .sources = {"pipeline.c"}, .limits = limits});
    EXPECT_EQ(listing(root_), before) << "something was written";
    EXPECT_FALSE(fs::exists(root_ / "x"));
    EXPECT_FALSE(fs::exists(root_ / "class" / "x"));
    return result ? "" : result.error().message;
  }
  std::string archive_name() const { return (root_ / "in" / "download.zip").string(); }

  testing::TestFolder folder_{"collect-hostile"};
  const fs::path& root_ = folder_.path();
};

TEST_F(Hostile, DotDotPathIsRefused) {
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("doejane_1001_5001_pipeline.c", "int ok;").file("../x", "escaped");
  EXPECT_EQ(refusal(zip.bytes()),
            archive_name() + ": entry \"../x\" refused: an absolute path, an empty one, or one with a \"..\" "
                             "component (outside the output folder); nothing written");
}

TEST_F(Hostile, DotDotInsideAPathIsRefused) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  tar.file("a/../../x", "escaped");
  EXPECT_NE(refusal(tar.bytes()).find("entry \"a/../../x\" refused"), std::string::npos);
}

TEST_F(Hostile, AbsolutePathIsRefused) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  tar.file("/etc/x", "escaped");
  const std::string message = refusal(tar.bytes());
  EXPECT_NE(message.find(archive_name() + ": entry \"/etc/x\" refused: an absolute path"), std::string::npos) << message;
}

TEST_F(Hostile, SymlinkThenAFileThroughItIsRefusedAtTheLink) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  tar.symlink("doejane_1001_5001_link", root_.string()).file("doejane_1001_5001_link/x", "through the link");
  EXPECT_EQ(refusal(tar.bytes()), archive_name() + ": entry \"doejane_1001_5001_link\" refused: a symbolic link "
                                                   "(links may point outside the output folder); nothing written");
}

TEST_F(Hostile, HardlinkIsRefused) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  tar.file("doejane_1001_5001_pipeline.c", "int ok;").hardlink("doejane_1001_5001_copy.c", "/etc/passwd");
  EXPECT_EQ(refusal(tar.bytes()), archive_name() + ": entry \"doejane_1001_5001_copy.c\" refused: a hard link "
                                                   "(links may point outside the output folder); nothing written");
}

TEST_F(Hostile, CharacterDeviceIsRefused) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  tar.special("doejane_1001_5001_null", AE_IFCHR);
  EXPECT_EQ(refusal(tar.bytes()),
            archive_name() + ": entry \"doejane_1001_5001_null\" refused: a device file; nothing written");
}

TEST_F(Hostile, FifoIsRefused) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  tar.special("doejane_1001_5001_fifo", AE_IFIFO);
  EXPECT_EQ(refusal(tar.bytes()), archive_name() + ": entry \"doejane_1001_5001_fifo\" refused: a FIFO; nothing written");
}

TEST_F(Hostile, HundredThousandEntriesAreRefusedAtTheCap) {
  ArchiveBuilder zip(ArchiveBuilder::zip_stored);
  for (int i = 0; i < 100'000; ++i) zip.file("s_" + std::to_string(i) + "_1_f.c", "");
  const std::string message = refusal(zip.bytes());
  EXPECT_NE(message.find("entry \"s_20000_1_f.c\" refused: more than 20000 entries in the download (the cap on entries)"),
            std::string::npos)
      << message;
}

TEST_F(Hostile, EntryClaimingTwoGigabytesIsRefusedFromItsHeader) {
  ArchiveBuilder tar(ArchiveBuilder::tar);
  const std::string cut = tar.truncated_after_claim("doejane_1001_5001_pipeline.c", 2'000'000'000, 4096);
  EXPECT_EQ(refusal(cut), archive_name() + ": entry \"doejane_1001_5001_pipeline.c\" refused: it declares 2000000000 "
                                           "bytes, over the cap of 16777216 bytes per file; nothing written");
}

TEST_F(Hostile, HighlyCompressibleEntryOverTheCapIsRefused) {
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("doejane_1001_5001_pipeline.c", std::string(40u << 20, '\0'));  // 40 MiB of zeros, a few KiB zipped
  const std::string bytes = zip.bytes();
  ASSERT_LT(bytes.size(), 1u << 20);
  const std::string message = refusal(bytes);
  EXPECT_NE(message.find("entry \"doejane_1001_5001_pipeline.c\" refused"), std::string::npos) << message;
  EXPECT_NE(message.find("over the cap of 16777216 bytes per file"), std::string::npos) << message;
}

TEST_F(Hostile, BytesAreCountedAsTheyUnpackAgainstTheTotalCap) {
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("a_1_1_a.c", std::string(600'000, 'a')).file("b_2_2_b.c", std::string(600'000, 'b'));
  const std::string message = refusal(zip.bytes(), {.max_entries = 100, .max_entry_bytes = 1'000'000, .max_total_bytes = 1'000'000});
  EXPECT_EQ(message, archive_name() + ": entry \"b_2_2_b.c\" refused: the download unpacks to more than 1000000 "
                                      "bytes, the cap for all files; nothing written");
}

TEST_F(Hostile, NotAnArchiveIsAClearError) {
  const std::string message = refusal("this is not a zip file\n");
  EXPECT_NE(message.find(archive_name()), std::string::npos) << message;
  EXPECT_NE(message.find("nothing written"), std::string::npos) << message;
}

TEST_F(Hostile, ANestedArchiveThatIsRefusedCostsOnlyItsStudent) {
  ArchiveBuilder inner(ArchiveBuilder::zip);
  inner.file("../../x", "escaped");
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("doejane_1001_5001_pipeline.c", "int ok;").file("roebob_1002_5002_work.zip", inner.bytes());
  write_bytes(root_ / "in" / "download.zip", zip.bytes());
  auto s = collect({.input = root_ / "in" / "download.zip", .from = Lms::canvas, .out = root_ / "class" / "out",
                    .lab = "lab1", .sources = {"pipeline.c"}});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->students.size(), 2u);
  EXPECT_EQ(s->students[1].status, kNotSubmitted);
  ASSERT_FALSE(s->students[1].notes.empty());
  EXPECT_NE(s->students[1].notes[0].find("roebob_1002_5002_work.zip not unpacked: roebob_1002_5002_work.zip: entry "
                                         "\"../../x\" refused"),
            std::string::npos)
      << s->students[1].notes[0];
  EXPECT_EQ(listing(root_ / "class"), (std::set<std::string>{"out", "out/1001", "out/1001/pipeline.c", "out/1002",
                                                              "out/roster.csv", "out/collect.json"}));
  EXPECT_FALSE(fs::exists(root_ / "x"));
}

TEST_F(Hostile, OutputFolderThatIsNotEmptyOrIsASymlinkIsRefused) {
  ArchiveBuilder zip(ArchiveBuilder::zip);
  zip.file("doejane_1001_5001_pipeline.c", "int ok;");
  write_bytes(root_ / "in" / "download.zip", zip.bytes());
  fs::create_directories(root_ / "class" / "full");
  write_bytes(root_ / "class" / "full" / "old.txt", "x");
  fs::create_directories(root_ / "elsewhere");
  fs::create_directory_symlink(root_ / "elsewhere", root_ / "class" / "link");
  const auto before = listing(root_);
  CollectOptions o{.input = root_ / "in" / "download.zip", .from = Lms::canvas, .out = root_ / "class" / "full",
                   .lab = "lab1", .sources = {"pipeline.c"}};
  auto full = collect(o);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("is not empty"), std::string::npos) << full.error().message;
  o.out = root_ / "class" / "link";
  auto link = collect(o);
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message.find("is a symbolic link"), std::string::npos) << link.error().message;
  EXPECT_EQ(listing(root_), before);
}

}  // namespace
}  // namespace ipcg::collect
