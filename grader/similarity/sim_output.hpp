// Reads what `sim_c -n` prints: the input files with their token counts, then one line per shared
// run ("a.c: line 3-9   |b.c: line 40-46  [52]"). The caller passes the names it gave sim_c,
// so a name holding spaces, '|', ": line " or non-ASCII letters is still read exactly.
//
//   IPCG_TRY(SimOutput o, parse_sim_output(stdout_text, {"s00001.c", "s00002.c"}));
//   for (const SimRun& r : o.runs) ... o.files[r.a].tokens ...
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.hpp"

namespace ipcg::similarity {

struct SimFile {
  int tokens = -1;  // -1: sim_c did not list the file
  int lines = 0;
};

// Text of file `a` (lines a_first..a_last, 1-based, inclusive) found in file `b`; indexes into
// the names given to the parser.
struct SimRun {
  int a = 0, a_first = 0, a_last = 0;
  int b = 0, b_first = 0, b_last = 0;
  int tokens = 0;
};

struct SimOutput {
  std::vector<SimFile> files;  // one per name, in the order given
  std::vector<SimRun> runs;
};

// Errc::io naming the line (1-based) on anything else than sim_c's documented lines, and on a
// file sim_c could not open.
Result<SimOutput> parse_sim_output(std::string_view text, const std::vector<std::string>& names);

}  // namespace ipcg::similarity
