#!/usr/bin/env bash
# Benchmark: the brain's cube in-process (bench/cube_query.c) on a synthetic city-year: apply
# throughput, query p50/p99 alone and beside a writer, memory, and a scan of the same values.
#   bench/cube_query.sh [SCALE [QUERIES]]    SCALE 1 = 1250 schools, 20,000 classes (~44 M
#                                            observations, about 1 GB, 1-2 minutes on 2 cores)
# Prints the lines for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1}
QUERIES=${2:-1000000}
make -s build/bench/cube_query
echo "\$ bench/cube_query.sh $SCALE $QUERIES   ($(nproc) cores, $(date -u +%Y-%m-%d))"
/usr/bin/time -f "cube_query: %e s wall, %M KB max RSS" build/bench/cube_query "$SCALE" "$QUERIES"
