#!/usr/bin/env bash
# Sign-in speed, on PostgreSQL: password sign-ins of a user without two-factor
# sign-in, at 8 and 64 connections, each binary on a fresh database, in one
# run. Compare the builds before and after a change to the sign-in path:
#
#   bench/signin.sh OLD_BIN NEW_BIN
#
# Needs what bench/run.sh needs. Sign-ins are measured, not refused: the
# login limits are lifted.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-15s}"
source bench/common.sh "$@"
export RATE_LIMIT_LOGIN_PER_IP=100000000 RATE_LIMIT_LOGIN_PER_EMAIL=100000000

script=$(mktemp)
trap 'stop_server; rm -f "$script"' EXIT
cat >"$script" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/x-www-form-urlencoded"
wrk.body = "username=bench%40example.com&password=bench-password"
LUA

printf '| binary | connections | sign-ins/s | p50 | p99 |\n|---|---:|---:|---:|---:|\n'
for round in 1 2; do
  for bin in "$@"; do
    start_fresh "$bin"
    curl -sf -o /dev/null -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
      -d '{"email":"bench@example.com","password":"bench-password"}'
    for connections in 8 64; do
      load "$connections" -s "$script" "${BASE}/api/v1/auth/login"
      printf '| %s (run %s) | %s | %s | %s | %s |\n' "$bin" "$round" "$connections" \
        "$(rps)" "$(percentile 50%)" "$(percentile 99%)"
    done
    stop_server
  done
done
