#!/usr/bin/env bash
# Ledger benchmark: money movements over HTTP with wrk on loopback, every request with its own
# Idempotency-Key (a wrk Lua script makes them: run, thread, counter).
#  1. transfers/s at 64 connections: POST /api/v1/transfers of 0.01 USD between random pairs of
#     16 funded users (both directions; each transfer locks two wallets, in id order);
#  2. deposits/s at 64 connections on ONE hot wallet (every request waits for the same row lock,
#     and for the currency's deposits clearing account).
# Prints requests/s, p50/p99 latency and the non-2xx count of each, the CPU each process used
# during the run (of 2 cores = 200 %), then checks the ledger with psql: per currency the balances
# sum to 0, no wallet is negative, every balance is the sum of its entries, and the number of
# ledger transactions made equals the number of 2xx replies (give or take the requests still in
# flight when wrk stopped: at most one per connection).
# The host runs `serve` on its embedded PostgreSQL (same machine, same cores).
# With PROFILE=1 a psql session samples pg_stat_activity every 20 ms during each run and prints
# what the busy backends were doing (statement or wait event), a poor man's pg_stat_statements.
# USERS=n changes the number of users transfers go between (default 16; more users, less waiting
# for the same wallets' row locks).
# PGSET="name=value ..." applies PostgreSQL settings (ALTER SYSTEM + reload) before the runs, for
# experiments such as PGSET=synchronous_commit=off (what the WAL flush at COMMIT costs).
# HOST_LOG=file keeps the host's log there (and PostgreSQL's in file.postgres).
# The host gets the environment, so e.g. YIELDHOST_DB__POOL_SIZE=16 tries another pool size.
# Usage: [PROFILE=1] [USERS=16] [PGSET=...] tests/bench/ledger.sh [seconds] [build dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
build=${2:-build/ci}
users=${USERS:-16}
connections=64
threads=2
command -v wrk >/dev/null && command -v psql >/dev/null || bash packaging/install-deps.sh
[[ -x $build/bin/yieldhost ]] || { cmake --preset "$(basename "$build")" >/dev/null && cmake --build --preset "$(basename "$build")"; }

work=$(mktemp -d)
chmod 755 "$work"
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; [[ -z ${HOST_LOG:-} ]] || { cp "$work/host.log" "$HOST_LOG"; find "$work/data" -name postgres.log -exec cp {} "$HOST_LOG.postgres" \; ; }; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
QT_LOGGING_RULES="yieldhost.access.info=false" YIELDHOST_HTTP__ACCESS_LOG=0 YIELDHOST_LISTEN=127.0.0.1:$port YIELDHOST_DATA_DIR="$work/data" \
  YIELDHOST_JWT_SECRET=bench-secret-0123456789abcdef0123456789 "$build/bin/yieldhost" serve >"$work/host.log" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/readyz" >/dev/null || { cat "$work/host.log"; exit 1; }

sql() { # the cluster runs as user postgres when we are root; its socket trusts local users
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- psql -X -h "$work/data/run" -U yieldhost -d yieldhost -Atq "$@"
  else psql -X -h "$work/data/run" -U yieldhost -d yieldhost -Atq "$@"; fi
}
for setting in ${PGSET:-}; do sql -c "ALTER SYSTEM SET ${setting%%=*} = '${setting#*=}'" >/dev/null; done
[[ -z ${PGSET:-} ]] || { sql -c "SELECT pg_reload_conf()" >/dev/null; echo "PostgreSQL settings: $PGSET"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { # path body [token] [key]
  curl -sf -X POST "$base$1" -H 'Content-Type: application/json' -d "$2" ${3:+-H "Authorization: Bearer $3"} ${4:+-H "Idempotency-Key: $4"}
}

# Users, each with a USD wallet holding 1,000,000.00 (0.01 per transfer never runs dry).
lua_users="$work/users.lua"
echo "users = {" >"$lua_users"
hot_wallet= hot_token=
for i in $(seq "$users"); do
  email="bench$i@example.com"
  body="{\"email\":\"$email\",\"password\":\"correct horse battery\"}"
  # from its own loopback address: registrations are throttled per address
  curl -sf --interface "127.0.0.$((i + 1))" -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' -d "$body" >/dev/null
  token=$(post /api/v1/auth/token "$body" | json '["access"]')
  wallet=$(post /api/v1/wallets '{"currency":"USD"}' "$token" | json '["id"]')
  post "/api/v1/wallets/$wallet/deposit" '{"amount":"1000000.00"}' "$token" "funding-$i" >/dev/null
  echo "  {email = \"$email\", token = \"$token\", wallet = \"$wallet\"}," >>"$lua_users"
  [[ -n $hot_wallet ]] || { hot_wallet=$wallet; hot_token=$token; }
done
echo "}" >>"$lua_users"

cat >"$work/transfer.lua" <<LUA
dofile("$lua_users")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(os.time() * 100 + tid)
  run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000))
  n = 0
end
function request()
  n = n + 1
  local from = math.random(1, #users)
  local to = math.random(1, #users - 1)
  if to >= from then to = to + 1 end
  local u = users[from]
  local body = '{"from_wallet":"' .. u.wallet .. '","to_email":"' .. users[to].email .. '","amount":"0.01"}'
  return wrk.format("POST", "/api/v1/transfers", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. u.token,
                                                   ["Idempotency-Key"] = "t-" .. run .. "-" .. tid .. "-" .. n}, body)
end
LUA

cat >"$work/deposit.lua" <<LUA
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(os.time() * 100 + tid)
  run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000))
  n = 0
end
function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/wallets/$hot_wallet/deposit", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $hot_token",
                                                                     ["Idempotency-Key"] = "d-" .. run .. "-" .. tid .. "-" .. n}, '{"amount":"1.00"}')
end
LUA

# CPU seconds used so far by: the host, its PostgreSQL (the postmaster and its children; not any
# other PostgreSQL on the machine), everything else (wrk, other work on the machine).
cpu() {
  python3 - "$pid" "$(head -1 "$work/data/postgres/postmaster.pid")" <<'PY'
import os, sys
host, postmaster = int(sys.argv[1]), int(sys.argv[2]); hz = os.sysconf("SC_CLK_TCK")
h = pg = other = 0.0
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{p}/stat").read()
        f = stat[stat.rindex(")") + 2:].split()
        ppid, t = int(f[1]), (int(f[11]) + int(f[12])) / hz
    except (OSError, ValueError):
        continue
    if int(p) == host: h += t
    elif int(p) == postmaster or ppid == postmaster: pg += t
    else: other += t
print(h, pg, other)
PY
}
idle_cpu() { awk '/^cpu / {print ($5 + $6) / 100}' /proc/stat; }

ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$1"; }

# Runs wrk with a script; prints "requests/s 2xx/s p50 p99 non-2xx created cpu-host% cpu-pg% cpu-other% idle%".
measure() { # lua
  local before_tx before_cpu before_idle out t0 t1 rps total non2xx p50 p99 created after_cpu after_idle
  before_tx=$(sql -c "SELECT count(*) FROM wallets_transaction")
  local sampler=
  if [[ ${PROFILE:-0} == 1 ]]; then
    printf '%s\n' "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' | ' || regexp_replace(left(query, 90), '\s+', ' ', 'g') FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" '\watch 0.02' \
      | sql >"$work/samples-$(basename "$1" .lua).txt" 2>/dev/null &
    sampler=$!
  fi
  before_cpu=$(cpu); before_idle=$(idle_cpu); t0=$(date +%s.%N)
  out=$(wrk -t$threads -c$connections -d"${duration}s" --latency -s "$1" "$base")
  t1=$(date +%s.%N); after_cpu=$(cpu); after_idle=$(idle_cpu)
  [[ -z $sampler ]] || { kill "$sampler" 2>/dev/null; pkill -P "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; }
  echo "$out" >"$work/wrk-$(basename "$1" .lua).txt"
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  p50=$(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  awk '/Socket errors/' <<<"$out" >&2
  created=$(( $(sql -c "SELECT count(*) FROM wallets_transaction") - before_tx ))
  python3 - "$rps" "$total" "$non2xx" "$p50" "$p99" "$created" "$t0" "$t1" "$before_cpu" "$after_cpu" "$before_idle" "$after_idle" <<'PY'
import sys
rps, total, non2xx, p50, p99, created, t0, t1 = sys.argv[1:9]
b = list(map(float, sys.argv[9].split())); a = list(map(float, sys.argv[10].split()))
wall = float(t1) - float(t0)
use = [100 * (y - x) / wall for x, y in zip(b, a)]
idle = 100 * (float(sys.argv[12]) - float(sys.argv[11])) / wall
ok = float(rps) * (1 - int(non2xx) / max(int(total), 1))
print(f"{float(rps):.0f} {ok:.0f} {p50} {p99} {non2xx} {created} {use[0]:.0f} {use[1]:.0f} {use[2]:.0f} {idle:.0f} {total}")
PY
}

# A short warm-up (connections, plans, caches), then the two runs.
duration_main=$duration; duration=2
measure "$work/transfer.lua" >/dev/null
duration=$duration_main
read -r t_rps t_ok t_p50 t_p99 t_non t_created t_host t_pg t_other t_idle t_total < <(measure "$work/transfer.lua")
read -r d_rps d_ok d_p50 d_p99 d_non d_created d_host d_pg d_other d_idle d_total < <(measure "$work/deposit.lua")

printf '%-40s %10s %10s %8s %8s %9s %s\n' "target ($connections conns, ${duration}s)" "requests/s" "2xx/s" "p50 ms" "p99 ms" "non-2xx" "CPU % (of 200): host / postgres / other / idle"
printf '%-40s %10.0f %10.0f %8.2f %8.2f %9d %s\n' "POST /api/v1/transfers ($users users)" "$t_rps" "$t_ok" "$t_p50" "$t_p99" "$t_non" "$t_host / $t_pg / $t_other / $t_idle"
printf '%-40s %10.0f %10.0f %8.2f %8.2f %9d %s\n' "POST .../deposit (one hot wallet)" "$d_rps" "$d_ok" "$d_p50" "$d_p99" "$d_non" "$d_host / $d_pg / $d_other / $d_idle"
[[ $t_non == 0 && $d_non == 0 ]] || { echo "non-2xx replies:"; grep -h Non-2xx "$work"/wrk-*.txt; tail -20 "$work/host.log"; }

if [[ ${PROFILE:-0} == 1 ]]; then
  for f in "$work"/samples-*.txt; do
    echo "busy backends in $(basename "$f" .txt | sed 's/samples-//') ($(grep -c . "$f") samples; share of all samples, top 12):"
    grep . "$f" | sort | uniq -c | sort -rn | head -12 | awk -v n="$(grep -c . "$f")" '{c=$1; $1=""; printf "  %5.1f %%%s\n", 100*c/n, $0}'
  done
fi

# The ledger afterwards: exact, and one transaction per 2xx.
problems=$(sql <<'SQL'
SELECT 'currency ' || currency || ' sums to ' || sum(balance) FROM wallets_account GROUP BY currency HAVING sum(balance) <> 0;
SELECT 'negative wallet ' || id FROM wallets_account WHERE user_id IS NOT NULL AND balance < 0;
SELECT 'account ' || a.id || ' holds ' || a.balance || ', its entries sum to ' || coalesce(s.total, 0) FROM wallets_account a
  LEFT JOIN (SELECT account_id, sum(amount) AS total FROM wallets_entry GROUP BY account_id) s ON s.account_id = a.id
 WHERE a.balance <> coalesce(s.total, 0);
SQL
)
echo "transfers: $((t_total - t_non)) 2xx replies, $t_created ledger transactions; deposits: $((d_total - d_non)) 2xx replies, $d_created ledger transactions"
off() { local d=$(( $2 - $1 )); (( d < 0 || d > connections )); } # 2xx created: created may exceed 2xx by what was in flight
if [[ -n $problems ]] || off $((t_total - t_non)) "$t_created" || off $((d_total - d_non)) "$d_created"; then
  echo "LEDGER CHECK FAILED"; echo "$problems"; exit 1
fi
echo "ledger check: every currency sums to 0, no negative wallet, every balance is the sum of its entries"
python3 -c "print(f'transfers/s vs goal 3000: {$t_ok / 3000:.2f}x')"
