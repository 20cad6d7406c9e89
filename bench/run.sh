#!/usr/bin/env bash
# Load benchmark: release build, PostgreSQL, 64 connections.
#
#   bench/run.sh                 # all endpoints, 10 s each
#   DURATION=30s bench/run.sh    # longer runs
#   bench/run.sh OLD_BIN NEW_BIN # compare builds one after the other, in one run
#
# For each binary: a fresh database `backend_bench`, the time from launch to
# the first answered request, one user seeded with 100 items through the API,
# the idle resident memory, and wrk against each endpoint. Needs PostgreSQL on
# 127.0.0.1:5432 (user postgres) and wrk (installed with apt-get when missing).
# Prints Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS="${CONNECTIONS:-64}"
source bench/common.sh "$@"

measure() {
  echo "## $1"
  echo
  start_fresh "$1"
  seed
  sleep 1
  local idle_rss
  idle_rss=$(rss_mb)
  lua=$(wrk_script)
  printf '| endpoint | req/s | p50 | p99 |\n|---|---:|---:|---:|\n'
  endpoint "GET /api/v1/users/me" GET /api/v1/users/me
  endpoint "GET /api/v1/items/{id}" GET "/api/v1/items/${item_id}"
  endpoint "GET /api/v1/items?limit=100" GET "/api/v1/items?limit=100"
  endpoint "POST /api/v1/items" POST /api/v1/items
  rm -f "$lua"
  echo
  echo "idle RSS: ${idle_rss} MB"
  echo "start to first response (schema up to date): ${startup_ms} ms"
  echo
  stop_server
}

endpoint() {
  local label=$1 method=$2 path=$3
  export WRK_METHOD=$method
  load "$CONNECTIONS" -s "$lua" "${BASE}${path}"
  printf '| %s | %s | %s | %s |\n' "$label" "$(rps)" "$(percentile 50%)" "$(percentile 99%)"
}

for bin in "$@"; do measure "$bin"; done
