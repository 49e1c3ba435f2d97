#!/usr/bin/env bash
# The cost of asymmetric signing: guarded `me` against `{ __typename }` on the
# same server, with HS256 and with EdDSA side by side, on SQLite and
# PostgreSQL, with one session and with $SESSIONS distinct sessions; then the
# cost of one sign and one verify of each algorithm. Every goal is a ratio
# taken in one run on one server.
#
#   bash bench/signing.sh
#   BACKENDS=sqlite SESSIONS=500 DURATION=5 bash bench/signing.sh
#
# Needs wrk, curl, python3 and (for PostgreSQL) a server at
# $BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
SESSIONS="${SESSIONS:-2000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-18766}"
URL="http://127.0.0.1:$PORT/graphql"
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

echo "building the release binary and the JWT timer" >&2
cargo build --release --quiet --bin authql --example jwt_cost
BIN="${CARGO_TARGET_DIR:-target}/release/authql"

start_server() { # database-url algorithm
    local signing=()
    if [ "$2" = HS256 ]; then
        signing=(AUTHQL_JWT_SECRET="$(python3 -c "import secrets; print(secrets.token_urlsafe(48))")")
    else
        signing=(AUTHQL_MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")")
    fi
    ensure_smtp_sink
    env "${BENCH_MAIL_ENV[@]}" AUTHQL_ENV=production AUTHQL_JWT_ALGORITHM="$2" "${signing[@]}" \
        AUTHQL_LISTEN="127.0.0.1:$PORT" AUTHQL_DATABASE_URL="$1" AUTHQL_DATABASE_MAX_CONNECTIONS=16 \
        AUTHQL_IP_CREDENTIAL_LIMIT=0 AUTHQL_HASHING_QUEUE=256 RUST_LOG=warn \
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

wrk_run() { # script -> RESULT line
    wrk -t2 -c16 -d"${DURATION}s" --timeout 10s -s "bench/lua/$1" "$URL" | grep '^RESULT'
}

rps() { field "$1" rps; }
errors() { field "$1" errors; }

REGISTER_BODY=$(printf '{"query":"mutation($i: RegisterInput!) { register(input: $i) { accessToken } }","variables":{"i":{"name":"Bench","email":"bench@example.com","password":"%s","passwordConfirmation":"%s"}}}' "$PASSWORD" "$PASSWORD")
LOGIN_BODY=$(printf '{"query":"mutation($i: LoginInput!) { login(input: $i) { accessToken } }","variables":{"i":{"email":"bench@example.com","password":"%s"}}}' "$PASSWORD")
export LOGIN_BODY URL

ROWS=()
for backend in $BACKENDS; do
    for algorithm in HS256 EdDSA; do
        case "$backend" in
            sqlite) rm -f "$WORK"/bench.db*; DB_URL="sqlite://$WORK/bench.db?mode=rwc" ;;
            postgres)
                psql "$PG_ADMIN_URL" -qc 'drop database if exists authql_bench with (force)' -c 'create database authql_bench' >/dev/null
                DB_URL="${PG_ADMIN_URL%/*}/authql_bench"
                ;;
        esac
        echo "== $backend, $algorithm" >&2
        start_server "$DB_URL" "$algorithm"
        TOKEN=$(gql "$REGISTER_BODY" | json "d['data']['register']['accessToken']")
        echo "   $SESSIONS logins" >&2
        seq 1 "$SESSIONS" | xargs -P 8 -I{} sh -c \
            'curl -sf "$URL" -H "content-type: application/json" -d "$LOGIN_BODY"' |
            python3 -c "import json,sys; [print(json.loads(l)['data']['login']['accessToken']) for l in sys.stdin.read().replace('}{', '}\n{').splitlines()]" \
            >"$WORK/tokens"
        [ "$(wc -l <"$WORK/tokens")" = "$SESSIONS" ] || { echo "only $(wc -l <"$WORK/tokens") logins succeeded" >&2; exit 1; }

        echo "   { __typename }" >&2
        TYPENAME=$(BODY='{"query":"{ __typename }"}' wrk_run graphql.lua)
        echo "   me, one session" >&2
        ONE=$(BODY='{"query":"{ me { id email } }"}' TOKEN="$TOKEN" wrk_run graphql.lua)
        echo "   me, $SESSIONS sessions" >&2
        MANY=$(TOKENS_FILE="$WORK/tokens" wrk_run me_many.lua)
        stop_server
        for result in "$TYPENAME" "$ONE" "$MANY"; do
            [ "$(errors "$result")" = 0 ] || echo "warning: failed requests: $result" >&2
        done
        ROWS+=("$(python3 - "$backend" "$algorithm" "$(rps "$TYPENAME")" "$(rps "$ONE")" "$(rps "$MANY")" "$SESSIONS" <<'EOF'
import sys
backend, algorithm, typename, one, many, sessions = sys.argv[1:]
typename, one, many = float(typename), float(one), float(many)
mark = lambda r: "met" if r >= 0.5 else "MISSED"
print(f"| {backend} | {algorithm} | {typename:.0f} | {one:.0f} | **{one / typename:.2f}** ({mark(one / typename)}) "
      f"| {many:.0f} | **{many / typename:.2f}** ({mark(many / typename)}) |")
EOF
)")
    done
done

echo "timing one sign and one verify per algorithm" >&2
COSTS=$("${CARGO_TARGET_DIR:-target}"/release/examples/jwt_cost)

{
    echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "wrk -t2 -c16 over loopback on the same machine, ${DURATION}s per measurement; $SESSIONS sessions = $SESSIONS logins of one user"
    echo
    echo "| backend | algorithm | \`{ __typename }\` req/s | \`me\` req/s, 1 session | ratio (goal ≥ 0.5) | \`me\` req/s, $SESSIONS sessions | ratio (goal ≥ 0.5) |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "One access token, one thread, median of 2 000 (\`examples/jwt_cost.rs\`):"
    echo
    echo "| algorithm | sign µs | verify µs |"
    echo "|---|---|---|"
    while read -r alg sign verify; do echo "| $alg | $sign | $verify |"; done <<<"$COSTS"
} | tee "$RESULTS_DIR/signing.md"
