// lab.toml parsing: the real lab1 file, a sample lab that uses every key, labs in a temporary
// tree, and malformed files that must each fail with "<file>:<line>:<column>: <key>: <what>".
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "harness/core/sha256.hpp"
#include "harness/spec/lab_spec.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kSource = fs::path(IPCG_SOURCE_DIR).lexically_normal();
const fs::path kData = kSource / "tests/unit/data/lab_spec";
const fs::path kMalformed = kData / "malformed";
const fs::path kSample = kData / "lab9-sample";
const fs::path kReferenceRoot = kData / "reference";  // need not exist: only paths are derived

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Every value of a Limits, in the units lab.toml uses.
struct LimitValues {
  long wall_ms, cpu_seconds, address_space_mb, processes, file_size_mb, open_files, output_kb;
};

void expect_limits(const Limits& l, const LimitValues& v) {
  EXPECT_EQ(l.wall, milliseconds(v.wall_ms));
  EXPECT_EQ(l.cpu_seconds, v.cpu_seconds);
  EXPECT_EQ(l.address_space_bytes, std::uint64_t(v.address_space_mb) << 20);
  EXPECT_EQ(l.processes, v.processes);
  EXPECT_EQ(l.file_size_bytes, std::uint64_t(v.file_size_mb) << 20);
  EXPECT_EQ(l.open_files, v.open_files);
  EXPECT_EQ(l.output_bytes, std::uint64_t(v.output_kb) << 10);
}

// Lines holding a [[tests]] header, in file order.
std::vector<int> tests_header_lines(const fs::path& toml) {
  std::istringstream in(read_text(toml));
  std::vector<int> lines;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.rfind("[[tests]]", 0) == 0) lines.push_back(n);
  }
  return lines;
}

// A fresh directory, removed with everything in it at the end of the test.
class TempTree {
 public:
  TempTree() {
    std::string pattern = ::testing::TempDir() + "lab_spec_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) root_ = pattern;
  }
  ~TempTree() {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }

  // labs/<folder>/lab.toml with one test; `id` empty means the default.
  void add_lab(const std::string& folder, int number, const std::string& id = "") const {
    std::string text = "[lab]\nnumber = " + std::to_string(number) + "\n";
    if (!id.empty()) text += "id = \"" + id + "\"\n";
    text += "title = \"t\"\nmechanism = \"m\"\n[build]\nsources = [\"a.c\"]\n";
    text += "[[tests]]\nname = \"t\"\nproperty = \"p\"\npoints = 1\ncheck = \"c\"\n";
    write_text(root_ / folder / "lab.toml", text);
  }

 private:
  fs::path root_;
};

// ---- the real lab 1 -----------------------------------------------------------------------------

class Lab1 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto spec = load_lab_spec(kToml, kReferenceRoot);
    ASSERT_TRUE(spec) << spec.error().message;
    lab_ = new LabSpec(std::move(*spec));
  }
  static void TearDownTestSuite() { delete lab_; }
  void SetUp() override { ASSERT_NE(lab_, nullptr); }

  static inline const fs::path kToml = kSource / "labs/lab1-pipe/lab.toml";
  static inline LabSpec* lab_ = nullptr;
};

TEST_F(Lab1, IdentityAndFolders) {
  EXPECT_EQ(lab_->number, 1);
  EXPECT_EQ(lab_->id, "lab1");
  EXPECT_EQ(lab_->folder, "lab1-pipe");
  EXPECT_EQ(lab_->mechanism, "anonymous pipe");
  EXPECT_THAT(lab_->title, StartsWith("Anonymous pipes"));
  EXPECT_EQ(lab_->toml_path, kToml);
  EXPECT_EQ(lab_->dir, kSource / "labs/lab1-pipe");
  EXPECT_EQ(lab_->skeleton_dir, kSource / "labs/lab1-pipe/skeleton");
  EXPECT_EQ(lab_->reference_dir, kReferenceRoot / "lab1-pipe");
  EXPECT_EQ(lab_->spec_hash, sha256_hex(read_text(kToml)));
}

TEST_F(Lab1, BuildProgramsSandbox) {
  EXPECT_THAT(lab_->build.sources, ElementsAre("pipeline.c"));
  EXPECT_THAT(lab_->build.headers, ElementsAre("include/pipeline.h"));
  EXPECT_EQ(lab_->build.compiler, "cc");
  EXPECT_EQ(lab_->build.cflags.size(), 4u);
  EXPECT_TRUE(lab_->build.ldflags.empty());
  // [build.limits] leaves out output_kb: the compiler's default applies, not the run default.
  EXPECT_EQ(lab_->build.limits.output_bytes, default_build_limits().output_bytes);
  ASSERT_EQ(lab_->programs.size(), 3u);
  for (const char* name : {"pipeline", "parent", "child"}) {
    const ProgramSpec& program = lab_->programs.at(name);
    EXPECT_EQ(program.name, name);
    EXPECT_TRUE(program.driver.is_absolute());
    EXPECT_TRUE(fs::is_regular_file(program.driver)) << program.driver;
  }
  EXPECT_EQ(lab_->programs.at("pipeline").driver, lab_->dir / "grading/drivers/pipeline_driver.c");
  EXPECT_THAT(lab_->syscall_sets, ElementsAre("process", "file", "pipe"));
}

TEST_F(Lab1, Tests) {
  ASSERT_EQ(lab_->tests.size(), 28u);
  double points = 0;
  int hidden = 0;
  std::vector<int> lines;
  for (const TestSpec& t : lab_->tests) {
    points += t.points;
    hidden += t.visibility == Visibility::hidden;
    lines.push_back(t.line);
    EXPECT_FALSE(t.check.empty()) << t.name;
    EXPECT_EQ(lab_->find_test(t.name), &t);
  }
  EXPECT_EQ(points, 220);
  EXPECT_EQ(hidden, 3);
  EXPECT_EQ(lines, tests_header_lines(kToml));
  EXPECT_EQ(lab_->find_test("no_such_test"), nullptr);
}

TEST_F(Lab1, TestDetails) {
  const TestSpec* first = lab_->find_test("pipeline_two_stages");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->params["stages"], Json::parse(R"([["upper"], ["rev"]])"));
  EXPECT_EQ(first->params["input"], "hello pipes\nsecond line\n");
  EXPECT_THAT(first->roles, ElementsAre(std::pair{std::string("pipeline"), Impl::student}));

  const TestSpec* conversation = lab_->find_test("conversation_student_parent");
  ASSERT_NE(conversation, nullptr);
  EXPECT_EQ(conversation->roles.at("parent"), Impl::student);
  EXPECT_EQ(conversation->roles.count("child"), 0u);  // the course's child is a trusted tool
  EXPECT_EQ(conversation->params["child_tool"], Json::parse(R"(["--gate-each", "respond"])"));

  // Only wall_ms is overridden; the other limits are the lab's [limits]. (Exact values are the
  // lab's to tune; the sample lab below pins down the arithmetic.)
  const TestSpec* ends = lab_->find_test("pipeline_ends_when_input_ends");
  ASSERT_NE(ends, nullptr);
  EXPECT_EQ(ends->limits.wall, milliseconds(3000));
  EXPECT_EQ(ends->limits.cpu_seconds, lab_->run_limits.cpu_seconds);
  EXPECT_EQ(ends->limits.address_space_bytes, lab_->run_limits.address_space_bytes);
  EXPECT_EQ(ends->limits.processes, lab_->run_limits.processes);
  EXPECT_EQ(ends->limits.output_bytes, lab_->run_limits.output_bytes);
  EXPECT_EQ(first->limits.wall, lab_->run_limits.wall);  // no override: the lab's limits
}

// The Korean report shows every test of lab1 in Korean: none falls back to English.
TEST_F(Lab1, EveryTestSpeaksKorean) {
  EXPECT_EQ(lab_->title_i18n.count("ko"), 1u);
  EXPECT_EQ(lab_->mechanism_i18n.count("ko"), 1u);
  for (const TestSpec& t : lab_->tests) {
    EXPECT_EQ(t.description_i18n.count("ko"), 1u) << t.name;
    EXPECT_EQ(t.property_i18n.count("ko"), 1u) << t.name;
    EXPECT_FALSE(t.hint.empty()) << t.name;
    EXPECT_EQ(t.hint_i18n.count("ko"), 1u) << t.name;
  }
}

// ---- a sample lab that uses every key -----------------------------------------------------------

class Sample : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spec = load_lab_spec(kSample / "lab.toml", kReferenceRoot);
    ASSERT_TRUE(spec) << spec.error().message;
    lab = std::move(*spec);
  }
  LabSpec lab;
};

TEST_F(Sample, DefaultsOfTheLabTable) {
  EXPECT_EQ(lab.id, "lab9");
  EXPECT_EQ(lab.folder, "lab9-sample");
  EXPECT_EQ(lab.skeleton_dir, kSample / "skeleton");
  EXPECT_EQ(lab.reference_dir, kReferenceRoot / "lab9-sample");
}

TEST_F(Sample, BuildDefaultsAndPartialLimits) {
  EXPECT_THAT(lab.build.sources, ElementsAre("one.c", "two.c"));
  EXPECT_EQ(lab.build.compiler, "cc");
  EXPECT_THAT(lab.build.cflags, ElementsAre("-O2", "-Wall"));
  EXPECT_TRUE(lab.build.ldflags.empty());
  // Only wall_ms is set in [build.limits]: the rest are the compiler's defaults, not the run's.
  expect_limits(lab.build.limits, {30000, 60, 2048, 32, 64, 256, 64});
}

TEST_F(Sample, DriverPathsAreNormalizedAndAbsolute) {
  EXPECT_EQ(lab.programs.at("client").driver, kSample / "grading/client.c");
  EXPECT_EQ(lab.programs.at("server").driver, kSample / "grading/server.c");
  EXPECT_THAT(lab.syscall_sets, ElementsAre("pipe", "posix_mq"));
}

TEST_F(Sample, RunLimitsOverrideDefaultsAndTestsOverrideRunLimits) {
  expect_limits(lab.run_limits, {2000, 5, 512, 8, 16, 64, 64});
  ASSERT_EQ(lab.tests.size(), 3u);
  expect_limits(lab.tests[0].limits, {2000, 5, 512, 8, 16, 64, 64});
  expect_limits(lab.tests[1].limits, {300, 5, 512, 8, 16, 64, 1});
}

TEST_F(Sample, TestDefaults) {
  const TestSpec& t = lab.tests[0];
  EXPECT_EQ(t.name, "defaults");
  EXPECT_EQ(t.description, "");
  EXPECT_EQ(t.property, "first property");
  EXPECT_EQ(t.points, 2.5);
  EXPECT_EQ(t.visibility, Visibility::visible);
  EXPECT_EQ(t.check, "sample.check");
  EXPECT_TRUE(t.roles.empty());
  EXPECT_EQ(t.params, Json::object());
  EXPECT_EQ(t.line, 28);
}

TEST_F(Sample, TestWithEveryKey) {
  const TestSpec& t = lab.tests[1];
  EXPECT_EQ(t.description, "every optional key set");
  EXPECT_EQ(t.points, 0);
  EXPECT_EQ(t.visibility, Visibility::hidden);
  EXPECT_EQ(t.check, "sample.other");
  EXPECT_EQ(t.roles.at("server"), Impl::reference);
  EXPECT_EQ(t.roles.at("client"), Impl::student);
  EXPECT_EQ(t.line, 34);
  EXPECT_EQ(lab.tests[2].name, "visible.too-1");
  EXPECT_EQ(lab.tests[2].visibility, Visibility::visible);
}

TEST_F(Sample, ParamsConvertToJsonFaithfully) {
  const Json expected = Json::parse(R"({
    "int": 42, "float": 0.5, "bool": true, "string": "text",
    "nested_arrays": [[1, 2], ["a"]], "empty": [],
    "table": {"key": "value", "deeper": {"n": -1}}, "date": "1979-05-27"})");
  const Json& params = lab.tests[1].params;
  EXPECT_EQ(params, expected);
  EXPECT_TRUE(params["int"].is_number_integer());
  EXPECT_TRUE(params["float"].is_number_float());
  EXPECT_TRUE(params["bool"].is_boolean());
  EXPECT_TRUE(params["table"]["deeper"]["n"].is_number_integer());
}

TEST(LabSpec, ExplicitLabKeys) {
  auto spec = load_lab_spec(kSample / "custom_dirs.toml", kReferenceRoot);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->number, 10);
  EXPECT_EQ(spec->id, "sample-custom");
  EXPECT_EQ(spec->folder, "lab9-sample");  // the folder's name, whatever the file is called
  EXPECT_EQ(spec->skeleton_dir, kSample / "starter");
  EXPECT_EQ(spec->reference_dir, kReferenceRoot / "shared/solution");
  EXPECT_EQ(spec->build.compiler, "gcc");
  EXPECT_TRUE(spec->build.headers.empty());
  EXPECT_TRUE(spec->programs.empty());
  EXPECT_TRUE(spec->syscall_sets.empty());
  expect_limits(spec->run_limits, {5000, 5, 512, 64, 16, 64, 64});  // Limits{} defaults
}

// The annotated example in docs/lab-format.md must load, so the documentation cannot drift from
// the loader. It names lab1's drivers and header: the temporary lab links to lab1's folders.
TEST(LabSpec, DocumentationExampleLoads) {
  std::istringstream doc(read_text(kSource / "docs/lab-format.md"));
  std::string line, example;
  bool in_section = false, in_block = false;
  while (std::getline(doc, line)) {
    if (line.rfind("## Annotated example", 0) == 0) in_section = true;
    if (in_section && !in_block && line == "```toml") {
      in_block = true;
    } else if (in_block && line == "```") {
      break;
    } else if (in_block) {
      example += line + "\n";
    }
  }
  ASSERT_FALSE(example.empty()) << "no ```toml block after \"## Annotated example\"";
  TempTree tree;
  const fs::path lab = tree.root() / "lab1-pipe";
  write_text(lab / "lab.toml", example);
  fs::create_directory_symlink(kSource / "labs/lab1-pipe/include", lab / "include");
  fs::create_directory_symlink(kSource / "labs/lab1-pipe/grading", lab / "grading");
  auto spec = load_lab_spec(lab / "lab.toml", kReferenceRoot);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->id, "lab1");
  EXPECT_EQ(spec->tests.size(), 3u);
  // The example shows the Korean keys too (docs/i18n.md).
  EXPECT_EQ(in_language(spec->title, spec->title_i18n, "ko"), "익명 파이프: 파이프라인과 양방향 대화");
  EXPECT_EQ(in_language(spec->tests[0].property, spec->tests[0].property_i18n, "ko"), "출력이 기준 구현과 같음");
  EXPECT_EQ(in_language(spec->tests[1].property, spec->tests[1].property_i18n, "ko"), spec->tests[1].property);
}

TEST(LabSpec, ImplNames) {
  EXPECT_EQ(to_string(Impl::student), "student");
  EXPECT_EQ(to_string(Impl::reference), "reference");
}

// ---- malformed files ----------------------------------------------------------------------------

TEST(LabSpecMalformed, BaseOfTheMalformedFilesIsValid) {
  auto spec = load_lab_spec(kMalformed / "base.toml", kReferenceRoot);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->tests.size(), 1u);
}

TEST(LabSpecMalformed, ExactMessageForAWrongType) {
  const fs::path file = kMalformed / "points_string.toml";
  auto spec = load_lab_spec(file, kReferenceRoot);
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, Errc::config);
  EXPECT_EQ(spec.error().message, file.string() + ":17:10: tests[0].points: expected a number, got string");
}

struct Malformed {
  const char* file;  // in tests/unit/data/lab_spec/malformed/
  int line;          // where the message must point
  const char* key;   // the key path it must name
  const char* what;  // a fragment of the explanation
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.file; }

class LabSpecMalformedFile : public ::testing::TestWithParam<Malformed> {};

TEST_P(LabSpecMalformedFile, FailsNamingFileLineAndKey) {
  const Malformed& m = GetParam();
  const fs::path file = kMalformed / (std::string(m.file) + ".toml");
  ASSERT_TRUE(fs::exists(file)) << file;
  auto spec = load_lab_spec(file, kReferenceRoot);
  ASSERT_FALSE(spec) << m.file << " loaded";
  EXPECT_EQ(spec.error().code, Errc::config);
  const std::string& message = spec.error().message;
  EXPECT_THAT(message, StartsWith(file.string() + ":" + std::to_string(m.line) + ":"));
  EXPECT_THAT(message, HasSubstr(": " + std::string(m.key) + ": "));
  EXPECT_THAT(message, HasSubstr(m.what));
}

INSTANTIATE_TEST_SUITE_P(
    Files, LabSpecMalformedFile,
    ::testing::Values(
        Malformed{"syntax_error", 4, "syntax error", "string"},
        Malformed{"missing_lab", 1, "lab", "required key is missing"},
        Malformed{"missing_title", 2, "lab.title", "required key is missing"},
        Malformed{"lab_number_zero", 3, "lab.number", "positive integer"},
        Malformed{"points_string", 17, "tests[0].points", "expected a number, got string"},
        Malformed{"negative_points", 17, "tests[0].points", "expected a number >= 0, got -5"},
        Malformed{"unknown_key", 17, "tests[0].pionts", "unknown key"},
        Malformed{"unknown_section", 21, "limit", "unknown key"},
        Malformed{"duplicate_test_name", 22, "tests[1].name",
                  "duplicate test name \"first\" (first at line 14)"},
        Malformed{"bad_visibility", 18, "tests[0].visibility", "got \"secret\""},
        Malformed{"unknown_role_program", 19, "tests[0].roles.other", "no program \"other\""},
        Malformed{"bad_role_impl", 19, "tests[0].roles.prog", "got \"teacher\""},
        Malformed{"source_with_slash", 8, "build.sources[1]", "plain file name"},
        Malformed{"source_hidden", 8, "build.sources[0]", "plain file name"},
        Malformed{"empty_sources", 8, "build.sources", "at least one"},
        Malformed{"missing_header", 9, "build.headers[1]", "no such file"},
        Malformed{"missing_driver", 12, "programs.prog.driver", "no such file"},
        Malformed{"absolute_driver", 12, "programs.prog.driver", "relative path"},
        Malformed{"bad_limit", 23, "limits.cpu_seconds", "positive integer"},
        Malformed{"bad_test_limit", 18, "tests[0].limits.wall_ms", "expected an integer, got float"},
        Malformed{"unknown_limit", 18, "tests[0].limits.wall_sec", "unknown key"},
        Malformed{"bad_test_name", 15, "tests[0].name", "got \"has space\""},
        Malformed{"missing_check", 14, "tests[0].check", "required key is missing"},
        Malformed{"no_tests", 1, "tests", "at least one [[tests]] table"},
        Malformed{"tests_not_array", 2, "tests", "expected an array of tables"},
        Malformed{"bad_syscalls", 15, "sandbox.syscalls", "expected an array of strings, got string"},
        Malformed{"params_not_table", 18, "tests[0].params", "expected a table, got integer"}),
    [](const auto& info) { return std::string(info.param.file); });

TEST(LabSpecMalformed, MissingFileIsAnIoError) {
  auto spec = load_lab_spec(kMalformed / "does_not_exist.toml", kReferenceRoot);
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, Errc::io);
  EXPECT_THAT(spec.error().message, HasSubstr("does_not_exist.toml"));
}

TEST(LabSpecMalformed, DirectoryIsAnIoError) {
  auto spec = load_lab_spec(kMalformed, kReferenceRoot);
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().code, Errc::io);
}

// ---- text in other languages (docs/i18n.md) -------------------------------------------------------

// A lab whose [lab] and first test carry `extra_lab` and `extra_test` lines; the second test none.
std::string translated_lab(const std::string& extra_lab, const std::string& extra_test) {
  return "[lab]\nnumber = 4\ntitle = \"Pipes\"\nmechanism = \"pipe\"\n" + extra_lab +
         "[build]\nsources = [\"a.c\"]\n"
         "[[tests]]\nname = \"first\"\ndescription = \"d\"\nproperty = \"p\"\npoints = 1\ncheck = \"c\"\n" +
         extra_test + "[[tests]]\nname = \"second\"\nproperty = \"q\"\npoints = 1\ncheck = \"c\"\n";
}

Result<LabSpec> load_text(const TempTree& tree, const std::string& text) {
  write_text(tree.root() / "lab4-pipe/lab.toml", text);
  return load_lab_spec(tree.root() / "lab4-pipe/lab.toml", kReferenceRoot);
}

TEST(LabSpecTranslations, KoreanKeysAreReadBesideTheEnglish) {
  EXPECT_THAT(kLabLanguages, ElementsAre("ko"));
  TempTree tree;
  auto spec = load_text(tree, translated_lab("title_ko = \"파이프\"\nmechanism_ko = \"익명 파이프\"\n",
                                             "description_ko = \"설명\"\nproperty_ko = \"속성\"\n"));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->title, "Pipes");
  EXPECT_EQ(spec->title_i18n, (Translations{{"ko", "파이프"}}));
  EXPECT_EQ(spec->mechanism_i18n, (Translations{{"ko", "익명 파이프"}}));
  const TestSpec& first = spec->tests[0];
  EXPECT_EQ(first.description, "d");
  EXPECT_EQ(first.property, "p");
  EXPECT_EQ(first.description_i18n, (Translations{{"ko", "설명"}}));
  EXPECT_EQ(first.property_i18n, (Translations{{"ko", "속성"}}));
  EXPECT_EQ(in_language(first.property, first.property_i18n, "ko"), "속성");
  EXPECT_EQ(in_language(first.property, first.property_i18n, "en"), "p");
  // Absent keys: nothing in the map, and the English is what every language reads.
  const TestSpec& second = spec->tests[1];
  EXPECT_TRUE(second.description_i18n.empty());
  EXPECT_TRUE(second.property_i18n.empty());
  EXPECT_EQ(in_language(second.property, second.property_i18n, "ko"), "q");
}

TEST(LabSpecTranslations, TheRealLab1LoadsWithOrWithoutThem) {
  auto spec = load_lab_spec(kSource / "labs/lab1-pipe/lab.toml", kReferenceRoot);
  ASSERT_TRUE(spec) << spec.error().message;
  for (const TestSpec& t : spec->tests)
    for (const Translations* tr : {&t.description_i18n, &t.property_i18n})
      for (const auto& [lang, text] : *tr) EXPECT_FALSE(text.empty()) << t.name << " " << lang;
}

struct BadTranslation {
  const char* name;
  std::string lab_line, test_line;
  int line, column;
  const char* message;  // after "<file>:<line>:<column>: "
};

void PrintTo(const BadTranslation& b, std::ostream* os) { *os << b.name; }

class LabSpecBadTranslation : public ::testing::TestWithParam<BadTranslation> {};

// Like every other string: the wrong type or an empty value names the file, line, column and key.
TEST_P(LabSpecBadTranslation, NamesFileLineAndKey) {
  const BadTranslation& b = GetParam();
  TempTree tree;
  auto spec = load_text(tree, translated_lab(b.lab_line, b.test_line));
  ASSERT_FALSE(spec) << b.name << " loaded";
  EXPECT_EQ(spec.error().code, Errc::config);
  EXPECT_EQ(spec.error().message, (tree.root() / "lab4-pipe/lab.toml").string() + ":" + std::to_string(b.line) +
                                      ":" + std::to_string(b.column) + ": " + b.message);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, LabSpecBadTranslation,
    ::testing::Values(
        BadTranslation{"property_ko_integer", "", "property_ko = 3\n", 13, 15,
                       "tests[0].property_ko: expected a string, got integer"},
        BadTranslation{"description_ko_array", "", "description_ko = [\"a\"]\n", 13, 18,
                       "tests[0].description_ko: expected a string, got array"},
        BadTranslation{"title_ko_boolean", "title_ko = true\n", "", 5, 12,
                       "lab.title_ko: expected a string, got boolean"},
        BadTranslation{"mechanism_ko_table", "mechanism_ko = { a = 1 }\n", "", 5, 16,
                       "lab.mechanism_ko: expected a string, got table"},
        BadTranslation{"property_ko_empty", "", "property_ko = \"\"\n", 13, 15,
                       "tests[0].property_ko: must not be empty (leave the key out to fall back to property)"},
        BadTranslation{"title_ko_empty", "title_ko = \"\"\n", "", 5, 12,
                       "lab.title_ko: must not be empty (leave the key out to fall back to title)"},
        BadTranslation{"unknown_language", "", "property_jp = \"x\"\n", 13, 1,
                       "tests[0].property_jp: unknown key (expected one of: name, description, "
                       "description_ko, property, property_ko, hint, hint_ko, points, visibility, check, roles, params, limits, schedule)"},
        BadTranslation{"no_translated_name", "", "name_ko = \"x\"\n", 13, 1,
                       "tests[0].name_ko: unknown key (expected one of: name, description, "
                       "description_ko, property, property_ko, hint, hint_ko, points, visibility, check, roles, params, limits, schedule)"},
        BadTranslation{"unknown_lab_language", "title_kr = \"x\"\n", "", 5, 1,
                       "lab.title_kr: unknown key (expected one of: number, id, title, title_ko, mechanism, "
                       "mechanism_ko, skeleton, reference)"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- load_all_labs and find_lab -----------------------------------------------------------------

TEST(LoadAllLabs, SortedByNumberIgnoringFoldersWithoutLabToml) {
  TempTree tree;
  ASSERT_FALSE(tree.root().empty());
  tree.add_lab("a-third", 3);
  tree.add_lab("b-first", 1);
  tree.add_lab("c-second", 2);
  fs::create_directories(tree.root() / "not-a-lab");
  write_text(tree.root() / "README.md", "not a lab\n");
  auto labs = load_all_labs(tree.root(), kReferenceRoot);
  ASSERT_TRUE(labs) << labs.error().message;
  ASSERT_EQ(labs->size(), 3u);
  EXPECT_EQ((*labs)[0].folder, "b-first");
  EXPECT_EQ((*labs)[1].folder, "c-second");
  EXPECT_EQ((*labs)[2].folder, "a-third");
}

TEST(LoadAllLabs, DuplicateNumberNamesBothFiles) {
  TempTree tree;
  tree.add_lab("x-one", 1);
  tree.add_lab("y-one", 1, "other");
  auto labs = load_all_labs(tree.root(), kReferenceRoot);
  ASSERT_FALSE(labs);
  EXPECT_EQ(labs.error().code, Errc::config);
  EXPECT_THAT(labs.error().message,
              StartsWith((tree.root() / "y-one/lab.toml").string() + ":2:10: lab.number: "));
  EXPECT_THAT(labs.error().message, HasSubstr((tree.root() / "x-one/lab.toml").string()));
}

TEST(LoadAllLabs, DuplicateIdNamesBothFiles) {
  TempTree tree;
  tree.add_lab("x", 1, "same");
  tree.add_lab("y", 2, "same");
  auto labs = load_all_labs(tree.root(), kReferenceRoot);
  ASSERT_FALSE(labs);
  EXPECT_THAT(labs.error().message, StartsWith((tree.root() / "y/lab.toml").string() + ":3:6: lab.id: "));
  EXPECT_THAT(labs.error().message, HasSubstr((tree.root() / "x/lab.toml").string()));
}

TEST(LoadAllLabs, OneMalformedLabFailsTheLoad) {
  TempTree tree;
  tree.add_lab("good", 1);
  write_text(tree.root() / "bad/lab.toml", "[lab]\nnumber = \"two\"\n");
  auto labs = load_all_labs(tree.root(), kReferenceRoot);
  ASSERT_FALSE(labs);
  EXPECT_THAT(labs.error().message,
              StartsWith((tree.root() / "bad/lab.toml").string() + ":2:10: lab.number: "));
}

TEST(LoadAllLabs, MissingRootIsAnIoError) {
  auto labs = load_all_labs(kData / "no_such_folder", kReferenceRoot);
  ASSERT_FALSE(labs);
  EXPECT_EQ(labs.error().code, Errc::io);
}

TEST(FindLab, ByIdNumberOrFolder) {
  auto labs = load_all_labs(kSource / "labs", kReferenceRoot);
  ASSERT_TRUE(labs) << labs.error().message;
  const LabSpec* lab1 = find_lab(*labs, "lab1");
  ASSERT_NE(lab1, nullptr);
  EXPECT_EQ(lab1->folder, "lab1-pipe");
  EXPECT_EQ(find_lab(*labs, "1"), lab1);
  EXPECT_EQ(find_lab(*labs, "lab1-pipe"), lab1);
  EXPECT_EQ(find_lab(*labs, "lab0"), nullptr);
  EXPECT_EQ(find_lab(*labs, ""), nullptr);
  EXPECT_EQ(find_lab(*labs, "lab1-pip"), nullptr);
}

TEST(FindLab, AnIdWinsOverAnotherLabsNumber) {
  TempTree tree;
  tree.add_lab("first", 1, "lab2");
  tree.add_lab("second", 2, "second");
  auto labs = load_all_labs(tree.root(), kReferenceRoot);
  ASSERT_TRUE(labs) << labs.error().message;
  EXPECT_EQ(find_lab(*labs, "lab2")->folder, "first");
  EXPECT_EQ(find_lab(*labs, "2")->folder, "second");
  EXPECT_EQ(find_lab(*labs, "lab1")->folder, "first");  // "lab<number>" still finds a custom-id lab
}


// ---- [build] forbidden_symbols (runner/forbidden_symbols.hpp judges them) ----------------------

TEST(LabSpecForbiddenSymbols, ReadFromTheBuildTableAndEmptyByDefault) {
  TempTree tree;
  const std::string base = "[lab]\nnumber = 4\ntitle = \"Maps\"\nmechanism = \"memory map\"\n[build]\nsources = [\"a.c\"]\n";
  const std::string test = "[[tests]]\nname = \"t\"\nproperty = \"p\"\npoints = 1\ncheck = \"c\"\n";
  auto plain = load_text(tree, base + test);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_TRUE(plain->build.forbidden_symbols.empty());
  auto spec = load_text(tree, base + "forbidden_symbols = [\"read\", \"fread\"]\n" + test);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_THAT(spec->build.forbidden_symbols, ElementsAre("read", "fread"));
  auto bad = load_text(tree, base + "forbidden_symbols = \"read\"\n" + test);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, ::testing::HasSubstr("forbidden_symbols"));
}

// ---- wall limits from the reference's own run, hang grace (issue 16) -----------------------------

std::string lab_with_limits(const std::string& limits, const std::string& test_limits) {
  return "[lab]\nnumber = 4\ntitle = \"Pipes\"\nmechanism = \"pipe\"\n[build]\nsources = [\"a.c\"]\n[limits]\n" + limits +
         "[[tests]]\nname = \"first\"\nproperty = \"p\"\npoints = 1\ncheck = \"c\"\n" + test_limits +
         "[[tests]]\nname = \"second\"\nproperty = \"q\"\npoints = 1\ncheck = \"c\"\n";
}

TEST(LabSpecWall, BothShapesAndTheHangGraceAreRead) {
  TempTree tree;
  auto spec = load_text(tree, lab_with_limits("wall_ms = 3000\nwall = \"6x reference + 1000 ms\"\nhang_grace_ms = 0\n",
                                              "limits = { wall = \"2.5x reference, at least 400 ms\" }\n"));
  ASSERT_TRUE(spec) << spec.error().message;
  const Limits& first = spec->tests[0].limits;
  EXPECT_EQ(first.wall_reference_factor, 2.5);
  EXPECT_EQ(first.wall_floor, std::chrono::milliseconds(400));
  EXPECT_EQ(first.wall_extra, std::chrono::milliseconds(0));
  EXPECT_EQ(first.wall, std::chrono::milliseconds(3000));  // the lab's cap stays
  const Limits& second = spec->tests[1].limits;
  EXPECT_EQ(second.wall_reference_factor, 6);
  EXPECT_EQ(second.wall_extra, std::chrono::milliseconds(1000));
  EXPECT_EQ(second.hang_grace, std::chrono::milliseconds(0));
}

TEST(LabSpecWall, TheSettleGraceIsReadFixedOrDerivedAndAWallMayAddIt) {
  TempTree tree;
  auto spec = load_text(tree, lab_with_limits("wall = \"6x reference + settle\"\nsettle_ms = 800\n"
                                              "settle = \"5x reference, at least 300 ms\"\n",
                                              "limits = { settle_ms = 200, wall = \"6x reference + 100 ms\" }\n"));
  ASSERT_TRUE(spec) << spec.error().message;
  const Limits& first = spec->tests[0].limits;
  EXPECT_EQ(first.settle_grace, std::chrono::milliseconds(200));  // the test's own cap
  EXPECT_EQ(first.settle_reference_factor, 5);                    // the lab's policy stays
  EXPECT_FALSE(first.wall_plus_settle);                           // a test's wall replaces the lab's whole
  EXPECT_EQ(first.wall_extra, std::chrono::milliseconds(100));
  const Limits& second = spec->tests[1].limits;
  EXPECT_TRUE(second.wall_plus_settle);
  EXPECT_EQ(second.wall_extra, std::chrono::milliseconds(0));
  EXPECT_EQ(second.settle_grace, std::chrono::milliseconds(800));
  EXPECT_EQ(second.settle_floor, std::chrono::milliseconds(300));
  EXPECT_EQ(Limits{}.settle_grace, std::chrono::milliseconds(1000));  // the documented default
}

TEST(LabSpecWall, ASettlePolicyAddsNothingAndNamesTheFileLineAndKeyWhenMalformed) {
  TempTree tree;
  for (const char* bad : {"\"5x reference + 100 ms\"", "\"5x reference + settle\"", "\"soon\""}) {
    auto spec = load_text(tree, lab_with_limits("wall_ms = 3000\n", std::string("limits = { settle = ") + bad + " }\n"));
    ASSERT_FALSE(spec) << bad;
    EXPECT_THAT(spec.error().message, HasSubstr("lab.toml:14:"));
    EXPECT_THAT(spec.error().message, HasSubstr("tests[0].limits.settle"));
    EXPECT_THAT(spec.error().message, HasSubstr("settle_ms is the cap"));
  }
}

TEST(LabSpecWall, AMalformedPolicyNamesTheFileLineAndKey) {
  TempTree tree;
  for (const char* bad : {"\"fast\"", "\"0.5x reference\"", "\"6x reference, at most 400 ms\""}) {
    auto spec = load_text(tree, lab_with_limits("wall_ms = 3000\n", std::string("limits = { wall = ") + bad + " }\n"));
    ASSERT_FALSE(spec) << bad;
    EXPECT_THAT(spec.error().message, HasSubstr("lab.toml:14:"));
    EXPECT_THAT(spec.error().message, HasSubstr("tests[0].limits.wall"));
    EXPECT_THAT(spec.error().message, HasSubstr("x reference, at least <N> ms"));
  }
}

}  // namespace
}  // namespace ipcg
