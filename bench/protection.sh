#!/usr/bin/env bash
# authql under attack: what issue 7 asks bench/ to report, on SQLite, with the
# release binary in production mode and its default protection settings.
#
#   bash bench/protection.sh
#
# 1. Memory: resident set size (VmRSS) before and after 200 concurrent logins,
#    and the peak (VmHWM). Goal: ≤ 100 MiB after the flood.
# 2. Shedding: how many of those 200 were checked and how many were answered
#    SERVER_BUSY (more than AUTHQL_HASHING_QUEUE waiting), and the slowest.
# 3. Refusal time of hostile documents (median of 9, curl's time_total) next
#    to `{ __typename }`: a fragment-doubling document (k = 40) and values
#    nested 6,000 deep.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${BENCH_PORT:-18766}"
URL="http://127.0.0.1:$PORT/graphql"
WORK="$(mktemp -d)"
mkdir -p bench/results
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet --bin authql
# Production refuses to start without mail: a sink that drops every mail.
SMTP_PORT="${BENCH_SMTP_PORT:-18925}"
python3 bench/smtp_sink.py "$SMTP_PORT" &
SINK_PID=$!
AUTHQL_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" AUTHQL_MAIL_FROM="bench@example.com" \
    AUTHQL_RESET_URL="https://bench.example/reset?token={token}" \
    AUTHQL_VERIFY_URL="https://bench.example/verify?token={token}" \
    AUTHQL_ENV=production AUTHQL_MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")" \
    AUTHQL_LISTEN="127.0.0.1:$PORT" AUTHQL_DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc" \
    AUTHQL_IP_CREDENTIAL_LIMIT=0 RUST_LOG=warn "${CARGO_TARGET_DIR:-target}"/release/authql >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
done

python3 - "$URL" "$SERVER_PID" <<'PY' | tee bench/results/protection.md
import json, statistics, subprocess, sys, threading, time, urllib.request

url, pid = sys.argv[1], sys.argv[2]
password = "Correct horse battery staple 7"

def post(body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json",
                                              "accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

def rss(field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024

post({"query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
      "variables": {"i": {"name": "Bench", "email": "bench@example.com",
                          "password": password, "passwordConfirmation": password}}})
before = rss("VmRSS:")
codes, times = [], []
lock = threading.Lock()
def login(i):
    started = time.monotonic()
    reply = post({"query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                  "variables": {"i": {"email": f"flood-{i}@example.com", "password": f"guess {i}"}}})
    with lock:
        codes.append(reply.get("errors", [{}])[0].get("extensions", {}).get("code", "OK"))
        times.append(time.monotonic() - started)
threads = [threading.Thread(target=login, args=(i,)) for i in range(200)]
started = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
flood_seconds = time.monotonic() - started
time.sleep(1)
after, peak = rss("VmRSS:"), rss("VmHWM:")

def refusal_ms(query, n=9):
    body = json.dumps({"query": query})
    samples = []
    for _ in range(n):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{http_code}",
                              "-H", "content-type: application/json", "-d", body, url],
                             capture_output=True, text=True, check=True).stdout.split()
        samples.append(float(out[0]) * 1000)
        status = out[1]
    return statistics.median(samples), status

k = 40
doubling = "query { ...F%d }\nfragment F0 on Query { __typename }\n" % k + "".join(
    "fragment F%d on Query { ...F%d ...F%d }\n" % (i, i - 1, i - 1) for i in range(1, k + 1))
nested = "{ __typename(x: " + "[" * 6000 + "1" + "]" * 6000 + ") }"
typename_ms, _ = refusal_ms("{ __typename }")
doubling_ms, doubling_status = refusal_ms(doubling)
nested_ms, nested_status = refusal_ms(nested)

machine = subprocess.run(["bash", "-c", "echo \"$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)\""],
                         capture_output=True, text=True).stdout.strip()
print(f"Machine: {machine}; {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}; SQLite, production mode, default limits")
print()
print("| measure | value | goal |")
print("|---|---|---|")
mark = lambda ok: "met" if ok else "MISSED"
print(f"| RSS before / after 200 concurrent logins (peak) | {before:.1f} / **{after:.1f}** MiB ({peak:.1f}) | ≤ 100 MiB after: {mark(after <= 100)} |")
print(f"| those 200: checked / shed `SERVER_BUSY` / other | {codes.count('INVALID_CREDENTIALS')} / {codes.count('SERVER_BUSY')} / {len(codes) - codes.count('INVALID_CREDENTIALS') - codes.count('SERVER_BUSY')} | none queued for seconds |")
print(f"| slowest of those 200 answers, whole flood | {max(times)*1000:.0f} ms, {flood_seconds:.2f} s | |")
print(f"| `{{ __typename }}` | {typename_ms:.1f} ms | |")
print(f"| fragment doubling, k = {k} ({len(doubling)} bytes), refused {doubling_status} | **{doubling_ms:.1f} ms** | milliseconds |")
print(f"| values nested 6,000 deep ({len(nested)} bytes), refused {nested_status} | **{nested_ms:.1f} ms** | milliseconds |")
PY
