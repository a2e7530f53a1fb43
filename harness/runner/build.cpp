#include "build.hpp"
#include "driver_kit_files.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "harness/sandbox/execution.hpp"
#include "submission.hpp"

namespace ipcg {
namespace {

struct CompileResult {
  bool ok = false;
  std::string output;
};

// Runs one compiler command in the sandbox, in `dir` (a box path).
Result<CompileResult> compile(Sandbox& box, const BuildSpec& build, const std::filesystem::path& dir,
                              std::vector<std::string> argv, Role role) {
  RunRequest req;
  req.spec.argv = std::move(argv);
  req.spec.cwd = dir;
  req.spec.limits = build.limits;
  req.spec.role = role;  // the compiler runs under the sandbox's build policy, not the lab's sets
  // A cell of its own, as Sandbox::spawn would make, kept here to learn whether its memory
  // cgroup killed a compiler pass (cc then only says "Killed signal terminated program cc1").
  IPCG_TRY(Cell cell, box.open_cell({.limits = build.limits}));
  IPCG_TRY(RunOutcome out, run(cell, std::move(req)));
  const CellReport closed = cell.close();
  CompileResult r;
  r.output = out.captures[1].display() + out.captures[2].display();
  if (out.ending == Ending::timed_out)
    r.output += fmt::format("\n[the compiler did not finish within {} ms and was stopped]\n",
                            build.limits.wall.count());
  else if (out.ending == Ending::signaled)
    r.output += fmt::format("\n[the compiler was killed by signal {}]\n", WTERMSIG(out.wait_status));
  if (closed.oom_killed)
    r.output += fmt::format("\n[the compiler ran out of memory: the build's memory limit of {} MiB was hit]\n",
                            build.limits.memory_bytes >> 20);
  else if (r.output.find("out of memory allocating") != std::string::npos)
    // No memory cgroup (a user namespace, a container): the address-space limit stops cc1,
    // which says so itself.
    r.output += fmt::format("\n[the compiler ran out of memory: the build's memory limit (address space, {} MiB) "
                            "was hit]\n",
                            build.limits.address_space_bytes >> 20);
  r.ok = out.ending == Ending::exited && WEXITSTATUS(out.wait_status) == 0;
  return r;
}

std::vector<std::string> compiler_argv(const BuildSpec& build) {
  std::vector<std::string> argv{build.compiler};
  argv.insert(argv.end(), build.cflags.begin(), build.cflags.end());
  argv.push_back("-Iinclude");
  return argv;
}

// With lab.toml's `[build] interpose_sync`, every program is linked with the harness's
// sync_interposer.c (compiled once per build: a compile costs about 0.8 s here) and `--wrap` for
// each call it defines a __wrap_ of (the interposer's own text is the list, so the two never
// disagree): the student's objects then call the interposer.
constexpr const char* kSyncInterposerObject = "sync_interposer.o";

std::vector<std::string> sync_interposer_args() {
  std::vector<std::string> args{kSyncInterposerObject};
  for (const auto& file : internal::driver_kit_files()) {
    if (file.name != "sync_interposer.c") continue;
    static constexpr std::string_view kWrap = "\nint __wrap_";
    for (auto at = file.text.find(kWrap); at != std::string_view::npos; at = file.text.find(kWrap, at + 1)) {
      const auto name = at + kWrap.size();
      const auto end = file.text.find('(', name);
      args.push_back("-Wl,--wrap=" + std::string(file.text.substr(name, end - name)));
    }
  }
  return args;
}

std::string object_name(const std::string& source) {
  return source.substr(0, source.rfind('.')) + ".o";
}

// Copies the submitted sources, the lab's headers and the drivers into `dir` (host path).
Result<std::vector<std::string>> stage_files(const LabSpec& lab, const std::filesystem::path& source_dir,
                                             const std::filesystem::path& dir) {
  std::vector<std::string> problems;
  std::filesystem::create_directories(dir / "include");
  std::filesystem::create_directories(dir / "drivers");
  IPCG_CHECK(copy_sources(source_dir, lab.build.sources, dir, problems));
  for (const auto& header : lab.build.headers) {
    auto from = lab.dir / header;
    IPCG_CHECK(copy_trusted_file(from, dir / "include" / from.filename()));
  }
  // A driver comes with the headers beside it (what a lab's drivers share), never with other
  // drivers' sources.
  std::set<std::filesystem::path> driver_dirs;
  for (const auto& [name, program] : lab.programs) {
    IPCG_CHECK(copy_trusted_file(program.driver, dir / "drivers" / program.driver.filename()));
    driver_dirs.insert(program.driver.parent_path());
  }
  // The harness's driver kit: the same for every lab, written from the grader's own copy.
  for (const auto& file : internal::driver_kit_files()) {
    std::ofstream out(dir / "drivers" / file.name, std::ios::binary | std::ios::trunc);
    out << file.text;
    if (!out) return fail(Errc::io, "cannot write " + (dir / "drivers" / file.name).string());
  }
  for (const auto& folder : driver_dirs) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
      if (entry.is_regular_file() && entry.path().extension() == ".h")
        IPCG_CHECK(copy_trusted_file(entry.path(), dir / "drivers" / entry.path().filename()));
  }
  return problems;
}

}  // namespace

bool BuiltImpl::all_ok() const {
  if (!sources_ok) return false;
  for (const auto& [name, p] : programs)
    if (!p.ok) return false;
  return true;
}

std::string BuiltImpl::failure_of(const std::string& program) const {
  if (!sources_ok) return output;
  auto it = programs.find(program);
  if (it == programs.end()) return "no such program: " + program;
  return it->second.ok ? std::string() : it->second.output;
}

std::string BuiltImpl::feedback() const {
  std::string text = output;
  for (const auto& [name, p] : programs)
    if (!p.ok && sources_ok) text += p.output;
  return text;
}

Result<StagedBuild> stage_build(Sandbox& box, const LabSpec& lab, const std::filesystem::path& source_dir,
                                const std::string& name, Role role) {
  StagedBuild staged{.name = name, .role = role, .started = std::chrono::steady_clock::now()};
  IPCG_TRY(staged.dir, box.make_writable_dir(name, role));
  IPCG_TRY(staged.problems, stage_files(lab, source_dir, staged.dir));
  return staged;
}

Result<BuiltImpl> build_impl(Sandbox& box, const LabSpec& lab, const std::filesystem::path& source_dir,
                             const std::string& name, Role role) {
  IPCG_TRY(StagedBuild staged, stage_build(box, lab, source_dir, name, role));
  return compile_staged(box, lab, staged);
}

Result<BuiltImpl> compile_staged(Sandbox& box, const LabSpec& lab, const StagedBuild& staged) {
  const Role role = staged.role;
  BuiltImpl built;
  built.bin_dir = staged.dir;  // the compiler (slot uid) writes here; folders the grader made it cannot
  const auto box_dir = box.to_box(staged.dir);
  for (const auto& p : staged.problems) built.output += p + "\n";
  if (staged.problems.empty()) {
    auto argv = compiler_argv(lab.build);
    argv.push_back("-c");
    argv.insert(argv.end(), lab.build.sources.begin(), lab.build.sources.end());
    IPCG_TRY(CompileResult sources, compile(box, lab.build, box_dir, argv, role));
    built.sources_ok = sources.ok;
    built.output += sources.output;
  }
  if (built.sources_ok && !lab.build.forbidden_symbols.empty()) {
    std::vector<std::string> objects;
    for (const auto& source : lab.build.sources) objects.push_back(object_name(source));
    // nm reads the untrusted objects, so it runs where the compiler did; its stdout is the list.
    IPCG_TRY(CompileResult listed, compile(box, lab.build, box_dir, undefined_symbols_argv(objects), role));
    if (!listed.ok) return fail(Errc::io, "listing the symbols of the submitted objects failed: " + listed.output);
    built.forbidden_used = forbidden_uses(listed.output, lab.build.forbidden_symbols);
  }
  if (built.sources_ok && lab.build.interpose_sync) {
    auto argv = compiler_argv(lab.build);
    argv.insert(argv.end(), {"-c", "drivers/sync_interposer.c", "-o", kSyncInterposerObject});
    IPCG_TRY(CompileResult interposer, compile(box, lab.build, box_dir, argv, role));
    if (!interposer.ok)  // trusted code: the lab's cflags do not suit it, not the student's fault
      return fail(Errc::config, "the harness's sync_interposer.c does not compile with " + lab.id +
                                    "'s cflags:\n" + interposer.output);
  }
  for (const auto& [program, spec] : lab.programs) {
    BuiltProgram& out = built.programs[program];
    if (!built.sources_ok) continue;
    auto argv = compiler_argv(lab.build);
    argv.insert(argv.end(), {"-o", program, "drivers/" + spec.driver.filename().string()});
    for (const auto& source : lab.build.sources) argv.push_back(object_name(source));
    if (lab.build.interpose_sync) {
      const auto interposer = sync_interposer_args();
      argv.insert(argv.end(), interposer.begin(), interposer.end());
    }
    argv.insert(argv.end(), lab.build.ldflags.begin(), lab.build.ldflags.end());
    IPCG_TRY(CompileResult linked, compile(box, lab.build, box_dir, argv, role));
    out.ok = linked.ok;
    out.output = linked.output;
  }
  // Read-only from here on: tests cannot write to the host's disk through it, nor replace a program.
  IPCG_CHECK(box.seal_dir(staged.name, role));
  built.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - staged.started).count();
  return built;
}

}  // namespace ipcg
