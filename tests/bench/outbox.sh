#!/usr/bin/env bash
# Outbox benchmark: events written through publishIn() (testkit's POST /test/outbox/publish, 50
# events per transaction, wrk -t2 -c16) by one `serve` process and relayed to a second `serve`
# process's event bus through PostgreSQL (LISTEN + catch-up). Prints events/s written, events/s
# relayed end to end by the second process, and its INSERT → delivery lag p50/p99 (from its
# /metrics histogram, bucket upper bounds). Both processes share a private PostgreSQL started here.
# Usage: tests/bench/outbox.sh [seconds] [build dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
build=${2:-build/ci}
command -v wrk >/dev/null || bash packaging/install-deps.sh
[[ -x $build/bin/yieldhost ]] || { cmake --preset "$(basename "$build")" >/dev/null && cmake --build --preset "$(basename "$build")"; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -d $work/pg ]] && "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$work"
pgport=$(free_port)
as_pg "$pgbin/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg" -o "-p $pgport -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" -l "$work/pg.log" -w start >/dev/null
url="postgres://postgres@127.0.0.1:$pgport/postgres"

start_host() { # port log
  QT_LOGGING_RULES="yieldhost.access.info=false" YIELDHOST_LISTEN=127.0.0.1:$1 YIELDHOST_DATABASE_URL=$url \
    YIELDHOST_PLUGIN_PATH="$build/tests/plugins:$build/lib/yieldhost/plugins" YIELDHOST_DB__POOL_SIZE=8 \
    YIELDHOST_JWT_SECRET=bench-secret-0123456789abcdef0123456789 "$build/bin/yieldhost" serve >"$2" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  cat "$2"; exit 1
}
writer=$(free_port); relay=$(free_port)
start_host "$writer" "$work/writer.log"
start_host "$relay" "$work/relay.log"
relayed() { curl -sf "http://127.0.0.1:$relay/metrics" | awk '/^yieldhost_outbox_relayed_total/ {print $2}'; }
before=$(relayed)

cat >"$work/publish.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"n": 0, "count": 50, "record": false}'
wrk.headers["Content-Type"] = "application/json"
LUA
start=$(date +%s.%N)
out=$(wrk -t2 -c16 -d"${duration}s" -s "$work/publish.lua" "http://127.0.0.1:$writer/test/outbox/publish")
written_end=$(date +%s.%N)
total=$(awk '/requests in/ {print $1}' <<<"$out")
refused=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
events=$(( (total - ${refused:-0}) * 50 ))
# Relayed end to end: until the second process has delivered every event written.
for _ in $(seq 600); do (( $(relayed) - before >= events )) && break; sleep 0.05; done
relayed_end=$(date +%s.%N)
got=$(( $(relayed) - before ))
curl -sf "http://127.0.0.1:$relay/metrics" | grep '^yieldhost_outbox_relay_lag_seconds_bucket' >"$work/lag.txt"
read -r p50 p99 < <(python3 - "$work/lag.txt" <<'PY'
import re, sys
rows = [re.match(r'.*le="([^"]+)"\} (\d+)', l).groups() for l in open(sys.argv[1])]
total = int(rows[-1][1])
def q(f):
    for le, c in rows:
        if int(c) >= f * total:
            return "inf" if le == "+Inf" else f"{float(le) * 1000:g}"
print(q(0.5), q(0.99))
PY
)
python3 - "$start" "$written_end" "$relayed_end" "$events" "$got" "$p50" "$p99" "$duration" <<'PY'
import sys
start, wend, rend = map(float, sys.argv[1:4]); events, got = int(sys.argv[4]), int(sys.argv[5])
print(f"outbox, 16 writers x 50 events per transaction, {sys.argv[8]} s")
print(f"{'events written':34} {events:>12}")
print(f"{'written events/s':34} {events / (wend - start):>12.0f}")
print(f"{'relayed by the 2nd process':34} {got:>12}")
print(f"{'relayed end to end events/s':34} {got / (rend - start):>12.0f}")
print(f"{'lag p50 / p99 ms (bucket bound)':34} {sys.argv[6] + ' / ' + sys.argv[7]:>12}")
PY
