#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds sdk/examples/hello-plugin out of tree against
# it with find_package(YieldhostSdk), and checks the real host loads the plugin and serves its
# route. Arguments: <build dir> <source dir> <yieldhost binary>
set -euo pipefail
build=$1 src=$2 binary=$3
source "$src/tests/support/host.sh"

cmake --install "$build" --prefix "$work/prefix" --component sdk >/dev/null
test -f "$work/prefix/include/yieldhost/Plugin.h"
test -f "$work/prefix/include/yieldhost/services/Authenticator.h" # the umbrella's parts install too
! find "$work/prefix" -name HostAccess.h | grep -q . || { echo "the host's side of the SDK was installed"; exit 1; }
ls "$work/prefix"/lib*/libyieldhost-sdk.so.1 >/dev/null

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/sdk/examples/hello-plugin" -B "$work/hello" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" >/dev/null
cmake --build "$work/hello" >/dev/null
test -f "$work/hello/hello.so"

YIELDHOST_PLUGIN_PATH="$work/hello" YIELDHOST_HELLO__GREETING=bonjour start_host "$binary" serve

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
kill -TERM "$host_pid"
wait "$host_pid" || { status=$?; tail -n 80 "$work/host.log"; echo "the host exited with $status after SIGTERM"; exit 1; }
host_pid=

# Its background task, run in the foreground.
ran=$(YIELDHOST_PLUGIN_PATH="$work/hello" YIELDHOST_HELLO__GREETING=bonjour "$binary" run-task hello.greet --arg name=world 2>&1) \
  || { echo "$ran"; echo "run-task failed"; exit 1; }
[[ $ran == *'bonjour, world'* && $ran == *'hello.greet done'* ]] || { echo "$ran"; echo "unexpected run-task output"; exit 1; }
echo "example plugin built against the installed SDK, served by the host, its task run"
