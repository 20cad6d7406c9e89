#!/usr/bin/env bash
# Data export benchmark: the memory an export takes as the account grows.
# The release server (production settings, PostgreSQL, the local folder
# store, the export job in the server process) exports a small account, then
# one with ITEMS items and FILES files of FILE_MIB each; for each, the
# server's peak resident memory (VmHWM, reset before the export), the time
# to ready, and the archive's size. Then the `user_export` task writes the
# large account's archive to a file, under /usr/bin/time: its peak.
#
#   bench/exports.sh [BINARY]             (default: the release build)
#   ITEMS=10000 FILES=20 FILE_MIB=10      the large account
#
# Needs what bench/run.sh needs, and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS="${ITEMS:-10000}"
FILES="${FILES:-20}"
FILE_MIB="${FILE_MIB:-10}"
source bench/common.sh "$@"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-exports.XXXXXX")
trap 'stop_server; rm -rf "$work"' EXIT
export FILE_STORAGE_PATH="${work}/store" WORKERS_MODE=BackgroundAsync
export RATE_LIMIT_UPLOAD_PER_USER=100000 RATE_LIMIT_UPLOAD_PER_IP=100000
export FILES_QUOTA_BYTES=0 FILES_QUOTA_COUNT=0

register() {
  curl -sf -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"bench-password\"}" | json '["access_token"]'
}

# Exports the account of token $1; prints "peak_mib seconds archive_mib".
export_once() {
  echo 5 >"/proc/${server_pid}/clear_refs"
  local start state
  start=$(date +%s%N)
  curl -sf -o /dev/null -X POST "${BASE}/api/v1/users/me/export" -H "authorization: Bearer $1"
  while :; do
    state=$(curl -sf "${BASE}/api/v1/users/me/export" -H "authorization: Bearer $1" | json '["state"]')
    [ "$state" = pending ] || break
    sleep 0.05
  done
  [ "$state" = ready ] || { echo "export ${state}" >&2; exit 1; }
  local seconds peak size
  seconds=$(python3 -c "print(f'{($(date +%s%N) - $start) / 1e9:.1f}')")
  peak=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/${server_pid}/status")
  size=$(curl -sf "${BASE}/api/v1/users/me/export/download" -H "authorization: Bearer $1" | wc -c)
  echo "${peak} ${seconds} $((size / 1024 / 1024))"
}

start_fresh "$1"
small=$(register small@example.com)
large=$(register large@example.com)
python3 - "$BASE" "$large" "$ITEMS" <<'PY'
import http.client, json, sys
from urllib.parse import urlparse
base, token, items = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urlparse(base)
connection = http.client.HTTPConnection(url.hostname, url.port)
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
for n in range(items):
    body = json.dumps({"name": f"item {n}", "description": "seeded for the export benchmark " * 4})
    connection.request("POST", "/api/v1/items", body, headers)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
head -c "$((FILE_MIB * 1024 * 1024))" /dev/urandom >"${work}/file.bin"
for n in $(seq 1 "$FILES"); do
  curl -sf -o /dev/null -X POST "${BASE}/api/v1/files" -H "authorization: Bearer ${large}" \
    -F "file=@${work}/file.bin;filename=file-${n}.bin"
done

echo "idle RSS after seeding: $(rss_mb) MiB"
echo "| account | server peak (VmHWM) | to ready | archive |"
echo "|---|---:|---:|---:|"
read -r peak seconds size < <(export_once "$small")
echo "| empty | ${peak} MiB | ${seconds} s | ${size} MiB |"
read -r peak seconds size < <(export_once "$large")
echo "| ${ITEMS} items, ${FILES} × ${FILE_MIB} MiB files | ${peak} MiB | ${seconds} s | ${size} MiB |"
stop_server

for account in small large; do
  kib=$( { /usr/bin/time -f '%M' "$1" task user_export "email:${account}@example.com" \
    "path:${work}/${account}.zip" >/dev/null; } 2>&1 | tail -1)
  echo "user_export task, ${account} account: peak $((kib / 1024)) MiB, archive $(($(stat -c %s "${work}/${account}.zip") / 1024 / 1024)) MiB"
done
