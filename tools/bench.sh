#!/usr/bin/env bash
# make bench: installs the benchmark tools and runs every benchmark in bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh bench
bench/http_roster.sh "$@"
