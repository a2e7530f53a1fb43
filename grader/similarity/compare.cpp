#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "harness/core/unique_fd.hpp"
#include "similarity/sim_output.hpp"
#include "similarity/similarity.hpp"
#include "similarity/tool_run.hpp"

namespace ipcg::similarity {
namespace {

namespace fs = std::filesystem;

// A private folder for the copies sim_c reads; removed with everything in it.
class TempDir {
 public:
  static Result<TempDir> create(const fs::path& root) {
    std::string pattern = (root / "ipcgrade-similarity-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) return sys_fail("create a folder in " + root.string());
    TempDir dir;
    dir.path_ = pattern;
    return dir;
  }
  TempDir() = default;
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

fs::path temp_root(const SimilarityOptions& options) {
  if (!options.temp_root.empty()) return options.temp_root;
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? fs::path(tmp) : fs::path("/tmp");
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A source of an untrusted folder: a regular file only (never through a symbolic link), at most
// `max_bytes` of it.
SourceFile read_source(const fs::path& path, const std::string& name, std::size_t max_bytes) {
  SourceFile file{.name = name};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!fd) {
    file.note = errno == ENOENT ? "missing" : errno == ELOOP ? "a symbolic link, not read" : "cannot be read";
    return file;
  }
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    file.note = "not a regular file";
    return file;
  }
  std::string text;
  char buf[65536];
  for (ssize_t got; text.size() < max_bytes && (got = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) break;
    text.append(buf, static_cast<std::size_t>(got));
  }
  if (text.size() >= max_bytes) {
    text.resize(max_bytes);
    file.note = fmt::format("cut at {} bytes", max_bytes);
  }
  file.lines = split_lines(text);
  return file;
}

SubmissionText read_submission(const SimilarityInput& input, const std::string& name, std::size_t max_bytes) {
  SubmissionText s{.name = name};
  for (const auto& source : input.sources)
    s.files.push_back(read_source(input.submissions_dir / name / source, source, max_bytes));
  std::size_t lines = 0;
  for (const auto& f : s.files) lines += f.lines.size();
  s.handout.assign(lines, false);
  s.common = s.handout;
  return s;
}

// The document sim_c reads: every file's lines in order, handout lines left empty so line
// numbers stay those of the sources.
std::string document(const SubmissionText& s, bool strip_handout) {
  std::string text;
  std::size_t line = 0;
  for (const auto& f : s.files)
    for (const auto& l : f.lines) {
      if (!(strip_handout && (s.handout[line] || s.common[line]))) text += l;
      text += '\n';
      ++line;
    }
  return text;
}

Result<void> write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return fail(Errc::io, "cannot write " + path.string());
  return {};
}

std::string doc_name(char kind, std::size_t i) { return fmt::format("{}{:05}.c", kind, i); }

struct Staged {
  std::vector<std::string> names;  // submissions' documents first, then the handout's
  std::size_t submissions = 0;
};

Result<Staged> stage(const fs::path& dir, const std::vector<SubmissionText>& subs,
                     const std::vector<SubmissionText>& handout, bool strip) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::io, "create " + dir.string() + ": " + ec.message());
  Staged staged{.submissions = subs.size()};
  for (std::size_t i = 0; i < subs.size(); ++i) {
    staged.names.push_back(doc_name('s', i));
    IPCG_CHECK(write_text(dir / staged.names.back(), document(subs[i], strip)));
  }
  for (std::size_t i = 0; i < handout.size(); ++i) {
    staged.names.push_back(doc_name('k', i));
    IPCG_CHECK(write_text(dir / staged.names.back(), document(handout[i], false)));
  }
  return staged;
}

ToolRun sim_run(const SimilarityOptions& options, const fs::path& dir, std::vector<std::string> flags) {
  ToolRun run{.cwd = dir, .time_limit = options.time_limit, .output_cap = options.output_cap};
  run.argv.push_back(options.sim_c.string());
  for (auto& f : flags) run.argv.push_back(std::move(f));
  return run;
}

// Marks every submission line that sim_c finds in the handout (-S: submissions against the
// handout only, never against each other).
Result<int> mark_handout(std::vector<SubmissionText>& subs, const std::vector<SubmissionText>& handout,
                         const fs::path& dir, const SimilarityOptions& options) {
  if (handout.empty() || subs.empty()) return 0;
  IPCG_TRY(Staged staged, stage(dir, subs, handout, false));
  ToolRun run = sim_run(options, dir, {"-n", "-e", "-S", "-r", std::to_string(options.handout_run)});
  for (std::size_t i = 0; i < staged.names.size(); ++i) {
    if (i == staged.submissions) run.argv.push_back("/");
    run.argv.push_back(staged.names[i]);
  }
  IPCG_TRY(std::string text, run_tool(run));
  IPCG_TRY(SimOutput out, parse_sim_output(text, staged.names));
  const int n = static_cast<int>(staged.submissions);
  for (const SimRun& r : out.runs) {
    if (r.a >= n || r.b < n) continue;
    auto& marks = subs[static_cast<std::size_t>(r.a)].handout;
    for (int line = r.a_first; line <= r.a_last && line <= static_cast<int>(marks.size()); ++line)
      marks[static_cast<std::size_t>(line - 1)] = true;
  }
  return 1;
}

// The files of chunk `c` are "new" (compared with every file, both ways among themselves), the
// rest "old" (after '/': compared to, never from), so over all chunks each ordered pair is
// compared exactly once and the chunks run in parallel.
ToolRun chunk_run(const Staged& staged, int chunks, int c, const fs::path& dir, const SimilarityOptions& options) {
  ToolRun run = sim_run(options, dir, {"-n", "-a", "-e", "-s", "-r", std::to_string(options.min_run)});
  std::vector<std::string> old_files;
  for (std::size_t i = 0; i < staged.submissions; ++i)
    (static_cast<int>(i % static_cast<std::size_t>(chunks)) == c ? run.argv : old_files).push_back(staged.names[i]);
  if (!old_files.empty()) {
    run.argv.push_back("/");
    run.argv.insert(run.argv.end(), old_files.begin(), old_files.end());
  }
  return run;
}

Result<std::vector<SimOutput>> compare_chunks(const Staged& staged, const fs::path& dir,
                                              const SimilarityOptions& options) {
  const int chunks = static_cast<int>(std::min<std::size_t>(staged.submissions, std::size_t(std::max(1, options.jobs)) * 4));
  std::vector<Result<SimOutput>> results(static_cast<std::size_t>(chunks), fail(Errc::internal, "not run"));
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int c; (c = next++) < chunks;) {
      auto text = run_tool(chunk_run(staged, chunks, c, dir, options));
      results[static_cast<std::size_t>(c)] =
          text ? parse_sim_output(*text, staged.names) : Result<SimOutput>(tl::unexpected(text.error()));
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min(options.jobs, chunks); ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  std::vector<SimOutput> outputs;
  for (auto& r : results) {
    if (!r) return tl::unexpected(r.error());
    outputs.push_back(std::move(*r));
  }
  return outputs;
}

struct Direction {
  long shared = 0;  // tokens of the first file found in the second
  std::vector<SharedRun> runs;
};

void rank(std::vector<PairResult>& pairs, const std::vector<SubmissionText>& subs) {
  std::sort(pairs.begin(), pairs.end(), [&](const PairResult& x, const PairResult& y) {
    const auto key = [](const PairResult& p) {
      return std::tuple(p.top(), std::min(p.percent_a_in_b, p.percent_b_in_a), p.longest.tokens);
    };
    if (key(x) != key(y)) return key(x) > key(y);
    return std::tie(subs[x.a].name, subs[x.b].name) < std::tie(subs[y.a].name, subs[y.b].name);
  });
}

int percent(long shared, int tokens) { return tokens > 0 ? static_cast<int>(shared * 100 / tokens) : 0; }

using Directions = std::map<std::pair<int, int>, Direction>;

// Runs by ordered pair (a's text found in b), and sim_c's token count of each submission.
Directions collect(const std::vector<SimOutput>& outputs, std::vector<SubmissionText>& subs) {
  const int n = static_cast<int>(subs.size());
  Directions directions;
  for (const SimOutput& out : outputs) {
    for (std::size_t i = 0; i < subs.size(); ++i)
      if (out.files[i].tokens >= 0) subs[i].tokens = out.files[i].tokens;
    for (const SimRun& r : out.runs) {
      if (r.a >= n || r.b >= n || r.a == r.b) continue;
      Direction& d = directions[{r.a, r.b}];
      d.shared += r.tokens;
      d.runs.push_back({r.a_first, r.a_last, r.b_first, r.b_last, r.tokens});
    }
  }
  return directions;
}

// Marks the lines of each submission that `limit` or more submissions hold (it and limit-1
// others): code that common is a shared source (a lecture example, a manual page, a solution
// passed around), not evidence against one pair. Returns how many lines were marked.
int mark_common(std::vector<SubmissionText>& subs, const Directions& directions, int limit) {
  std::vector<std::vector<int>> holders(subs.size());
  for (std::size_t i = 0; i < subs.size(); ++i) holders[i].assign(subs[i].handout.size(), 0);
  std::vector<char> covered;
  for (const auto& [key, d] : directions) {
    auto& count = holders[static_cast<std::size_t>(key.first)];
    covered.assign(count.size(), 0);
    for (const SharedRun& r : d.runs)
      for (int l = r.left_first; l <= r.left_last && l <= static_cast<int>(count.size()); ++l) covered[l - 1] = 1;
    for (std::size_t l = 0; l < count.size(); ++l) count[l] += covered[l];
  }
  int marked = 0;
  for (std::size_t i = 0; i < subs.size(); ++i) {
    subs[i].common.assign(subs[i].handout.size(), false);
    for (std::size_t l = 0; l < holders[i].size(); ++l)
      if (holders[i][l] >= limit - 1 && !subs[i].handout[l]) {
        subs[i].common[l] = true;
        ++marked;
      }
  }
  return marked;
}

std::vector<PairResult> pairs_from(Directions& directions, const std::vector<SubmissionText>& subs,
                                   const SimilarityOptions& options) {
  const int n = static_cast<int>(subs.size());
  std::vector<PairResult> pairs;
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) {
      PairResult p{.a = a, .b = b};
      Direction& ab = directions[{a, b}];
      Direction& ba = directions[{b, a}];
      p.percent_a_in_b = percent(ab.shared, subs[static_cast<std::size_t>(a)].tokens);
      p.percent_b_in_a = percent(ba.shared, subs[static_cast<std::size_t>(b)].tokens);
      p.shared_a_in_b = ab.shared;
      p.shared_b_in_a = ba.shared;
      for (SharedRun& r : ba.runs) r = {r.right_first, r.right_last, r.left_first, r.left_last, r.tokens};
      for (const auto* d : {&ab, &ba})
        for (const SharedRun& r : d->runs)
          if (r.tokens > p.longest.tokens) p.longest = r;
      p.runs = std::move(p.percent_a_in_b >= p.percent_b_in_a ? ab.runs : ba.runs);
      std::sort(p.runs.begin(), p.runs.end(),
                [](const SharedRun& x, const SharedRun& y) { return x.left_first < y.left_first; });
      const long shared = p.percent_a_in_b >= p.percent_b_in_a ? p.shared_a_in_b : p.shared_b_in_a;
      p.flagged = p.top() >= options.threshold && shared >= options.min_shared;
      pairs.push_back(std::move(p));
    }
  rank(pairs, subs);
  return pairs;
}

// Every pair compared, what is left of each submission after the handout (and common code) is
// taken out.
Result<Directions> compare_all(std::vector<SubmissionText>& subs, const fs::path& dir, const SimilarityOptions& options,
                               int& sim_runs) {
  IPCG_TRY(Staged staged, stage(dir, subs, {}, true));
  IPCG_TRY(std::vector<SimOutput> outputs, compare_chunks(staged, dir, options));
  sim_runs += static_cast<int>(outputs.size());
  return collect(outputs, subs);
}

}  // namespace

int SimilarityReport::flagged() const {
  return static_cast<int>(std::count_if(pairs.begin(), pairs.end(), [](const PairResult& p) { return p.flagged; }));
}

Result<fs::path> find_sim_c(const std::string& path_env) {
  fs::path found = find_program("sim_c", path_env);
  if (found.empty())
    return fail(Errc::usage,
                "sim_c is not installed (it is in the Debian package similarity-tester: "
                "apt-get install similarity-tester)");
  return found;
}

std::string describe_lines(const SubmissionText& s, int first, int last) {
  int start = 1;
  for (const auto& f : s.files) {
    const int end = start + static_cast<int>(f.lines.size());
    if (first >= start && first < end)
      return fmt::format("{}:{}-{}", f.name, first - start + 1, std::min(last, end - 1) - start + 1);
    start = end;
  }
  return fmt::format("line {}-{}", first, last);
}

Result<SimilarityReport> compare_submissions(const SimilarityInput& input, const SimilarityOptions& options) {
  if (options.sim_c.empty()) return fail(Errc::internal, "compare_submissions: no sim_c");
  SimilarityReport report{.threshold = options.threshold, .min_run = options.min_run, .handout_run = options.handout_run,
                          .common_limit = options.common_limit, .min_shared = options.min_shared};
  for (const auto& name : input.names) report.submissions.push_back(read_submission(input, name, options.max_file_bytes));
  std::vector<SubmissionText> handout;
  for (const auto& path : input.handout_files) {
    SubmissionText h{.name = path.filename().string()};
    h.files.push_back(read_source(path, h.name, options.max_file_bytes));
    if (!h.files[0].note.empty()) return fail(Errc::config, "handout file " + path.string() + ": " + h.files[0].note);
    h.handout.assign(h.files[0].lines.size(), false);
    h.common = h.handout;
    handout.push_back(std::move(h));
  }
  IPCG_TRY(TempDir work, TempDir::create(temp_root(options)));
  IPCG_TRY(report.sim_runs, mark_handout(report.submissions, handout, work.path() / "raw", options));
  if (report.submissions.size() < 2) return report;
  IPCG_TRY(Directions directions, compare_all(report.submissions, work.path() / "pass1", options, report.sim_runs));
  // Code `common_limit` submissions hold is taken out like the handout, and the pairs compared again.
  if (options.common_limit > 0 && mark_common(report.submissions, directions, options.common_limit) > 0) {
    IPCG_TRY(directions, compare_all(report.submissions, work.path() / "pass2", options, report.sim_runs));
  }
  report.pairs = pairs_from(directions, report.submissions, options);
  return report;
}

}  // namespace ipcg::similarity
