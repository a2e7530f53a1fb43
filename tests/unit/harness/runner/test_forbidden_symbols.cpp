// forbidden_uses: which lines of `nm -A -P -u` name a symbol a lab forbids. Parsed from real nm
// output of objects compiled here, and from fixed text for the edge cases.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "harness/runner/forbidden_symbols.hpp"

namespace ipcg {
namespace {

TEST(ForbiddenSymbols, OnlyForbiddenUndefinedSymbolsWithTheirObject) {
  const std::string nm = "copy.o: mmap U         \ncopy.o: read U         \nutil.o: fread U\nutil.o: memcpy U\n";
  const auto uses = forbidden_uses(nm, {"read", "fread", "sendfile"});
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(uses[0], (SymbolUse{"read", "copy.o"}));
  EXPECT_EQ(uses[1], (SymbolUse{"fread", "util.o"}));
  EXPECT_EQ(describe_uses(uses), "copy.o calls read; util.o calls fread");
}

TEST(ForbiddenSymbols, VersionSuffixCountsAsTheBareNameAndJunkIsIgnored) {
  const auto uses = forbidden_uses("a.o: read@GLIBC_2.2.5 U\nnot a line\n\na.o: pread U\na.o: readv U", {"read", "pread"});
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(describe_uses(uses), "a.o calls read, pread");
  EXPECT_TRUE(forbidden_uses("a.o: read U\n", {}).empty());
}

TEST(ForbiddenSymbols, ArgvListsUndefinedSymbolsOfEachObject) {
  EXPECT_EQ(undefined_symbols_argv({"a.o", "b.o"}),
            (std::vector<std::string>{"nm", "-A", "-P", "-u", "a.o", "b.o"}));
}

// The format assumed above is what nm prints for an object that calls read() and mmap().
TEST(ForbiddenSymbols, RealNmOutputOfACompiledObject) {
  const auto dir = std::filesystem::temp_directory_path() / ("ipcg-forbidden-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "copy.c") << "#include <unistd.h>\n#include <sys/mman.h>\n"
                                   "long f(int fd, char *b) { mmap(0, 1, 1, 1, fd, 0); return read(fd, b, 1); }\n";
  const std::string cmd = "cd " + dir.string() + " && cc -O2 -c copy.c -o copy.o && nm -A -P -u copy.o";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  std::filesystem::remove_all(dir);
  const auto uses = forbidden_uses(out, {"read", "fread"});
  ASSERT_EQ(uses.size(), 1u) << out;
  EXPECT_EQ(uses[0], (SymbolUse{"read", "copy.o"}));
}

}  // namespace
}  // namespace ipcg
