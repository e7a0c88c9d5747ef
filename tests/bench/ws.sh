#!/usr/bin/env bash
# WebSocket benchmark (issue 17): one `yieldhost serve` process holds N authenticated
# /ws/notifications sockets (10,000 by default) against a private PostgreSQL started here; then a
# separate process (psql) publishes one wallet.updated event per user through the transactional
# outbox — one INSERT into host_outbox of N rows and a pg_notify('yieldhost_outbox', ''), in one
# statement, as sdk/src/Outbox.cpp::publishAllIn() writes them — which the serve process relays to
# each user's socket. Prints the sockets held, the connect time, the host's RSS (VmRSS, VmHWM)
# with 0 and with N sockets, while holding them and after the delivery, the CPU per phase (the
# host per thread, its PostgreSQL, the client, the rest of the machine), the delivery latency
# p50/p99/max and how many events arrived (every socket must get its one event, to its own user),
# and whether the goals are met: 10,000 sockets under 300 MB RSS, p99 under 250 ms. It exits 1
# when a socket did not open or an event is missing, duplicated or misdelivered.
#
# The client is tests/bench/ws_client.py: one Python process (standard library only: epoll and a
# minimal RFC 6455 client), so it is independent of the host's Qt WebSocket code. Latency is the
# kernel's receive timestamp on the client socket (SO_TIMESTAMPNS: when the host's bytes arrived
# over loopback) minus, for the headline figure, the moment the publishing transaction had
# committed (psql's clock_timestamp() right after the COMMIT returned; no event can be delivered
# earlier), and minus each row's own INSERT time (clock_timestamp() in the row, `sent_at_us`) for
# the second figure, which also counts the time the N-row statement itself took. The client's own
# read lag (when Python got round to reading the socket, minus the kernel timestamp) is printed
# apart: on this 2-core machine it shares the CPU with the host and PostgreSQL.
#
# Seeding bypasses the API, as yield.sh does: users are inserted set-based in SQL (password hash
# '!', so nobody can log in with a password; /auth/register would cost an Argon2id hash each, ~40/s),
# each with one live sign-in row (users_token_family, token_version 0), and the client mints each
# user's access JWT itself with the host's HS256 secret (YIELDHOST_JWT_SECRET set here), with the
# claims AuthRoutes::accessToken() signs: sub, sid (the sign-in), ver, iat, exp (+1 h), jti,
# typ=access, iss=yieldhost. The host still checks every token as usual: the signature, expiry,
# issuer and type, and the user row, its is_active, the sign-in and the token version in the
# database (UserAuthenticator), once per socket. The client sends {"command":"ping"} right after
# the upgrade; the host answers it only once the token is accepted and the socket subscribed, so a
# `pong` is the proof of an authenticated socket.
#
# All sockets come from 127.0.0.1, so the host's connection limits are raised for the run
# (http.max_connections, http.max_connections_per_address: 4096 and 256 by default) and the fd
# limit is raised to the hard limit (at least N + 1024 is needed, for the host and the client).
#
# The sockets are held 45 s before publishing (WS_BENCH_HOLD, seconds; 0 for a quick try): the
# host pings each socket 30-40 s after it opened (websocket.ping_interval_ms, checked every 10 s)
# and the first pong makes Qt allocate the socket's read buffer, so the RSS right after connecting
# is about 4 KiB per socket short of the steady state; the RSS is sampled every 10 s meanwhile,
# and the CPU the idle sockets cost (timers, pings) is printed. The client answers the pings.
# The RSS goal is judged on the run's peak (VmHWM at the end: held, pinged and delivered to).
#
# Environment:
# WS_BENCH_IN_FLIGHT (100) is how many handshakes the client keeps in progress at once;
# WS_BENCH_WAIT (30) how long to wait for the events after the commit; WS_BENCH_PROFILE=1 samples
# the host with perf while it holds the sockets and while it delivers and prints its busiest
# symbols (per thread name), and the
# statements that took 10 ms or more meanwhile (log_min_duration_statement);
# WS_BENCH_HOST_ENV="NAME=value ..." adds to the serve process's environment, to try a setting
# (e.g. QT_NO_GLIB=1: Qt's own poll() event dispatcher instead of GLib's).
#
# Usage: tests/bench/ws.sh [sockets] [build dir]   (a quick try: WS_BENCH_HOLD=0 tests/bench/ws.sh 500)
set -euo pipefail
cd "$(dirname "$0")/../.."
sockets=10000
if [[ ${1:-} =~ ^[0-9]+$ ]]; then sockets=$1; shift; fi
build=${1:-build/ci}
hold=${WS_BENCH_HOLD:-45}
profile=${WS_BENCH_PROFILE:-0}
command -v psql >/dev/null || bash packaging/install-deps.sh
[[ -x $build/bin/yieldhost ]] || { cmake --preset "$(basename "$build")" >/dev/null && cmake --build --preset "$(basename "$build")"; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
python=/usr/bin/python3
[[ -x $python ]] || python=python3

# File descriptors: the host holds one per socket (plus its own), and so does the client.
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=1048576
ulimit -n $(( hard < 65536 ? hard : 65536 ))
if (( $(ulimit -n) < sockets + 1024 )); then
  echo "the fd limit is $(ulimit -n) (hard limit $hard): $sockets sockets need at least $((sockets + 1024)); raise the hard limit (ulimit -Hn) or use fewer sockets"
  exit 1
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
chmod 755 "$work"
mkdir "$work/control"
pids=()
cleanup() {
  touch "$work/control/stop" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -d $work/pg ]] && as_pg "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$work"
free_port() { $python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pgport=$(free_port)
as_pg "$pgbin/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
pgopts="-p $pgport -k $work -c listen_addresses=127.0.0.1"
[[ $profile == 1 ]] && pgopts+=" -c log_min_duration_statement=10"
as_pg "$pgbin/pg_ctl" -D "$work/pg" -o "$pgopts" -l "$work/pg.log" -w start >/dev/null
export YIELDHOST_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/postgres"
export YIELDHOST_JWT_SECRET=bench-secret-0123456789abcdef0123456789
export YIELDHOST_SANDBOX=0 # as deployed: no test clock, no simulated deposits
export QT_LOGGING_RULES="yieldhost.access.info=false"
sql() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }

"$build/bin/yieldhost" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
echo "seeding $sockets users, each with a live sign-in ..."
sql <<SQL
INSERT INTO users_user (email, email_key, password_hash)
SELECT 'ws' || n || '@example.com', 'ws' || n || '@example.com', '!' FROM generate_series(1, $sockets) n;
INSERT INTO users_token_family (user_id, token_version, created_at, last_issued_at)
SELECT id, token_version, now(), now() FROM users_user;
ANALYZE;
\copy (SELECT f.user_id, f.id, u.email FROM users_token_family f JOIN users_user u ON u.id = f.user_id ORDER BY u.email) TO '$work/control/users.tsv'
SQL

# The serve process, with all the plugins a deployment runs (from $build/lib/yieldhost/plugins, the
# host's default path next to its binary).
port=$(free_port)
YIELDHOST_LISTEN=127.0.0.1:$port YIELDHOST_HTTP__MAX_CONNECTIONS=$((sockets + 256)) \
  YIELDHOST_HTTP__MAX_CONNECTIONS_PER_ADDRESS=$((sockets + 256)) env ${WS_BENCH_HOST_ENV:-} "$build/bin/yieldhost" serve >"$work/serve.log" 2>&1 &
host=$!
pids+=("$host")
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "serve is not ready"; cat "$work/serve.log"; exit 1; }
sleep 1

alive() { kill -0 "$host" 2>/dev/null || { echo "the serve process died; its log ends:"; tail -40 "$work/serve.log"; exit 1; }; }
mem() { awk '/^VmRSS/ {rss = $2} /^VmHWM/ {hwm = $2} END {print rss, hwm}' "/proc/$host/status"; } # kB: RSS, peak
fds() { ls "/proc/$host/fd" | wc -l; }
snapshot() { # file: CPU seconds so far per host thread name (http-0, http-1, the main thread
  # "yieldhost", the DB pool ...), of this run's PostgreSQL (postmaster and children) and the
  # client; the machine's busy and idle time (from which the rest: other work, psql)
  $python - "$host" "$(head -1 "$work/pg/postmaster.pid")" "${client:-0}" >"$1" <<'PY'
import json, os, sys
host, postmaster, client = map(int, sys.argv[1:4])
hz, cpu = os.sysconf("SC_CLK_TCK"), {}
def add(key, stat):
    f = stat[stat.rindex(")") + 2:].split()
    cpu[key] = cpu.get(key, 0) + (int(f[11]) + int(f[12])) / hz
    return int(f[1])
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        if int(p) == host:
            for t in os.listdir(f"/proc/{p}/task"):
                stat = open(f"/proc/{p}/task/{t}/stat").read()
                add("host " + stat[stat.index("(") + 1:stat.rindex(")")], stat)
            continue
        stat = open(f"/proc/{p}/stat").read()
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if postmaster in (int(p), ppid) or int(p) == client:
            add("postgres" if int(p) != client else "client", stat)
    except (OSError, ValueError):
        continue
machine = list(map(int, open("/proc/stat").readline().split()[1:9]))  # user nice system idle iowait irq softirq steal
cpu["idle"], cpu["busy"] = sum(machine[3:5]) / hz, (sum(machine) - sum(machine[3:5])) / hz
json.dump(cpu, sys.stdout)
PY
}
cpu_delta() { # before after: where the CPU went meanwhile, host threads busiest first
  $python - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
d = {k: b[k] - a.get(k, 0) for k in b}
d["other"] = d["busy"] - sum(v for k, v in d.items() if k not in ("busy", "idle"))  # other work, psql
host = sorted(((v, k[5:]) for k, v in d.items() if k.startswith("host ") and v >= 0.01), reverse=True)
print(f"host {sum(v for k, v in d.items() if k.startswith('host ')):.2f}" + (" (" + ", ".join(f"{k} {v:.2f}" for v, k in host) + ")" if host else "")
      + "".join(f", {k} {d.get(k, 0):.2f}" for k in ("postgres", "client", "other", "idle")))
PY
}
read -r rss0 hwm0 < <(mem)
fds0=$(fds)
snapshot "$work/cpu0.json"

echo "opening $sockets sockets ..."
$python tests/bench/ws_client.py --port "$port" --control "$work/control" --in-flight "${WS_BENCH_IN_FLIGHT:-100}" \
  --wait "${WS_BENCH_WAIT:-30}" >"$work/client.log" 2>&1 &
client=$!
pids+=("$client")
await() { # file
  until [[ -f $1 ]]; do
    kill -0 "$client" 2>/dev/null || { echo "the client exited:"; cat "$work/client.log"; exit 1; }
    alive
    sleep 0.2
  done
}
await "$work/control/ready.json"
alive
read -r rss1 hwm1 < <(mem)
fds1=$(fds)
snapshot "$work/cpu1.json"
ready=$(cat "$work/control/ready.json")
field() { $python -c 'import json, sys; v = json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, v))' "$1" "$2"; }
open=$(field "$ready" open)
echo "open: $open of $sockets in $(field "$ready" 'f"{seconds:.1f}"') s"

if (( hold > 0 )); then
  echo "holding them $hold s ..."
  snapshot "$work/cpu-hold0.json"
  if [[ $profile == 1 ]]; then
    perf record -F 999 -p "$host" -o "$work/perf-hold.data" >"$work/perf-hold.log" 2>&1 &
    perf_hold=$!
    pids+=("$perf_hold")
  fi
  held=0 hold_rss=""
  while (( held < hold )); do # the RSS every 10 s
    step=$(( hold - held < 10 ? hold - held : 10 ))
    sleep "$step"
    held=$((held + step))
    alive
    hold_rss+="${held}s $(mem | awk '{printf "%.0f", $1 * 1024 / 1e6}') MB, "
  done
  snapshot "$work/cpu-hold1.json"
  [[ $profile == 1 ]] && { kill -INT "$perf_hold"; wait "$perf_hold" || true; }
  read -r rss_hold hwm_hold < <(mem)
fi

echo "publishing one wallet.updated event per user from psql ..."
snapshot "$work/cpu2.json"
if [[ $profile == 1 ]]; then
  pglog_from=$(wc -l <"$work/pg.log")
  perf record -F 1999 -p "$host" -o "$work/perf.data" >"$work/perf.log" 2>&1 &
  perf=$!
  pids+=("$perf")
  sleep 0.5
fi
sql -F ' ' >"$work/published.txt" <<SQL
SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint;
WITH rows AS (
  INSERT INTO host_outbox (topic, user_id, data)
  SELECT 'wallet.updated', id::text,
         jsonb_build_object('wallet_id', id::text, 'balance', '1.00', 'currency', 'USD',
                            'sent_at_us', (extract(epoch FROM clock_timestamp()) * 1e6)::bigint)
  FROM users_user
  RETURNING 1)
SELECT (SELECT count(*) FROM rows), pg_notify('yieldhost_outbox', '');
SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint;
SQL
mapfile -t published <"$work/published.txt"
echo "${published[0]} ${published[2]} ${published[1]% *}" >"$work/control/published"
await "$work/control/result.json"
alive
read -r rss2 hwm2 < <(mem)
snapshot "$work/cpu3.json"
[[ $profile == 1 ]] && { kill -INT "$perf"; wait "$perf" || true; }
relayed=$({ curl -sf "http://127.0.0.1:$port/metrics" || true; } | awk '/^yieldhost_outbox_relayed_total/ {print $2}')
touch "$work/control/stop"
wait "$client" || true
result=$(cat "$work/control/result.json")

r() { field "$result" "$1"; }
c() { field "$ready" "$1"; }
mb() { awk "BEGIN {printf \"%.1f MB\", $1 * 1024 / 1e6}"; } # from kB (KiB); MB = 10^6 bytes
echo
echo "== /ws/notifications: $sockets sockets on one serve process ($(nproc) cores shared by the host, PostgreSQL, the client and any other work; load average before the run: $load)"
printf '%-40s %s\n' "sockets authenticated and held" "$open of $sockets$( [[ $(c 'len(failed)') == 0 ]] || echo "; failed: $(c failed)")"
printf '%-40s %s\n' "connect (handshake + token check + pong)" "$(c 'f"{seconds:.1f} s ({open / seconds:.0f}/s), per socket p50 {per_socket_ms_p50:.0f} ms, p99 {per_socket_ms_p99:.0f} ms, max {per_socket_ms_max:.0f} ms"')"
printf '%-40s %s\n' "host RSS with 0 sockets" "$(mb "$rss0") (peak $(mb "$hwm0")), $fds0 fds"
printf '%-40s %s\n' "host RSS with $open sockets" "$(mb "$rss1") (peak $(mb "$hwm1")), $fds1 fds: $(awk "BEGIN {printf \"%.1f\", ($rss1 - $rss0) / ($open > 0 ? $open : 1)}") KiB per socket"
(( hold > 0 )) && printf '%-40s %s\n' "host RSS after holding $hold s" "$(mb "$rss_hold") (peak $(mb "$hwm_hold")): $(awk "BEGIN {printf \"%.1f\", ($rss_hold - $rss0) / ($open > 0 ? $open : 1)}") KiB per socket; every 10 s: ${hold_rss%, }"
printf '%-40s %s\n' "host RSS after the delivery" "$(mb "$rss2") (peak $(mb "$hwm2"))"
printf '%-40s %s\n' "CPU s while connecting" "$(cpu_delta "$work/cpu0.json" "$work/cpu1.json")"
(( hold > 0 )) && printf '%-40s %s\n' "CPU s while holding $hold s idle" "$(cpu_delta "$work/cpu-hold0.json" "$work/cpu-hold1.json")"
printf '%-40s %s\n' "CPU s while publishing + delivering" "$(cpu_delta "$work/cpu2.json" "$work/cpu3.json")"
printf '%-40s %s\n' "publishing statement ($(r rows) rows)" "$(r 'f"{statement_ms:.0f} ms (INSERT ... RETURNING + pg_notify, then COMMIT)"')"
printf '%-40s %s\n' "events relayed by the host (metric)" "${relayed:-(no answer from /metrics)}"
printf '%-40s %s\n' "events received" "$(r 'f"{received} of {open} open sockets; missing on open sockets {missing_open}, on sockets closed since {missing_closed}; duplicates {duplicates}, to the wrong user {misdelivered}, error messages {errors}"')"
printf '%-40s %s\n' "latency from COMMIT p50 / p99 / max" "$(r 'f"{from_commit_ms[0]:.1f} / {from_commit_ms[1]:.1f} / {from_commit_ms[2]:.1f} ms (first event {from_commit_ms[3]:.1f} ms)"')"
printf '%-40s %s\n' "latency from each row's INSERT" "$(r 'f"{from_insert_ms[0]:.1f} / {from_insert_ms[1]:.1f} / {from_insert_ms[2]:.1f} ms"')"
printf '%-40s %s\n' "arrivals per 100 ms after COMMIT" "$(r '" ".join(map(str, timeline))')"
printf '%-40s %s\n' "client read lag (after kernel receipt)" "$(r 'f"{read_lag_ms[0]:.1f} / {read_lag_ms[1]:.1f} / {read_lag_ms[2]:.1f} ms"')"
printf '%-40s %s\n' "client: token minting" "$(c 'f"{mint_s:.2f} s"')"
(( $(r without_kernel_timestamp) == 0 )) || echo "  ($(r without_kernel_timestamp) events had no kernel timestamp and are left out of the latency)"
[[ $(r 'len(dropped)') == 0 ]] || echo "sockets closed by the host after authenticating (close code: count): $(r dropped)"
(( $(r missing_open) == 0 )) || echo "missing on open sockets, first users (index in users.tsv): $(r missing_open_sample)"
(( $(r missing_closed) == 0 )) || echo "missing on closed sockets (index, close code, reason): $(r missing_closed_sample)"
warnings=$(grep -ciE 'warn|crit|fatal' "$work/serve.log" || true)
(( warnings == 0 )) || { echo "the serve log has $warnings warnings; the last:"; grep -iE 'warn|crit|fatal' "$work/serve.log" | tail -5; }
if [[ $profile == 1 && $hold -gt 0 ]]; then
  echo "the host's busiest symbols while holding the sockets idle (perf, self time):"
  perf report -i "$work/perf-hold.data" --no-children --sort comm,dso,symbol --stdio 2>/dev/null >"$work/perf-hold.txt" || true
  grep -v '^#' "$work/perf-hold.txt" | grep -v '^$' | head -15 | cut -c1-120 || true
fi
if [[ $profile == 1 ]]; then
  echo "the host's busiest symbols while delivering (perf, self time):"
  perf report -i "$work/perf.data" --no-children --sort comm,dso,symbol --stdio 2>/dev/null >"$work/perf.txt" || true
  grep -v '^#' "$work/perf.txt" | grep -v '^$' | head -25 | cut -c1-120 || true
  echo "statements of 10 ms or more while publishing and delivering (PostgreSQL's log):"
  { tail -n +"$((pglog_from + 1))" "$work/pg.log" | grep -o 'duration: .*' | cut -c1-160; } || true
fi

echo
rss_ok=$(awk "BEGIN {print ($hwm2 * 1024 < 300e6) ? \"met\" : \"NOT met\"}")
p99_ok=$(r '"met" if from_commit_ms[1] < 250 else "NOT met"')
note=""; (( sockets == 10000 )) || note=" (the goal is for 10,000 sockets; this run has $sockets)"
echo "goal: 10,000 sockets under 300 MB RSS (the run's peak, $(mb "$hwm2")): $rss_ok$note"
echo "goal: delivery p99 under 250 ms (from COMMIT): $p99_ok"
complete=$(( open == sockets && $(r received) == open && $(r missing_open) == 0 && $(r misdelivered) == 0 && $(r duplicates) == 0 ))
(( complete )) || { echo "INCOMPLETE: not every socket opened and got exactly its one event"; exit 1; }
