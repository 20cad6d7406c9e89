#!/usr/bin/env bash
# Memory benchmark: resident memory of the release server, on PostgreSQL, idle,
# after each load scenario (run twice: a second run must not raise it), and
# after a minute idle. Each scenario's throughput is printed beside it.
#
#   bench/memory.sh                   # the release build, 15 s per scenario
#   bench/memory.sh OLD_BIN NEW_BIN   # compare builds, in one run
#
# Needs what bench/run.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-15s}"
IDLE_SECONDS="${IDLE_SECONDS:-60}"
source bench/common.sh "$@"
# Sign-ins and registrations are measured, not refused: lift production's limits.
export RATE_LIMIT_LOGIN_PER_IP=100000000 RATE_LIMIT_LOGIN_PER_EMAIL=100000000
export RATE_LIMIT_REGISTER_PER_IP=100000000 RATE_LIMIT_REGISTER_PER_EMAIL=100000000

scripts=$(mktemp -d)
trap 'stop_server; rm -rf "$scripts"' EXIT

write_scripts() {
  cat >"$scripts/crud.lua" <<LUA
wrk.headers["authorization"] = "Bearer ${token}"
wrk.headers["content-type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  if n % 3 == 0 then
    return wrk.format("GET", "/api/v1/users/me")
  elseif n % 3 == 1 then
    return wrk.format("GET", "/api/v1/items/${item_id}")
  end
  return wrk.format("POST", "/api/v1/items", nil, '{"name":"bench","description":"by wrk"}')
end
LUA
  cat >"$scripts/signin.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/x-www-form-urlencoded"
wrk.body = "username=bench%40example.com&password=bench-password"
LUA
  # Every registration a new email: per thread, a prefix from setup, then a counter.
  cat >"$scripts/register.lua" <<'LUA'
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("prefix", os.time() .. "-" .. threads)
end
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"email":"r%s-%d@example.com","password":"bench-password"}', prefix, n)
  return wrk.format("POST", "/api/v1/auth/register", {["content-type"] = "application/json"}, body)
end
LUA
}

scenario() {
  local label=$1 connections=$2 script=$3 path=$4
  load "$connections" -s "$scripts/$script" "${BASE}${path}"
  printf '| %s | %s | %s | %s |\n' "$label" "$(rps)" "$(percentile 99%)" "$(rss_mb)"
}

measure() {
  echo "## $1"
  echo
  start_fresh "$1"
  seed
  write_scripts
  sleep 1
  printf '| after | req/s | p99 | RSS MB |\n|---|---:|---:|---:|\n'
  printf '| idle, seeded | | | %s |\n' "$(rss_mb)"
  for round in 1 2; do
    scenario "CRUD, 64 connections (run ${round})" 64 crud.lua /
    scenario "CRUD, 256 connections (run ${round})" 256 crud.lua /
    scenario "sign-in, 8 connections (run ${round})" 8 signin.lua /api/v1/auth/login
    scenario "sign-in, 64 connections (run ${round})" 64 signin.lua /api/v1/auth/login
    scenario "registration, 64 connections (run ${round})" 64 register.lua /
  done
  sleep "$IDLE_SECONDS"
  printf '| %s s idle | | | %s |\n' "$IDLE_SECONDS" "$(rss_mb)"
  echo
  stop_server
}

for bin in "$@"; do measure "$bin"; done
