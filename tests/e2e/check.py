"""The HTTP checks of the end-to-end run, against a server started in production.

    python3 tests/e2e/check.py serve    BASE MAILDIR BUCKET
    python3 tests/e2e/check.py imported BASE BUCKET
    python3 tests/e2e/check.py degraded BASE
    python3 tests/e2e/check.py in-flight BASE SERVER_PID

`.ci/e2e` starts the services (PostgreSQL, Redis, an SMTP sink writing to
MAILDIR, an S3 server, a provider stand-in) and the server, then runs these.
Mail is read from the sink, objects from the bucket with an S3 client of its
own (S3_ENDPOINT and the AWS_* variables), never through the API.
"""

import hashlib
import http.client
import json
import mailbox
import os
import re
import secrets
import signal
import socket
import struct
import sys
import time
import urllib.request
import uuid
import zlib
from email import policy
from urllib.parse import parse_qs, urlencode, urlparse

import boto3

from soft_passkey import SoftPasskey

PASSWORD = "correct horse battery staple"


class Client:
    def __init__(self, base):
        url = urlparse(base)
        self.host, self.port = url.hostname, url.port

    def request(self, method, path, body=None, headers=None, token=None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list, str)) and "Content-Type" not in headers:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), data

    def json(self, method, path, body=None, token=None, expect=200, **kwargs):
        status, headers, data = self.request(method, path, body, token=token, **kwargs)
        check(status == expect, f"{method} {path}: {status} (expected {expect}): {data[:300]!r}")
        return json.loads(data) if data else None


def check(condition, message):
    if not condition:
        raise SystemExit(f"e2e: FAILED: {message}")


def step(message):
    print(f"e2e: {message}", flush=True)


def wait_for(what, probe, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"e2e: FAILED: {what} within {seconds} s")


def mail_to(maildir, address, subject_part):
    """The body of the newest mail to `address` whose subject has `subject_part`."""

    def probe():
        for message in mailbox.Maildir(maildir, factory=None, create=False):
            parsed = message_from(message)
            if address in parsed["To"] and subject_part in parsed["Subject"]:
                return parsed.get_body(("plain",)).get_content()
        return None

    return wait_for(f"a mail to {address} about {subject_part!r}", probe)


def message_from(message):
    from email import message_from_bytes

    return message_from_bytes(message.as_bytes(), policy=policy.default)


def multipart(name, content_type, content):
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def png(width, height, rgb):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )


def s3():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region_name=os.environ.get("S3_REGION", "us-east-1"),
    )


def keys(bucket, prefix):
    listed = s3().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {entry["Key"] for entry in listed.get("Contents", [])}


def serve(base, maildir, bucket):
    api = Client(base)
    project = os.environ["PROJECT_NAME"]

    step("probes")
    check(api.json("GET", "/_ping") == {"ok": True}, "/_ping")
    health = api.json("GET", "/_health")
    checks = health.get("checks", {})
    check(
        health["ok"] is True and health["rate_limits"] == "redis" and health["storage"] == "up"
        and {name: checks[name]["state"] for name in ("database", "redis", "storage")}
        == {"database": "up", "redis": "up", "storage": "up"}
        and checks["smtp"]["state"] in ("up", "unknown"),
        f"/_health: {health}",
    )

    step("/docs: the project's name, the password form, no banner")
    status, headers, page = api.request("GET", "/docs")
    check(status == 200 and f"<title>{project} - Swagger UI</title>".encode() in page, "/docs title")
    for name in ("x-powered-by", "server"):
        check(name not in headers, f"/docs sends {name}")
    document = api.json("GET", "/api/v1/openapi.json")
    check(document["info"]["title"] == project, "info.title")
    flow = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    check(flow["tokenUrl"] == "/api/v1/auth/login", f"password flow: {flow}")
    form = urlencode({"grant_type": "password", "username": os.environ["FIRST_SUPERUSER"],
                      "password": os.environ["FIRST_SUPERUSER_PASSWORD"], "scope": ""})
    admin = api.json("POST", flow["tokenUrl"], form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})["access_token"]

    step("registration: tokens, and the welcome mail through SMTP")
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    registered = api.json("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})
    mail_to(maildir, email, "Welcome")
    me = api.json("GET", "/api/v1/users/me", token=registered["access_token"])
    check(me["email"] == email, "users/me after registration")

    step("password sign-in and refresh")
    form = urlencode({"username": email, "password": PASSWORD})
    signed_in = api.json("POST", "/api/v1/auth/login", form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    refreshed = api.json("POST", "/api/v1/auth/refresh", signed_in["refresh_token"])
    me = api.json("GET", "/api/v1/users/me", token=refreshed["access_token"])
    check(me["email"] == email, "users/me after refresh")
    # A spent refresh token replayed: refused, and its session ends.
    api.json("POST", "/api/v1/auth/refresh", signed_in["refresh_token"], expect=401)
    api.json("GET", "/api/v1/users/me", token=refreshed["access_token"], expect=401)

    # The code proves the address the password registration left unconfirmed:
    # that ends the account's other sessions, so the rest uses this one.
    kept = api.json("POST", "/api/v1/auth/login", form,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    step("one-time code: requested, read from the mail, signs in; an unknown email registers")
    signed_in_by_code = {}
    for address in (email, f"e2e-new-{uuid.uuid4().hex[:10]}@example.com"):
        api.json("POST", "/api/v1/auth/otp/request", {"email": address})
        body = mail_to(maildir, address, "code")
        code = re.search(r"\b[1-9]{6}\b", body).group(0)
        api.json("POST", "/api/v1/auth/otp/verify", {"email": address, "code": "000000"}, expect=401)
        verified = api.json("POST", "/api/v1/auth/otp/verify", {"email": address, "code": code})
        me = api.json("GET", "/api/v1/users/me", token=verified["access_token"])
        check(me["email"] == address, f"signed in by code as {address}")
        signed_in_by_code[address] = verified["access_token"]
    api.json("GET", "/api/v1/users/me", token=kept["access_token"], expect=401)
    token = signed_in_by_code[email]

    step("a file: uploaded to S3, read back, in the bucket, deleted from it")
    content = os.urandom(300_000)
    body, headers = multipart("report.bin", "application/octet-stream", content)
    uploaded = api.json("POST", "/api/v1/files", body, token=token, headers=headers)
    check(uploaded["size"] == len(content), f"size {uploaded['size']}")
    stored = keys(bucket, "files/")
    check(len(stored) >= 1, "the file is in the bucket")
    in_bucket = [s3().get_object(Bucket=bucket, Key=key)["Body"].read() for key in stored]
    check(content in in_bucket, "the bucket holds the uploaded bytes")
    status, headers, data = api.request("GET", f"/api/v1/files/{uploaded['id']}/download", token=token)
    check(status == 200 and data == content, f"download: {status}")
    check('filename="report.bin"' in headers.get("content-disposition", ""), "download's name")
    api.json("DELETE", f"/api/v1/files/{uploaded['id']}", token=token)
    check(all(s3_bytes(bucket, key) != content for key in keys(bucket, "files/")), "deleted from the bucket")
    api.json("GET", f"/api/v1/files/{uploaded['id']}", token=token, expect=404)

    step("a profile picture: stored resized in S3, served, replaced")
    body, headers = multipart("me.png", "image/png", png(800, 600, (200, 30, 30)))
    with_picture = api.json("POST", "/api/v1/users/me/profile-picture", body, token=token, headers=headers)
    first = urlparse(with_picture["profile_picture_url"]).path
    status, headers, picture = api.request("GET", first)
    check(status == 200 and headers["content-type"].startswith("image/"), f"picture: {status}")
    pictures = keys(bucket, "pictures/")
    check(any(s3_bytes(bucket, key) == picture for key in pictures), "the served picture is in the bucket")
    body, headers = multipart("me.png", "image/png", png(64, 64, (30, 30, 200)))
    replaced = api.json("POST", "/api/v1/users/me/profile-picture", body, token=token, headers=headers)
    check(urlparse(replaced["profile_picture_url"]).path != first, "a new picture URL")
    check(api.request("GET", first)[0] == 404, "the old picture is gone")
    wait_for("the old picture to leave the bucket",
             lambda: all(s3_bytes(bucket, key) != picture for key in keys(bucket, "pictures/")))

    for provider_name, expected_email in (("github", "octo@example.com"), ("google", "g.user@example.com")):
        step(f"{provider_name} sign-in through the stand-in, to a token pair")
        tokens = provider_sign_in(api, provider_name)
        me = api.json("GET", "/api/v1/users/me", token=tokens["access_token"])
        check(me["email"] == expected_email, f"{provider_name} user: {me['email']}")

    apple_and_native(api, admin)
    passkeys(api)
    data_rights(api, admin, maildir, bucket)

    step("admin: the users are listed")
    listed = api.json("GET", "/api/v1/users?limit=100", token=admin)
    check(email in {user["email"] for user in listed}, "the registered user is listed")
    step("serve: passed")


def data_rights(api, admin, maildir, bucket):
    step("data export: written into S3 by the worker, mailed, downloaded, read by Python's zipfile")
    import io
    import zipfile

    email = f"e2e-rights-{uuid.uuid4().hex[:10]}@example.com"
    token = api.json("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})["access_token"]
    content = os.urandom(200_000)
    body, headers = multipart("diary.bin", "application/octet-stream", content)
    uploaded = api.json("POST", "/api/v1/files", body, token=token, headers=headers)
    api.json("POST", "/api/v1/users/me/export", token=token, expect=202)
    wait_for("the export to be ready",
             lambda: api.json("GET", "/api/v1/users/me/export", token=token)["state"] == "ready")
    mail_to(maildir, email, "data export is ready")
    status, headers, archive = api.request("GET", "/api/v1/users/me/export/download", token=token)
    check(status == 200 and headers["content-type"] == "application/zip", f"download: {status}")
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        check(opened.testzip() is None, "every entry's CRC")
        account = json.loads(opened.read("account.json"))
        check(account["user"]["email"] == email, "account.json's user")
        check(opened.read(f"files/{uploaded['id']}-diary.bin") == content, "the file, bytes as uploaded")
    exports = keys(bucket, "exports/")
    check(any(s3_bytes(bucket, key) == archive for key in exports), "the archive is in the bucket")

    step("account deletion: scheduled, sign-in refused, cancelled by the mailed link")
    form = urlencode({"username": email, "password": PASSWORD})
    login_form = {"Content-Type": "application/x-www-form-urlencoded"}
    api.json("POST", "/api/v1/users/me/deletion", {"password": PASSWORD}, token=token, expect=202)
    body = mail_to(maildir, email, "will be deleted")
    cancel = re.search(r"cancel-deletion\?token=([A-Za-z0-9._-]+)", body).group(1)
    api.json("POST", "/api/v1/auth/login", form, headers=login_form, expect=403)
    api.json("POST", "/api/v1/auth/deletion/cancel", {"token": cancel})
    signed_in = api.json("POST", "/api/v1/auth/login", form, headers=login_form)
    user_id = api.json("GET", "/api/v1/users/me", token=signed_in["access_token"])["id"]

    step("account deletion at once: its objects leave the bucket, the last mail goes out")
    kept = keys(bucket, "files/") | keys(bucket, "exports/")
    api.json("DELETE", f"/api/v1/users/{user_id}", token=admin)
    mail_to(maildir, email, "was deleted")
    left = keys(bucket, "files/") | keys(bucket, "exports/")
    check(all(s3_bytes(bucket, key) not in (content, archive) for key in left), "the user's objects are gone")
    check(len(kept - left) >= 2, f"the file and the archive left the bucket: {kept - left}")
    api.json("POST", "/api/v1/auth/login", form, headers=login_form, expect=401)


def s3_bytes(bucket, key):
    try:
        return s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3().exceptions.NoSuchKey:
        return None


def provider_sign_in(api, provider):
    return_url = os.environ["SSO_ALLOWED_RETURN_URLS"].split(",")[0]
    status, headers, _ = api.request("GET", f"/api/v1/auth/{provider}/login?" + urlencode({"return_url": return_url}))
    check(status == 307, f"{provider} login: {status}")
    cookie = headers["set-cookie"].split(";")[0]
    consent = urlparse(headers["location"])
    connection = http.client.HTTPConnection(consent.hostname, consent.port, timeout=10)
    connection.request("GET", f"{consent.path}?{consent.query}")
    answer = connection.getresponse()
    answer.read()
    check(answer.status == 302, f"{provider} consent: {answer.status}")
    callback = urlparse(answer.getheader("Location"))
    status, headers, data = api.request("GET", f"{callback.path}?{callback.query}", headers={"Cookie": cookie})
    check(status == 307, f"{provider} callback: {status} {data[:300]!r}")
    back = urlparse(headers["location"])
    check(headers["location"].startswith(return_url), f"back to {headers['location']}")
    confirmation = parse_qs(back.query)["token"][0]
    return api.json("POST", "/api/v1/auth/sso/confirm", confirmation)


def passkeys(api):
    """A passkey added to a new account, then signing in alone, as a phone's
    platform authenticator does (tests/e2e/soft_passkey.py)."""
    step("passkeys: added to a new account, then the only thing asked")
    email = f"e2e-passkey-{uuid.uuid4().hex[:10]}@example.com"
    token = api.json("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})["access_token"]
    origin = os.environ["WEBAUTHN_RP_ORIGINS"].split(",")[0]
    phone = SoftPasskey(os.environ["WEBAUTHN_RP_ID"], origin)
    begun = api.json("POST", "/api/v1/users/me/passkeys/registration", {}, token=token)
    added = api.json("POST", "/api/v1/users/me/passkeys/registration/finish", {
        "registration_id": begun["registration_id"], "name": "e2e phone",
        "credential": phone.register(begun["options"])}, token=token)
    check(added["name"] == "e2e phone", f"the passkey: {added}")
    begun = api.json("POST", "/api/v1/auth/passkey/options", {})
    signed_in = api.json("POST", "/api/v1/auth/passkey", {
        "authentication_id": begun["authentication_id"], "credential": phone.sign_in(begun["options"])})
    me = api.json("GET", "/api/v1/users/me", token=signed_in["access_token"])
    check(me["email"] == email, f"signed in with the passkey as {me['email']}")


def stand_in(method, path, body=None):
    """The provider stand-in, at the address the server is given for it."""
    url = urlparse(os.environ["APPLE_TOKEN_URL"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(method, path, body=json.dumps(body) if body is not None else None)
    answer = connection.getresponse()
    data = answer.read()
    check(answer.status == 200, f"stand-in {path}: {answer.status} {data[:200]!r}")
    return json.loads(data)


def mint(claims):
    now = int(time.time())
    return stand_in("POST", "/mint", {"iat": now, "exp": now + 600, **claims})["token"]


def apple_and_native(api, admin):
    """An iOS app's flows: Sign in with Apple's web flow through its POST callback,
    native ID tokens (Google's, Apple's), Apple's notification, and the deletion
    that revokes Apple's token."""
    step("Sign in with Apple: the form Apple posts, to a token pair")
    return_url = os.environ["SSO_ALLOWED_RETURN_URLS"].split(",")[0]
    status, headers, _ = api.request("GET", "/api/v1/auth/apple/login?" + urlencode({"return_url": return_url}))
    check(status == 307, f"apple login: {status}")
    cookie = headers["set-cookie"]
    check("SameSite=None" in cookie and "Secure" in cookie, f"apple's state cookie: {cookie}")
    consent = urlparse(headers["location"])
    page = stand_in("GET", f"{consent.path}?{consent.query}")
    callback = urlparse(page["action"])
    status, headers, data = api.request(
        "POST", callback.path, urlencode(page["form"]),
        headers={"Cookie": cookie.split(";")[0], "Content-Type": "application/x-www-form-urlencoded"})
    check(status == 303, f"apple callback: {status} {data[:300]!r}")
    check(headers["location"].startswith(return_url), f"back to {headers['location']}")
    confirmation = parse_qs(urlparse(headers["location"]).query)["token"][0]
    web = api.json("POST", "/api/v1/auth/sso/confirm", confirmation)
    check(web["user"]["email"] == "ada.e2e@privaterelay.appleid.com" and web["user"]["first_name"] == "Ada",
          f"apple user: {web['user']}")

    step("native sign-in: Google's and Apple's ID tokens, each taken once")
    nonce = secrets.token_urlsafe(16)
    google_app = os.environ["GOOGLE_CLIENT_IDS"].split(",")[0]
    google_token = mint({"iss": "https://accounts.google.com", "aud": google_app, "sub": "g-native-1",
                         "email": "native.g@example.com", "email_verified": True, "nonce": nonce})
    body = {"id_token": google_token, "nonce": nonce}
    google = api.json("POST", "/api/v1/auth/google/token", body)
    check(google["user"]["email"] == "native.g@example.com", f"google user: {google['user']}")
    api.json("POST", "/api/v1/auth/google/token", body, expect=401)
    bundle = os.environ["APPLE_CLIENT_IDS"].split(",")[0]
    nonce = secrets.token_urlsafe(16)
    apple_sub = "001234.e2e-apple-native"
    apple_token = mint({"iss": "https://appleid.apple.com", "aud": bundle, "sub": apple_sub,
                        "nonce": hashlib.sha256(nonce.encode()).hexdigest(),
                        "email": "native.a@privaterelay.appleid.com", "email_verified": "true"})
    code = stand_in("POST", "/apple/native-code", {"client_id": bundle})["code"]
    native = api.json("POST", "/api/v1/auth/apple/token", {
        "id_token": apple_token, "nonce": nonce, "first_name": "Nat", "last_name": "Ive",
        "authorization_code": code})
    check(native["user"]["first_name"] == "Nat", f"apple native user: {native['user']}")

    step("Apple's notification: consent revoked ends the user's sessions")
    events = json.dumps({"type": "consent-revoked", "sub": apple_sub, "event_time": int(time.time())})
    payload = mint({"iss": "https://appleid.apple.com", "aud": bundle, "jti": secrets.token_hex(8),
                    "events": events})
    api.json("POST", "/api/v1/auth/apple/notifications", {"payload": payload})
    status, _, _ = api.request("GET", "/api/v1/users/me", token=native["access_token"])
    check(status == 401, f"after consent-revoked: {status}")

    step("deleting an Apple user revokes Apple's token first")
    api.json("DELETE", f"/api/v1/users/{web['user']['id']}", token=admin)
    revoked = stand_in("GET", "/apple/revoked")
    check(any(entry["client_id"] == os.environ["APPLE_CLIENT_ID"] for entry in revoked),
          f"revoked at Apple: {revoked}")


def imported(base, bucket):
    """After `task import_legacy ... files:s3://BUCKET/legacy`: the legacy users sign in
    with their old passwords and find their files, whose bytes came from the bucket."""
    api = Client(base)
    form = urlencode({"username": "bruno.keller@example.ch", "password": "pässwörd"})
    signed_in = api.json("POST", "/api/v1/auth/login", form.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    token = signed_in["access_token"]
    items = api.json("GET", "/api/v1/items", token=token)
    check({"Vélo de route", "Tente 2 places"} <= {item["name"] for item in items}, f"items: {items}")
    files = api.json("GET", "/api/v1/files", token=token)
    check([file["name"] for file in files] == ["avatar.jpg"], f"files: {files}")
    expected = s3().get_object(Bucket=bucket, Key="legacy/profile_a0000000-0000-4000-8000-000000000002_9f1c2e.jpg")
    status, _, data = api.request("GET", f"/api/v1/files/{files[0]['id']}/download", token=token)
    check(status == 200 and data == expected["Body"].read(), f"imported bytes: {status}")
    step("imported: passed")


def degraded(base):
    """S3 out of reach: the server serves, says so, and turns uploads away."""
    api = Client(base)
    health = api.json("GET", "/_health")
    check(health["ok"] is True and health["storage"] == "down", f"/_health: {health}")
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    token = api.json("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})["access_token"]
    body, headers = multipart("a.txt", "text/plain", b"hello")
    status, _, data = api.request("POST", "/api/v1/files", body, token=token, headers=headers)
    check(status == 503 and json.loads(data).get("detail"), f"upload: {status} {data!r}")
    check(api.json("GET", "/api/v1/files", token=token) == [], "nothing was written")
    step("degraded: passed")


def in_flight(base, pid):
    """SIGTERM while an upload is half sent: the server stops taking
    connections, and the upload under way still completes."""
    api = Client(base)
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    token = api.json("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})["access_token"]
    content = os.urandom(200_000)
    body, headers = multipart("late.bin", "application/octet-stream", content)
    connection = socket.create_connection((api.host, api.port), timeout=30)
    head = (
        f"POST /api/v1/files HTTP/1.1\r\nHost: {api.host}:{api.port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {headers['Content-Type']}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    connection.sendall(head)
    # The server says 100 Continue once the handler reads the body: the
    # request is under way, not a connection still waiting to be accepted
    # (which a stopping server rightly refuses).
    interim = connection.recv(65536)
    check(interim.startswith(b"HTTP/1.1 100 Continue"), f"no 100 Continue: {interim[:200]!r}")
    connection.sendall(body[: len(body) // 2])
    os.kill(int(pid), signal.SIGTERM)

    def refused():
        try:
            socket.create_connection((api.host, api.port), timeout=1).close()
            return False
        except OSError:
            return True

    wait_for("the server to stop taking connections", refused, seconds=10)
    answer = b""
    try:
        connection.sendall(body[len(body) // 2 :])
        while chunk := connection.recv(65536):
            answer += chunk
    except OSError as error:
        check(False, f"the upload under way was cut ({error}); answered so far: {answer[:300]!r}")
    status = answer.split(b"\r\n", 1)[0]
    check(b" 200 " in status, f"the upload under way: {status!r}")
    step("in-flight: the request under way completed after SIGTERM")


def scraped(base, prometheus):
    """Prometheus, pointed at the binary's METRICS_ADDR, sees what `serve` sent."""
    api = Client(base)
    status, _, _ = api.request("GET", "/metrics")
    check(status == 404, f"/metrics on the public port: {status}")
    address = os.environ["METRICS_ADDR"]
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        kind, text = answer.headers["Content-Type"], answer.read().decode()
    check(kind.startswith("application/openmetrics-text"), f"content type {kind}")
    for secret in ("admin@example.com", os.environ["SECRET_KEY"]):
        check(secret not in text, "the metrics show a secret or an email")

    def query(expression):
        url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        with urllib.request.urlopen(url, timeout=10) as answer:
            result = json.load(answer)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    for expression in (
        'up{job="backend"}',
        'sum(http_requests_total{route="/api/v1/auth/login",status="200"})',
        'sum(sign_in_attempts_total{path="password",outcome="success"})',
        'sum(mail_deliveries_total{outcome="sent"})',
        'rate_limit_store{store="redis"}',
        'sum(db_pool_connections)',
        'count(build_info)',
    ):
        wait_for(f"Prometheus to see {expression}", lambda: (query(expression) or 0) > 0)
    check(query('count(http_requests_total{route=~".*@.*"})') is None, "a route label holds an email")

    def rules():
        with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=10) as answer:
            groups = json.load(answer)["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    wait_for("every alert rule evaluated", lambda: all(r.get("lastEvaluation", "").startswith("2") for r in rules()) and rules())
    broken = [(r["name"], r.get("lastError")) for r in rules() if r["health"] != "ok"]
    check(not broken and len(rules()) >= 12, f"alert rules: {broken or len(rules())}")
    step("scraped: Prometheus reads requests, sign-ins, mail, pool and limits; every alert rule evaluates")

    # The traces of the same traffic, at the OTLP stand-in.
    wanted = ("Acme E2E", "POST /api/v1/auth/login", "http.route", "SELECT postgresql", "db.statement",
              "SMTP send", "S3 PUT", "mail_delivery", "/login/oauth/access_token")

    def exported():
        text = "\n".join(stand_in("GET", "/otlp/exported"))
        return all(part in text for part in wanted) and text

    text = wait_for(f"the collector to receive {wanted}", exported)
    check("admin@example.com" not in text and os.environ["SECRET_KEY"] not in text, "a span holds a secret")
    step("traced: requests, statements, jobs, SMTP, S3 and provider calls reach the OTLP collector")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    commands = {"serve": serve, "imported": imported, "degraded": degraded, "in-flight": in_flight, "scraped": scraped}
    commands[command](*args)
