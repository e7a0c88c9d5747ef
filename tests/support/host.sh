# host.sh — sourced by the shell tests: a private work directory removed on exit, and the real
# host started on a free loopback port with its embedded cluster in that directory.
#   source tests/support/host.sh
#   start_host "$binary" serve        # sets $url and $host_pid; the log is $work/host.log
work=$(mktemp -d)
chmod 755 "$work" # the embedded cluster runs as user postgres when we are root
export YIELDHOST_DATA_DIR=$work/data
host_pid=
cleanup() { [[ -n $host_pid ]] && kill "$host_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start_host() {
  YIELDHOST_LISTEN=127.0.0.1:0 "$@" >"$work/host.log" 2>&1 &
  host_pid=$!
  for _ in $(seq 300); do
    grep -q 'listening on' "$work/host.log" && break
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.1
  done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/host.log" | head -1 || true)
  [[ -n $url ]] || { cat "$work/host.log"; echo "host did not start"; exit 1; }
}
