#!/usr/bin/env bash
# Benchmark: the class roster endpoint against nginx serving a static file of the same size,
# in the same run; also the server's RSS with the whole city loaded.
#   bench/http_roster.sh [DB]     (DB defaults to build/bench-city.db, created if missing;
#                                  a postgres:// DSN is used as it is, with KEY=the key file)
# Prints a Markdown table row set for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
DB=${1:-build/bench-city.db}
PW=Bench-pass-2026
DUR=${DUR:-10}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
work=$(mktemp -d)
trap 'kill $srv_pid $nc_pid $ngx_pid 2>/dev/null || true; rm -rf "$work"' EXIT
srv_pid=; nc_pid=; ngx_pid=

KEY=${KEY:-}
keyopt=()
[ -n "$KEY" ] && keyopt=(--key-file "$KEY")
case $DB in postgres://* | postgresql://*) have_db=1 ;; *) [ -f "$DB" ] && have_db=1 || have_db= ;; esac
if [ -z "$have_db" ]; then
    /usr/bin/time -f "demo: %e s wall, %M KB max RSS" "$BIN" demo --db "$DB" --scale city --history none "${keyopt[@]}" \
        --admin-password "$PW" --demo-password "$PW" 2>&1 | tail -2
    echo "database size: $(du -h "$DB" | cut -f1)"
fi

start_server() { # log-file extra-args... -> prints the port
    local log=$1
    shift
    "$BIN" serve --db "$DB" "${keyopt[@]}" --listen 127.0.0.1:0 --threads "$THREADS" "$@" >/dev/null 2>"$log" &
    echo $! >"$log.pid"
    for _ in $(seq 100); do grep -q 'listening on http://' "$log" && break; sleep 0.1; done
    sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log"
}
port=$(start_server "$work/serve.log")
srv_pid=$(cat "$work/serve.log.pid")
# The same server with its people-list cache off: every request runs the roster query.
port_nc=$(start_server "$work/serve-nc.log" --cache-mb 0)
nc_pid=$(cat "$work/serve-nc.log.pid")
base=http://127.0.0.1:$port

curl -s -c "$work/jar" -H 'Content-Type: application/json' \
    -d "{\"login\":\"teacher1\",\"password\":\"$PW\"}" "$base/api/v1/session" >"$work/me.json"
cookie=$(awk '$6=="eb_session"{print $7}' "$work/jar")
# teacher1 is head teacher of a class: its roster is the benchmarked request.
school=$(node -e 'const m=require(process.argv[1]);console.log(m.roles[0].org.id)' "$work/me.json")
class=$(curl -s -b "eb_session=$cookie" "$base/api/v1/people/$(node -e 'const m=require(process.argv[1]);console.log(m.user.person_id)' "$work/me.json")" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);const e=(p.enrolments||[])[0];console.log(e?e.class.id:"")})')
if [ -z "$class" ]; then
    # teacher1 is not enrolled anywhere: take the first class under their school.
    grade=$(curl -s -b "eb_session=$cookie" "$base/api/v1/orgs/$school/children" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).items[0].id))')
    class=$(curl -s -b "eb_session=$cookie" "$base/api/v1/orgs/$grade/children" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).items[0].id))')
fi
url="$base/api/v1/orgs/$class/people?role=student&limit=100"
curl -s -b "eb_session=$cookie" "$url" >"$work/roster.json"
size=$(stat -c %s "$work/roster.json")
n=$(node -e 'console.log(require(process.argv[1]).items.length)' "$work/roster.json")

mkdir -p "$work/www"
cp "$work/roster.json" "$work/www/roster.json"
cat >"$work/nginx.conf" <<NGX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    server { listen 127.0.0.1:18089; root $work/www; default_type application/json; }
}
NGX
nginx -c "$work/nginx.conf" -g 'daemon off;' &
ngx_pid=$!
sleep 0.5

run_wrk() { # url [cookie] -> req/s
    local hdr=()
    [ -n "${2:-}" ] && hdr=(-H "Cookie: eb_session=$2")
    wrk -t1 -c64 -d"${DUR}s" "${hdr[@]}" "$1" | awk '/Requests\/sec/{print $2}'
}
median() { sort -n | awk '{a[NR]=$1}END{print a[int((NR+1)/2)]}'; }

: >"$work/eb"; : >"$work/nc"; : >"$work/ngx"
url_nc=${url/:$port\//:$port_nc/}
for _ in $(seq "$RUNS"); do
    run_wrk "$url" "$cookie" >>"$work/eb"
    run_wrk "$url_nc" "$cookie" >>"$work/nc"
    run_wrk "http://127.0.0.1:18089/roster.json" >>"$work/ngx"
done
eb=$(median <"$work/eb")
nc=$(median <"$work/nc")
ngx=$(median <"$work/ngx")
rss=$(awk '/VmRSS/{print $2}' /proc/$srv_pid/status)
hwm=$(awk '/VmHWM/{print $2}' /proc/$srv_pid/status)
echo "roster: class $class, $n students, $size bytes"
echo "edubrain req/s (median of $RUNS): $eb   runs: $(tr '\n' ' ' <"$work/eb")"
echo "edubrain, list cache off (median of $RUNS): $nc   runs: $(tr '\n' ' ' <"$work/nc")"
echo "nginx    req/s (median of $RUNS): $ngx  runs: $(tr '\n' ' ' <"$work/ngx")"
echo "ratio edubrain/nginx: $(awk -v a="$eb" -v b="$ngx" 'BEGIN{printf "%.2f", a/b}')"
echo "ratio edubrain (cache off)/nginx: $(awk -v a="$nc" -v b="$ngx" 'BEGIN{printf "%.2f", a/b}')"
echo "edubrain serve RSS after the runs: $((rss / 1024)) MB (peak $((hwm / 1024)) MB)"
