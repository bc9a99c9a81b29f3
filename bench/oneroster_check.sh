#!/usr/bin/env bash
# Times `edubrain oneroster check` on a generated city-sized OneRoster 1.1 package (850k users,
# 20k classes, 1M enrolments), as a directory and as a zip; three runs each, release build.
#   bench/oneroster_check.sh            (EDUBRAIN_BIN=... to time another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
if [ ! -x "$BIN" ]; then
    make build/edubrain
fi
work=$(mktemp -d /tmp/eb-oneroster-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
node bench/oneroster_gen.mjs "$work/pkg" "$@"
du -sh "$work/pkg" | sed 's/^/package size: /'
(cd "$work/pkg" && zip -q -6 ../pkg.zip ./*.csv)
du -sh "$work/pkg.zip" | sed 's/^/zip size: /'
for target in "$work/pkg" "$work/pkg.zip"; do
    for run in 1 2 3; do
        # The verdict line (last) and the time and peak RSS of the whole check.
        /usr/bin/time -f "  run $run: %e s wall, %U s user, %M KB max RSS" \
            "$BIN" oneroster check "$target" --lang en >"$work/out.txt" 2>"$work/time.txt" || {
            cat "$work/out.txt" "$work/time.txt"
            echo "oneroster_check: the generated package did not validate cleanly" >&2
            exit 1
        }
        echo "$(basename "$target"): $(tail -1 "$work/out.txt")"
        cat "$work/time.txt"
    done
done
