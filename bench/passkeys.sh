#!/usr/bin/env bash
# Passkey sign-ins beside password sign-ins (bench/passkeys.py), on
# PostgreSQL, production mode, passkeys on, the login limits lifted:
#
#   bench/passkeys.sh [BIN]          (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh "$@"
export RATE_LIMIT_LOGIN_PER_IP=100000000 RATE_LIMIT_LOGIN_PER_EMAIL=100000000
export PASSKEYS_ENABLED=true WEBAUTHN_RP_ID=localhost WEBAUTHN_RP_ORIGINS="http://localhost:${PORT}"
python3 -c "import cryptography" 2>/dev/null || pip install --quiet cryptography

start_fresh "$1"
python3 bench/passkeys.py "$BASE" "http://localhost:${PORT}"
