#!/usr/bin/env bash
# Yield payout benchmark: one daily run of investments.process_yield_payments over a book of
# active positions (100,000 by default, --million for 1,000,000), each with exactly one daily
# period due, run in the foreground with `yieldhost run-task` against a private PostgreSQL.
# Prints the job's own figure ("paid N periods ... (X payouts/s)"), the wall time of the whole
# command (start-up included) and its peak RSS (/usr/bin/time -v), then checks the outcome: one
# yield row, one ledger transaction, one settlement and one yield.paid event per position, and
# the ledger still reconciling (balances = entries, every currency summing to zero).
#
# Seeding is set-based SQL, not the API: 1 user per 10 positions, one EUR wallet each funded by
# a balanced deposit transaction (deposits clearing account -> wallet), and per position a
# balanced investment transaction (wallet -> the investments account) with running balance_after
# values, as the Ledger would write them. What it bypasses: password hashing (the users cannot
# sign in), and the ledger's per-row triggers while seeding (session_replication_role = replica
# skips the deferred balance check of every entry, which would dominate the seeding time); the
# same invariants are then checked set-based before the run, and the run itself goes through the
# Ledger with every trigger on.
#
# With YIELD_BENCH_PROFILE=1 the server loads pg_stat_statements and the run's ten most expensive
# statements are printed (calls, total ms, rows) — where the time goes on the database side.
#
# PGSET="name=value ..." starts the server with these settings (e.g. shared_buffers=1GB: what a
# server sized for its book changes).
#
# YIELD_BENCH_SQL runs extra SQL after seeding, before the run (to try an index, a setting); in
# profile mode the plan of the job's claim query is printed before the run.
#
# Usage: tests/bench/yield.sh [--million | positions] [build dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
positions=100000
if [[ ${1:-} == --million ]]; then positions=1000000; shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then positions=$1; shift; fi
build=${1:-build/ci}
batch=${YIELDHOST_INVESTMENTS__YIELD_BATCH_SIZE:-1000}
command -v psql >/dev/null || bash packaging/install-deps.sh
[[ -x $build/bin/yieldhost ]] || { cmake --preset "$(basename "$build")" >/dev/null && cmake --build --preset "$(basename "$build")"; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  [[ -n ${YIELD_BENCH_KEEPLOG:-} ]] && cp "$work/pg.log" "$YIELD_BENCH_KEEPLOG" || true
  [[ -d $work/pg ]] && as_pg "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$work"
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
profile=${YIELD_BENCH_PROFILE:-0}
pgopts="-p $pgport -k $work -c listen_addresses=127.0.0.1"
[[ $profile == 1 ]] && pgopts+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
for setting in ${PGSET:-}; do pgopts+=" -c $setting"; done
as_pg "$pgbin/pg_ctl" -D "$work/pg" -o "$pgopts" -l "$work/pg.log" -w start >/dev/null
export YIELDHOST_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/postgres"
export YIELDHOST_PLUGIN_PATH=$build/lib/yieldhost/plugins
export YIELDHOST_JWT_SECRET=bench-secret-0123456789abcdef0123456789
export YIELDHOST_INVESTMENTS__YIELD_BATCH_SIZE=$batch
export QT_LOGGING_RULES="yieldhost.access.info=false"
sql() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }

"$build/bin/yieldhost" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }

as_of=$(date -u +%F)
users=$(( (positions + 9) / 10 ))
echo "seeding $positions positions ($users users and wallets), one daily period due as of $as_of ..."
seed_start=$(date +%s.%N)
sql <<SQL
SET session_replication_role = replica; -- no per-row ledger triggers while seeding (checked below)
INSERT INTO wallets_account (system_name, currency) VALUES ('deposits', 'EUR'), ('investments', 'EUR');
INSERT INTO investments_plan (name, currency, apy, payout_interval, min_amount, lock_days)
VALUES ('bench daily', 'EUR', 0.0500, 'daily', 10, 0);

CREATE TEMP TABLE u AS
SELECT gen_random_uuid() AS user_id, gen_random_uuid() AS wallet_id, gen_random_uuid() AS deposit_tx, n
FROM generate_series(1, $users) n;
INSERT INTO users_user (id, email, email_key, password_hash) SELECT user_id, 'bench' || n || '@example.com', 'bench' || n || '@example.com', '!' FROM u;

-- Positions: 10 per wallet, principals 100.00 .. 9999.99, opened two days before as_of (their
-- first daily period ends at as_of 00:00 UTC).
CREATE TEMP TABLE p AS
SELECT gen_random_uuid() AS id, gen_random_uuid() AS tx, u.user_id, u.wallet_id, u.n,
       round(100 + ((g::bigint * 7919) % 990000) / 100.0, 2) AS amount,
       '$as_of 00:00:00+00'::timestamptz - interval '2 days' + make_interval(secs => (g % 86400)) AS opened_at
FROM generate_series(1, $positions) g JOIN u ON u.n = 1 + (g - 1) / 10;
CREATE TEMP TABLE w AS
SELECT u.user_id, u.wallet_id, u.deposit_tx, u.n, coalesce(sum(p.amount), 0) + 1000.00 AS deposit
FROM u LEFT JOIN p ON p.wallet_id = u.wallet_id GROUP BY u.user_id, u.wallet_id, u.deposit_tx, u.n;

-- What is left after the deposit and the investments below: 1000.00 (the deposit is their sum + 1000).
INSERT INTO wallets_account (id, user_id, currency, balance) SELECT wallet_id, user_id, 'EUR', 1000.00 FROM w;

-- Deposits: deposits clearing account -> each wallet, one balanced transaction per wallet.
INSERT INTO wallets_transaction (id, kind, reference, created_at)
SELECT deposit_tx, 'deposit', 'bench', '$as_of 00:00:00+00'::timestamptz - interval '3 days' FROM w;
-- (Inserted in each account's running order: its last entry carries its balance.)
INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after, created_at)
SELECT t, a, 'EUR', 'deposit', m, b, '$as_of 00:00:00+00'::timestamptz - interval '3 days' FROM (
  SELECT n, 0 AS leg, deposit_tx AS t, wallet_id AS a, deposit AS m, deposit AS b FROM w
  UNION ALL
  SELECT n, 1, deposit_tx, (SELECT id FROM wallets_account WHERE system_name = 'deposits'), -deposit, -sum(deposit) OVER (ORDER BY n) FROM w
) legs ORDER BY n, leg;
-- Investments: each wallet -> the investments account, one balanced transaction per position,
-- balance_after running per account.
INSERT INTO wallets_transaction (id, kind, reference, metadata, created_at)
SELECT tx, 'investment', 'bench daily', jsonb_build_object('plan_id', (SELECT id FROM investments_plan)), opened_at FROM p;
INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after, created_at)
SELECT t, a, 'EUR', 'investment', m, b, opened_at FROM (
  SELECT p.opened_at, p.id, 0 AS leg, p.tx AS t, p.wallet_id AS a, -p.amount AS m,
         w.deposit - sum(p.amount) OVER (PARTITION BY p.wallet_id ORDER BY p.opened_at, p.id) AS b
  FROM p JOIN w ON w.wallet_id = p.wallet_id
  UNION ALL
  SELECT p.opened_at, p.id, 1, p.tx, (SELECT id FROM wallets_account WHERE system_name = 'investments'), p.amount,
         sum(p.amount) OVER (ORDER BY p.opened_at, p.id) FROM p
) legs ORDER BY opened_at, id, leg;
UPDATE wallets_account SET balance = -(SELECT sum(deposit) FROM w) WHERE system_name = 'deposits';
UPDATE wallets_account SET balance = (SELECT sum(amount) FROM p) WHERE system_name = 'investments';

INSERT INTO investments_position (id, user_id, plan_id, wallet_id, currency, amount_invested, apy, interval_days, decimals,
                                  opened_at, unlocks_at, next_due_on)
SELECT id, user_id, (SELECT id FROM investments_plan), wallet_id, 'EUR', amount, 0.0500, 1, 2, opened_at, opened_at,
       (opened_at AT TIME ZONE 'UTC')::date + 2
FROM p;
SET session_replication_role = origin;
ANALYZE;
SQL
# Vacuum what seeding wrote, as pgbench does before its runs (hint bits and the visibility map, or
# the run's first reads set them and autovacuum joins in), and start a checkpoint cycle, so a checkpoint
# the seeding's WAL triggers does not land in the middle of the run (every page it touches after
# a checkpoint starts is written to the WAL whole; that alone swung the rate by a quarter).
sql -c "VACUUM (ANALYZE)" && sql -c "CHECKPOINT"
seed_end=$(date +%s.%N)

# What the skipped triggers would have enforced, checked set-based: every transaction balances,
# every balance is the sum of its entries and its last balance_after, every currency sums to zero.
check() {
  sql -c "SELECT (SELECT count(*) FROM (SELECT 1 FROM wallets_entry GROUP BY transaction_id, currency HAVING sum(amount) <> 0) t)
               || ' ' || (SELECT count(*) FROM wallets_account a LEFT JOIN (SELECT account_id, sum(amount) AS s FROM wallets_entry GROUP BY account_id) e
                           ON e.account_id = a.id WHERE a.balance <> coalesce(e.s, 0))
               || ' ' || (SELECT count(*) FROM wallets_account a LEFT JOIN (SELECT DISTINCT ON (account_id) account_id, balance_after FROM wallets_entry ORDER BY account_id, id DESC) l
                           ON l.account_id = a.id WHERE a.balance <> coalesce(l.balance_after, 0))
               || ' ' || (SELECT count(*) FROM (SELECT currency FROM wallets_account GROUP BY currency HAVING sum(balance) <> 0) t)
               || ' ' || (SELECT count(*) FROM wallets_account WHERE user_id IS NOT NULL AND balance < 0)"
}
read -r unbalanced offsum offlast offcur negative < <(check)
[[ "$unbalanced $offsum $offlast $offcur $negative" == "0 0 0 0 0" ]] ||
  { echo "the seeded ledger does not reconcile: $unbalanced unbalanced transactions, $offsum/$offlast balances off, $offcur currencies off, $negative negative wallets"; exit 1; }
printf 'seeded in %.1f s: %s positions, %s ledger entries, database %s\n' "$(awk "BEGIN {print $seed_end - $seed_start}")" \
  "$(sql -c 'SELECT count(*) FROM investments_position')" "$(sql -c 'SELECT count(*) FROM wallets_entry')" \
  "$(sql -c 'SELECT pg_size_pretty(pg_database_size(current_database()))')"

[[ -n ${YIELD_BENCH_SQL:-} ]] && { echo "extra SQL: $YIELD_BENCH_SQL"; sql -c "$YIELD_BENCH_SQL; ANALYZE investments_position" >/dev/null; }
if [[ $profile == 1 ]]; then
  echo "the claim query's plan (first batch):"
  sql -c "BEGIN; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT p.id FROM investments_position p WHERE p.next_due_on <= '$as_of'::date
          ORDER BY p.next_due_on, p.id LIMIT $batch FOR UPDATE SKIP LOCKED; ROLLBACK" | sed 's/^/  /'
  sql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
fi
# CPU seconds used by the cluster's processes, the exited backends included (the postmaster
# collects their times): on this shared VM the wall-clock rate swings by a quarter from run to run,
# CPU per payout far less, so compare variants by it.
pgcpu() {
  local pm; pm=$(head -1 "$work/pg/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for child in $(cat "/proc/$pm/task/$pm/children"); do awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null; done
  } | awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%.2f", s / hz}'
}
steal() { awk '/^cpu / {print $9}' /proc/stat; }
echo "paying (yield_batch_size $batch) ..."
pg_cpu_start=$(pgcpu)
steal_start=$(steal)
run_start=$(date +%s.%N)
/usr/bin/time -v "$build/bin/yieldhost" run-task investments.process_yield_payments --arg "as_of=$as_of" >"$work/run.log" 2>&1 ||
  { tail -40 "$work/run.log"; exit 1; }
run_end=$(date +%s.%N)
pg_cpu_end=$(pgcpu)
steal_end=$(steal)
line=$(grep -o 'as of .*payouts/s)' "$work/run.log" | tail -1)
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/run.log")
cpu=$(awk -F: '/User time|System time/ {s += $2} END {print s}' "$work/run.log")
echo "job: $line"
printf 'run-task wall time %.2f s (start-up and plugin load included), of which %.2f s CPU in the yieldhost process; peak RSS %d MiB\n' \
  "$(awk "BEGIN {print $run_end - $run_start}")" "$cpu" "$((rss_kb / 1024))"
printf 'PostgreSQL CPU %.2f s; CPU per payout %.1f µs (yieldhost + PostgreSQL); CPU time stolen by the hypervisor %.2f s\n' \
  "$(awk "BEGIN {print $pg_cpu_end - $pg_cpu_start}")" \
  "$(awk "BEGIN {print ($pg_cpu_end - $pg_cpu_start + $cpu) * 1e6 / $positions}")" \
  "$(awk -v hz="$(getconf CLK_TCK)" "BEGIN {print ($steal_end - $steal_start) / hz}")"

# The outcome: every position paid its one period, once, through the ledger, the settlements and
# the outbox; the ledger still reconciles (with the yield pool at minus what was paid).
read -r rows distinct txs settlements events < <(sql -c "SELECT (SELECT count(*) FROM investments_yield) || ' ' || (SELECT count(DISTINCT position_id) FROM investments_yield)
  || ' ' || (SELECT count(*) FROM wallets_transaction WHERE kind = 'yield') || ' ' || (SELECT count(*) FROM integrations_settlement)
  || ' ' || (SELECT count(*) FROM host_outbox WHERE topic = 'yield.paid')")
echo "yield rows $rows (positions $distinct), ledger transactions $txs, settlements $settlements, yield.paid events $events"
[[ "$rows $distinct $txs $settlements $events" == "$positions $positions $positions $positions $positions" ]] || { echo "MISMATCH"; exit 1; }
read -r unbalanced offsum offlast offcur negative < <(check)
[[ "$unbalanced $offsum $offlast $offcur $negative" == "0 0 0 0 0" ]] ||
  { echo "the ledger does not reconcile after the run: $unbalanced $offsum $offlast $offcur $negative"; exit 1; }
[[ $(sql -c "SELECT (SELECT sum(amount) FROM investments_yield) = -(SELECT balance FROM wallets_account WHERE system_name = 'yield_pool')") == t ]] ||
  { echo "the yield pool does not match the yields"; exit 1; }
echo "ledger reconciles; yield paid $(sql -c 'SELECT sum(amount) FROM investments_yield') EUR"
if [[ $profile == 1 ]]; then
  echo "the run's most expensive statements (calls, total ms, rows, statement):"
  sql -F $'\t' -c "SELECT calls, round(total_exec_time), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements
                    WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT ${YIELD_BENCH_TOP:-10}"
fi
