#!/usr/bin/env bash
# Reliability under load, on PostgreSQL and on SQLite (production settings,
# release build): 256 connections for 60 s over a mixed read/write scenario
# (bench/mixed.lua), which must see no failed or unanswered request; then the
# registration and refresh storms of bench/storms.py.
#
#   bench/load.sh                      # both databases
#   BENCH_DB=sqlite bench/load.sh      # one
#   DURATION=20s bench/load.sh BIN     # shorter, another binary
#
# Needs what bench/run.sh needs. Prints the figures for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_DB:-}" ]; then
  for db in postgres sqlite; do BENCH_DB=$db "$0" "$@"; done
  exit
fi
DURATION="${DURATION:-60s}"
CONNECTIONS="${CONNECTIONS:-256}"
source bench/common.sh "$@"
# The storms come from one address: lift the registration limit, as a fleet
# of clients behind many addresses would have it.
export RATE_LIMIT_REGISTER_PER_IP=1000000 RATE_LIMIT_LOGIN_PER_IP=1000000

for bin in "$@"; do
  echo "## ${bin} on ${BENCH_DB}"
  echo
  start_fresh "$bin"
  seed
  TOKEN="$token" ITEM_ID="$item_id" load "$CONNECTIONS" -s bench/mixed.lua "$BASE"
  echo "mixed, ${CONNECTIONS} connections, ${DURATION}: $(rps) req/s, p50 $(percentile 50%), p99 $(percentile 99%), no errors; RSS after: $(rss_mb) MB"
  python3 bench/storms.py "$BASE" "$server_pid"
  echo
  stop_server
done
