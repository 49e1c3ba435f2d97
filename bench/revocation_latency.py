"""How long a logout on one instance takes to stop its access token on
another: N times, sign in on A, make B cache the session (`me`), log out on A,
then ask B every millisecond until it answers `revoked`. Prints one line:
RESULT n=.. p50_ms=.. p99_ms=.. max_ms=..

    python3 bench/revocation_latency.py URL_A URL_B EMAIL PASSWORD [N]
"""
import http.client
import json
import statistics
import sys
import time
from urllib.parse import urlparse


class Client:
    def __init__(self, url):
        parsed = urlparse(url)
        self.path = parsed.path
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)

    def gql(self, query, variables=None, token=None):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables or {}})
        self.conn.request("POST", self.path, body, headers)
        return json.loads(self.conn.getresponse().read())


def main():
    url_a, url_b, email, password = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    a, b = Client(url_a), Client(url_b)
    login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
    me = "{ me { id } }"
    latencies = []
    for _ in range(n):
        token = a.gql(login, {"i": {"email": email, "password": password}})["data"]["login"]["accessToken"]
        assert "errors" not in b.gql(me, token=token), "B does not accept the fresh token"
        a.gql("mutation { logout { revokedSessions } }", token=token)
        started = time.perf_counter()
        while True:
            reply = b.gql(me, token=token)
            if reply.get("errors") and reply["errors"][0]["extensions"].get("reason") == "revoked":
                break
            if time.perf_counter() - started > 10:
                raise SystemExit("B still accepts a token 10 s after its logout")
            time.sleep(0.001)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
    print(f"RESULT n={n} p50_ms={statistics.median(latencies):.1f} p99_ms={p99:.1f} max_ms={latencies[-1]:.1f}")


main()
