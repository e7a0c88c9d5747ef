#!/usr/bin/env bash
# Installs every build, test and runtime dependency of Yieldhost from Debian 12 packages.
# Idempotent: when everything is present it only runs dpkg-query and exits in well under a second.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ ccache pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev
  libqt6sql6-psql libpq-dev qcoro-qt6-dev libargon2-dev libhttp-parser-dev
  # runtime: the embedded cluster and the tests' throwaway clusters
  postgresql-15 postgresql-client-15
  # tests and benchmarks
  python3 curl wrk nginx-light
  # the job dashboard test drives Debian's Chromium through ChromeDriver (WebDriver)
  chromium chromium-driver
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# nginx-light's postinst starts a system nginx on :80; policy-rc.d keeps it (and postgresql's) stopped.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
  $sudo chmod +x $policy
  created_policy=1
fi
trap '[[ $created_policy == 1 ]] && $sudo rm -f $policy' EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
