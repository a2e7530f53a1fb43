// Builds one implementation (the student's or the reference's) of every program of a lab, in the
// sandbox: sources -> objects once, then each program = its trusted driver + those objects.
// A program that fails to build fails only the tests that use it.
//
//   IPCG_TRY(BuiltImpl student, build_impl(box, lab, submission_dir, "student", Role::build));
//   student.programs.at("pipeline").ok;   student.bin_dir / "pipeline"
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/runner/forbidden_symbols.hpp"
#include "harness/spec/lab_spec.hpp"
#include "harness/sandbox/sandbox.hpp"

namespace ipcg {

struct BuiltProgram {
  bool ok = false;
  std::string output;  // compiler/linker output for this program
};

struct BuiltImpl {
  bool sources_ok = false;     // the submitted sources compiled
  std::string output;          // compiler output for the sources (and missing-file problems)
  std::map<std::string, BuiltProgram> programs;
  // The lab's forbidden symbols the submitted objects use (nm run in the sandbox before linking).
  std::vector<SymbolUse> forbidden_used;
  std::filesystem::path bin_dir;  // host path
  double seconds = 0;

  bool all_ok() const;
  // Why `program` is unusable: the source or the link output. Empty when it built.
  std::string failure_of(const std::string& program) const;
  // The sources' output followed by every failed program's link output: the build feedback.
  std::string feedback() const;
};

// role: Role::build (the student's uid) or Role::reference_build (the reference's uid, into a
// folder no student process can enter). The folder is sealed read-only afterwards.
// build_impl = stage_build, then compile_staged; the reference's build cache (build_cache.hpp)
// stages, hashes what it staged, and compiles only on a miss.
Result<BuiltImpl> build_impl(Sandbox& box, const LabSpec& lab, const std::filesystem::path& source_dir,
                             const std::string& name, Role role);

class BuildCache;  // build_cache.hpp

struct ReferenceBuildOptions {
  bool cache = true;              // false: build every time (`--no-build-cache`)
  BuildCache* cache_in = nullptr;  // null: BuildCache::shared() (IPCG_CACHE_DIR or the default folder)
  std::string grader_version;     // part of the key
  bool verbose = false;           // say on stderr whether the build was a hit, and how long it took
};

// The reference of `lab` built into the box's "reference" folder as Role::reference_build, or
// the same folder filled from the build cache (build_cache.hpp): the result is the same.
Result<BuiltImpl> build_reference(Sandbox& box, const LabSpec& lab, const ReferenceBuildOptions& options);

// A build folder made (make_writable_dir) and filled with everything the compiler reads: the
// sources, the lab's headers in include/, the drivers and the driver kit in drivers/.
struct StagedBuild {
  std::filesystem::path dir;          // host path
  std::string name;                   // the folder's name in the work folder
  Role role = Role::build;
  std::vector<std::string> problems;  // missing or unusable sources: the build fails with these
  std::chrono::steady_clock::time_point started;
};
Result<StagedBuild> stage_build(Sandbox& box, const LabSpec& lab, const std::filesystem::path& source_dir,
                                const std::string& name, Role role);
// Compiles and links what stage_build left, then seals the folder.
Result<BuiltImpl> compile_staged(Sandbox& box, const LabSpec& lab, const StagedBuild& staged);

}  // namespace ipcg
