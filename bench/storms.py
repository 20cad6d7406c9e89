"""Bursts that a single client can aim at the server, measured from outside.

    python3 bench/storms.py BASE_URL SERVER_PID

- registration storm: 500 registrations at once (distinct emails), while
  another client reads /users/me; reports the answers, the server's peak
  resident memory and /users/me latency meanwhile.
- refresh storm: 50 parallel refreshes of one refresh token; exactly one may
  win, the rest are 401, and /users/me stays fast meanwhile.

Exits non-zero when an expectation fails: a 5xx other than 503, a refresh storm
with other than one winner, a /users/me that fails, RSS over 300 MB, or a
/users/me p99 over 50 ms during the refresh storm.
"""

import collections
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

BASE, PID = sys.argv[1], int(sys.argv[2])
REGISTRATIONS = 500
REFRESHES = 50


def call(method, path, body=None, token=None, timeout=60):
    request = urllib.request.Request(BASE + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def register():
    email = f"storm-{uuid.uuid4().hex}@example.com"
    return call("POST", "/api/v1/auth/register", {"email": email, "password": "storm-password"})


def rss_mb():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


class Watch:
    """Reads /users/me in a loop and samples the server's RSS until stopped."""

    def __init__(self, token):
        self.token, self.latencies, self.failures, self.peak_rss = token, [], 0, 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stopped.is_set():
            start = time.perf_counter()
            status, _ = call("GET", "/api/v1/users/me", token=self.token, timeout=10)
            self.latencies.append((time.perf_counter() - start) * 1000)
            self.failures += status != 200
            self.peak_rss = max(self.peak_rss, rss_mb())
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopped.set()
        self.thread.join()

    def percentile(self, p):
        ordered = sorted(self.latencies) or [0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    def line(self):
        return (f"/users/me meanwhile: {len(self.latencies)} reads, {self.failures} failed, "
                f"p50 {self.percentile(50):.1f} ms, p99 {self.percentile(99):.1f} ms, "
                f"max {max(self.latencies or [0]):.1f} ms")


def burst(count, work):
    """Runs `work` in `count` threads released together; returns their results."""
    gate, results = threading.Barrier(count), [None] * count

    def one(index):
        gate.wait()
        results[index] = work()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main():
    failed = []
    status, session = register()
    assert status == 200, status
    token = session["access_token"]

    rss_before = rss_mb()
    with Watch(token) as watch:
        started = time.perf_counter()
        answers = collections.Counter(status for status, _ in burst(REGISTRATIONS, register))
        seconds = time.perf_counter() - started
    print(f"registration storm: {REGISTRATIONS} at once, done in {seconds:.1f} s, answers {dict(answers)}")
    print(f"  RSS before {rss_before} MB, peak {watch.peak_rss} MB, after {rss_mb()} MB")
    print(f"  {watch.line()}")
    if any(status >= 500 and status != 503 for status in answers):
        failed.append("a registration answered 5xx other than 503")
    if watch.peak_rss >= 300:
        failed.append("RSS reached 300 MB")
    if watch.failures:
        failed.append("/users/me failed during the registration storm")

    status, session = register()
    assert status == 200, status
    refresh = session["refresh_token"]
    with Watch(token) as watch:
        answers = collections.Counter(
            status for status, _ in burst(REFRESHES, lambda: call(
                "POST", "/api/v1/auth/refresh", {"refresh_token": refresh})))
        # The storm itself lasts milliseconds: keep reading a moment after it.
        time.sleep(0.5)
    print(f"refresh storm: {REFRESHES} refreshes of one token, answers {dict(answers)}")
    print(f"  {watch.line()}")
    if answers != collections.Counter({200: 1, 401: REFRESHES - 1}):
        failed.append("a refresh storm must have exactly one winner and 401 for the rest")
    if watch.failures or watch.percentile(99) > 50:
        failed.append("/users/me was slow or failed during the refresh storm")

    for reason in failed:
        print("FAILED:", reason, file=sys.stderr)
    sys.exit(1 if failed else 0)


main()
