#!/usr/bin/env bash
# Times the OneRoster export and import of the demo city on SQLite and PostgreSQL (release build):
# demo --scale city --history none, export oneroster --org 1 (directory and zip), import of the export into an
# empty database, then a second import of the same package (every row unchanged).
#   bench/oneroster_import.sh            (EDUBRAIN_BIN=... another binary; SKIP_PG=1 SQLite only)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
if [ ! -x "$BIN" ]; then
    make build/edubrain
fi
work=$(mktemp -d /tmp/eb-oneroster-import-XXXXXX)
pg_name=$$ # the owner of the shared test cluster: this script, alive while it runs
src_db=eb_bench_orsrc_$$ dst_db=eb_bench_ordst_$$ # names of this run's own, dropped at the end
psql_bin=/usr/lib/postgresql/15/bin/psql
cleanup() {
    if [ -n "${PG_STARTED:-}" ]; then
        "$psql_bin" -X -q -d "$dsn" -c "DROP DATABASE IF EXISTS $src_db WITH (FORCE)" \
            -c "DROP DATABASE IF EXISTS $dst_db WITH (FORCE)" >/dev/null 2>&1 || true
        tools/pg_test_server.sh stop "$pg_name" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
t() { /usr/bin/time -f "  %e s wall, %U s user, %M KB max RSS" "$@"; }

echo "== demo city (SQLite)"
t "$BIN" demo --db "$work/city.db" --scale city --history none --admin-password Bench-pass-2026 >/dev/null
echo "== export oneroster --org 1 (directory, zip)"
t "$BIN" export oneroster --db "$work/city.db" --org 1 "$work/pkg"
t "$BIN" export oneroster --db "$work/city.db" --org 1 "$work/pkg.zip"
du -sh "$work/pkg" "$work/pkg.zip"

echo "== import into an empty SQLite database (target: < 30 s)"
t "$BIN" import oneroster "$work/pkg" --db "$work/empty.db" --lang en | tail -14
echo "== the same package again (every row unchanged)"
t "$BIN" import oneroster "$work/pkg" --db "$work/empty.db" --lang en | tail -3
echo "== export of the imported database"
t "$BIN" export oneroster --db "$work/empty.db" --org 1 "$work/pkg2"
for f in "$work"/pkg/*.csv; do
    n=$(basename "$f")
    if ! cmp -s <(sort "$f") <(sort "$work/pkg2/$n"); then echo "  round trip: $n differs"; fi
done

if [ -z "${SKIP_PG:-}" ]; then
    dsn=$(tools/pg_test_server.sh start "$pg_name" | tail -1)
    PG_STARTED=1
    base=${dsn%/*}
    "$psql_bin" -X -q -d "$dsn" -c "CREATE DATABASE $src_db" -c "CREATE DATABASE $dst_db"
    echo "== PostgreSQL: the city copied in (edubrain migrate), then export and import"
    t "$BIN" migrate --from "$work/city.db" --to "$base/$src_db" --key-file "$work/city.db.key" >/dev/null
    t "$BIN" export oneroster --db "$base/$src_db" --key-file "$work/city.db.key" --org 1 "$work/pgpkg"
    echo "== import into an empty PostgreSQL database"
    t "$BIN" import oneroster "$work/pgpkg" --db "$base/$dst_db" --key-file "$work/pg.key" --lang en | tail -14
    echo "== export of the imported PostgreSQL database (right after the import)"
    t "$BIN" export oneroster --db "$base/$dst_db" --key-file "$work/pg.key" --org 1 "$work/pgpkg2"
    for f in "$work"/pgpkg/*.csv; do
        n=$(basename "$f")
        if ! cmp -s <(sort "$f") <(sort "$work/pgpkg2/$n"); then echo "  round trip: $n differs"; fi
    done
fi
