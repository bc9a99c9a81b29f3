#!/usr/bin/env bash
# Benchmark: the token endpoint's refresh_token grant of edubrain against oidc-provider (npm,
# pinned in bench/package.json) on the same machine in the same run; also edubrain's
# login-to-tokens latency and password logins per second. Driver: bench/oidc_token.mjs.
#   bench/oidc_token.sh        (env: SEQ_N CONC CONC_N RUNS LOGINS THREADS; prints JSON)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EDUBRAIN_BIN:-build/edubrain}
PW=Bench-pass-2026
[ -d bench/node_modules/oidc-provider ] || (cd bench && npm ci --no-audit --no-fund --loglevel=error)
work=$(mktemp -d)
srv_pid=; op_pid=
trap 'kill $srv_pid $op_pid 2>/dev/null || true; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

"$BIN" demo --db "$work/city.db" --scale small --admin-password "$PW" --demo-password "$PW" >/dev/null 2>&1
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
# The admin that registers the benchmark app logs in with a password only (no TOTP).
"$BIN" serve --db "$work/city.db" --listen 127.0.0.1:0 --mfa-admins optional "${threads[@]}" >/dev/null 2>"$work/serve.log" &
srv_pid=$!
for _ in $(seq 100); do grep -q 'listening on http://' "$work/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")

op_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NODE_ENV=production node bench/oidc_token.mjs provider "$op_port" 2>"$work/op.log" &
op_pid=$!
for _ in $(seq 100); do grep -q 'provider listening' "$work/op.log" && break; sleep 0.1; done

echo "oidc-provider $(node -p 'require("./bench/node_modules/oidc-provider/package.json").version'), node $(node --version), $(nproc) cores" >&2
EB_PID=$srv_pid OP_PID=$op_pid ADMIN_PW=$PW DEMO_PW=$PW node bench/oidc_token.mjs run "http://127.0.0.1:$port" "http://127.0.0.1:$op_port"
