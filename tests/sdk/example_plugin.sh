#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds sdk/examples/hello-plugin out of tree against
# it with find_package(YieldhostSdk), and checks the real host loads the plugin and serves its
# route. Arguments: <build dir> <source dir> <yieldhost binary>
set -euo pipefail
build=$1 src=$2 binary=$3
work=$(mktemp -d)
chmod 755 "$work" # the embedded cluster runs as user postgres when we are root
export YIELDHOST_DATA_DIR=$work/data
host_pid=
cleanup() { [[ -n $host_pid ]] && kill "$host_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" --component sdk >/dev/null
test -f "$work/prefix/include/yieldhost/Plugin.h"
ls "$work/prefix"/lib*/libyieldhost-sdk.so.1 >/dev/null

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/sdk/examples/hello-plugin" -B "$work/hello" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" >/dev/null
cmake --build "$work/hello" >/dev/null
test -f "$work/hello/hello.so"

YIELDHOST_LISTEN=127.0.0.1:0 YIELDHOST_PLUGIN_PATH="$work/hello" YIELDHOST_HELLO__GREETING=bonjour \
  "$binary" serve >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/host.log" && break
  sleep 0.1
done
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/host.log" | head -1)
[[ -n $url ]] || { cat "$work/host.log"; echo "host did not start"; exit 1; }

reply=$(curl -sf "$url/api/v1/hello/world")
echo "$reply"
[[ $reply == *'"greeting":"bonjour"'* && $reply == *'"name":"world"'* ]] || { echo "unexpected reply"; exit 1; }
plugins=$(curl -sf "$url/api/v1/plugins")
[[ $plugins == *'"id":"hello"'*'"state":"running"'* ]] || [[ $plugins == *'"state":"running"'*'"id":"hello"'* ]] \
  || { echo "hello not running: $plugins"; exit 1; }
python3 - "$plugins" <<'PY'
import json, sys
plugins = {p["id"]: p for p in json.loads(sys.argv[1])["results"]}
assert plugins["hello"]["state"] == "running", plugins["hello"]
PY
kill -TERM "$host_pid"; wait "$host_pid"; host_pid=

# Its background task, run in the foreground.
ran=$(YIELDHOST_PLUGIN_PATH="$work/hello" YIELDHOST_HELLO__GREETING=bonjour "$binary" run-task hello.greet --arg name=world 2>&1) \
  || { echo "$ran"; echo "run-task failed"; exit 1; }
[[ $ran == *'bonjour, world'* && $ran == *'hello.greet done'* ]] || { echo "$ran"; echo "unexpected run-task output"; exit 1; }
echo "example plugin built against the installed SDK, served by the host, its task run"
