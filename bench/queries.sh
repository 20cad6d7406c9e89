#!/usr/bin/env bash
# Database statements per request, on PostgreSQL: the server's committed
# transactions (`pg_stat_database.xact_commit`; each statement outside a
# transaction is one) over a run of wrk, divided by the requests made.
# `GET /users/me` reads the user row and nothing else: the token version that
# revokes access tokens is checked on that row, at no extra query.
#
#   bench/queries.sh [BINARY]      (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-5s}"
BENCH_DB=postgres
source bench/common.sh "$@"

commits() {
  # An idle backend reports its statistics within 10 s (PGSTAT_IDLE_INTERVAL).
  sleep 11
  psql -tA -h 127.0.0.1 -U postgres -c \
    "SELECT xact_commit FROM pg_stat_database WHERE datname = '${DB_NAME}'"
}

per_request() {
  local path=$1 before after requests
  before=$(commits)
  wrk_out=$(wrk -t1 -c4 -d"$DURATION" -H "authorization: Bearer ${token}" "${BASE}${path}")
  requests=$(echo "$wrk_out" | awk '/requests in/ {print $1}')
  after=$(commits)
  python3 -c "print(f'${path}: {${requests}} requests, {(${after} - ${before}) / ${requests}:.3f} statements each')"
}

for bin in "$@"; do
  echo "## ${bin}"
  start_fresh "$bin"
  seed
  per_request /_ping
  per_request /api/v1/users/me
  per_request "/api/v1/items/${item_id}"
  stop_server
done
