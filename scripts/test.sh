#!/usr/bin/env bash
# One command to run every test: installs what is missing (Debian 12), builds the tests with
# AddressSanitizer + UBSan and runs them, then builds with warnings as errors and runs them again.
# ctest's summary of the last run is the last thing printed. `--quick` skips the sanitizer pass.
set -uo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh || exit 1

export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}

status=0
if [[ ${1:-} != --quick ]]; then
  echo "== sanitizer build (asan preset) =="
  { cmake --preset asan >/dev/null && cmake --build --preset asan; } || exit 1
  # Deadlines that tests assert on purpose stretch with the slower build (tests/support/TestTiming.h).
  YIELDHOST_TEST_TIME_FACTOR=${YIELDHOST_TEST_TIME_FACTOR:-3} ctest --preset asan || status=1
fi

echo "== CI build (warnings are errors) =="
{ cmake --preset ci >/dev/null && cmake --build --preset ci; } || exit 1
ctest --preset ci || status=1
exit $status
