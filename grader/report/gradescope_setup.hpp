// The two scripts a Gradescope autograder zip needs at its root, for one lab:
//
//   IPCG_TRY(GradescopeSetup files, gradescope_setup("lab3"));
//   write(dir / "setup.sh", files.setup_sh);              // both executable (0755)
//   write(dir / "run_autograder", files.run_autograder);
//
// The zip holds a copy of this repository with the two files added at its root; Gradescope
// extracts it to /autograder/source and runs setup.sh once, when it builds the image, then
// run_autograder for every submission (docs/report-format.md, "Gradescope").
#pragma once

#include "harness/core/error.hpp"

#include <string>
#include <string_view>

namespace ipcg {

struct GradescopeSetup {
  std::string setup_sh;        // installs the Debian packages, builds the grader
  std::string run_autograder;  // grades /autograder/submission into results/results.json
};

// lab_id as `grader run` takes it ("lab3", "3", "lab3-mq"); anything but letters, digits, '-',
// '_' and '.' is a usage error, since it is pasted into a shell script.
Result<GradescopeSetup> gradescope_setup(std::string_view lab_id);

}  // namespace ipcg
