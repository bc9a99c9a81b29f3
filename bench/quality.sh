#!/usr/bin/env bash
# Benchmark: one data-quality run over the whole city (`edubrain quality run`, every check, the
# findings replaced) on SQLite, and on PostgreSQL with --pg. The reference in the same run is the
# cost of reading the same rows without the checks: `sqlite3`/`psql` counting the current
# enrolments joined to people (the run's biggest read). Usage:
#   bench/quality.sh [--scale small|city] [--pg] [--db EXISTING_SQLITE_DB]
# Prints the figures for docs/BENCHMARKS.md (release build: make build/edubrain).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
PW=Bench-pass-2026
scale=small
pg=0
db=
while [ $# -gt 0 ]; do
    case $1 in
    --scale) scale=$2; shift 2 ;;
    --pg) pg=1; shift ;;
    --db) db=$2; shift 2 ;;
    *) echo "usage: $0 [--scale small|city] [--pg] [--db FILE]" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d)
cleanup() {
    [ "$pg" = 1 ] && tools/pg_test_server.sh stop $$ >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }

if [ -z "$db" ]; then
    db=$work/city.db
    t0=$(now)
    "$BIN" demo --db "$db" --scale "$scale" --history none --admin-password "$PW" --demo-password "$PW" >/dev/null 2>&1
    echo "demo --scale $scale (SQLite): $(secs "$t0" "$(now)") s"
fi
run() { # label db [key-file]
    local label=$1 target=$2
    shift 2
    local t0 t1
    t0=$(now)
    "$BIN" quality run --db "$target" "$@" >"$work/$label.out"
    t1=$(now)
    echo "quality run ($label): $(secs "$t0" "$t1") s wall; $(head -1 "$work/$label.out")"
    grep -E '^  total' "$work/$label.out"
}
run sqlite "$db"
# A second run replaces the first one's findings: the steady state of the nightly run.
run sqlite-again "$db"
if command -v sqlite3 >/dev/null; then
    t0=$(now)
    sqlite3 "$db" "SELECT COUNT(*), SUM(length(p.citizen_id_enc)) FROM enrolments e JOIN people p
        ON p.id = e.person_id WHERE e.end_date IS NULL" >/dev/null
    echo "reference, the enrolled-students read alone (sqlite3): $(secs "$t0" "$(now)") s"
fi
if [ "$pg" = 1 ]; then
    dsn=$(tools/pg_test_server.sh start $$)
    pg_db=${dsn%/*}/bench_quality
    psql -q "$dsn" -c "DROP DATABASE IF EXISTS bench_quality" -c "CREATE DATABASE bench_quality" >/dev/null
    "$BIN" migrate --from "$db" --to "$pg_db" --key-file "$db.key" >/dev/null 2>&1
    run pg "$pg_db" --key-file "$db.key"
    run pg-again "$pg_db" --key-file "$db.key"
fi
