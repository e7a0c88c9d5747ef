#!/usr/bin/env bash
# Outbox benchmark: events written through publishIn() (testkit's POST /test/outbox/publish) by
# one `serve` process and relayed to a second `serve` process's event bus through PostgreSQL
# (LISTEN + catch-up). Two runs: throughput (50 events per transaction, 16 connections) and
# latency (1 event per transaction, 4 connections, so an event's INSERT is its commit). Each
# prints events/s written, events/s relayed end to end by the second process, and that process's
# INSERT → delivery lag p50/p99 (from its /metrics histogram: bucket upper bounds). Both
# processes share a private PostgreSQL started here.
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
lag_buckets() { curl -sf "http://127.0.0.1:$relay/metrics" | grep '^yieldhost_outbox_relay_lag_seconds_bucket'; }

run() { # label events-per-transaction connections
  local per=$1 conns=$2 label=$3
  local before; before=$(relayed)
  lag_buckets >"$work/lag-before.txt"
  cat >"$work/publish.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"n": 0, "count": $per, "record": false}'
wrk.headers["Content-Type"] = "application/json"
LUA
  local start written_end relayed_end out total refused events got
  start=$(date +%s.%N)
  out=$(wrk -t2 -c"$conns" -d"${duration}s" -s "$work/publish.lua" "http://127.0.0.1:$writer/test/outbox/publish")
  written_end=$(date +%s.%N)
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  refused=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  events=$(( (total - ${refused:-0}) * per ))
  # Relayed end to end: until the second process has delivered every event written.
  for _ in $(seq 600); do (( $(relayed) - before >= events )) && break; sleep 0.05; done
  relayed_end=$(date +%s.%N)
  got=$(( $(relayed) - before ))
  lag_buckets >"$work/lag-after.txt"
  python3 - "$start" "$written_end" "$relayed_end" "$events" "$got" "$label" "$work/lag-before.txt" "$work/lag-after.txt" <<'PY'
import re, sys
start, wend, rend = map(float, sys.argv[1:4]); events, got = int(sys.argv[4]), int(sys.argv[5])
def rows(path):
    return [re.match(r'.*le="([^"]+)"\} (\d+)', l).groups() for l in open(path)]
before, after = rows(sys.argv[7]), rows(sys.argv[8])
counts = [(le, int(a) - int(b)) for (le, a), (_, b) in zip(after, before)]
total = counts[-1][1]
def q(f):
    for le, c in counts:
        if c >= f * total:
            return "inf" if le == "+Inf" else f"{float(le) * 1000:g}"
print(f"{sys.argv[6]}")
print(f"  {'events written':34} {events:>10}   {events / (wend - start):>8.0f}/s")
print(f"  {'relayed end to end (2nd process)':34} {got:>10}   {got / (rend - start):>8.0f}/s")
print(f"  {'lag p50 / p99, ms (bucket bound)':34} {q(0.5) + ' / ' + q(0.99):>10}")
PY
}
run 50 16 "throughput: 50 events per transaction, 16 connections, ${duration} s"
run 5 4 "mixed: 5 events per transaction, 4 connections, ${duration} s"
run 1 4 "latency: 1 event per transaction, 4 connections, ${duration} s"
