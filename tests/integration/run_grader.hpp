// Runs the grader binary as a child process, as a user would, and collects what it printed.
// The test process is a child subreaper, so anything the grader leaves running re-parents to it
// and shows up in leftover_children().
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ipcg::testing {

// The checkout the tests read labs, references and sample submissions from.
inline const std::string kSource = IPCG_SOURCE_DIR;

struct GraderRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Who runs the grader (when the test is root): a user and group, optionally in a user namespace
// of its own whose user.max_user_namespaces is 0, as `sysctl user.max_user_namespaces=0` would
// make the host, but only for this grader: the host's value is never touched (root here may
// lack CAP_SYS_RESOURCE, and tests run beside it in parallel).
struct RunAs {
  int uid = -1;
  bool user_namespaces_forbidden = false;
};

// `grader` defaults to the build's binary; `as` (when root) runs it as that user and group.
GraderRun run_grader(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                     const std::string& grader = IPCG_GRADER, RunAs as = {});
// Processes whose parent is this test process (after run_grader returned: leaks of the grader).
std::vector<pid_t> leftover_children();
std::string read_file(const std::string& path);

// A small class for `grader batch`: a fresh folder <tmp>/ipcg-<tag>-<pid>/ whose subs/ holds lab1's
// reference as "ref" and the named samples of tests/submissions/lab1. Returns the folder.
std::string make_lab1_class(const std::string& tag, const std::vector<std::string>& samples);

}  // namespace ipcg::testing
