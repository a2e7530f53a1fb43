// The layouts of LMS downloads, recognized from the files they hold (docs/grading-a-class.md,
// "Submissions in"): which student each file belongs to, and who the student is.
//
//   IPCG_TRY(Lms from, parse_lms("canvas"));
//   Recognized r = recognize(from, listing.files);   // r.students by stable key, r.unmatched
//
// canvas            flat: lastfirst[_LATE]_<user id>_<submission id>_<uploaded name>[-N].<ext>
// moodle            Full Name_<participant id>_assignsubmission_file_/<files>  (or the same prefix
//                   on each file when the download was not "in folders")
// github-classroom  <assignment>-<login>/<the repository's files>  (gh classroom clone student-repos)
// folders           <student>/<files>
// Recognizers are pure: they see paths and bytes, never the disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/input_files.hpp"
#include "harness/core/error.hpp"

namespace ipcg::collect {

enum class Lms { canvas, moodle, github_classroom, folders };
Result<Lms> parse_lms(std::string_view name);  // "canvas", "moodle", "github-classroom", "folders"
std::string_view to_string(Lms lms);

// One file a student submitted.
struct Candidate {
  std::string source;  // where it is in the download: "doejane_1001_5001_pipeline-1.c", "Jane Doe_7_.../a.c"
  std::string name;    // the name the student gave it: "pipeline.c"
  int version = 0;     // Canvas's resubmission suffix (-1, -2: higher is newer); 0 when none
  std::int64_t mtime = 0;
  std::string bytes;
};

struct StudentFiles {
  std::string key;     // stable: Canvas user id, Moodle participant id, GitHub login, folder name
  std::string name;    // as the download gives it (Canvas: "doejane"; Moodle: "Jane Doe")
  std::string login;   // GitHub login; empty elsewhere
  std::string lms_id;  // what the LMS matches on import: Canvas user id, Moodle participant id
  bool late = false;   // Canvas's LATE marker
  std::vector<std::string> notes;
  std::vector<Candidate> files;
};

struct Unmatched {
  std::string source;
  std::string why;
};

struct Recognized {
  std::vector<StudentFiles> students;  // sorted by key
  std::vector<Unmatched> unmatched;    // files no student owns
  std::vector<std::string> notes;      // about the download as a whole
};

// `folders` (InputListing::folders) gives a student whose folder holds no file a place too.
Recognized recognize(Lms lms, std::vector<InputFile> files, std::vector<std::string> folders = {});

// The parts of a Canvas download's file name, or nothing when it is not one.
struct CanvasName {
  std::string name;  // "doejane"
  bool late = false;
  std::string user_id, submission_id;
  std::string uploaded;  // "pipeline.c", the -N suffix removed
  int version = 0;
};
std::optional<CanvasName> parse_canvas_name(std::string_view file_name);

// "Jane Doe_123_assignsubmission_file_" (a folder, or the head of a flat file name).
struct MoodleName {
  std::string name;            // "Jane Doe"
  std::string participant_id;  // "123"
  std::string plugin;          // "file", "onlinetext"
  std::string rest;            // what follows "<plugin>_": a file name in the flat form, else ""
};
std::optional<MoodleName> parse_moodle_name(std::string_view component);

// What an OS or a zip tool adds beside the files (__MACOSX/, ._name, .DS_Store, .git/): never a submission.
bool is_junk_path(const std::string& path);

// "hello-2.c" -> {"hello.c", 2}; "hello.c" -> {"hello.c", 0}.
std::pair<std::string, int> split_version_suffix(std::string_view uploaded);

}  // namespace ipcg::collect
