"""A stand-in for GitHub's, Google's and Apple's sign-in endpoints, for the end-to-end check.

    python3 tests/e2e/provider.py PORT APPLE_KEY_FILE

GitHub: /github/login/oauth/authorize, /github/login/oauth/access_token,
/github/user, /github/user/emails. Google: /google/auth, /google/token,
/google/userinfo, /google/keys. The consent page signs the user in at once: it
redirects to the app's callback with a code bound to the client, the redirect
URI and the PKCE challenge, which the token endpoint checks as a provider does.

Apple: /apple/authorize answers the form Apple's page would post to the
callback (as JSON: the checker posts it), /apple/token checks the ES256 client
secret against the team's key (made here, written to APPLE_KEY_FILE as the
.p8 file Apple hands out) and answers an ID token with the nonce of the
sign-in, /apple/revoke records what it revokes (GET /apple/revoked lists it),
/apple/keys is the JWKS. /apple/native-code plays the iOS sheet's
authorization code, /mint signs the claims it is given: the ID tokens an app's
sheet would hand it, and Apple's notifications.
"""

import base64
import hashlib
import json
import re
import secrets
import sys
import threading
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

CLIENTS = {"github": ("gh-client", "gh-secret"), "google": ("google-client", "google-secret")}
PROFILES = {
    "github": {"id": 71234567, "login": "octo", "name": "Octo Cat", "email": None},
    "google": {
        "sub": "109876543210",
        "email": "g.user@example.com",
        "email_verified": True,
        "given_name": "Gina",
        "family_name": "User",
    },
}
GITHUB_EMAILS = [
    {"email": "octo@example.com", "primary": True, "verified": True},
    {"email": "other@example.com", "primary": False, "verified": True},
]

APPLE_ISSUER = "https://appleid.apple.com"
APPLE_TEAM, APPLE_KEY_ID = "TEAME2E123", "KEYE2E1234"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
TEAM_KEY = ec.generate_private_key(ec.SECP256R1())
KID = "e2e-rsa-1"

codes = {}
tokens = {}
apple_codes = {}
revoked = []
# What the server exported over OTLP: the printable runs of each protobuf body.
exported = []
lock = threading.Lock()


def jwks():
    numbers = SIGNING_KEY.public_key().public_numbers()

    def b64(number):
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"keys": [{"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
                      "n": b64(numbers.n), "e": b64(numbers.e)}]}


def mint(claims):
    return jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"kid": KID})


def client_secret_ok(form):
    try:
        claims = jwt.decode(form.get("client_secret", ""), TEAM_KEY.public_key(), algorithms=["ES256"],
                            audience=APPLE_ISSUER, issuer=APPLE_TEAM)
        header = jwt.get_unverified_header(form["client_secret"])
    except jwt.PyJWTError:
        return False
    return claims.get("sub") == form.get("client_id") and header.get("kid") == APPLE_KEY_ID


class Provider(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        name, _, rest = url.path.lstrip("/").partition("/")
        if rest == "keys":
            return self.answer(200, jwks(), [("Cache-Control", "public, max-age=3600")])
        if url.path == "/apple/authorize":
            return self.apple_consent(query)
        if url.path == "/apple/revoked":
            with lock:
                return self.answer(200, list(revoked))
        if url.path == "/otlp/exported":
            with lock:
                return self.answer(200, list(exported))
        if rest in ("login/oauth/authorize", "auth"):
            return self.consent(name, query)
        if rest in ("user", "userinfo", "user/emails"):
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            with lock:
                known = tokens.get(token) == name
            if not known:
                return self.answer(401, {"message": "Bad credentials"})
            if rest == "user/emails":
                return self.answer(200, GITHUB_EMAILS)
            return self.answer(200, PROFILES[name])
        self.answer(404, {"message": "Not Found"})

    def consent(self, name, query):
        client_id, _ = CLIENTS[name]
        if query.get("client_id") != client_id or query.get("response_type") != "code":
            return self.answer(400, {"error": "invalid_request"})
        if query.get("code_challenge_method") != "S256" or not query.get("state"):
            return self.answer(400, {"error": "invalid_request", "why": "PKCE and state"})
        code = secrets.token_urlsafe(16)
        with lock:
            codes[code] = (name, query["redirect_uri"], query["code_challenge"])
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        self.answer(302, None, [("Location", target)])

    def apple_consent(self, query):
        """What Apple's page posts to the callback once the user said yes."""
        if query.get("response_mode") != "form_post" or not query.get("nonce") or not query.get("state"):
            return self.answer(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        with lock:
            apple_codes[code] = (query["client_id"], query["redirect_uri"], query["nonce"])
        user = {"name": {"firstName": "Ada", "lastName": "Apple"}, "email": "ada.e2e@privaterelay.appleid.com"}
        self.answer(200, {"action": query["redirect_uri"],
                          "form": {"code": code, "state": query["state"], "user": json.dumps(user)}})

    def apple(self, rest, form):
        if not client_secret_ok(form):
            return self.answer(400, {"error": "invalid_client"})
        if rest == "revoke":
            with lock:
                revoked.append({"token": form.get("token"), "client_id": form.get("client_id")})
            return self.answer(200, {})
        with lock:
            issued = apple_codes.pop(form.get("code", ""), None)
        if issued is None or issued[0] != form["client_id"] or issued[1] != form.get("redirect_uri"):
            return self.answer(400, {"error": "invalid_grant"})
        now = int(time.time())
        claims = {"iss": APPLE_ISSUER, "aud": form["client_id"], "sub": "001234.e2e-apple-web",
                  "iat": now, "exp": now + 600, "email": "ada.e2e@privaterelay.appleid.com",
                  "email_verified": "true", "is_private_email": "true"}
        if issued[2]:
            claims["nonce"] = issued[2]
        refresh = "apple-refresh-" + secrets.token_urlsafe(8)
        self.answer(200, {"access_token": "a", "token_type": "Bearer", "expires_in": 3600,
                          "refresh_token": refresh, "id_token": mint(claims)})

    def do_POST(self):
        url = urlparse(self.path)
        name, _, rest = url.path.lstrip("/").partition("/")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if url.path == "/v1/traces":
            # An OTLP collector: the strings of the spans are enough to check.
            with lock:
                exported.extend(run.decode() for run in re.findall(rb"[ -~]{4,}", body))
            return self.answer(200, None)
        raw = body.decode()
        if url.path == "/mint":
            return self.answer(200, {"token": mint(json.loads(raw))})
        if url.path == "/apple/native-code":
            code = secrets.token_urlsafe(16)
            with lock:
                apple_codes[code] = (json.loads(raw)["client_id"], None, None)
            return self.answer(200, {"code": code})
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        if name == "apple" and rest in ("token", "revoke"):
            return self.apple(rest, form)
        if rest not in ("login/oauth/access_token", "token"):
            return self.answer(404, {"message": "Not Found"})
        client_id, client_secret = CLIENTS[name]
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        authenticated = self.headers.get("Authorization") == f"Basic {basic}" or (
            form.get("client_id") == client_id and form.get("client_secret") == client_secret
        )
        with lock:
            issued = codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        )
        if (
            not authenticated
            or form.get("grant_type") != "authorization_code"
            or issued is None
            or issued[0] != name
            or issued[1] != form.get("redirect_uri")
            or issued[2] != challenge
        ):
            return self.answer(400, {"error": "invalid_grant"})
        token = secrets.token_urlsafe(24)
        with lock:
            tokens[token] = name
        self.answer(200, {"access_token": token, "token_type": "bearer", "scope": "user:email"})


if __name__ == "__main__":
    pem = TEAM_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    with open(sys.argv[2], "wb") as key_file:
        key_file.write(pem)
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Provider).serve_forever()
