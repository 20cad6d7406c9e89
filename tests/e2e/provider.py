"""A stand-in for GitHub's and Google's OAuth2 endpoints, for the end-to-end check.

    python3 tests/e2e/provider.py PORT

GitHub: /github/login/oauth/authorize, /github/login/oauth/access_token,
/github/user, /github/user/emails. Google: /google/auth, /google/token,
/google/userinfo. The consent page signs the user in at once: it redirects to
the app's callback with a code bound to the client, the redirect URI and the
PKCE challenge, which the token endpoint checks as a provider does.
"""

import base64
import hashlib
import json
import secrets
import sys
import threading
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

codes = {}
tokens = {}
lock = threading.Lock()


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

    def do_POST(self):
        url = urlparse(self.path)
        name, _, rest = url.path.lstrip("/").partition("/")
        if rest not in ("login/oauth/access_token", "token"):
            return self.answer(404, {"message": "Not Found"})
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
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
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Provider).serve_forever()
