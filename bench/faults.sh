#!/usr/bin/env bash
# Faults survived, on PostgreSQL (release build, production settings):
#
# 1. PostgreSQL restarts under load (64 connections on /users/me and an item):
#    meanwhile the server answers 503 and /_health says so; afterwards it
#    answers 200 again without being restarted. Any 500 fails the run.
# 2. SMTP is down while mail is queued: the mails wait and are retried by the
#    scheduler; once SMTP is back, every one is delivered (takes a minute or two:
#    the first retry waits a minute).
#
#   bench/faults.sh [BIN]
#   FAULTS=postgres bench/faults.sh     # one of them (postgres, smtp)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-20s}"
source bench/common.sh "$@"
bin="$1"
SMTP_PORT=2525
export SMTP_HOST=127.0.0.1 SMTP_PORT SMTP_TLS=none EMAILS_FROM_EMAIL=noreply@example.com
export RATE_LIMIT_REGISTER_PER_IP=1000

FAULTS="${FAULTS:-postgres smtp}"
cluster="$(ls /etc/postgresql)"
health() { curl -s -o /dev/null -w '%{http_code}' "${BASE}/_health"; }

failed=0
if [[ " $FAULTS " == *" postgres "* ]]; then
echo "## PostgreSQL restarted under load"
start_fresh "$bin"
seed
wrk_log=$(mktemp)
TOKEN="$token" wrk -t2 -c64 -d"$DURATION" --timeout 10s -s bench/statuses.lua "${BASE}/api/v1/items/${item_id}" >"$wrk_log" &
wrk_pid=$!
sleep 5
pg_ctlcluster --skip-systemctl-redirect "$cluster" main stop -m fast
down=$(health)
echo "PostgreSQL down: /_health answers ${down}"
sleep 2
pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
until pg_isready -q -h 127.0.0.1 -p 5432; do sleep 0.2; done
wait "$wrk_pid"
recovered=""
for _ in $(seq 1 50); do
  recovered=$(health)
  [ "$recovered" = 200 ] && break
  sleep 0.2
done
echo "PostgreSQL back: /_health answers ${recovered}"
echo "answers under load (status count):"
sed -n '/^statuses:/,$p' "$wrk_log" | tail -n +2 | sort
grep -E "Requests/sec|Socket errors" "$wrk_log" || true
after=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer ${token}" "${BASE}/api/v1/users/me")
echo "a request after recovery: ${after}"
[ "$down" = 503 ] || { echo "FAILED: /_health did not say the database is down" >&2; failed=1; }
[ "$recovered" = 200 ] && [ "$after" = 200 ] || { echo "FAILED: no recovery without a restart" >&2; failed=1; }
if sed -n '/^statuses:/,$p' "$wrk_log" | grep -q "^500 "; then
  echo "FAILED: 500 answers:" >&2
  grep '"request failed"' /tmp/bench-server.log | head -5 >&2
  failed=1
fi
stop_server
fi

if [[ " $FAULTS " == *" smtp "* ]]; then
echo
echo "## SMTP down while mail is queued"
start_fresh "$bin"
stop_server
# The queue worker and the scheduler too: production's mail path.
"$bin" start --all >>/tmp/bench-server.log 2>&1 &
server_pid=$!
wait_for_ping
for n in 1 2 3 4 5; do
  curl -sf -o /dev/null -X POST "${BASE}/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"fault-${n}@example.com\",\"password\":\"fault-password\"}"
done
count() { psql -qAt -h 127.0.0.1 -U postgres -d "$DB_NAME" -c "SELECT count(*) FROM mails WHERE status = '$1'"; }
sleep 3
echo "SMTP down: $(count queued) queued, $(count sent) sent"
received=$(mktemp)
python3 - "$SMTP_PORT" "$received" <<'PY' &
import asyncio, sys
port, path = int(sys.argv[1]), sys.argv[2]
async def converse(reader, writer):
    def say(line): writer.write(line.encode() + b"\r\n")
    say("220 faults ESMTP")
    while line := (await reader.readline()).decode().strip():
        verb = line.split()[0].upper()
        if verb == "DATA":
            say("354 go on")
            while (await reader.readline()).strip() != b".":
                pass
            with open(path, "a") as out:
                out.write("message\n")
            say("250 queued")
        elif verb == "QUIT":
            say("221 bye"); await writer.drain(); break
        elif verb == "EHLO":
            say("250 faults")
        else:
            say("250 OK")
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(converse, "127.0.0.1", port)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
smtp_pid=$!
start=$(date +%s)
until [ "$(count sent)" = 5 ] || [ $(( $(date +%s) - start )) -gt 240 ]; do sleep 2; done
echo "SMTP back: all sent after $(( $(date +%s) - start )) s: $(count sent) sent, $(count queued) queued, $(wc -l <"$received") messages received"
kill "$smtp_pid" 2>/dev/null || true
[ "$(count sent)" = 5 ] && [ "$(wc -l <"$received")" = 5 ] || { echo "FAILED: mail lost or sent twice" >&2; failed=1; }
stop_server
fi
exit "$failed"
