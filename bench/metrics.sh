#!/usr/bin/env bash
# What the metrics cost: `GET /api/v1/users/me` and `GET /api/v1/items/{id}`
# with metrics off, and on (METRICS_ADDR, scraped every second, far more
# often than Prometheus's 15 s), one binary, in rounds whose order alternates.
# Prints each round's rates and the median on/off ratio per route.
#
#   bench/metrics.sh [BIN]      # ROUNDS=5, DURATION=10s by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
source bench/common.sh "$@"
bin=$1
results=$(mktemp)

scraper_pid=""
stop_scraper() {
  if [ -n "$scraper_pid" ]; then kill "$scraper_pid" 2>/dev/null || true; wait "$scraper_pid" 2>/dev/null || true; fi
  scraper_pid=""
}

# One round of configuration $1 (off | on): a fresh start, then both routes.
measure() {
  local metrics=$1 round=$2
  if [ "$metrics" = on ]; then
    export METRICS_ENABLED=true METRICS_ADDR=127.0.0.1:9464
  else
    export METRICS_ENABLED=false METRICS_ADDR=
  fi
  start_fresh "$bin"
  seed
  if [ "$metrics" = on ]; then
    curl -sf -o /dev/null http://127.0.0.1:9464/metrics || { echo "no metrics" >&2; exit 1; }
    (while sleep 1; do curl -sf -o /dev/null http://127.0.0.1:9464/metrics; done) &
    scraper_pid=$!
  fi
  lua=$(wrk_script)
  export WRK_METHOD=GET
  for route in "/api/v1/users/me" "/api/v1/items/{id}"; do
    load "$CONNECTIONS" -s "$lua" "${BASE}${route/\{id\}/$item_id}"
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$metrics" "$route" "$(rps)" "$(percentile 99%)" >>"$results"
  done
  rm -f "$lua"
  stop_scraper
  stop_server
}

CONNECTIONS="${CONNECTIONS:-64}"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="off on"; else order="on off"; fi
  for metrics in $order; do measure "$metrics" "$round"; done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print("| round | route | off, req/s | on, req/s | on / off | off p99 | on p99 |")
print("|---:|---|---:|---:|---:|---:|---:|")
ratios = {}
for round_ in sorted({r[0] for r in rows}, key=int):
    for route in dict.fromkeys(r[2] for r in rows):
        off = next(r for r in rows if r[0] == round_ and r[1] == "off" and r[2] == route)
        on = next(r for r in rows if r[0] == round_ and r[1] == "on" and r[2] == route)
        ratio = int(on[3]) / int(off[3])
        ratios.setdefault(route, []).append(ratio)
        print(f"| {round_} | `GET {route}` | {int(off[3]):,} | {int(on[3]):,} | {ratio:.3f} | {off[4]} | {on[4]} |")
print()
for route, values in ratios.items():
    print(f"median on / off, `GET {route}`: {statistics.median(values):.3f}")
PY
rm -f "$results"
