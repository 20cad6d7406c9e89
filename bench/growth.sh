#!/usr/bin/env bash
# Lists as data grows: the item list of a user who owns 100, 10,000 and then
# 1,000,000 items, with as many older items of another user in the table, at
# 64 connections, production mode, PostgreSQL. Each scale measures the
# caller's first page of 100, a page deep in the list (`skip=5000`, and the
# same page by cursor), and the admin's list of everyone's items the same
# three ways; then prints each against the caller's first page at 100 items,
# and the plans PostgreSQL made (EXPLAIN (ANALYZE, BUFFERS)).
#
#   bench/growth.sh [BIN]          (default: the release build)
#   SCALES="100 10000" bench/growth.sh target/e2e/backend-cli
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
SCALES="${SCALES:-100 10000 1000000}"
source bench/common.sh "$@"

start_fresh "$1"
seed
caller_token=$token
caller=$(curl -sf "${BASE}/api/v1/users/me" -H "authorization: Bearer ${token}" | json '["id"]')
other=$(curl -sf -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"other@example.com","password":"bench-password"}' | json '["access_token"]')
other=$(curl -sf "${BASE}/api/v1/users/me" -H "authorization: Bearer ${other}" | json '["id"]')
admin_token=$(curl -sf -X POST "${BASE}/api/v1/auth/login" \
  -d "username=${FIRST_SUPERUSER}&password=${FIRST_SUPERUSER_PASSWORD}" | json '["access_token"]')
sql() { psql -qAt -h 127.0.0.1 -U postgres "$DB_NAME" -c "$1"; }

# Grows the caller's items to $1 (newer than every item there is) and the
# other user's to as many (older than every item there is).
grow_to() {
  local have
  have=$(sql "SELECT count(*) FROM items WHERE owner_id = '${caller}'")
  sql "INSERT INTO items (id, created_at, updated_at, name, description, owner_id)
       SELECT gen_random_uuid(), now() + g * interval '1 ms', now(), 'item ' || g, 'seeded', '${caller}'
       FROM generate_series(${have} + 1, $1) g"
  have=$(sql "SELECT count(*) FROM items WHERE owner_id = '${other}'")
  sql "INSERT INTO items (id, created_at, updated_at, name, description, owner_id)
       SELECT gen_random_uuid(), timestamptz '2000-01-01' - g * interval '1 ms', now(), 'item ' || g, 'seeded', '${other}'
       FROM generate_series(${have} + 1, $1) g"
  sql "VACUUM ANALYZE items"
}

# The cursor after row 5000 of the list token $1 reads: five pages of 1000.
cursor_at_5000() {
  local cursor=""
  for _ in 1 2 3 4 5; do
    cursor=$(curl -sf -D - -o /dev/null "${BASE}/api/v1/items?limit=1000${cursor:+&cursor=${cursor}}" \
      -H "authorization: Bearer $1" | awk 'tolower($1) == "x-next-cursor:" {print $2}' | tr -d '\r')
  done
  echo "$cursor"
}

runs=$(mktemp)
for scale in $SCALES; do
  grow_to "$scale"
  for who in caller admin; do
    [ "$who" = caller ] && token=$caller_token || token=$admin_token
    script=$(wrk_script)
    pages=("first page|limit=100")
    if [ "$scale" -gt 5100 ]; then
      pages+=("skip=5000|limit=100&skip=5000" "cursor at 5000|limit=100&cursor=$(cursor_at_5000 "$token")")
    fi
    for page in "${pages[@]}"; do
      load 64 -s "$script" "${BASE}/api/v1/items?${page#*|}"
      echo "${scale}|${who}|${page%%|*}|$(rps)|$(percentile 99%)" >>"$runs"
    done
    rm -f "$script"
  done
  echo "${scale}: done" >&2
done

echo "API: $1, $(date -u +%F)"
echo
python3 - "$runs" <<'PY'
import sys
rows = [line.strip().split("|") for line in open(sys.argv[1])]
base = next(int(r[3]) for r in rows if r[1] == "caller" and r[2] == "first page")
print("| caller's items (and the other user's) | list | page | req/s | p99 | / the first page at the first scale |")
print("|---:|---|---|---:|---:|---:|")
for scale, who, page, rate, p99 in rows:
    list_ = "the caller's" if who == "caller" else "the admin's (everyone's)"
    print(f"| {int(scale):,} | {list_} | {page} | {int(rate):,} | {p99} | {int(rate) / base:.2f} |")
PY
rm -f "$runs"

echo
echo "Plans at ${scale##* } items each:"
sel='SELECT "items"."created_at", "items"."updated_at", "items"."id", "items"."name", "items"."description", "items"."owner_id", "items"."archived_at" FROM "items"'
explain() { echo; echo "$1"; sql "EXPLAIN (ANALYZE, BUFFERS) $2" | grep -E 'Scan|Sort|Index Cond|Filter|Execution'; }
mine="WHERE \"items\".\"archived_at\" IS NULL AND \"items\".\"owner_id\" BETWEEN '${caller}' AND '${caller}' ORDER BY \"items\".\"owner_id\" ASC, \"items\".\"created_at\" ASC, \"items\".\"id\" ASC"
everyone='WHERE "items"."archived_at" IS NULL ORDER BY "items"."created_at" ASC, "items"."id" ASC'
explain "the caller's first page" "${sel} ${mine} LIMIT 100"
explain "the caller's skip=5000" "${sel} ${mine} LIMIT 100 OFFSET 5000"
at=$(sql "SELECT created_at, id FROM items WHERE owner_id = '${caller}' ORDER BY created_at, id OFFSET 4999 LIMIT 1" | tr '|' ' ')
read -r at_date at_time at_id <<<"$at"
after="AND (\"items\".\"created_at\", \"items\".\"id\") > ('${at_date} ${at_time}', '${at_id}')"
explain "the caller's page after a cursor at 5000" "${sel} ${mine/ ORDER BY/ ${after} ORDER BY} LIMIT 100"
explain "the admin's first page" "${sel} ${everyone} LIMIT 100"
explain "the admin's skip=5000" "${sel} ${everyone} LIMIT 100 OFFSET 5000"
