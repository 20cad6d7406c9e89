#!/usr/bin/env bash
# Load benchmark: release build, PostgreSQL, 64 connections.
#
#   bench/run.sh                 # all endpoints, 10 s each
#   DURATION=30s bench/run.sh    # longer runs
#   bench/run.sh OLD_BIN NEW_BIN # compare builds one after the other, in one run
#
# It builds the release binary, creates a fresh database `backend_bench`,
# starts the server once to migrate it, then starts it again and measures the
# time from launch to the first answered request. It seeds one user with 100
# items through the API, reads the idle resident memory, and runs wrk against
# each endpoint. Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and wrk
# (installed with apt-get when missing). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
PORT="${PORT:-5160}"
DB_NAME="backend_bench"
PG="postgres://postgres@127.0.0.1:5432"
BASE="http://127.0.0.1:${PORT}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

if [ "$#" -eq 0 ]; then
  cargo build --release --quiet
  set -- target/release/backend-cli
fi

export LOCO_ENV=production
# Loopback: TLS to the database would only add a handshake per connection.
export DATABASE_URL="${PG}/${DB_NAME}?sslmode=disable"
export SECRET_KEY="bench-secret-0123456789abcdef0123456789abcdef"
export SERVER_HOST="${BASE}" WEB_APP_URL="http://localhost:3000"
export FIRST_SUPERUSER="admin@example.com" FIRST_SUPERUSER_PASSWORD="Password1234"
export PORT BINDING=127.0.0.1
export LOG_LEVEL="${LOG_LEVEL:-warn}"


server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
trap stop_server EXIT

wait_for_ping() {
  for _ in $(seq 1 20000); do
    curl -sf -o /dev/null "${BASE}/_ping" && return 0
  done
  echo "server did not answer" >&2
  exit 1
}

measure() {
BIN=$1
echo "## ${BIN}"
echo
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)"
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE ${DB_NAME}"

# First start migrates the database and creates the admin.
"$BIN" start >/tmp/bench-server.log 2>&1 &
server_pid=$!
wait_for_ping
stop_server

# Second start: the schema is up to date; measure launch to first response.
start_ns=$(date +%s%N)
"$BIN" start >>/tmp/bench-server.log 2>&1 &
server_pid=$!
wait_for_ping
startup_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))

json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
token=$(curl -sf -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password"}' | json '["access_token"]')
for n in $(seq 1 100); do
  curl -sf -o /dev/null -X POST "${BASE}/api/v1/items" -H "authorization: Bearer ${token}" \
    -H 'content-type: application/json' -d "{\"name\":\"item ${n}\",\"description\":\"seeded\"}"
done
item_id=$(curl -sf "${BASE}/api/v1/items?limit=1" -H "authorization: Bearer ${token}" | json '[0]["id"]')

sleep 1
idle_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/${server_pid}/status")

lua=$(mktemp)
cat >"$lua" <<LUA
wrk.headers["authorization"] = "Bearer ${token}"
wrk.headers["content-type"] = "application/json"
if os.getenv("WRK_METHOD") == "POST" then
  wrk.method = "POST"
  wrk.body = '{"name":"bench","description":"created by wrk"}'
end
LUA

printf '| endpoint | req/s | p50 | p99 |\n|---|---:|---:|---:|\n'
run() {
  local label=$1 method=$2 path=$3 out
  out=$(WRK_METHOD=$method wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$lua" "${BASE}${path}")
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$label: non-2xx answers" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '| %s | %s | %s | %s |\n' "$label" "$rps" "$p50" "$p99"
}
run "GET /api/v1/users/me" GET /api/v1/users/me
run "GET /api/v1/items/{id}" GET "/api/v1/items/${item_id}"
run "GET /api/v1/items?limit=100" GET "/api/v1/items?limit=100"
run "POST /api/v1/items" POST /api/v1/items
rm -f "$lua"

echo
echo "idle RSS: $((idle_rss_kb / 1024)) MB (${idle_rss_kb} kB)"
echo "start to first response (schema up to date): ${startup_ms} ms"
echo
stop_server
}

for bin in "$@"; do measure "$bin"; done
