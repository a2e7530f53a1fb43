// `grader collect`: an LMS download in, one folder per student out (docs/grading-a-class.md,
// "Submissions in").
//
//   CollectOptions o{.input = "canvas.zip", .from = Lms::canvas, .out = "subs",
//                    .lab = "lab1", .sources = lab.build.sources};
//   IPCG_TRY(CollectSummary s, collect(o));   // subs/<id>/pipeline.c, subs/roster.csv, subs/collect.json
//   std::cout << summary_text(s);
//
// Nothing is written when the download is refused (collect_download reads it whole into memory
// first) and DIR appears in one rename (output_folder.hpp). No student is dropped: one with
// nothing usable still gets a folder, a roster row and a collect.json entry saying why.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "collect/layouts.hpp"
#include "collect/match.hpp"
#include "collect/roster.hpp"
#include "collect/unpack_limits.hpp"
#include "harness/core/error.hpp"

namespace ipcg::collect {

struct CollectOptions {
  std::filesystem::path input;
  Lms from = Lms::folders;
  std::filesystem::path out;
  std::string lab;                   // recorded in collect.json
  std::vector<std::string> sources;  // the lab's build.sources
  UnpackLimits limits = kDefaultUnpackLimits;
};

// collect.json's status of a student.
inline constexpr std::string_view kCollected = "collected";          // every source found
inline constexpr std::string_view kPartial = "partial";              // some found
inline constexpr std::string_view kNotSubmitted = "not_submitted";   // none: nothing to grade

struct StudentOutcome {
  RosterRow roster;  // roster.id is the folder name
  std::string status;
  std::string reason;  // why not_submitted or partial
  bool late = false;
  std::vector<std::string> notes;
  std::vector<KeptFile> kept;  // bytes are what is written
  std::vector<IgnoredFile> ignored;
};

struct CollectSummary {
  std::string lab, from, input;
  std::vector<std::string> sources;
  std::vector<StudentOutcome> students;  // by id
  std::vector<Unmatched> unmatched;
  std::vector<std::string> notes;
};

// Reads and sorts the download; writes nothing.
Result<CollectSummary> plan_collect(const CollectOptions& options);
// plan_collect, then DIR with every student's folder, roster.csv and collect.json.
Result<CollectSummary> collect(const CollectOptions& options);

std::string collect_json(const CollectSummary& summary);
std::string summary_text(const CollectSummary& summary, const std::string& out_dir);

}  // namespace ipcg::collect
