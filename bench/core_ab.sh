#!/usr/bin/env bash
# The session core's hot paths, two builds side by side in one run: guarded
# `me` (one session, 32 connections), `login` (16 connections: bound by the
# argon2id pool) and refresh rotations ($CHAINS chains at once, one
# connection each), on a fresh database per build and round, alternating
# A B A B so drift on a noisy machine shows.
#
#   bash bench/core_ab.sh BIN_A BIN_B
#   BACKENDS=sqlite ROUNDS=1 DURATION=5 bash bench/core_ab.sh /tmp/authql-before target/release/authql
#   PATHS=refresh bash bench/core_ab.sh BIN_A BIN_B   (what bench/refresh_ab.sh runs)
#
# Build the earlier binary from a checkout of the earlier commit, in a
# target directory of its own (with a shared one, cargo reused one checkout's
# `entity` crate for the other). Needs wrk,
# curl, python3 and for PostgreSQL a server at $BENCH_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 2 ] || { echo "usage: bash bench/core_ab.sh BIN_A BIN_B" >&2; exit 2; }

DURATION="${DURATION:-10}"
CHAINS="${CHAINS:-32}"
ROUNDS="${ROUNDS:-2}"
PATHS="${PATHS:-me login refresh}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-18795}"
URL="http://127.0.0.1:$PORT/graphql"
MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")"
PASSWORD="Correct horse battery staple 7"
WORK="$(mktemp -d)"
source bench/lib.sh
trap 'stop_servers; rm -rf "$WORK"' EXIT
ensure_wrk

REGISTER_BODY=$(printf '{"query":"mutation($i: RegisterInput!) { register(input: $i) { accessToken } }","variables":{"i":{"name":"Bench","email":"core@example.com","password":"%s","passwordConfirmation":"%s"}}}' "$PASSWORD" "$PASSWORD")
LOGIN_BODY=$(printf '{"query":"mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }","variables":{"i":{"email":"core@example.com","password":"%s"}}}' "$PASSWORD")
ME_BODY='{"query":"{ me { id email } }"}'

row() { # backend build path result
    [ "$(field "$4" errors)" = 0 ] || echo "warning: failed requests: $4" >&2
    echo "| $1 | $3 | $2 | $(field "$4" rps) | $(field "$4" p50_ms) | $(field "$4" p99_ms) |"
}

echo "| backend | path | build | requests/s | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|"
for backend in $BACKENDS; do
    for _ in $(seq 1 "$ROUNDS"); do
        for build in A B; do
            if [ "$build" = A ]; then BIN="$1"; else BIN="$2"; fi
            DB_URL=$(fresh_database "$backend" authql_bench_core)
            start_server "$DB_URL"
            TOKEN=$(gql "$REGISTER_BODY" | json "d['data']['register']['accessToken']")
            for path in $PATHS; do
                case "$path" in
                    me) RESULT=$(TOKEN="$TOKEN" BODY="$ME_BODY" wrk_run 1 32 graphql.lua) ;;
                    login) RESULT=$(BODY="$LOGIN_BODY" wrk_run 1 16 graphql.lua) ;;
                    refresh)
                        : >"$WORK/tokens"
                        for _ in $(seq 1 "$CHAINS"); do
                            gql "$LOGIN_BODY" | json "d['data']['login']['refreshToken']" >>"$WORK/tokens"
                        done
                        RESULT=$(TOKENS_FILE="$WORK/tokens" wrk_run "$CHAINS" "$CHAINS" refresh.lua)
                        ;;
                    *) echo "unknown path: $path" >&2; exit 2 ;;
                esac
                row "$backend" "$build" "$path" "$RESULT"
            done
            stop_servers
        done
    done
done
