"""Passkey sign-ins beside password sign-ins, against a running server.

A software authenticator (ES256, "none" attestation, as the test suite's)
adds a passkey to a user with a password, then THREADS clients sign in for
SECONDS each way: with the password (`/auth/login`), and with the passkey
(`/auth/passkey/options`, then `/auth/passkey`). Prints sign-ins per second.

    python3 bench/passkeys.py BASE ORIGIN   (bench/passkeys.sh runs it)
"""

import base64
import hashlib
import json
import os
import struct
import sys
import threading
import time
import urllib.request

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

BASE, ORIGIN = sys.argv[1], sys.argv[2]
THREADS = int(os.environ.get("THREADS", "8"))
SECONDS = float(os.environ.get("SECONDS_EACH", "10"))
EMAIL, PASSWORD = "passkeys@example.com", "bench-password-0451"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value):
    """The CBOR of ints, bytes, text and maps: what an attestation needs."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | code]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())


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


class SoftPasskey:
    def __init__(self, rp_id):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        self.user_handle = b""

    def client_data(self, kind, options):
        return json.dumps({"type": kind, "challenge": options["publicKey"]["challenge"],
                           "origin": ORIGIN, "crossOrigin": False}).encode()

    def register(self, options):
        self.user_handle = unb64(options["publicKey"]["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                     -3: numbers.y.to_bytes(32, "big")})
        data = (self.rp_id_hash + bytes([0x5D]) + struct.pack(">I", 0) + bytes(16)
                + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose)
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": data})
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id),
                "type": "public-key", "extensions": {},
                "response": {"attestationObject": b64(attestation),
                             "clientDataJSON": b64(self.client_data("webauthn.create", options)),
                             "transports": ["internal"]}}

    def sign_in(self, options):
        # A synced passkey's sign count stays 0: clients at once need no order.
        data = self.rp_id_hash + bytes([0x1D]) + struct.pack(">I", 0)
        client_data = self.client_data("webauthn.get", options)
        signature = self.key.sign(data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id),
                "type": "public-key", "extensions": {},
                "response": {"authenticatorData": b64(data), "clientDataJSON": b64(client_data),
                             "signature": b64(signature), "userHandle": b64(self.user_handle)}}


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
phone = SoftPasskey(urllib.parse.urlparse(ORIGIN).hostname)
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
