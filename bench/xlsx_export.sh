#!/usr/bin/env bash
# The .xlsx export of the biggest school's students on SQLite and on PostgreSQL in one run, with
# the same list as JSON pages as the reference (release build). Prints rows for BENCHMARKS.md.
#   bench/xlsx_export.sh     (SCALE=small for a quick check of the script)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
SCALE=${SCALE:-city}
PW=Bench-pass-2026
work=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    tools/pg_test_server.sh stop $$ >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$BIN" demo --db "$work/city.db" --scale "$SCALE" --history none --admin-password "$PW" >/dev/null 2>&1
school=$(sqlite3 "$work/city.db" "SELECT school_id FROM enrolments WHERE end_date IS NULL
    GROUP BY school_id ORDER BY COUNT(*) DESC LIMIT 1")
n=$(sqlite3 "$work/city.db" "SELECT COUNT(*) FROM enrolments WHERE end_date IS NULL AND school_id = $school")
echo "biggest school: id $school, $n students ($SCALE demo, $(date -u +%F), $(nproc) cores)"

serve() { # db [key-file]
    local args=(serve --db "$1" --listen 127.0.0.1:0 --mfa-admins optional --quality-at off)
    [ -n "${2:-}" ] && args+=(--key-file "$2")
    "$BIN" "${args[@]}" 2>"$work/serve.log" &
    server=$!
    for _ in $(seq 100); do
        port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/serve.log" | grep -o '[0-9]*$' || true)
        [ -n "$port" ] && break
        sleep 0.1
    done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=; }

echo "SQLite:"
serve "$work/city.db"
node bench/xlsx_export.mjs "http://127.0.0.1:$port" "$school" "$PW"
stop

dsn=$(tools/pg_test_server.sh start $$ | tail -1)
/usr/lib/postgresql/15/bin/psql -X -q -d "$dsn" -c "DROP DATABASE IF EXISTS xlsxbench" -c "CREATE DATABASE xlsxbench"
pg=${dsn%/*}/xlsxbench
"$BIN" migrate --from "$work/city.db" --to "$pg" --key-file "$work/city.db.key" >/dev/null 2>&1
echo "PostgreSQL (the same city, edubrain migrate):"
serve "$pg" "$work/city.db.key"
node bench/xlsx_export.mjs "http://127.0.0.1:$port" "$school" "$PW"
stop
