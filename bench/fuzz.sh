#!/usr/bin/env bash
# Fuzzes the API from its own OpenAPI document with schemathesis: every
# operation, with generated valid and invalid input, signed in as the admin so
# that protected routes are reached; the run fails if that session did not
# last through the main pass. Fails on any 5xx, any status the document
# does not list, and any answer that breaks its documented schema.
#
#   bench/fuzz.sh [BINARY]      (default: target/debug/backend-cli)
#   FUZZ_SECONDS=120            time budget
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${1:-target/debug/backend-cli}"
FUZZ_SECONDS="${FUZZ_SECONDS:-120}"
PORT="${FUZZ_PORT:-5171}"
BASE="http://127.0.0.1:${PORT}"
SCHEMATHESIS_VERSION="4.32.5"
VENV="target/fuzz-venv"

[ -x "$BIN" ] || cargo build --quiet
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Development settings on an SQLite file and a file store of their own; mail
# is logged, not sent.
env -u REDIS_URL -u SMTP_HOST LOCO_ENV=development \
  DATABASE_URL="sqlite://${work}/fuzz.sqlite?mode=rwc" FILE_STORAGE_PATH="${work}/storage" \
  PORT="$PORT" BINDING=127.0.0.1 \
  LOG_LEVEL="${LOG_LEVEL:-error}" "$BIN" start >"${work}/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "${BASE}/_ping" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "${work}/server.log"; exit 1; }
  sleep 0.1
done

token="$(curl -sf "${BASE}/api/v1/auth/login" \
  -d username=admin@example.com -d password=Password1234 |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

# Operations that can end the caller's own session (an admin archiving,
# deleting or re-addressing themselves, or ending their sessions, ends their
# tokens): fuzzed last, in a pass of their own, so that they do not turn the
# main pass into 401s.
SESSION_ENDING='^(DELETE /api/v1/users/me/archive|PUT /api/v1/users/\{user_id\}|DELETE /api/v1/users/\{user_id\}(/archive|/sessions)?|DELETE /api/v1/auth/sessions/\{id\})$'
fuzz() {
  "$VENV/bin/st" run "${BASE}/api/v1/openapi.json" \
    --header "Authorization: Bearer ${token}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --workers 2 \
    --suppress-health-check all \
    --warnings off \
    --no-color "$@"
}
status=0
fuzz --max-time "$FUZZ_SECONDS" --exclude-name-regex "$SESSION_ENDING" || status=$?
# Every protected case after a lost session would be a 401, documented and
# passing: say so rather than count them.
session="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token}" "${BASE}/api/v1/users/me")"
if [ "$session" != 200 ]; then
  echo "the fuzzer's admin session ended during the run (/users/me: ${session}): later protected cases tested nothing" >&2
  status=1
fi
fuzz --max-time 20 --include-name-regex "$SESSION_ENDING" || status=$?
if grep -q "panicked" "${work}/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 "panicked" "${work}/server.log" >&2
  exit 1
fi
exit "$status"
