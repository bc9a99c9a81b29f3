#!/usr/bin/env bash
# Installs what edubrain needs to build, run and test, and nothing that is already there.
# Usage: tools/setup.sh [build|test|bench]   (test and bench add their own packages)
set -euo pipefail
what=${1:-build}
cd "$(dirname "$0")/.."

build_pkgs="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev
  libsodium-dev libssl-dev libcurl4-openssl-dev liboath-dev libxlsxwriter-dev libcsv-dev libzip-dev libexpat1-dev nodejs npm"
test_pkgs="postgresql-15 libcmocka-dev clang libclang-rt-14-dev clang-format cppcheck chromium fonts-noto-cjk valgrind"
bench_pkgs="wrk nginx-light"

pkgs=$build_pkgs
[ "$what" = test ] && pkgs="$pkgs $test_pkgs"
[ "$what" = bench ] && pkgs="$pkgs $bench_pkgs"

missing=()
for p in $pkgs; do
    # node may come from outside Debian (e.g. a newer build in /usr/bin); accept it if it runs.
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing missing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: not root; please install these packages: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/edubrain-apt.log 2>&1; then
        apt-get update >/tmp/edubrain-apt-update.log 2>&1 || true
        if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/edubrain-apt.log 2>&1; then
            echo "setup: apt-get could not install: ${missing[*]} (see /tmp/edubrain-apt.log)" >&2
            tail -20 /tmp/edubrain-apt.log >&2
            exit 1
        fi
    fi
fi

npm_install() { # dir: install exactly what package-lock.json says, once per lock change
    local dir=$1
    [ -f "$dir/package.json" ] || return 0
    local stamp="$dir/node_modules/.edubrain-lock"
    if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return 0; fi
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "setup: npm ci failed in $dir" >&2; exit 1; }
    cp "$dir/package-lock.json" "$stamp"
}
npm_install web
[ "$what" = test ] && npm_install tests
[ "$what" = bench ] && npm_install bench
exit 0
