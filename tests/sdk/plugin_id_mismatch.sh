#!/usr/bin/env bash
# yieldhost_add_plugin() reads the id from plugin.json; a PLUGIN_ID that says otherwise stops
# configuring with one message naming both ids. Arguments: <source dir>
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if cmake -S "$src/tests/sdk/plugin-id-mismatch" -B "$work/build" -DYIELDHOST_SDK_CMAKE_DIR="$src/sdk/cmake" >"$work/log" 2>&1; then
  cat "$work/log"; echo "a PLUGIN_ID that differs from plugin.json was accepted"; exit 1
fi
message=$(tr -s ' \n' ' ' <"$work/log") # CMake wraps long messages
[[ $message == *'PLUGIN_ID "wallet" differs from the id "wallets"'* ]] || { cat "$work/log"; echo "the refusal does not name both ids"; exit 1; }
echo "mismatch refused: ${message%%Call Stack*}"
