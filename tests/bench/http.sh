#!/usr/bin/env bash
# HTTP benchmark: wrk on loopback at 64 connections against yieldhost's /healthz, next to nginx
# serving a fixed 200 (the floor reference), both started here on free loopback ports; then
# /test/db/{id} (one pipelined primary-key lookup, no auth), GET /api/v1/users/me (JWT check plus
# the user's row: the authenticated hot path every domain route shares) and /healthz again on a
# second host with the access log ON (written to a file, as an operator would).
# Prints requests/s and p99 for each, side by side, and the ratios the issues set goals for.
# Usage: tests/bench/http.sh [seconds] [build dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
build=${2:-build/ci}
connections=64
threads=2

command -v wrk >/dev/null && command -v nginx >/dev/null || bash packaging/install-deps.sh
if [[ ! -x $build/bin/yieldhost ]]; then
  cmake --preset "$(basename "$build")" >/dev/null && cmake --build --preset "$(basename "$build")"
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx: as many workers as cores, no access log, a fixed JSON 200 like /healthz.
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)

# yieldhost: default thread count (one per core); the access log is switched off as nginx's is.
# Its embedded PostgreSQL lives in a temporary data dir; the testkit plugin adds /test/db/{id},
# one indexed primary-key lookup on a 10,000-row table per request.
yh_port=$(free_port)
mkdir -p "$work/data" && chmod 755 "$work"
QT_LOGGING_RULES="yieldhost.access.info=false" YIELDHOST_LISTEN=127.0.0.1:$yh_port YIELDHOST_DATA_DIR="$work/data" \
  YIELDHOST_PLUGIN_PATH="$build/tests/plugins" "$build/bin/yieldhost" serve >"$work/yieldhost.log" 2>&1 &
pids+=($!)

# The same host with the access log on (the default), its output to a file.
log_port=$(free_port)
mkdir -p "$work/data-log"
YIELDHOST_LISTEN=127.0.0.1:$log_port YIELDHOST_DATA_DIR="$work/data-log" \
  YIELDHOST_PLUGIN_PATH="$build/tests/plugins" "$build/bin/yieldhost" serve >"$work/yieldhost-log.log" 2>&1 &
pids+=($!)

for url in "http://127.0.0.1:$nginx_port/" "http://127.0.0.1:$yh_port/readyz" "http://127.0.0.1:$log_port/readyz"; do
  for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
  for _ in $(seq 300); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
  curl -sf "$url" >/dev/null || { echo "not answering: $url"; cat "$work/yieldhost.log"; exit 1; }
done

cat >"$work/random-id.lua" <<'LUA'
-- A different row per request: /test/db/<1..10000>
math.randomseed(42)
request = function() return wrk.format("GET", "/test/db/" .. math.random(1, 10000)) end
LUA

# Runs wrk; prints "<requests/s> <p99 ms>". A second argument is a wrk Lua script.
measure() {
  local out
  out=$(wrk -t$threads -c$connections -d"${duration}s" --latency ${2:+-s "$2"} "$1")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [[ -z $errors ]] || echo "  wrk reported: $errors" >&2
  echo "$rps $p99"
}

wrk -t$threads -c$connections -d2s "http://127.0.0.1:$yh_port/healthz" >/dev/null # warm-up
read -r nginx_rps nginx_p99 < <(measure "http://127.0.0.1:$nginx_port/")
read -r yh_rps yh_p99 < <(measure "http://127.0.0.1:$yh_port/healthz")
curl -sf "http://127.0.0.1:$yh_port/test/db/42" >/dev/null || { echo "/test/db/42 failed"; exit 1; }
read -r db_rps db_p99 < <(measure "http://127.0.0.1:$yh_port" "$work/random-id.lua")

body='{"email":"bench@example.com","password":"bench password 0123"}'
curl -sf -X POST "http://127.0.0.1:$yh_port/api/v1/auth/register" -H 'Content-Type: application/json' -d "$body" >/dev/null
access=$(curl -sf -X POST "http://127.0.0.1:$yh_port/api/v1/auth/token" -H 'Content-Type: application/json' -d "$body" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])')
cat >"$work/me.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $access"
LUA
read -r me_rps me_p99 < <(measure "http://127.0.0.1:$yh_port/api/v1/users/me" "$work/me.lua")
wrk -t$threads -c$connections -d2s "http://127.0.0.1:$log_port/healthz" >/dev/null # warm-up
read -r log_rps log_p99 < <(measure "http://127.0.0.1:$log_port/healthz")
log_lines=$(grep -c 'yieldhost.access: .*"GET /healthz HTTP/1.1" 200' "$work/yieldhost-log.log" || true)

printf '%-28s %12s %10s\n' "target ($connections conns, ${duration}s)" "requests/s" "p99 ms"
printf '%-28s %12.0f %10.2f\n' "nginx fixed 200" "$nginx_rps" "$nginx_p99"
printf '%-28s %12.0f %10.2f\n' "yieldhost /healthz" "$yh_rps" "$yh_p99"
printf '%-28s %12.0f %10.2f\n' "yieldhost /test/db/{id} (SQL)" "$db_rps" "$db_p99"
printf '%-28s %12.0f %10.2f\n' "yieldhost /api/v1/users/me" "$me_rps" "$me_p99"
printf '%-28s %12.0f %10.2f\n' "yieldhost /healthz, log on" "$log_rps" "$log_p99"
python3 -c "print(f'ratio /healthz/nginx: {$yh_rps / $nginx_rps:.2f}x  (goal >= 0.8x)')"
python3 -c "print(f'ratio SQL route/nginx: {$db_rps / $nginx_rps:.2f}x  (goal >= 0.25x)')"
python3 -c "print(f'ratio /users/me / /test/db: {$me_rps / $db_rps:.2f}x  (goal >= 0.8x, p99 < 15 ms)')"
python3 -c "print(f'access log on / off, /healthz: {$log_rps / $yh_rps:.2f}x  (goal >= 0.9x); {$log_lines} lines logged')"
