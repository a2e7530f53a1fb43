#!/usr/bin/env bash
# Installs what ipcgrade needs to build and test, from Debian 12's packages only.
# As root: apt-get installs whatever is missing, waiting for a held dpkg lock.
# Otherwise: prints the exact apt-get line to run, and fails if anything is missing.
set -euo pipefail

packages=(cmake make g++ gcc pkg-config
          libgtest-dev libgmock-dev libtomlplusplus-dev libseccomp-dev
          libcli11-dev nlohmann-json3-dev libfmt-dev libexpected-dev libbenchmark-dev libxml2-utils chromium
          musl-tools)

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
