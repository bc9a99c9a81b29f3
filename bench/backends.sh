#!/usr/bin/env bash
# Benchmark: the same work on SQLite and on PostgreSQL, in one run: `edubrain demo --scale city --history none`
# (time, size) and the class-roster endpoint under wrk (bench/http_roster.sh, with nginx as the
# reference). Prints the figures and the PostgreSQL/SQLite ratios for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
PW=Bench-pass-2026
work=$(mktemp -d)
dsn_base=$(tools/pg_test_server.sh start $$)
trap 'tools/pg_test_server.sh stop $$ >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
pg_admin() { psql -q -v ON_ERROR_STOP=1 "$dsn_base" -c "$1" >/dev/null; }

timed() { # label command... -> seconds on stdout, the command's output in $work/label.log
    local label=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$work/$label.log" 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}'
}

sq_db=$work/city.db
pg_admin "DROP DATABASE IF EXISTS bench_city"
pg_admin "CREATE DATABASE bench_city"
pg_db=${dsn_base%/*}/bench_city

sq_s=$(timed demo-sqlite "$BIN" demo --db "$sq_db" --scale city --history none --admin-password "$PW" --demo-password "$PW")
pg_s=$(timed demo-pg "$BIN" demo --db "$pg_db" --key-file "$work/pg.key" --scale city --history none \
    --admin-password "$PW" --demo-password "$PW")
sq_size=$(du -m "$sq_db" | cut -f1)
pg_size=$(psql -At "$pg_db" -c "SELECT pg_database_size(current_database()) / 1048576")
echo "demo --scale city --history none: SQLite ${sq_s} s (${sq_size} MB), PostgreSQL ${pg_s} s (${pg_size} MB), ratio PG/SQLite $(awk -v a="$pg_s" -v b="$sq_s" 'BEGIN{printf "%.2f", a/b}')"
tail -1 "$work/demo-sqlite.log"

echo "--- roster on SQLite"
bench/http_roster.sh "$sq_db" | tee "$work/sq.txt"
echo "--- roster on PostgreSQL"
KEY=$work/pg.key bench/http_roster.sh "$pg_db" | tee "$work/pg.txt"
# Each request waits on PostgreSQL round trips: more worker threads than cores keep both busy.
echo "--- roster on PostgreSQL, 8 worker threads"
THREADS=8 KEY=$work/pg.key bench/http_roster.sh "$pg_db" | tee "$work/pg8.txt"
get() { sed -n "s|^$1[^:]*: *\\([0-9.]*\\).*|\\1|p" "$2" | head -1; }
for what in "edubrain req/s" "edubrain, list cache off"; do
    a=$(get "$what" "$work/sq.txt")
    b=$(get "$what" "$work/pg.txt")
    c=$(get "$what" "$work/pg8.txt")
    echo "$what: SQLite $a, PostgreSQL $b (8 threads: $c), ratio PG/SQLite $(awk -v a="$b" -v b="$a" 'BEGIN{printf "%.2f", a/b}') ($(awk -v a="$c" -v b="$a" 'BEGIN{printf "%.2f", a/b}'))"
done
