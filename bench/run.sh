#!/usr/bin/env bash
# authql benchmark: builds the release binary, runs it on SQLite and on
# PostgreSQL, drives it with wrk over loopback and prints one table.
#
# Every goal is a ratio taken in the same run on the same server, so it holds
# on a noisy machine. Usage:
#
#   bash bench/run.sh                 # both backends
#   BACKENDS=sqlite bash bench/run.sh
#   DURATION=20 bash bench/run.sh     # seconds per measurement (default 10)
#
# Needs wrk (Debian package `wrk`; installed here when missing and apt-get is
# usable), curl, python3, and for PostgreSQL a server at $BENCH_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-18765}"
URL="http://127.0.0.1:$PORT/graphql"
MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")"
PASSWORD="Correct horse battery staple 7"
WORK="$(mktemp -d)"
RESULTS_DIR="bench/results"
mkdir -p "$RESULTS_DIR"
SERVER_PID=""

cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    stop_smtp_sink
    rm -rf "$WORK"
}
trap cleanup EXIT

source bench/lib.sh
ensure_wrk

echo "building the release binary and the hash timer" >&2
cargo build --release --quiet --bin authql --example hash_cost
BIN="${CARGO_TARGET_DIR:-target}/release/authql"
CORES=$(nproc)

start_server() { # database-url
    ensure_smtp_sink
    env "${BENCH_MAIL_ENV[@]}" AUTHQL_ENV=production AUTHQL_MASTER_KEY="$MASTER_KEY" AUTHQL_LISTEN="127.0.0.1:$PORT" \
        AUTHQL_DATABASE_URL="$1" AUTHQL_DATABASE_MAX_CONNECTIONS=16 RUST_LOG=warn \
        AUTHQL_IP_CREDENTIAL_LIMIT=0 AUTHQL_HASHING_QUEUE=256 \
        "$BIN" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

wrk_run() { # threads connections script [extra wrk args...] -> RESULT line
    local threads=$1 connections=$2 script=$3
    shift 3
    wrk -t"$threads" -c"$connections" -d"${DURATION}s" --timeout 10s -s "bench/lua/$script" "$@" "$URL" |
        grep '^RESULT'
}

check_errors() { # name RESULT-line
    local errors
    errors=$(field "$2" errors)
    if [ "$errors" != "0" ]; then
        echo "warning: $1 had $errors failed requests: $2" >&2
    fi
}

register_body() {
    printf '{"query":"mutation($i: RegisterInput!) { register(input: $i) { accessToken } }","variables":{"i":{"name":"Bench","email":"%s","password":"%s","passwordConfirmation":"%s"}}}' \
        "$1" "$PASSWORD" "$PASSWORD"
}
LOGIN_BODY=$(printf '{"query":"mutation($i: LoginInput!) { login(input: $i) { accessToken } }","variables":{"i":{"email":"bench@example.com","password":"%s"}}}' "$PASSWORD")
TYPENAME_BODY='{"query":"{ __typename }"}'
ME_BODY='{"query":"{ me { id email } }"}'

echo "timing one argon2id hash" >&2
read -r HASH_MS PARALLEL_HASHES < <("${CARGO_TARGET_DIR:-target}"/release/examples/hash_cost)
CEILING=$(python3 -c "print(round($CORES / ($HASH_MS / 1000), 1))")

ROWS=()
for backend in $BACKENDS; do
    case "$backend" in
        sqlite) DB_URL="sqlite://$WORK/bench.db?mode=rwc" ;;
        postgres)
            psql "$PG_ADMIN_URL" -qc 'drop database if exists authql_bench with (force)' -c 'create database authql_bench' >/dev/null
            DB_URL="${PG_ADMIN_URL%/*}/authql_bench"
            ;;
        *) echo "unknown backend $backend" >&2; exit 1 ;;
    esac
    echo "== $backend" >&2
    start_server "$DB_URL"
    TOKEN=$(gql "$(register_body bench@example.com)" | json "d['data']['register']['accessToken']")

    # Refresh chains: one session per wrk thread, each rotating its own token.
    REFRESH_THREADS=4
    : >"$WORK/tokens"
    for _ in $(seq 1 "$REFRESH_THREADS"); do
        gql "${LOGIN_BODY/accessToken/refreshToken}" | json "d['data']['login']['refreshToken']" >>"$WORK/tokens"
    done

    echo "   { __typename }" >&2
    TYPENAME=$(BODY="$TYPENAME_BODY" wrk_run 2 16 graphql.lua)
    check_errors typename "$TYPENAME"
    echo "   { me { id email } }" >&2
    ME=$(BODY="$ME_BODY" TOKEN="$TOKEN" wrk_run 2 16 graphql.lua)
    check_errors me "$ME"
    echo "   login" >&2
    LOGIN=$(BODY="$LOGIN_BODY" wrk_run 2 8 graphql.lua)
    check_errors login "$LOGIN"

    echo "   me while login is flooded" >&2
    BODY="$LOGIN_BODY" wrk -t1 -c8 -d"$((DURATION + 2))s" --timeout 10s -s bench/lua/graphql.lua "$URL" >/dev/null &
    FLOOD=$!
    sleep 1
    ME_FLOODED=$(BODY="$ME_BODY" TOKEN="$TOKEN" wrk_run 1 4 graphql.lua)
    wait "$FLOOD" || true
    check_errors "me under flood" "$ME_FLOODED"

    echo "   refresh rotations" >&2
    REFRESH=$(TOKENS_FILE="$WORK/tokens" wrk_run "$REFRESH_THREADS" "$REFRESH_THREADS" refresh.lua)
    check_errors refresh "$REFRESH"
    stop_server

    ROWS+=("$(python3 - "$backend" "$TYPENAME" "$ME" "$LOGIN" "$ME_FLOODED" "$REFRESH" "$CEILING" "$PARALLEL_HASHES" <<'EOF'
import re, sys
backend, typename, me, login, flooded, refresh, ceiling, parallel = sys.argv[1:]
get = lambda line, key: float(re.search(key + r"=([0-9.]+)", line).group(1))
me_ratio = get(me, "rps") / get(typename, "rps")
login_ratio = get(login, "rps") / float(ceiling)
p99 = get(flooded, "p99_ms")
mark = lambda ok: "met" if ok else "MISSED"
print(f"| {backend} | {get(typename,'rps'):.0f} | {get(me,'rps'):.0f} | **{me_ratio:.2f}** ({mark(me_ratio >= 0.5)}) "
      f"| {get(login,'rps'):.1f} / {float(ceiling):.1f} = **{login_ratio:.2f}** ({mark(login_ratio >= 0.85)}) "
      f"| {get(login,'rps') / float(parallel):.2f} "
      f"| **{p99:.1f}** ({mark(p99 < 20)}) | {get(refresh,'rps'):.0f} | {get(me,'rps'):.0f} |")
EOF
)")
done

{
    echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "One argon2id hash (m=19 MiB, t=2, p=1, one thread): ${HASH_MS} ms; login ceiling = ${CORES} cores / hash time = ${CEILING}/s"
    echo "authql's hasher with all ${CORES} cores busy: ${PARALLEL_HASHES} hashes/s"
    echo "wrk over loopback on the same machine, ${DURATION}s per measurement"
    echo
    echo "| backend | \`{ __typename }\` req/s | \`me\` req/s | me / __typename (goal ≥ 0.5) | login req/s / ceiling (goal ≥ 0.85) | login / measured parallel hash rate | \`me\` p99 ms during login flood (goal < 20) | refresh rotations/s | \`me\` req/s |"
    echo "|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$RESULTS_DIR/latest.md"
