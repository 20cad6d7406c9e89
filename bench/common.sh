# Shared by the benchmarks: sourced, not run. Sets up a production-mode server
# on a fresh database (PostgreSQL, or SQLite with BENCH_DB=sqlite), and seeds
# one user with 100 items.
#
# After `source bench/common.sh "$@"`, the positional parameters name the
# binaries to measure (the release build when none is given).

DURATION="${DURATION:-10s}"
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
BENCH_DB="${BENCH_DB:-postgres}"
SQLITE_FILE="${TMPDIR:-/tmp}/${DB_NAME}.sqlite"
if [ "$BENCH_DB" = sqlite ]; then
  export DATABASE_URL="sqlite://${SQLITE_FILE}?mode=rwc"
else
  export DATABASE_URL="${PG}/${DB_NAME}?sslmode=disable"
fi
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

# Starts binary $1 on a fresh database (a first start migrates it and creates
# the admin), and sets `startup_ms`: launch to first response, schema up to date.
start_fresh() {
  if [ "$BENCH_DB" = sqlite ]; then
    rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"
  else
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)"
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE ${DB_NAME}"
  fi
  "$1" start >/tmp/bench-server.log 2>&1 &
  server_pid=$!
  wait_for_ping
  stop_server
  local start_ns
  start_ns=$(date +%s%N)
  "$1" start >>/tmp/bench-server.log 2>&1 &
  server_pid=$!
  wait_for_ping
  startup_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
}

json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

# Registers bench@example.com with 100 items; sets `token` and `item_id`.
seed() {
  token=$(curl -sf -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password"}' | json '["access_token"]')
  for n in $(seq 1 100); do
    curl -sf -o /dev/null -X POST "${BASE}/api/v1/items" -H "authorization: Bearer ${token}" \
      -H 'content-type: application/json' -d "{\"name\":\"item ${n}\",\"description\":\"seeded\"}"
  done
  item_id=$(curl -sf "${BASE}/api/v1/items?limit=1" -H "authorization: Bearer ${token}" | json '[0]["id"]')
}

# Writes a wrk script that signs in with `token` and, when WRK_METHOD=POST,
# creates an item; prints its path.
wrk_script() {
  local script
  script=$(mktemp)
  cat >"$script" <<LUA
wrk.headers["authorization"] = "Bearer ${token}"
wrk.headers["content-type"] = "application/json"
if os.getenv("WRK_METHOD") == "POST" then
  wrk.method = "POST"
  wrk.body = '{"name":"bench","description":"created by wrk"}'
end
LUA
  echo "$script"
}

rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/${server_pid}/status"; }

# Runs wrk (`wrk_out` keeps its output); fails on any non-2xx answer and on
# any socket error (a request unanswered within WRK_TIMEOUT counts as one).
load() {
  local connections=$1; shift
  wrk_out=$(wrk -t"$THREADS" -c"$connections" -d"$DURATION" --timeout "${WRK_TIMEOUT:-5s}" --latency "$@")
  if echo "$wrk_out" | grep -q "Non-2xx\|Socket errors"; then
    echo "failed or unanswered requests" >&2
    echo "$wrk_out" >&2
    exit 1
  fi
}
rps() { echo "$wrk_out" | awk '/Requests\/sec/ {printf "%d", $2}'; }
percentile() { echo "$wrk_out" | awk -v p="$1" '$1 == p {print $2}'; }
