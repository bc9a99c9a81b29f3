#!/usr/bin/env bash
# Starts and stops a private PostgreSQL cluster for the tests: data in build/pg/data, listening on
# 127.0.0.1 only (a free port) and on a Unix socket in build/pg/run, trust authentication.
# For local test use only: never point this at data you care about (fsync is off).
# Usage: tools/pg_test_server.sh start [OWNER_PID]  prints the DSN (postgres://edubrain@127.0.0.1:PORT/postgres)
#        tools/pg_test_server.sh stop [OWNER_PID]
#        tools/pg_test_server.sh dsn                prints the DSN of the running cluster
# Several test runs may share the cluster: start records its owner (default: the calling
# process), stop forgets it and stops the server only when no live owner is left.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$PWD/build/pg
data=$root/data
run=$root/run
log=$root/server.log
portfile=$root/port
owners=$root/owners
owner=${2:-$PPID}
user=edubrain

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bindir/pg_ctl" ]; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
    echo "pg_test_server: no PostgreSQL server binaries (install postgresql-15: tools/setup.sh test)" >&2
    exit 1
fi

# initdb and postgres refuse to run as root: as root, run them as the postgres user that the
# Debian package creates, and give that user the cluster's directory.
# The lock's descriptor (9) is closed for them: a server that inherited it would hold the lock.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@" 9>&-
    else
        "$@" 9>&-
    fi
}

dsn() {
    echo "postgres://$user@127.0.0.1:$(cat "$portfile")/postgres"
}

running() {
    [ -f "$data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# A port nobody listens on; pg_ctl start fails on a lost race and the caller tries another.
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Keeps the owners whose process still runs, minus $1 when given.
prune_owners() {
    local p keep=()
    [ -f "$owners" ] || return 0
    while read -r p; do
        [ -n "$p" ] && [ "$p" != "${1:-}" ] && kill -0 "$p" 2>/dev/null && keep+=("$p")
    done <"$owners"
    printf '%s\n' "${keep[@]}" | grep . >"$owners.tmp" || true
    mv "$owners.tmp" "$owners"
}

start() {
    mkdir -p "$root" "$run"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$root" "$run"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -w "$root"; then
        echo "pg_test_server: the postgres user cannot reach $root (a parent directory is" \
            "not searchable by others, e.g. /root); use a checkout it can reach" >&2
        exit 1
    fi
    prune_owners
    echo "$owner" >>"$owners"
    if running; then
        dsn
        return 0
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        rm -rf "$data"
        as_pg "$bindir/initdb" -D "$data" -U "$user" --auth=trust --encoding=UTF8 --locale=C \
            >"$root/initdb.log" 2>&1 || {
            echo "pg_test_server: initdb failed:" >&2
            cat "$root/initdb.log" >&2
            exit 1
        }
    fi
    local port
    for _ in 1 2 3 4 5; do
        port=$(free_port) || break
        # Test settings: durability off (fsync, synchronous commit) for speed, TCP on loopback only.
        if as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -s start -o \
            "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$run \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300" >/dev/null 2>&1; then
            echo "$port" >"$portfile"
            dsn
            return 0
        fi
    done
    echo "pg_test_server: PostgreSQL did not start; the end of $log:" >&2
    tail -20 "$log" >&2 || true
    exit 1
}

stop() {
    prune_owners "$owner"
    if [ -s "$owners" ]; then
        echo "pg_test_server: still used by $(tr '\n' ' ' <"$owners"); left running" >&2
        return 0
    fi
    if running; then
        as_pg "$bindir/pg_ctl" -D "$data" -w -t 60 -s -m fast stop
    fi
}

mkdir -p "$root"
exec 9>"$root/lock"
flock 9
case ${1:-} in
start) start ;;
stop) stop ;;
dsn)
    running || { echo "pg_test_server: not running" >&2; exit 1; }
    dsn
    ;;
*)
    echo "usage: tools/pg_test_server.sh start|stop|dsn" >&2
    exit 2
    ;;
esac
