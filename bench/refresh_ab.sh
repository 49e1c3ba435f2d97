#!/usr/bin/env bash
# Refresh rotations, two builds side by side in one run: $CHAINS chains at
# once (one wrk thread and connection each, every request a real rotation),
# on a fresh database per measurement, alternating A B A B so drift on a noisy
# machine shows.
#
#   bash bench/refresh_ab.sh BIN_A BIN_B
#   BACKENDS=sqlite ROUNDS=3 bash bench/refresh_ab.sh /tmp/authql-before target/release/authql
#
# Build the earlier binary from a checkout of the earlier commit (in its own
# target directory). Needs wrk, curl, python3 and for PostgreSQL a server at
# $BENCH_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 2 ] || { echo "usage: bash bench/refresh_ab.sh BIN_A BIN_B" >&2; exit 2; }

DURATION="${DURATION:-10}"
CHAINS="${CHAINS:-32}"
ROUNDS="${ROUNDS:-2}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-18790}"
URL="http://127.0.0.1:$PORT/graphql"
MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")"
PASSWORD="Correct horse battery staple 7"
WORK="$(mktemp -d)"
source bench/lib.sh
trap 'stop_servers; rm -rf "$WORK"' EXIT
ensure_wrk

REGISTER_BODY=$(printf '{"query":"mutation($i: RegisterInput!) { register(input: $i) { accessToken } }","variables":{"i":{"name":"Bench","email":"ab@example.com","password":"%s","passwordConfirmation":"%s"}}}' "$PASSWORD" "$PASSWORD")
LOGIN_BODY=$(printf '{"query":"mutation($i: LoginInput!) { login(input: $i) { refreshToken } }","variables":{"i":{"email":"ab@example.com","password":"%s"}}}' "$PASSWORD")

echo "| backend | build | rotations/s | p50 ms | p99 ms |"
echo "|---|---|---|---|---|"
for backend in $BACKENDS; do
    for _ in $(seq 1 "$ROUNDS"); do
        for build in A B; do
            if [ "$build" = A ]; then BIN="$1"; else BIN="$2"; fi
            DB_URL=$(fresh_database "$backend" authql_bench_ab)
            start_server "$DB_URL"
            gql "$REGISTER_BODY" >/dev/null
            : >"$WORK/tokens"
            for _ in $(seq 1 "$CHAINS"); do
                gql "$LOGIN_BODY" | json "d['data']['login']['refreshToken']" >>"$WORK/tokens"
            done
            RESULT=$(TOKENS_FILE="$WORK/tokens" wrk_run "$CHAINS" "$CHAINS" refresh.lua)
            stop_servers
            [ "$(field "$RESULT" errors)" = 0 ] || echo "warning: failed requests: $RESULT" >&2
            echo "| $backend | $build | $(field "$RESULT" rps) | $(field "$RESULT" p50_ms) | $(field "$RESULT" p99_ms) |"
        done
    done
done
