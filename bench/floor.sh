#!/usr/bin/env bash
# Same-run ratios to the floor (../shared/bench-floor: bare axum + sqlx, one
# `SELECT 1` per request, pool of 10) at 64 connections on PostgreSQL.
#
# The floor and every BIN run side by side, each on a database of its own and
# idle while another is measured. For each endpoint, each of ROUNDS rounds
# measures the floor and then each BIN, and takes each ratio against the floor
# run just before it: this machine's pace drifts by a fifth within minutes, and
# a ratio of two runs seconds apart does not. Prints the median of the rounds.
#
#   bench/floor.sh [BIN...]        (default: the release build)
#   ROUNDS=5 DURATION=8s bench/floor.sh OLD NEW
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOR_DIR="${FLOOR_DIR:-../shared/bench-floor}"
FLOOR_TARGET="${FLOOR_TARGET:-/tmp/floor-target}"
DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-3}"
source bench/common.sh "$@"
CARGO_TARGET_DIR="$FLOOR_TARGET" cargo build --release --quiet --manifest-path "$FLOOR_DIR/Cargo.toml"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT

FLOOR_URL="http://127.0.0.1:5301/pg"
PORT=5301 DATABASE_URL="${PG}/postgres" "$FLOOR_TARGET/release/hello" &
pids+=($!)
until curl -sf -o /dev/null "$FLOOR_URL"; do sleep 0.1; done

# BIN number n: port 5170+n, database backend_bench_n, one user with 100 items.
bases=() items=() scripts=()
for n in $(seq 0 $(($# - 1))); do
  bin="${@:$((n + 1)):1}"
  db="${DB_NAME}_${n}"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${db} WITH (FORCE)" 2>/dev/null
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE ${db}"
  PORT=$((5170 + n))
  BASE="http://127.0.0.1:${PORT}"
  export PORT SERVER_HOST="$BASE" DATABASE_URL="${PG}/${db}?sslmode=disable"
  "$bin" start >>/tmp/bench-server.log 2>&1 &
  pids+=($!)
  wait_for_ping
  seed
  bases+=("$BASE") items+=("$item_id") scripts+=("$(wrk_script)")
done

endpoints=(
  "GET /api/v1/users/me|/api/v1/users/me"
  "GET /api/v1/items/{id}|/api/v1/items/ITEM"
  "GET /api/v1/items?limit=100|/api/v1/items?limit=100"
  "POST /api/v1/items|/api/v1/items"
)
# Endpoint by endpoint, so that the list never meets the rows POST adds.
runs=$(mktemp)
for endpoint in "${endpoints[@]}"; do
  label=${endpoint%%|*}
  path=${endpoint#*|}
  for _ in $(seq 1 "$ROUNDS"); do
    load 64 "$FLOOR_URL"
    floor=$(rps)
    for n in "${!bases[@]}"; do
      WRK_METHOD=${label%% *} load 64 -s "${scripts[$n]}" "${bases[$n]}${path//ITEM/${items[$n]}}"
      echo "${label}|$((n + 1))|$(rps)|${floor}" >>"$runs"
    done
  done
  echo "${label}: done" >&2
done
rm -f "${scripts[@]}"

echo "Binaries: $(for n in $(seq 1 $#); do printf '%s=%s ' "$n" "${@:$n:1}"; done)"
echo
python3 - "$runs" <<'PY'
import sys, statistics
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    label, binary, rate, floor = line.strip().split("|")
    runs[(label, binary)].append((int(rate), int(floor)))
binaries = sorted({binary for _, binary in runs})
print("| endpoint | " + " | ".join(f"{b}: req/s | {b}: ratio" for b in binaries) + " | floor req/s |")
print("|---|" + "---:|---:|" * len(binaries) + "---:|")
for label in dict.fromkeys(label for label, _ in runs):
    cells, floors = [], []
    for b in binaries:
        pairs = runs[(label, b)]
        cells.append(f"{statistics.median(r for r, _ in pairs):.0f}")
        cells.append(f"{statistics.median(r / f for r, f in pairs):.2f}")
        floors += [f for _, f in pairs]
    print(f"| {label} | " + " | ".join(cells) + f" | {statistics.median(floors):.0f} |")
PY
rm -f "$runs"
