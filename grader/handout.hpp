// What a student receives for a lab: the skeleton to edit, the lab's headers, every README*.md
// (the handout in each language) and a lab.toml that lists the public tests only. Nothing a
// student must not see goes in: no hidden test (name, inputs or points), no reference path, none
// of grading/ (checks, drivers, tools).
//
//   IPCG_TRY(std::vector<std::filesystem::path> written, write_handout(lab, "out/lab1"));
//
// The handout is for reading and editing; students run the public tests with the grader itself
// (`grader run lab1 --submission DIR`), which holds the drivers and checks.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/spec/lab_spec.hpp"

namespace ipcg {

// lab.toml as a student may read it: hidden tests and the [lab] reference/skeleton keys removed.
Result<std::string> handout_lab_toml(const LabSpec& lab);

// Writes the handout into `out_dir` (created; must be absent or empty, so no stale file of an
// earlier handout rides along). Returns the files written, relative to `out_dir`.
Result<std::vector<std::filesystem::path>> write_handout(const LabSpec& lab, const std::filesystem::path& out_dir);

}  // namespace ipcg
