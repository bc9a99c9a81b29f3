#!/usr/bin/env bash
# Benchmark: the year-end promotion of a whole demo city (`edubrain promote --year 2026`), on
# SQLite and on PostgreSQL in one run, with the preview (read-only plan of every school) as the
# reference measured next to it. Prints the lines for docs/BENCHMARKS.md.
#   bench/promotion.sh                 the city (--scale city --history none: ~1,300 schools, ~800k students)
#   SCALE=small bench/promotion.sh     a quick check of the script itself (10 schools)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
SCALE=${SCALE:-city}
PW=Bench-pass-2026
work=$(mktemp -d)
dsn_base=$(tools/pg_test_server.sh start $$)
trap 'tools/pg_test_server.sh stop $$ >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
pg_admin() { psql -q -v ON_ERROR_STOP=1 "$dsn_base" -c "$1" >/dev/null; }

sq_db=$work/city.db
pg_admin "DROP DATABASE IF EXISTS bench_promotion"
pg_admin "CREATE DATABASE bench_promotion"
pg_db=${dsn_base%/*}/bench_promotion

"$BIN" demo --db "$sq_db" --scale "$SCALE" --history none --admin-password "$PW" --demo-password "$PW" >/dev/null
"$BIN" demo --db "$pg_db" --key-file "$work/pg.key" --scale "$SCALE" --history none --admin-password "$PW" \
    --demo-password "$PW" >/dev/null

# Each line of `edubrain promote` ends with its own timer ("...; 12.34 s"): the promotion alone,
# without opening the store.
run() { # label db [key] -> the command's summary line
    local label=$1 db=$2 key=${3:-}
    local args=(--db "$db" --year 2026)
    [ -n "$key" ] && args+=(--key-file "$key")
    echo "$label preview: $("$BIN" promote "${args[@]}" --preview)"
    echo "$label apply:   $("$BIN" promote "${args[@]}")"
    echo "$label again:   $("$BIN" promote "${args[@]}")"
}
echo "edubrain promote --year 2026 on a $SCALE demo ($(date -u +%F), $(nproc) cores)"
run SQLite "$sq_db"
run PostgreSQL "$pg_db" "$work/pg.key"
