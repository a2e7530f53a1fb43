// What `grader similarity` costs for a class: N generated lab1 submissions (default 300, about
// 45 000 pairs) compared with `grader similarity lab1 DIR --out OUT --jobs J`, timed from here.
// Each submission is one of lab1's sources (the reference and every sample of
// tests/submissions/lab1) with seeded mutations: a line dropped, two lines swapped, a statement
// of its own inserted, each at a rate drawn per submission from 0 to 20%, so some pairs stay
// near-copies and most drift apart, as in a class where a few students share work.
// Run by hand: build/bin/bench_similarity [N] [--jobs J] [--seed S]. Not part of ctest.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::vector<std::string>> sources() {
  const fs::path root = IPCG_SOURCE_DIR;
  std::vector<std::vector<std::string>> out{read_lines(root / "reference/lab1-pipe/pipeline.c")};
  std::vector<fs::path> samples;
  for (const auto& entry : fs::directory_iterator(root / "tests/submissions/lab1")) samples.push_back(entry.path());
  std::sort(samples.begin(), samples.end());
  for (const auto& s : samples) out.push_back(read_lines(s / "pipeline.c"));
  return out;
}

// A statement no source holds, different per insertion: breaks any shared run it lands in.
std::string filler(std::mt19937_64& rng) {
  static const char* kForms[] = {"    v{0} = v{1} * {2} + v{0};", "    if (v{1} > {2}) v{0}--;",
                                 "    t{0}[{2}] = (char)v{1};", "    while (v{0} < {2}) v{0} += v{1};"};
  std::string form = kForms[rng() % 4];
  const std::string values[] = {std::to_string(rng() % 9), std::to_string(rng() % 9), std::to_string(rng() % 100)};
  for (int i = 0; i < 3; ++i)
    for (std::size_t at; (at = form.find("{" + std::to_string(i) + "}")) != std::string::npos;)
      form.replace(at, 3, values[i]);
  return form;
}

std::string mutate(const std::vector<std::string>& base, std::mt19937_64& rng) {
  const double rate = std::uniform_real_distribution<double>(0.0, 0.6)(rng);
  std::bernoulli_distribution hit(rate / 3);
  std::vector<std::string> lines;
  for (const auto& line : base) {
    if (hit(rng)) continue;  // dropped
    lines.push_back(line);
    if (hit(rng)) lines.push_back(filler(rng));
    if (hit(rng) && lines.size() >= 2) std::swap(lines[lines.size() - 1], lines[lines.size() - 2]);
  }
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

int run(std::vector<std::string> args) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 300, jobs = 2;
  unsigned long seed = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--jobs") && i + 1 < argc) jobs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::stoul(argv[++i]);
    else n = std::atoi(argv[i]);
  }
  const fs::path root = fs::temp_directory_path() / ("ipcg-bench-similarity-" + std::to_string(::getpid()));
  const auto pool = sources();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    const fs::path dir = root / "subs" / ("student" + std::to_string(1000 + i));
    fs::create_directories(dir);
    std::ofstream(dir / "pipeline.c") << mutate(pool[rng() % pool.size()], rng);
  }
  std::printf("%d submissions (%d pairs) generated from %zu lab1 sources, seed %lu; grader similarity --jobs %d\n", n,
              n * (n - 1) / 2, pool.size(), seed, jobs);
  const auto start = std::chrono::steady_clock::now();
  const int status = run({IPCG_GRADER, "similarity", "lab1", (root / "subs").string(), "--out",
                          (root / "out").string(), "--jobs", std::to_string(jobs)});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("grader similarity: exit %d, %.1f s wall\n", status, seconds);
  fs::remove_all(root);
  return status;
}
