#!/usr/bin/env bash
# Instructions the server runs per request, counted by valgrind's callgrind:
# the same figure for the same binary whatever else this shared machine is
# doing, where req/s drift by a fifth within minutes. One keep-alive client
# sends REQUESTS requests per endpoint after a warm-up; the count covers
# exactly those (callgrind is zeroed before and dumped after each endpoint).
#
#   bench/instructions.sh [BIN...]     (default: the release build)
#   REQUESTS=2000 bench/instructions.sh OLD NEW
#   FLOOR=1 bench/instructions.sh      (and the same-work floor, bench/floor/,
#                                       on the last binary's database)
# Keeps each endpoint's profile as /tmp/callgrind.<bin n>.<endpoint n> for
# `callgrind_annotate --inclusive=yes`.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${REQUESTS:-1000}"
source bench/common.sh "$@"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }

endpoints=(
  "GET /api/v1/users/me|GET|/api/v1/users/me"
  "GET /api/v1/items/{id}|GET|/api/v1/items/ITEM"
  "GET /api/v1/items?limit=100|GET|/api/v1/items?limit=100"
  "POST /api/v1/items|POST|/api/v1/items"
)

# Sends $2 requests $1 (METHOD PATH) with the token on one connection.
send() {
  python3 - "$1" "$2" "$PORT" "$token" <<'PY'
import http.client, sys
method, path = sys.argv[1].split(" ", 1)
count, port, token = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
body = '{"name":"bench","description":"created by the benchmark"}' if method == "POST" else None
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(count):
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status >= 300:
        sys.exit(f"{method} {path}: {response.status}")
PY
}

results=$(mktemp)

# Counts `$1` (a label for the table) between a warm-up and a dump, per endpoint.
count() {
  local bin_n=$1 e label method path request dump total
  for e in "${!endpoints[@]}"; do
    IFS='|' read -r label method path <<<"${endpoints[$e]}"
    request="${method} ${path//ITEM/${item_id}}"
    send "$request" 50
    callgrind_control --zero "$server_pid" >/dev/null
    callgrind_control --instr=on "$server_pid" >/dev/null
    send "$request" "$REQUESTS"
    callgrind_control --instr=off "$server_pid" >/dev/null
    callgrind_control --dump="$label" "$server_pid" >/dev/null
    dump=$(ls -t /tmp/callgrind."${bin_n}"."${server_pid}".* | head -1)
    mv "$dump" "/tmp/callgrind.${bin_n}.${e}"
    total=$(callgrind_annotate "/tmp/callgrind.${bin_n}.${e}" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo "${label}|${bin_n}|$((total / REQUESTS))" >>"$results"
  done
}

for bin_n in $(seq 1 $#); do
  bin="${@:$bin_n:1}"
  start_fresh "$bin"
  seed
  stop_server
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="/tmp/callgrind.${bin_n}.%p" \
    "$bin" start >>/tmp/bench-server.log 2>&1 &
  server_pid=$!
  wait_for_ping
  count "$bin_n"
  stop_server
done

if [ -n "${FLOOR:-}" ]; then
  CARGO_TARGET_DIR=/tmp/floor-target cargo build --release --quiet --manifest-path bench/floor/Cargo.toml
  floor_n=$(($# + 1))
  PORT=5301 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="/tmp/callgrind.${floor_n}.%p" \
    /tmp/floor-target/release/bench-floor >>/tmp/bench-server.log 2>&1 &
  server_pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:5301/pg; do sleep 0.2; done
  PORT=5301 count "$floor_n"
  stop_server
  set -- "$@" "the same-work floor"
fi
echo "Binaries: $(for n in $(seq 1 $#); do printf '%s=%s ' "$n" "${@:$n:1}"; done)"
echo "Instructions per request (server, all threads), ${REQUESTS} requests each:"
python3 - "$results" <<'PY'
import sys
from collections import defaultdict
rows = defaultdict(dict)
for line in open(sys.argv[1]):
    label, n, count = line.strip().split("|")
    rows[label][int(n)] = int(count)
bins = sorted({n for row in rows.values() for n in row})
print("| endpoint | " + " | ".join(f"{n}" for n in bins) + (" | 2 / 1 |" if len(bins) > 1 else " |"))
print("|---|" + "---:|" * (len(bins) + (1 if len(bins) > 1 else 0)))
for label, row in rows.items():
    cells = [f"{row[n]:,}" for n in bins]
    if len(bins) > 1:
        cells.append(f"{row[bins[1]] / row[bins[0]]:.3f}")
    print(f"| {label} | " + " | ".join(cells) + " |")
PY
rm -f "$results"
