//! A stand-in OpenID provider, served on a loopback port inside the test, in
//! the parts Apple and Google play: a JWKS (an RSA key made once per test
//! run, and an EC key it can publish later, as a rotation), ID tokens signed
//! with them, and Apple's token and revocation endpoints, which check the ES256
//! client secret they receive against the public half of the team's key (also
//! made per run).

use std::{
    collections::HashMap,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use axum::{
    Form, Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::{
    SecretKey,
    elliptic_curve::{rand_core::OsRng, sec1::ToEncodedPoint},
    pkcs8::{EncodePrivateKey, LineEnding},
};
use rsa::{RsaPrivateKey, pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
use serde_json::{Value, json};

pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
pub const SERVICES_ID: &str = "com.example.web";
pub const BUNDLE_ID: &str = "com.example.app";
pub const GOOGLE_APP_ID: &str = "google-ios-app";
pub const TEAM_ID: &str = "TEAM123456";
pub const KEY_ID: &str = "KEY1234567";
pub const RSA_KID: &str = "rsa-1";
pub const EC_KID: &str = "ec-2";

/// A signing key: its private half for `jsonwebtoken`, its public JWK.
pub struct Key {
    pub kid: &'static str,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT part: base64url of the JSON.
pub fn b64_json(value: &Value) -> String {
    b64(&serde_json::to_vec(value).expect("JSON"))
}

fn rsa_key(kid: &'static str) -> Key {
    let key = RsaPrivateKey::new(&mut OsRng, 2048).expect("an RSA key");
    let der = key.to_pkcs1_der().expect("DER");
    Key {
        kid,
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be()),
        }),
    }
}

/// A P-256 key, and its PKCS#8 PEM (what Apple's `.p8` file holds).
pub fn ec_key(kid: &'static str) -> (Key, String) {
    let key = SecretKey::random(&mut OsRng);
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
    let point = key.public_key().to_encoded_point(false);
    let jwk = json!({
        "kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
        "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")),
    });
    let encoding = EncodingKey::from_ec_der(key.to_pkcs8_der().expect("DER").as_bytes());
    (
        Key {
            kid,
            alg: Algorithm::ES256,
            encoding,
            jwk,
        },
        pem,
    )
}

/// The keys of this test run.
pub struct Keys {
    pub rsa: Key,
    pub ec: Key,
    /// A key the provider never publishes, under the RSA key's id.
    pub forged: Key,
    /// The team's Sign in with Apple key (the `.p8`).
    pub team: Key,
    pub team_pem: String,
}

pub static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    let (team, team_pem) = ec_key(KEY_ID);
    Keys {
        rsa: rsa_key(RSA_KID),
        ec: ec_key(EC_KID).0,
        forged: rsa_key(RSA_KID),
        team,
        team_pem,
    }
});

/// Signs `claims` with `key`, under its id.
pub fn sign(key: &Key, claims: &Value) -> String {
    sign_as(key, key.kid, claims)
}

/// Signs `claims` with `key`, under the key id `kid`.
pub fn sign_as(key: &Key, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("signed")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An ID token's claims: issued now, for an hour.
pub fn claims(issuer: &str, audience: &str, sub: &str, nonce: &str) -> Value {
    json!({
        "iss": issuer, "aud": audience, "sub": sub, "nonce": nonce,
        "iat": now(), "exp": now() + 3600, "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// `sha256(nonce)` in hex: what Apple's native sheet puts in the token.
pub fn hashed(nonce: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(nonce.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[derive(Clone, Default)]
pub struct Provider {
    pub base: String,
    pub jwks_fetches: Arc<AtomicUsize>,
    /// Publishes the EC key beside the RSA one (a key rotation).
    pub rotated: Arc<AtomicBool>,
    /// The claims of the ID token the token endpoint answers with.
    pub id_claims: Arc<Mutex<Value>>,
    /// The refresh tokens revoked, and the client ids they were revoked for.
    pub revoked: Arc<Mutex<Vec<(String, String)>>>,
    pub refresh_tokens: Arc<AtomicUsize>,
}

fn client_secret_ok(form: &HashMap<String, String>) -> bool {
    let (Some(client_id), Some(secret)) = (form.get("client_id"), form.get("client_secret")) else {
        return false;
    };
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(KEYS.team.jwk.clone()).expect("a JWK");
    let key = DecodingKey::from_jwk(&jwk).expect("the team's public key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[TEAM_ID]);
    validation.set_audience(&[APPLE_ISSUER]);
    let Ok(checked) = jsonwebtoken::decode::<Value>(secret, &key, &validation) else {
        return false;
    };
    let header = jsonwebtoken::decode_header(secret).expect("a header");
    checked.claims["sub"] == json!(client_id) && header.kid.as_deref() == Some(KEY_ID)
}

async fn jwks(State(provider): State<Provider>) -> impl IntoResponse {
    provider.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let mut keys = vec![KEYS.rsa.jwk.clone()];
    if provider.rotated.load(Ordering::SeqCst) {
        keys.push(KEYS.ec.jwk.clone());
    }
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(json!({ "keys": keys })),
    )
}

async fn token(
    State(provider): State<Provider>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    if !client_secret_ok(&form) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_client" })),
        );
    }
    if form.get("code").map(String::as_str) != Some("good-code") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        );
    }
    let mut claims = provider.id_claims.lock().expect("lock").clone();
    claims["aud"] = json!(form["client_id"]);
    let serial = provider.refresh_tokens.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::OK,
        Json(json!({
            "access_token": "apple-access", "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": format!("apple-refresh-{serial}"),
            "id_token": sign(&KEYS.rsa, &claims),
        })),
    )
}

async fn revoke(
    State(provider): State<Provider>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    if !client_secret_ok(&form) {
        return StatusCode::BAD_REQUEST;
    }
    provider.revoked.lock().expect("lock").push((
        form.get("token").cloned().unwrap_or_default(),
        form.get("client_id").cloned().unwrap_or_default(),
    ));
    StatusCode::OK
}

/// Starts the stand-in.
pub async fn start() -> Provider {
    let mut provider = Provider::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    provider.base = format!("http://{}", listener.local_addr().expect("address"));
    let app = Router::new()
        .route("/keys", get(jwks))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    provider
}

impl Provider {
    /// Points the app's Apple and Google settings at the stand-in: Apple's
    /// web flow and native sign-in on, Google's native sign-in on.
    pub fn settings(&self) -> impl FnOnce(&mut Value) + use<> {
        let base = self.base.clone();
        move |settings| {
            let sso = &mut settings["sso"];
            sso["apple"] = json!({
                "team_id": TEAM_ID,
                "client_id": SERVICES_ID,
                "key_id": KEY_ID,
                "private_key": KEYS.team_pem,
                "client_ids": BUNDLE_ID,
                "auth_url": format!("{base}/authorize"),
                "token_url": format!("{base}/token"),
                "revoke_url": format!("{base}/revoke"),
                "jwks_url": format!("{base}/keys"),
            });
            sso["google_client_ids"] = json!(GOOGLE_APP_ID);
            sso["google_jwks_url"] = json!(format!("{base}/keys"));
        }
    }

    /// What the token endpoint's next ID token says, besides its audience.
    pub fn answer_with(&self, claims: Value) {
        *self.id_claims.lock().expect("lock") = claims;
    }

    pub fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn revoked(&self) -> Vec<(String, String)> {
        self.revoked.lock().expect("lock").clone()
    }
}
