"""A software passkey authenticator (ES256, "none" attestation, as the test
suite's `tests/models/soft_passkey.rs`), answering WebAuthn's JSON forms: what
`PublicKeyCredential.toJSON()` gives. Used by the end-to-end check and by
`bench/passkeys.py`.
"""

import base64
import hashlib
import json
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


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


class SoftPasskey:
    """An ES256 key pair on a phone that answers for `origin`."""

    def __init__(self, rp_id, origin):
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        self.user_handle = b""

    def client_data(self, kind, options):
        return json.dumps({"type": kind, "challenge": options["publicKey"]["challenge"],
                           "origin": self.origin, "crossOrigin": False}).encode()

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
