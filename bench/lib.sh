# Shared by the bench scripts: sourced after PORT, URL, WORK and BIN are set.
# Starting and stopping servers, GraphQL over curl, wrk runs, JSON fields.

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

gql() { # body [token] [url]
    local auth=()
    [ -n "${2:-}" ] && auth=(-H "authorization: Bearer $2")
    curl -sf "${3:-$URL}" -H 'content-type: application/json' "${auth[@]}" -d "$1"
}

ensure_wrk() {
    command -v wrk >/dev/null && return 0
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "installing wrk (Debian package)" >&2
        apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is needed: install the Debian/Ubuntu package 'wrk' and re-run" >&2
        exit 1
    fi
}

# Production refuses to start without mail settings: every server the
# benchmarks start sends through bench/smtp_sink.py on $SMTP_PORT, which
# drops each mail. `env "${BENCH_MAIL_ENV[@]}" …` adds them.
SMTP_PORT="${BENCH_SMTP_PORT:-18925}"
BENCH_MAIL_ENV=(
    AUTHQL_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
    AUTHQL_MAIL_FROM="bench@example.com"
    AUTHQL_RESET_URL="https://bench.example/reset?token={token}"
    AUTHQL_VERIFY_URL="https://bench.example/verify?token={token}"
)
SMTP_SINK_PID=""
ensure_smtp_sink() {
    if [ -n "$SMTP_SINK_PID" ] && kill -0 "$SMTP_SINK_PID" 2>/dev/null; then
        return 0
    fi
    python3 "$(dirname "${BASH_SOURCE[0]}")/smtp_sink.py" "$SMTP_PORT" &
    SMTP_SINK_PID=$!
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the SMTP sink did not start on $SMTP_PORT" >&2
    exit 1
}
stop_smtp_sink() {
    [ -n "$SMTP_SINK_PID" ] && kill "$SMTP_SINK_PID" 2>/dev/null || true
    SMTP_SINK_PID=""
}

# Starts a production server on port $2 (default $PORT) against database $1
# with the master key $MASTER_KEY, logging at $SERVER_LOG (default warn) to
# $WORK/server-PORT.log; its pid is appended to SERVER_PIDS.
SERVER_PIDS=()
start_server() { # database-url [port]
    local port="${2:-$PORT}"
    ensure_smtp_sink
    env "${BENCH_MAIL_ENV[@]}" AUTHQL_ENV=production AUTHQL_MASTER_KEY="$MASTER_KEY" AUTHQL_LISTEN="127.0.0.1:$port" \
        AUTHQL_DATABASE_URL="$1" AUTHQL_DATABASE_MAX_CONNECTIONS=16 RUST_LOG="${SERVER_LOG:-warn}" \
        AUTHQL_IP_CREDENTIAL_LIMIT=0 AUTHQL_HASHING_QUEUE=256 \
        "$BIN" >"$WORK/server-$port.log" 2>&1 &
    SERVER_PIDS+=($!)
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$WORK/server-$port.log" >&2
    exit 1
}

stop_servers() {
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    SERVER_PIDS=()
    stop_smtp_sink
}

wrk_run() { # threads connections script -> RESULT line
    wrk -t"$1" -c"$2" -d"${DURATION}s" --timeout 10s -s "bench/lua/$3" "$URL" | grep '^RESULT'
}

field() { sed -E "s/.*$2=([0-9.]+).*/\1/" <<<"$1"; }

# A fresh database on backend $1: prints its URL.
fresh_database() { # sqlite|postgres name
    case "$1" in
        sqlite) rm -f "$WORK/$2".db*; echo "sqlite://$WORK/$2.db?mode=rwc" ;;
        postgres)
            psql "$PG_ADMIN_URL" -qc "drop database if exists $2 with (force)" -c "create database $2" >/dev/null
            echo "${PG_ADMIN_URL%/*}/$2"
            ;;
    esac
}
