#!/usr/bin/env bash
# One command to run Yieldhost: installs what is missing (Debian 12), builds, starts the host and
# prints its URL. Extra arguments go to the yieldhost binary (e.g. `scripts/run.sh serve --listen 127.0.0.1:9000`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
exec build/dev/bin/yieldhost "$@"
