#!/usr/bin/env bash
# The hot paths at the machine's limit, one run per backend on one database:
#  - guarded `me` with one session and spread over $SESSIONS sessions, each
#    against `{ __typename }` on the same server (wrk -t1 -c32);
#  - database statements per second of an idle instance with 10 and with
#    $SESSIONS cached sessions (its own statement log,
#    AUTHQL_DATABASE_LOG_STATEMENTS);
#  - a logout on one instance seen by a second one, over $LOGOUTS logouts;
#  - refresh rotations on $CHAINS chains at once, one connection each.
#
#   bash bench/hot_paths.sh
#   BACKENDS=sqlite SESSIONS=2000 DURATION=5 bash bench/hot_paths.sh
#
# Needs wrk (installed when missing and apt-get is usable), curl, python3 and
# for PostgreSQL a server at $BENCH_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
SESSIONS="${SESSIONS:-10000}"
LOGOUTS="${LOGOUTS:-50}"
CHAINS="${CHAINS:-32}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-18767}"
SECOND_PORT=$((PORT + 1))
URL="http://127.0.0.1:$PORT/graphql"
MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")"
PASSWORD="Correct horse battery staple 7"
EMAIL="bench@example.com"
WORK="$(mktemp -d)"
RESULTS_DIR="bench/results"
BIN="${CARGO_TARGET_DIR:-target}/release/authql"
IDLE_WINDOW="${IDLE_WINDOW:-20}"
mkdir -p "$RESULTS_DIR"
source bench/lib.sh
trap 'stop_servers; rm -rf "$WORK"' EXIT
ensure_wrk

echo "building the release binary" >&2
cargo build --release --quiet --bin authql

REGISTER_BODY=$(printf '{"query":"mutation($i: RegisterInput!) { register(input: $i) { accessToken } }","variables":{"i":{"name":"Bench","email":"%s","password":"%s","passwordConfirmation":"%s"}}}' "$EMAIL" "$PASSWORD" "$PASSWORD")
LOGIN_BODY=$(printf '{"query":"mutation($i: LoginInput!) { login(input: $i) { accessToken } }","variables":{"i":{"email":"%s","password":"%s"}}}' "$EMAIL" "$PASSWORD")
export LOGIN_BODY URL

logins() { # n [field] -> appends n tokens (accessToken by default) to $WORK/tokens
    local body="${LOGIN_BODY/accessToken/${2:-accessToken}}"
    seq 1 "$1" | BODY="$body" xargs -P 8 -I{} sh -c \
        'curl -sf "$URL" -H "content-type: application/json" -d "$BODY"' |
        python3 -c "import json,sys; [print(json.loads(l)['data']['login']['${2:-accessToken}']) for l in sys.stdin.read().replace('}{', '}\n{').splitlines()]" \
        >>"$WORK/tokens"
}

# Statements per second the instance on $PORT ran over $IDLE_WINDOW idle
# seconds, counted in its statement log.
idle_rate() {
    local log="$WORK/server-$PORT.log" before after
    sleep 2
    before=$(grep -c 'sqlx::query' "$log" || true)
    sleep "$IDLE_WINDOW"
    after=$(grep -c 'sqlx::query' "$log" || true)
    python3 -c "print(f'{($after - $before) / $IDLE_WINDOW:.2f}')"
}

ROWS=()
for backend in $BACKENDS; do
    echo "== $backend" >&2
    DB_URL=$(fresh_database "$backend" authql_bench_feed)
    # This instance logs its statements, to count those of an idle one; the
    # second one (for logouts and rotations) logs warnings only.
    SERVER_LOG="warn,sqlx::query=info" AUTHQL_DATABASE_LOG_STATEMENTS=true start_server "$DB_URL"
    TOKEN=$(gql "$REGISTER_BODY" | json "d['data']['register']['accessToken']")
    : >"$WORK/tokens"
    logins 10
    echo "   idle, 10 sessions" >&2
    IDLE_FEW=$(idle_rate)
    echo "   $SESSIONS logins" >&2
    : >"$WORK/tokens"
    logins "$SESSIONS"
    [ "$(wc -l <"$WORK/tokens")" = "$SESSIONS" ] || { echo "only $(wc -l <"$WORK/tokens") logins succeeded" >&2; exit 1; }
    echo "   { __typename }" >&2
    TYPENAME=$(BODY='{"query":"{ __typename }"}' wrk_run 1 32 graphql.lua)
    echo "   me, one session" >&2
    ONE=$(BODY='{"query":"{ me { id email } }"}' TOKEN="$TOKEN" wrk_run 1 32 graphql.lua)
    # The first pass reads each session's status and verifies each token
    # once (cold); the second is the steady state of active sessions.
    echo "   me, $SESSIONS sessions, cold" >&2
    COLD=$(TOKENS_FILE="$WORK/tokens" wrk_run 1 32 me_many.lua)
    echo "   me, $SESSIONS sessions, warm" >&2
    MANY=$(TOKENS_FILE="$WORK/tokens" wrk_run 1 32 me_many.lua)
    echo "   idle, $SESSIONS sessions" >&2
    IDLE_MANY=$(idle_rate)
    echo "   $LOGOUTS logouts seen by a second instance" >&2
    start_server "$DB_URL" "$SECOND_PORT"
    LATENCY=$(python3 bench/revocation_latency.py "$URL" "http://127.0.0.1:$SECOND_PORT/graphql" \
        "$EMAIL" "$PASSWORD" "$LOGOUTS")
    echo "   refresh rotations, $CHAINS chains at once" >&2
    : >"$WORK/tokens"
    logins "$CHAINS" refreshToken
    REFRESH=$(URL="http://127.0.0.1:$SECOND_PORT/graphql" TOKENS_FILE="$WORK/tokens" \
        wrk_run "$CHAINS" "$CHAINS" refresh.lua)
    stop_servers
    for result in "$TYPENAME" "$ONE" "$COLD" "$MANY" "$REFRESH"; do
        [ "$(field "$result" errors)" = 0 ] || echo "warning: failed requests: $result" >&2
    done
    ROWS+=("$(python3 - "$backend" "$(field "$TYPENAME" rps)" "$(field "$ONE" rps)" "$(field "$COLD" rps)" "$(field "$MANY" rps)" \
        "$IDLE_FEW" "$IDLE_MANY" "$(field "$LATENCY" p50_ms)" "$(field "$LATENCY" p99_ms)" "$(field "$LATENCY" max_ms)" \
        "$(field "$REFRESH" rps)" "$(field "$REFRESH" p50_ms)" "$(field "$REFRESH" p99_ms)" <<'PY'
import sys
(backend, typename, one, cold, many, idle_few, idle_many, p50, p99, worst,
 rotations, rotation_p50, rotation_p99) = sys.argv[1:]
typename, one, cold, many, p99 = float(typename), float(one), float(cold), float(many), float(p99)
rotations, rotation_p99 = float(rotations), float(rotation_p99)
bound = 1000 if backend == "sqlite" else 100
mark = lambda ok: "met" if ok else "MISSED"
print(f"| {backend} | {typename:.0f} | {one:.0f} | {one / typename:.2f} | {cold:.0f} ({cold / typename:.2f}) | {many:.0f} "
      f"| **{many / typename:.2f}** ({mark(many / typename >= 0.6)}) | {idle_few} | {idle_many} "
      f"| {p50} / **{p99:.1f}** / {worst} ({mark(p99 <= bound)}, goal ≤ {bound}) "
      f"| **{rotations:.0f}** ({mark(rotations >= 1150)}) | {rotation_p50} / **{rotation_p99:.1f}** ({mark(rotation_p99 <= 50)}) |")
PY
)")
done

{
    echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "wrk -t1 -c32 over loopback, ${DURATION}s per measurement; $SESSIONS sessions = $SESSIONS logins of one user; EdDSA"
    echo
    echo "| backend | \`{ __typename }\` req/s | \`me\` req/s, 1 session | ratio | \`me\` req/s (ratio), $SESSIONS sessions, first ${DURATION}s (cold) | \`me\` req/s, $SESSIONS sessions, next ${DURATION}s (warm) | ratio (goal ≥ 0.6) | idle instance, statements/s, 10 sessions | … $SESSIONS sessions | logout seen by another instance, ms p50 / p99 / max over $LOGOUTS | refresh rotations/s, $CHAINS chains (goal ≥ 1150) | rotation ms p50 / p99 (goal ≤ 50) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$RESULTS_DIR/hot_paths.md"
