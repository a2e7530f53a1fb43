// Which of a student's files are the lab's sources (lab.toml's build.sources).
//
//   Selection s = select_sources({"pipeline.c"}, student.files);
//   s.kept[0].file == "pipeline.c"; s.kept[0].from: where it was in the download
//
// 1. Several versions of one name: the newest is kept (Canvas's -N suffix, then mtime), the
//    others are ignored and noted. 2. A source found under its own name is kept. 3. Else the same
//    name in other letter case. 4. Else the only unclaimed file with the same extension, or among
//    several the only one whose name shares the source's first three letters or contains it
//    (pipe.c for pipeline.c). Each of 3-4 is noted; an ambiguous choice is not made but noted.
#pragma once

#include <string>
#include <vector>

#include "collect/layouts.hpp"

namespace ipcg::collect {

struct KeptFile {
  std::string file;  // the lab's source name it is kept as
  std::string from;  // Candidate::source
  std::string bytes;
};

struct IgnoredFile {
  std::string from;
  std::string why;
};

struct Selection {
  std::vector<KeptFile> kept;          // in build.sources order
  std::vector<std::string> missing;    // sources not found
  std::vector<IgnoredFile> ignored;
  std::vector<std::string> notes;
};

Selection select_sources(const std::vector<std::string>& sources, std::vector<Candidate> files);

}  // namespace ipcg::collect
