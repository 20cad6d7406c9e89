#!/usr/bin/env bash
# File store benchmark: 16 concurrent uploads of 20 MiB to the release server
# (production settings, PostgreSQL, the local folder store), then 16
# concurrent downloads of them, beside a plain `cp` of the same bytes on the
# same disk; and the server's peak resident memory (VmHWM) over the run.
#
#   bench/files.sh [BINARY]        (default: the release build)
#   UPLOADS=16 SIZE_MIB=20         the load
#
# Needs what bench/run.sh needs, and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
UPLOADS="${UPLOADS:-16}"
SIZE_MIB="${SIZE_MIB:-20}"
source bench/common.sh "$@"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-files.XXXXXX")
trap 'stop_server; rm -rf "$work"' EXIT
export FILE_STORAGE_PATH="${work}/store"
total_mib=$((UPLOADS * SIZE_MIB))

head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"${work}/upload.bin"
sync

mib_per_s() { python3 -c "print(f'{$1 / ($2 / 1e9):.0f}')"; }

# The disk's own pace: the same bytes copied as many times, at once.
mkdir -p "${work}/copies"
start=$(date +%s%N)
for n in $(seq 1 "$UPLOADS"); do cp "${work}/upload.bin" "${work}/copies/${n}.bin" & done
wait
sync
cp_ns=$(( $(date +%s%N) - start ))
rm -rf "${work}/copies"

start_fresh "$1"
seed_user() {
  token=$(curl -sf -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password"}' | json '["access_token"]')
}
seed_user
# The seeding registration's hash buffer (19 MiB) goes back 10 s after it
# (BENCHMARKS.md, "Memory"): the run starts after that, so that its peak is
# the files' own.
sleep 11
idle_rss=$(rss_mb)
# Resets VmHWM, the peak, to what is resident now.
echo 5 >"/proc/${server_pid}/clear_refs"

# `wait` on the transfers only: a bare one would wait for the server too.
transfers=()
start=$(date +%s%N)
for n in $(seq 1 "$UPLOADS"); do
  curl -sf -o "${work}/answer-${n}.json" -H "authorization: Bearer ${token}" \
    -F "file=@${work}/upload.bin;filename=upload-${n}.bin" "${BASE}/api/v1/files" &
  transfers+=($!)
done
wait "${transfers[@]}"
sync
upload_ns=$(( $(date +%s%N) - start ))
ids=$(for n in $(seq 1 "$UPLOADS"); do json '["id"]' <"${work}/answer-${n}.json"; done)
[ "$(echo "$ids" | wc -l)" -eq "$UPLOADS" ] || { echo "not every upload was stored" >&2; exit 1; }

mkdir -p "${work}/downloads"
transfers=()
start=$(date +%s%N)
for id in $ids; do
  curl -sf -o "${work}/downloads/${id}" -H "authorization: Bearer ${token}" \
    "${BASE}/api/v1/files/${id}/download" &
  transfers+=($!)
done
wait "${transfers[@]}"
sync
download_ns=$(( $(date +%s%N) - start ))
for id in $ids; do
  cmp -s "${work}/upload.bin" "${work}/downloads/${id}" || { echo "download ${id} differs" >&2; exit 1; }
done
peak_rss=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/${server_pid}/status")

echo "${UPLOADS} x ${SIZE_MIB} MiB (${total_mib} MiB in all)"
echo "cp on this disk:  $(mib_per_s "$total_mib" "$cp_ns") MiB/s"
echo "uploads:          $(mib_per_s "$total_mib" "$upload_ns") MiB/s"
echo "downloads:        $(mib_per_s "$total_mib" "$download_ns") MiB/s"
echo "server RSS: ${idle_rss} MiB idle, peak ${peak_rss} MiB over the run"
