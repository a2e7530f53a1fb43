// Builds one implementation (the student's or the reference's) of every program of a lab, in the
// sandbox: sources -> objects once, then each program = its trusted driver + those objects.
// A program that fails to build fails only the tests that use it.
//
//   IPCG_TRY(BuiltImpl student, build_impl(box, lab, submission_dir, "student", Role::build));
//   student.programs.at("pipeline").ok;   student.bin_dir / "pipeline"
#pragma once

#include <filesystem>
#include <map>
#include <string>

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
Result<BuiltImpl> build_impl(Sandbox& box, const LabSpec& lab, const std::filesystem::path& source_dir,
                             const std::string& name, Role role);

}  // namespace ipcg
