#!/usr/bin/env bash
# Installs what ipcgrade needs, from Debian 12's packages only.
#   .ci/install-deps.sh          what building the grader and grading need
#   .ci/install-deps.sh --tests  that, plus what the test suite and bench/ need (GoogleTest,
#                                Google Benchmark, xmllint, Chromium for the gradebook page test,
#                                a single-node Slurm cluster and munge for the engine test)
#   .ci/install-deps.sh --list [--tests]   print the package names, one line, and change nothing
# As root: apt-get installs whatever is missing, waiting for a held dpkg lock.
# Otherwise: prints the exact apt-get line to run, and fails if anything is missing.
set -euo pipefail

# libarchive-dev: `grader collect` reads LMS downloads (zip, tar); similarity-tester: `grader
# similarity` runs its sim_c; uidmap: newuidmap/newgidmap give role uids without root.
grading_packages=(cmake make g++ gcc pkg-config libtomlplusplus-dev libseccomp-dev libcli11-dev nlohmann-json3-dev libfmt-dev libexpected-dev musl-tools
                  libarchive-dev similarity-tester uidmap)
# slurmctld slurmd slurm-client munge: tests/engine/ brings up a one-node cluster of its own; no
# daemon is started by installing them (nor wanted: the test starts its own, on its own ports).
# zip: tests build Canvas- and Moodle-style downloads as the LMS would.
test_packages=(libgtest-dev libgmock-dev libbenchmark-dev libxml2-utils chromium bubblewrap
               slurmctld slurmd slurm-client munge zip)

with_tests=0 list=0
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=1 ;;
    --list) list=1 ;;
    *) echo "usage: $0 [--tests] [--list]" >&2; exit 2 ;;
  esac
done
packages=("${grading_packages[@]}")
[[ $with_tests -eq 1 ]] && packages+=("${test_packages[@]}")
if [[ $list -eq 1 ]]; then
  echo "${packages[*]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "ipcgrade needs these Debian packages: ${missing[*]}" >&2
  echo "run:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# DPkg::Lock::Timeout makes apt wait for a held dpkg lock (unattended upgrades) instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -q -y)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
