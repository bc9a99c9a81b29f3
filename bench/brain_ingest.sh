#!/usr/bin/env bash
# Benchmark: durable ingest of observations over HTTP with concurrent clients, on SQLite and on
# PostgreSQL in the same run (bench/brain_ingest.mjs drives it; every row is checked in the cube
# afterwards). Also the raw insert rate of the store alone (`edubrain import observations`,
# one transaction) as the reference for what the HTTP path costs.
#   bench/brain_ingest.sh [CLIENTS [BATCH [BATCHES]]]     defaults 8 clients x 10 x 5,000 rows
# Prints the lines for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
CLIENTS=${1:-8}
BATCH=${2:-5000}
BATCHES=${3:-10}
SCALE=${SCALE:-small}
THREADS=${THREADS:-4}
PW=Bench-pass-2026
work=$(mktemp -d)
pg_name=bench_ingest_$$
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null || true
    tools/pg_test_server.sh stop "ingest$$" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

serve() { # db extra-args... -> sets base (the URL) and srv_pid
    local db=$1
    shift
    "$BIN" serve --db "$db" --listen 127.0.0.1:0 --threads "$THREADS" --mfa-admins optional "$@" \
        >/dev/null 2>"$work/serve.log" &
    srv_pid=$!
    for _ in $(seq 200); do grep -q 'listening on http://' "$work/serve.log" && break; sleep 0.1; done
    for _ in $(seq 600); do grep -q 'the cube is ready' "$work/serve.log" && break; sleep 0.1; done
    base="http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")"
}
stop() {
    kill "$srv_pid"
    wait "$srv_pid" || true
    srv_pid=
}
rss() { awk '/VmHWM/{print $2}' "/proc/$srv_pid/status"; }

echo "# bench/brain_ingest.sh: $CLIENTS clients x $BATCHES batches x $BATCH rows, serve --threads $THREADS, demo --scale $SCALE, $(date -u +%F)"
"$BIN" demo --db "$work/city.db" --scale "$SCALE" --history none --admin-password "$PW" --demo-password "$PW" >/dev/null 2>&1
serve "$work/city.db"
echo "SQLite, HTTP: $(node bench/brain_ingest.mjs "$base" "$PW" "$CLIENTS" "$BATCH" "$BATCHES"); server peak RSS $(rss) KB"
stop

dsn_base=$(tools/pg_test_server.sh start "ingest$$")
psql -q "$dsn_base" -c "CREATE DATABASE $pg_name" >/dev/null
pg=${dsn_base%/*}/$pg_name
"$BIN" demo --db "$pg" --key-file "$work/pg.key" --scale "$SCALE" --history none --admin-password "$PW" \
    --demo-password "$PW" >/dev/null 2>&1
serve "$pg" --key-file "$work/pg.key"
echo "PostgreSQL, HTTP: $(node bench/brain_ingest.mjs "$base" "$PW" "$CLIENTS" "$BATCH" "$BATCHES"); server peak RSS $(rss) KB"
stop

# The store alone: one sheet of 50,000 rows through `import observations` (validation + one
# transaction), on the SQLite file.
class=$(sqlite3 "$work/city.db" "SELECT id FROM orgs WHERE kind = 5 ORDER BY id LIMIT 1")
day=$(date -d yesterday +%F)
{ echo "日期,数值"; for _ in $(seq 50000); do echo "$day,30"; done; } >"$work/sheet.csv"
t0=$(date +%s.%N)
"$BIN" import observations "$work/sheet.csv" --db "$work/city.db" --element attendance.present \
    --org "$class" >/dev/null
t1=$(date +%s.%N)
echo "SQLite, import observations (one process, one transaction): 50000 rows in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f s = %.0f observations/s", b-a, 50000/(b-a)}')"
