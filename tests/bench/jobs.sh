#!/usr/bin/env bash
# Jobs benchmark: throughput of no-op jobs (enqueue + claim + complete) with 1 and with 2 worker
# processes, and wake-up latency (enqueue → start) of an idle worker, p50/p99.
#
# The host runs `serve` on its embedded PostgreSQL (same 2 cores); workers are separate
# `yieldhost worker --queues bench` processes. Throughput: N jobs are enqueued in one INSERT
# (with NOTIFY) while the workers listen; jobs/s = N / (last finished_at - first created_at), both
# read from the database's own clock. Latency: jobs enqueued one at a time, 20 ms apart, each in
# its own transaction; latency = started_at - created_at of each job.
# Usage: tests/bench/jobs.sh [jobs] [build dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=${1:-50000}
build=${2:-build/ci}
command -v psql >/dev/null || bash packaging/install-deps.sh
[[ -x $build/bin/yieldhost ]] || { cmake --preset "$(basename "$build")" >/dev/null && cmake --build --preset "$(basename "$build")"; }

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export QT_LOGGING_RULES="yieldhost.access.info=false"
export YIELDHOST_PLUGIN_PATH=$build/tests/plugins
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
YIELDHOST_LISTEN=127.0.0.1:$port YIELDHOST_DATA_DIR="$work/data" "$build/bin/yieldhost" serve >"$work/host.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/host.log"; exit 1; }
export YIELDHOST_DATABASE_URL="postgres://yieldhost@localhost/yieldhost?host=$work/data/run"

sql() { # the cluster runs as user postgres when we are root; its socket trusts local users
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- psql -h "$work/data/run" -U yieldhost -d yieldhost -XAtq "$@"
  else psql -h "$work/data/run" -U yieldhost -d yieldhost -XAtq "$@"; fi
}

start_workers() { # count
  for i in $(seq "$1"); do
    "$build/bin/yieldhost" worker --queues bench --concurrency 200 >"$work/worker$i.log" 2>&1 &
    pids+=($!)
  done
  for i in $(seq "$1"); do
    for _ in $(seq 300); do grep -q "Yieldhost worker" "$work/worker$i.log" && break; sleep 0.1; done
  done
}
stop_workers() {
  for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=("${pids[0]}")
}

throughput() { # workers → jobs/s
  sql -c "TRUNCATE host_job" >/dev/null
  start_workers "$1"
  sql -c "INSERT INTO host_job (task, queue) SELECT 'testkit.noop', 'bench' FROM generate_series(1, $jobs); SELECT pg_notify('yieldhost_jobs', 'bench')" >/dev/null
  for _ in $(seq 1200); do
    [[ $(sql -c "SELECT count(*) FROM host_job WHERE state <> 'done'") == 0 ]] && break
    sleep 0.25
  done
  sql -c "SELECT round($jobs / extract(epoch FROM max(finished_at) - min(created_at))) || ' ' || round(extract(epoch FROM max(finished_at) - min(created_at))::numeric, 2) || ' ' || count(*) FILTER (WHERE attempts = 1) FROM host_job WHERE state = 'done'"
  stop_workers
}

latency() { # → p50 p99 (ms) over 300 single enqueues into idle workers
  sql -c "TRUNCATE host_job" >/dev/null
  start_workers 1
  sleep 1
  for _ in $(seq 300); do
    echo "INSERT INTO host_job (task, queue) VALUES ('testkit.noop', 'bench'); SELECT pg_notify('yieldhost_jobs', 'bench'); SELECT pg_sleep(0.02);"
  done | sql >/dev/null
  sleep 1
  sql -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' || round(max(ms)::numeric, 2) || ' ' || count(*)
          FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms FROM host_job WHERE started_at IS NOT NULL) t"
  stop_workers
}

read -r one one_s one_n < <(throughput 1)
read -r two two_s two_n < <(throughput 2)
read -r p50 p99 pmax pn < <(latency)
printf '%-44s %10s %10s\n' "no-op jobs ($jobs, enqueue+claim+complete)" "jobs/s" "seconds"
printf '%-44s %10s %10s\n' "1 worker process" "$one" "$one_s"
printf '%-44s %10s %10s\n' "2 worker processes" "$two" "$two_s"
echo "completed once each: $one_n and $two_n of $jobs"
echo "wake-up latency, enqueue → start (idle worker, $pn jobs): p50 ${p50} ms, p99 ${p99} ms, max ${pmax} ms"
