#!/usr/bin/env bash
# Benchmark: the brain on one demo city with a school year of history (issue #6 §11), on SQLite
# and on the same rows in PostgreSQL (`edubrain migrate`), in one run:
#  1. the cube's rebuild at `serve` start-up: exec to the log's "the cube is ready", and the
#     server's RSS then (/proc/PID/status VmRSS, VmHWM);
#  2. random (org x period) queries over HTTP, GET /api/v1/cells and one ratio indicator, against
#     the same aggregation as SQL on the same database (build/bench/brain_sql, prepared
#     statements), every answer checked equal; the same queries in-process on a cube that
#     build/bench/brain_sql rebuilds from the same database with the brain's own code, answers
#     checked equal to SQL again (bench/brain_inproc.mjs); the synthetic bench/cube_query.sh;
#  3. freshness: concurrent ingest clients while one SSE client on /api/v1/stream?org=CITY times
#     a marker observation every 100 ms from the POST's answer to the event.
#   bench/brain_city.sh                              the city-year: SCALE=city HISTORY=year
#   SCALE=small HISTORY=term bench/brain_city.sh     a check of the script, in seconds
# Environment (defaults): SCALE (city), HISTORY (year), UNTIL (the history's last day: today),
# DB (an existing SQLite city instead of a new demo; phase 3 appends rows to it), WORK (a
# directory for the files, default a new one under /tmp: the city-year needs ~10 GB),
# QUERIES (20000 per HTTP run), SQL_QUERIES (200 per SQL run), SQL_BUDGET (300 s per SQL run),
# FRESH_CLIENTS (4), FRESH_BATCH (1000), FRESH_SECONDS (30), THREADS (serve --threads, 2),
# PG (1; 0 skips PostgreSQL), CUBE_SCALE (the synthetic bench/cube_query.sh's scale, 0 skips
# it: the default, the in-process figures come from the real city's cube), SEED (1).
# Prints the lines for docs/BENCHMARKS.md ("Issue #6 — the brain at city scale").
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
SQL=build/bench/brain_sql
SCALE=${SCALE:-city}
HISTORY=${HISTORY:-year}
UNTIL=${UNTIL:-$(date +%F)}
QUERIES=${QUERIES:-20000}
SQL_QUERIES=${SQL_QUERIES:-200}
SQL_BUDGET=${SQL_BUDGET:-300}
FRESH_CLIENTS=${FRESH_CLIENTS:-4}
FRESH_BATCH=${FRESH_BATCH:-1000}
FRESH_SECONDS=${FRESH_SECONDS:-30}
THREADS=${THREADS:-2}
PG=${PG:-1}
SEED=${SEED:-1}
CUBE_SCALE=${CUBE_SCALE:-0}
PW=Bench-pass-2026
# The elements of the /cells queries: class-level counts, sums, averages and a stock, and a
# school-level sum (drawn at the city, district and school levels only).
CELLS=attendance.present,attendance.absent,health.symptom,homework.minutes,sleep.hours
CELLS=$CELLS,students.enrolled,afterschool.students
# attendance.rate = present / (present + absent): its two terms, summed in one query.
INDICATOR=attendance.rate
TERMS=attendance.present+attendance.absent

if [ -n "${WORK:-}" ]; then
    mkdir -p "$WORK"
    work=$(mktemp -d "$WORK/brain_city.XXXXXX")
else
    work=$(mktemp -d)
fi
export BENCH_KV=$work/figures.kv
: >"$BENCH_KV"
pg_db=bench_city_$$
dsn_base=
srv_pid=
status=0
cleanup() {
    if [ -n "$srv_pid" ]; then
        kill "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
    if [ -n "$dsn_base" ]; then
        psql -q "$dsn_base" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
        tools/pg_test_server.sh stop $$ >/dev/null 2>&1 || true
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${EDUBRAIN_BIN:-}" ]; then make -s build/edubrain; fi
make -s "$SQL"

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
kb_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$srv_pid/status"; }

# Starts `serve` on DB (extra args after it) and waits for the cube; prints the rebuild line.
serve_rebuild() { # label db args...
    local label=$1 db=$2
    shift 2
    local t0 t1 line
    : >"$work/serve.log"
    t0=$(date +%s.%N)
    "$BIN" serve --db "$db" --listen 127.0.0.1:0 --threads "$THREADS" --mfa-admins optional "$@" \
        >/dev/null 2>"$work/serve.log" &
    srv_pid=$!
    while ! grep -q 'brain: the cube is ready' "$work/serve.log"; do
        if ! kill -0 "$srv_pid" 2>/dev/null || grep -q "cube's rebuild failed" "$work/serve.log"; then
            echo "$label: the server stopped before the cube was ready:" >&2
            tail -20 "$work/serve.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    t1=$(date +%s.%N)
    base="http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)"
    line=$(grep -m1 'brain: the cube is ready' "$work/serve.log" | sed 's/.*the cube is ready: //')
    local rss hwm
    rss=$(($(kb_of VmRSS) / 1024))
    hwm=$(($(kb_of VmHWM) / 1024))
    echo "$label, cube rebuild at start-up: $(secs "$t0" "$t1") s from exec to \"the cube is ready\"" \
        "(the brain: $line); server VmRSS then $rss MB, VmHWM $hwm MB"
    echo "$label.rebuild=$(secs "$t0" "$t1") s (the brain: $line)" >>"$BENCH_KV"
    echo "$label.rss=$rss MB (VmHWM $hwm MB)" >>"$BENCH_KV"
}

stop_server() {
    kill "$srv_pid"
    wait "$srv_pid" || true
    srv_pid=
}

# The same queries in-process, on a cube rebuilt from the same database by the brain's own code
# (while the server idles, before phase 3 adds rows): label dsn.
inproc() {
    local label=$1 dsn=$2 out
    for kind in cells indicator; do
        out=$("$SQL" cube "$dsn" "$key" "$work/q_$kind.tsv" 2>&1 >"$work/cube_$kind.tsv") || {
            echo "$label: brain_sql cube failed: $out" >&2
            exit 1
        }
        echo "$label, $kind: $(grep -m1 'cube rebuilt' <<<"$out" | sed 's/^brain_sql: //')"
        node bench/brain_inproc.mjs "$work/sql_$kind.tsv" "$work/cube_$kind.tsv" "$kind" "$label" || status=1
    done
}

# Phases 2 and 3 on the running server: label dsn.
measure() {
    local label=$1 dsn=$2 sqlout
    for kind in cells indicator; do
        local q=$work/q_$kind.tsv mode=cells
        [ "$kind" = indicator ] && mode=$INDICATOR
        sqlout=$("$SQL" run "$dsn" "$key" "$q" "$SQL_QUERIES" "$SQL_BUDGET" 2>&1 >"$work/sql_$kind.tsv") || {
            echo "$label: brain_sql run failed: $sqlout" >&2
            exit 1
        }
        sqlout=$(tail -1 <<<"$sqlout")
        echo "$label, SQL run ($kind): ${sqlout#brain_sql: }"
        node bench/brain_query.mjs "$base" "$PW" "$q" "$work/sql_$kind.tsv" "$mode" "$label" || status=1
    done
    inproc "$label" "$dsn"
    node bench/brain_fresh.mjs "$base" "$PW" "$school" "$work/classes.txt" "$FRESH_CLIENTS" \
        "$FRESH_BATCH" "$FRESH_SECONDS" "$label" || status=1
    echo "$label, server after the run: VmRSS $(($(kb_of VmRSS) / 1024)) MB, VmHWM $(($(kb_of VmHWM) / 1024)) MB"
}

echo "# bench/brain_city.sh: SCALE=$SCALE HISTORY=$HISTORY UNTIL=$UNTIL, serve --threads $THREADS," \
    "$(nproc) cores, $(date -u '+%F %H:%M') UTC"

# The city. A demo's own summary line says how many observations the history holds.
if [ -n "${DB:-}" ]; then
    db=$DB
    echo "city: $db (given), $(du -h "$db" | cut -f1)"
else
    db=$work/city.db
    t0=$(date +%s.%N)
    "$BIN" demo --db "$db" --scale "$SCALE" --history "$HISTORY" --history-until "$UNTIL" \
        --seed 2026 --admin-password "$PW" --demo-password "$PW" >"$work/demo.log" 2>&1 ||
        { tail -20 "$work/demo.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "city: edubrain demo --scale $SCALE --history $HISTORY --history-until $UNTIL in $(secs "$t0" "$t1") s;" \
        "$(grep -o 'history [a-z]*: .*' "$work/demo.log" | tail -1); $(du -h "$db" | cut -f1)"
fi
key=$db.key

# The same rows in PostgreSQL, copied before any server writes to the SQLite file.
if [ "$PG" = 1 ]; then
    dsn_base=$(tools/pg_test_server.sh start $$)
    psql -q "$dsn_base" -c "CREATE DATABASE $pg_db" >/dev/null
    pg=${dsn_base%/*}/$pg_db
    t0=$(date +%s.%N)
    "$BIN" migrate --from "$db" --to "$pg" >"$work/migrate.log" 2>&1 ||
        { tail -20 "$work/migrate.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "PostgreSQL: edubrain migrate in $(secs "$t0" "$t1") s: $(grep -o '[0-9]* rows in .*' "$work/migrate.log" | tail -1)"
fi

# The queries, drawn once from the SQLite file (the ids are the same in PostgreSQL): levels
# equally often, periods of a day, a week, a month, a term, the year and any range inside the
# history's span.
read -r from to < <("$SQL" span "$db" "$key" attendance.present)
"$SQL" queries "$db" "$key" "$QUERIES" "$SEED" "$from" "$to" "$CELLS" >"$work/q_cells.tsv"
"$SQL" queries "$db" "$key" "$QUERIES" "$((SEED + 1))" "$from" "$to" "$TERMS" >"$work/q_indicator.tsv"
"$SQL" orgs "$db" "$key" 5 >"$work/classes.txt"
school=$("$SQL" orgs "$db" "$key" 3 | sed -n 1p)
echo "queries: $QUERIES per HTTP run, the first $SQL_QUERIES (at most $SQL_BUDGET s) as SQL; days $from..$to;" \
    "$(wc -l <"$work/classes.txt") classes"

serve_rebuild SQLite "$db"
measure SQLite "$db"
stop_server

if [ "$PG" = 1 ]; then
    serve_rebuild PostgreSQL "$pg" --key-file "$key"
    measure PostgreSQL "$pg"
    stop_server
fi

# The cube in-process, on its synthetic city-year: p50/p99 without HTTP.
cube_p50='' cube_p99=''
if [ "$CUBE_SCALE" != 0 ]; then
    bench/cube_query.sh "$CUBE_SCALE" 1000000 2>&1 | tee "$work/cube_query.log"
    cube_p50=$(sed -n 's/^cube query alone:.* p50 \([0-9.]*\) us.*/\1/p' "$work/cube_query.log")
    cube_p99=$(sed -n 's/^cube query alone:.* p99 \([0-9.]*\) us.*/\1/p' "$work/cube_query.log")
fi

# The table for docs/BENCHMARKS.md.
kv() { sed -n "s/^$1=//p" "$BENCH_KV" | tail -1; }
row() { # title key
    local a b
    a=$(kv "SQLite.$2")
    b=$(kv "PostgreSQL.$2")
    echo "| $1 | ${a:-(not run)} | ${b:-(not run)} |"
}
echo
echo "| \`bench/brain_city.sh\` ($SCALE, --history $HISTORY, $(date -u +%F)) | SQLite | PostgreSQL 15 |"
echo "|---|---|---|"
row 'cube rebuild at start-up (exec to "the cube is ready"; observations, rate, cube MiB)' rebuild
row 'server RSS after the rebuild' rss
row 'GET /api/v1/cells over HTTP, p50 / p99' cells.http
row 'the same aggregation as SQL, p50 / p99' cells.sql
row 'ratio SQL / HTTP, p50 / p99 (answers equal)' cells.ratio
row "GET /api/v1/indicators/$INDICATOR over HTTP, p50 / p99" indicator.http
row 'its two terms as SQL, p50 / p99' indicator.sql
row 'ratio SQL / HTTP, p50 / p99' indicator.ratio
row 'the /cells queries in-process (brain_sql cube: the same queries, a cube rebuilt from the same database), p50 / p99' cells.cube
row 'ratio SQL / in-process, p50 / p99; query by query' cells.cube_ratio
row 'the indicator queries in-process, p50 / p99' indicator.cube
row 'ratio SQL / in-process, p50 / p99; query by query' indicator.cube_ratio
if [ -n "$cube_p50" ]; then
    ratio() { # sql_us cube_us
        if [ -n "$1" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0fx", a / b }'; else echo -; fi
    }
    r_sqlite="$(ratio "$(kv SQLite.cells.sql_p50_us)" "$cube_p50") / $(ratio "$(kv SQLite.cells.sql_p99_us)" "$cube_p99")"
    r_pg="$(ratio "$(kv PostgreSQL.cells.sql_p50_us)" "$cube_p50") / $(ratio "$(kv PostgreSQL.cells.sql_p99_us)" "$cube_p99")"
    echo "| cube in-process (bench/cube_query.sh $CUBE_SCALE, synthetic city-year), p50 / p99 | $cube_p50 / $cube_p99 µs | (the same code) |"
    echo "| ratio SQL (the /cells queries) / in-process cube, p50 / p99 | $r_sqlite | $r_pg |"
fi
row 'freshness, POST answered to SSE event, p50 / p99' fresh
row 'ingest meanwhile' fresh_load
exit $status
