#!/usr/bin/env bash
# Same-run ratios to the floor (../shared/bench-floor: bare axum + sqlx, one
# `SELECT 1` per request, pool of 10) at 64 connections on PostgreSQL: the
# floor's /pg, then bench/run.sh on BIN, then the floor again; each endpoint's
# req/s over the mean of the two floor runs.
#
#   bench/floor.sh [BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOR_DIR="${FLOOR_DIR:-../shared/bench-floor}"
FLOOR_TARGET="${FLOOR_TARGET:-/tmp/floor-target}"
DURATION="${DURATION:-10s}"
BIN="${1:-target/release/backend-cli}"
[ -x "$BIN" ] || cargo build --release --quiet
CARGO_TARGET_DIR="$FLOOR_TARGET" cargo build --release --quiet --manifest-path "$FLOOR_DIR/Cargo.toml"

floor() {
  PORT=5301 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "$FLOOR_TARGET/release/hello" &
  local pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:5301/pg; do sleep 0.1; done
  wrk -t2 -c64 -d"$DURATION" http://127.0.0.1:5301/pg | awk '/Requests\/sec/ {printf "%d", $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

before=$(floor)
table=$(DURATION="$DURATION" bench/run.sh "$BIN")
after=$(floor)
echo "$table"
echo
echo "floor /pg: ${before} req/s before, ${after} after"
echo
echo "| endpoint | ratio to the floor |"
echo "|---|---:|"
echo "$table" | awk -F'|' -v floor="$(( (before + after) / 2 ))" \
  '/^\| (GET|POST)/ { printf "| %s | %.2f |\n", $2, $3 / floor }'
