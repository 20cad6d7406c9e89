#!/usr/bin/env bash
# The API beside its same-work floor (bench/floor: bare axum + sqlx, the same
# token check, statements and JSON) and beside one `SELECT 1` per request (the
# floor's /pg), at 64 connections, production mode, PostgreSQL, pools of 10.
#
# Both serve the same database and the same tokens, and are first checked to
# answer the same JSON. For each route, each of ROUNDS rounds measures the
# floor and the API (in turns that alternate from round to round), then
# /pg; the ratios are taken within a round, the medians printed. The list is
# read as a user who owns its 100 items; creates are a second user's.
#
#   bench/floor.sh [BIN]          (default: the release build)
#   ROUNDS=5 DURATION=8s bench/floor.sh target/e2e/backend-cli
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOR_TARGET="${FLOOR_TARGET:-/tmp/floor-target}"
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
source bench/common.sh "$@"
CARGO_TARGET_DIR="$FLOOR_TARGET" cargo build --release --quiet --manifest-path bench/floor/Cargo.toml

start_fresh "$1"
seed
list_token=$token
token=$(curl -sf -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"creator@example.com","password":"bench-password"}' | json '["access_token"]')
create_script=$(wrk_script)
token=$list_token
read_script=$(wrk_script)

FLOOR="http://127.0.0.1:5301"
PORT=5301 "$FLOOR_TARGET/release/bench-floor" &
floor_pid=$!
trap 'kill $floor_pid 2>/dev/null || true; stop_server' EXIT
until curl -sf -o /dev/null "${FLOOR}/pg"; do sleep 0.1; done

echo "-- the floor answers what the API answers"
for path in /api/v1/users/me "/api/v1/items/${item_id}" "/api/v1/items?limit=100"; do
  api=$(curl -sf -D /tmp/floor-api.h "${BASE}${path}" -H "authorization: Bearer ${token}")
  floor=$(curl -sf -D /tmp/floor-floor.h "${FLOOR}${path}" -H "authorization: Bearer ${token}")
  [ "$api" = "$floor" ] || { echo "different answers to ${path}" >&2; exit 1; }
  diff <(grep -i '^x-next-cursor' /tmp/floor-api.h) <(grep -i '^x-next-cursor' /tmp/floor-floor.h) \
    || { echo "different cursors for ${path}" >&2; exit 1; }
done
unstamped='import sys, json; row = json.load(sys.stdin); [row.pop(k) for k in ("id", "created_at", "updated_at")]; print(json.dumps(row, sort_keys=True))'
body='{"name":"check","description":"same"}'
api=$(curl -sf -X POST "${BASE}/api/v1/items" -H "authorization: Bearer ${list_token}" -H 'content-type: application/json' -d "$body" | python3 -c "$unstamped")
floor=$(curl -sf -X POST "${FLOOR}/api/v1/items" -H "authorization: Bearer ${list_token}" -H 'content-type: application/json' -d "$body" | python3 -c "$unstamped")
[ "$api" = "$floor" ] || { echo "different answers to POST /api/v1/items" >&2; exit 1; }
psql -q -h 127.0.0.1 -U postgres "$DB_NAME" -c "DELETE FROM items WHERE name = 'check'"

endpoints=(
  "GET /api/v1/users/me|/api/v1/users/me"
  "GET /api/v1/items/{id}|/api/v1/items/${item_id}"
  "GET /api/v1/items?limit=100|/api/v1/items?limit=100"
  "POST /api/v1/items|/api/v1/items"
)
runs=$(mktemp)
measure() { # who base path
  local script=$read_script
  [ "${label%% *}" = POST ] && script=$create_script
  WRK_METHOD=${label%% *} load 64 -s "$script" "$2$3"
  echo "$(rps) $(percentile 99%)"
}
for endpoint in "${endpoints[@]}"; do
  label=${endpoint%%|*}
  path=${endpoint#*|}
  for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
      floor=$(measure floor "$FLOOR" "$path"); api=$(measure api "$BASE" "$path")
    else
      api=$(measure api "$BASE" "$path"); floor=$(measure floor "$FLOOR" "$path")
    fi
    load 64 "${FLOOR}/pg"
    echo "${label}|${floor}|${api}|$(rps)" >>"$runs"
  done
  echo "${label}: done" >&2
done
rm -f "$read_script" "$create_script"

echo "API: $1, $(date -u +%F)"
echo
python3 - "$runs" <<'PY'
import sys, statistics
from collections import defaultdict

def ms(text):  # wrk's 850.00us, 15.23ms, 1.02s
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale

runs = defaultdict(list)
for line in open(sys.argv[1]):
    label, floor, api, select1 = line.strip().split("|")
    (floor_rps, floor_p99), (api_rps, api_p99) = floor.split(), api.split()
    runs[label].append((int(floor_rps), ms(floor_p99), int(api_rps), ms(api_p99), int(select1)))
med = statistics.median
print("| route | same-work floor, req/s | API, req/s | floor p99 | API p99 | API / same-work | API / `SELECT 1` | `SELECT 1`, req/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, rounds in runs.items():
    print(f"| `{label}` | {med(r[0] for r in rounds):,.0f} | {med(r[2] for r in rounds):,.0f} | "
          f"{med(r[1] for r in rounds):.1f} ms | {med(r[3] for r in rounds):.1f} ms | "
          f"{med(r[2] / r[0] for r in rounds):.2f} | {med(r[2] / r[4] for r in rounds):.2f} | "
          f"{med(r[4] for r in rounds):,.0f} |")
PY
rm -f "$runs"
