"""Passkey sign-ins beside password sign-ins, against a running server.

A software authenticator (tests/e2e/soft_passkey.py)
adds a passkey to a user with a password, then THREADS clients sign in for
SECONDS each way: with the password (`/auth/login`), and with the passkey
(`/auth/passkey/options`, then `/auth/passkey`). Prints sign-ins per second.

    python3 bench/passkeys.py BASE ORIGIN   (bench/passkeys.sh runs it)
"""

import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from soft_passkey import SoftPasskey  # noqa: E402

BASE, ORIGIN = sys.argv[1], sys.argv[2]
THREADS = int(os.environ.get("THREADS", "8"))
SECONDS = float(os.environ.get("SECONDS_EACH", "10"))
EMAIL, PASSWORD = "passkeys@example.com", "bench-password-0451"


def post(path, body=None, token=None, form=None):
    headers = {"content-type": "application/json"}
    data = json.dumps(body or {}).encode()
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        data = form.encode()
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def with_password():
    post("/api/v1/auth/login", form=f"username={EMAIL}&password={PASSWORD}")


def with_passkey(phone):
    begun = post("/api/v1/auth/passkey/options")
    answer = phone.sign_in(begun["options"])
    post("/api/v1/auth/passkey", {"authentication_id": begun["authentication_id"],
                                  "credential": answer})


def rate(sign_in):
    done, deadline = [0] * THREADS, time.monotonic() + SECONDS

    def client(n):
        while time.monotonic() < deadline:
            sign_in()
            done[n] += 1
    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / SECONDS


token = post("/api/v1/auth/register", {"email": EMAIL, "password": PASSWORD})["access_token"]
phone = SoftPasskey(urllib.parse.urlparse(ORIGIN).hostname, ORIGIN)
begun = post("/api/v1/users/me/passkeys/registration", token=token)
post("/api/v1/users/me/passkeys/registration/finish",
     {"registration_id": begun["registration_id"], "name": "bench",
      "credential": phone.register(begun["options"])}, token=token)
print(f"| sign-in, {THREADS} clients | per second |")
print("|---|---:|")
for label, sign_in in (("password (`/auth/login`)", with_password),
                       ("passkey (`/auth/passkey/options` + `/auth/passkey`)",
                        lambda: with_passkey(phone))):
    print(f"| {label} | {rate(sign_in):.0f} |")
