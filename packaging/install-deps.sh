#!/usr/bin/env bash
# Installs every build, test and runtime dependency of Yieldhost: Debian 12 packages with apt, then
# the npm packages of tools/npm (Redoc, served at /api/docs, and Redocly CLI, which lints the
# OpenAPI document) with `npm ci` from the committed lock file.
# Idempotent: when everything is present it only runs dpkg-query and compares two files.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ ccache pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev
  qt6-base-private-dev # http/DirectTcpSocket: an accepted socket read without FIONREAD (same version as qt6-base-dev)
  libqt6sql6-psql libpq-dev libssl-dev qcoro-qt6-dev libargon2-dev libhttp-parser-dev
  nlohmann-json3-dev # integrations: JSON numbers read exactly as the provider wrote them
  libcairo2-dev libpango1.0-dev fonts-dejavu-core # investments: PDF statements (cairo's PDF surface, Pango layout)
  # runtime: the embedded cluster and the tests' throwaway clusters
  postgresql-15 postgresql-client-15
  # tests and benchmarks
  python3 curl wrk nginx-light
  poppler-utils # pdftotext/pdftoppm read the statements' PDFs back
  python3-websockets # the notifications tests' independent WebSocket client
  # the job dashboard test drives Debian's Chromium through ChromeDriver (WebDriver)
  chromium chromium-driver
)
# npm for tools/npm; a machine that already has Node.js and npm (e.g. from NodeSource) keeps them.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

install_npm_packages() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/npm"
  # npm ci records the lock it installed in node_modules/.package-lock.json: reinstall when the
  # committed lock changed since.
  if [[ -f $dir/node_modules/.package-lock.json && ! $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
    return 0
  fi
  echo "install-deps: npm ci in tools/npm" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
}

if ((${#missing[@]} == 0)); then
  install_npm_packages
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
install_npm_packages
