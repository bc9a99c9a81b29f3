#!/usr/bin/env bash
# Starts and stops a private PostgreSQL cluster for the tests: data in build/pg/data, listening on
# 127.0.0.1 only (a free port) and on a Unix socket in build/pg/run, trust authentication.
# For local test use only: never point this at data you care about (fsync is off).
# Usage: tools/pg_test_server.sh start   prints the DSN (postgres://edubrain@127.0.0.1:PORT/postgres)
#        tools/pg_test_server.sh stop
#        tools/pg_test_server.sh dsn     prints the DSN of the running cluster
set -euo pipefail
cd "$(dirname "$0")/.."

root=$PWD/build/pg
data=$root/data
run=$root/run
log=$root/server.log
portfile=$root/port
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
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
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

start() {
    mkdir -p "$root" "$run"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$root"
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
    if running; then
        as_pg "$bindir/pg_ctl" -D "$data" -w -t 60 -s -m fast stop
    fi
}

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
