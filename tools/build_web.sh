#!/usr/bin/env bash
# Builds the web UI (web/dist) with Vite, only when a source is newer than web/dist/index.html.
set -euo pipefail
cd "$(dirname "$0")/../web"

out=dist/index.html
if [ ! -d node_modules ]; then
    echo "build_web: web/node_modules is missing; run tools/setup.sh first" >&2
    exit 1
fi
if [ -f "$out" ]; then
    newer=$(find index.html vite.config.js package.json package-lock.json src public \
        -newer "$out" -type f -print -quit 2>/dev/null || true)
    if [ -z "$newer" ]; then
        exit 0
    fi
fi
echo "build_web: npm run build"
npm run build --silent
