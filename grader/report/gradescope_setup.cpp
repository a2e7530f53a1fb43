#include "report/gradescope_setup.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace ipcg {
namespace {

// What building the grader needs: what `.ci/install-deps.sh` installs without --tests (a test
// keeps the two lists in step). The tests are not built in the image.
constexpr std::string_view kPackages =
    "cmake make g++ gcc pkg-config libtomlplusplus-dev libseccomp-dev libcli11-dev "
    "nlohmann-json3-dev libfmt-dev libexpected-dev musl-tools libarchive-dev similarity-tester uidmap";

constexpr std::string_view kSetupTemplate = R"SH(#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. /autograder/source is
# the autograder zip: a copy of the ipcgrade repository with this file and run_autograder added.
# The packages are Debian 12's: pick a Gradescope base image whose release packages them.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 -q -y update
apt-get -o DPkg::Lock::Timeout=600 -q -y install --no-install-recommends @PACKAGES@
cmake -S /autograder/source -B /autograder/build -DCMAKE_BUILD_TYPE=Release
cmake --build /autograder/build -j"$(nproc)" --target grader
# Fail the image build now, not at the first submission, if the grader cannot load the lab.
/autograder/build/bin/grader list |
  awk -v lab='@LAB@' '$1 == lab || $2 == lab || $1 == "lab" lab { found = 1 } END { exit !found }'
)SH";

constexpr std::string_view kRunTemplate = R"SH(#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder; its stdout and stderr are
# shown to instructors only. Students see results.json.
set -uo pipefail
mkdir -p /autograder/results
/autograder/build/bin/grader run '@LAB@' --submission /autograder/submission --format gradescope \
  > /autograder/results/results.json
code=$?
# 0 (all passed) and 1 (some did not) are grades. 2 and 3 mean the grader could not grade: leave
# no results.json, so Gradescope reports an autograder failure instead of recording a 0.
if [ "$code" -gt 1 ]; then
  rm -f /autograder/results/results.json
  echo "run_autograder: grader exited with $code: no grade was produced" >&2
  exit "$code"
fi
exit 0
)SH";

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Placeholders, not fmt: the scripts are full of shell and awk braces.
std::string fill(std::string_view script, std::string_view lab_id) {
  return replace_all(replace_all(std::string(script), "@PACKAGES@", kPackages), "@LAB@", lab_id);
}

bool safe_lab_id(std::string_view id) {
  const auto safe = [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  };
  return !id.empty() && id.front() != '-' && std::all_of(id.begin(), id.end(), safe);
}

}  // namespace

Result<GradescopeSetup> gradescope_setup(std::string_view lab_id) {
  if (!safe_lab_id(lab_id))
    return fail(Errc::usage, fmt::format("'{}' is not a lab id (letters, digits, '-', '_', '.')",
                                         lab_id));
  return GradescopeSetup{fill(kSetupTemplate, lab_id), fill(kRunTemplate, lab_id)};
}

}  // namespace ipcg
