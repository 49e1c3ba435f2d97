#!/usr/bin/env bash
# The worst case of judging a new password (issue 20): zxcvbn's strength
# estimate costs most on long passwords of symbols in no pattern it knows.
# The release binary in production mode on SQLite, with the per-IP budget
# off so that every request reaches the estimate:
#
#   bash bench/password_strength.sh            # ROUNDS=15 FLOOD_SECONDS=10 CLIENTS=4
#
# 1. `register` with an ordinary strong password and with the worst case (128
#    symbols): median and slowest of ROUNDS each, one at a time. Both are
#    hashed alike, so the difference is the estimate's worst case.
# 2. CLIENTS clients sending worst-case registrations back to back for
#    FLOOD_SECONDS, while `me` and `/healthz` are asked every 50 ms: their
#    p50 / p99 / max, how many health checks were not 200, and how the
#    registrations were answered (done, or SERVER_BUSY from the hashing queue).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${BENCH_PORT:-18767}"
URL="http://127.0.0.1:$PORT/graphql"
WORK="$(mktemp -d)"
BIN="${CARGO_TARGET_DIR:-target}/release/authql"
MASTER_KEY="$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")"
source bench/lib.sh
trap 'stop_servers; rm -rf "$WORK"' EXIT
mkdir -p bench/results

cargo build --release --quiet --bin authql
start_server "sqlite://$WORK/bench.db?mode=rwc"

python3 - "$URL" "http://127.0.0.1:$PORT/healthz" "${ROUNDS:-15}" "${FLOOD_SECONDS:-10}" "${CLIENTS:-4}" <<'PY' | tee bench/results/password_strength.md
import json, random, statistics, sys, threading, time, urllib.error, urllib.request, uuid, platform, os

url, health, rounds, flood_seconds, clients = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
ORDINARY = "correct horse battery staple"

def post(body, token=None):
    headers = {"content-type": "application/json", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

def register(password):
    started = time.perf_counter()
    reply = post({
        "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        "variables": {"i": {"name": "Bench", "email": f"{uuid.uuid4().hex}@bench.example",
                            "password": password, "passwordConfirmation": password}},
    })
    took = (time.perf_counter() - started) * 1000
    code = reply["errors"][0]["extensions"]["code"] if reply.get("errors") else "ok"
    return took, code, reply

def worst(rng):
    return "".join(rng.choice(SYMBOLS) for _ in range(128))

def ms(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]

rng = random.Random(20)
_, _, first = register(ORDINARY)
token = first["data"]["register"]["accessToken"]
ordinary, worst_case = [], []
for _ in range(rounds):
    took, code, _ = register(ORDINARY); assert code == "ok", code; ordinary.append(took)
    took, code, _ = register(worst(rng)); assert code == "ok", code; worst_case.append(took)

stop = threading.Event()
answers, lock = {}, threading.Lock()
def flood(seed):
    rng = random.Random(seed)
    while not stop.is_set():
        _, code, _ = register(worst(rng))
        with lock:
            answers[code] = answers.get(code, 0) + 1
threads = [threading.Thread(target=flood, args=(i,)) for i in range(clients)]
for t in threads: t.start()
time.sleep(0.5)
me_times, health_times, health_bad = [], [], 0
end = time.perf_counter() + flood_seconds
while time.perf_counter() < end:
    started = time.perf_counter()
    reply = post({"query": "{ me { id } }"}, token)
    assert reply.get("data", {}).get("me"), reply
    me_times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(health, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    health_times.append((time.perf_counter() - started) * 1000)
    health_bad += status != 200
    time.sleep(0.05)
stop.set()
for t in threads: t.join()

print(f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}; {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
print()
print(f"| `register`, one at a time ({rounds} each) | median ms | slowest ms |")
print("|---|---|---|")
print(f"| ordinary strong password ({len(ORDINARY)} characters) | {statistics.median(ordinary):.1f} | {max(ordinary):.1f} |")
print(f"| worst case: 128 symbols in no known pattern | {statistics.median(worst_case):.1f} | {max(worst_case):.1f} |")
print(f"| difference: the estimate's worst case | **{statistics.median(worst_case) - statistics.median(ordinary):.1f}** | |")
print()
print(f"{clients} clients sending worst-case registrations for {flood_seconds:.0f} s; `me` and `/healthz` every 50 ms:")
print()
print("| | requests | p50 ms | p99 ms | max ms | not 200 |")
print("|---|---|---|---|---|---|")
print(f"| `me` | {len(me_times)} | {ms(me_times, .5):.1f} | {ms(me_times, .99):.1f} | {max(me_times):.1f} | 0 |")
print(f"| `/healthz` | {len(health_times)} | {ms(health_times, .5):.1f} | {ms(health_times, .99):.1f} | {max(health_times):.1f} | {health_bad} |")
print()
print("registrations answered: " + ", ".join(f"{code} {n}" for code, n in sorted(answers.items())))
PY
