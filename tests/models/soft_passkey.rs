//! A software passkey authenticator: an ES256 key pair that answers a
//! registration with a "none" attestation and a sign-in with a signed
//! assertion, as a phone's or a browser's platform authenticator does, in
//! WebAuthn's JSON forms (`PublicKeyCredential.toJSON()`).

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_cbor_2::Value as Cbor;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// User present, user verified, backup eligible, backed up (a synced passkey).
const FLAGS: u8 = 0x01 | 0x04 | 0x08 | 0x10;
const ATTESTED: u8 = 0x40;

#[derive(Clone)]
pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    pub user_handle: Vec<u8>,
    pub origin: String,
    pub rp_id: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SoftPasskey {
    pub fn new(rp_id: &str, origin: &str) -> Self {
        let key = SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        Self {
            key,
            credential_id: uuid::Uuid::new_v4().as_bytes().to_vec(),
            counter: 0,
            user_handle: Vec::new(),
            origin: origin.to_string(),
            rp_id: rp_id.to_string(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> String {
        json!({
            "type": kind,
            "challenge": options["publicKey"]["challenge"],
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let coordinate =
            |c: Option<&p256::FieldBytes>| Cbor::Bytes(c.map(|c| c.to_vec()).unwrap_or_default());
        let key = BTreeMap::from([
            (Cbor::Integer(1), Cbor::Integer(2)),
            (Cbor::Integer(3), Cbor::Integer(-7)),
            (Cbor::Integer(-1), Cbor::Integer(1)),
            (Cbor::Integer(-2), coordinate(point.x())),
            (Cbor::Integer(-3), coordinate(point.y())),
        ]);
        serde_cbor_2::to_vec(&Cbor::Map(key)).expect("cbor")
    }

    fn authenticator_data(&self, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        if flags & ATTESTED != 0 {
            data.extend([0_u8; 16]);
            let length = u16::try_from(self.credential_id.len()).expect("short id");
            data.extend(length.to_be_bytes());
            data.extend(&self.credential_id);
            data.extend(self.cose_key());
        }
        data
    }

    /// The answer to registration options (`{"publicKey": ...}`).
    pub fn register(&mut self, options: &Value) -> Value {
        let user_id = options["publicKey"]["user"]["id"]
            .as_str()
            .expect("user id");
        self.user_handle = URL_SAFE_NO_PAD.decode(user_id).expect("base64url");
        let client_data = self.client_data("webauthn.create", options);
        let attestation = BTreeMap::from([
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(BTreeMap::new())),
            (
                Cbor::Text("authData".into()),
                Cbor::Bytes(self.authenticator_data(FLAGS | ATTESTED)),
            ),
        ]);
        let attestation = serde_cbor_2::to_vec(&Cbor::Map(attestation)).expect("cbor");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(client_data.as_bytes()),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// The answer to sign-in options: the next sign count, signed.
    pub fn sign_in(&mut self, options: &Value) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", options);
        let authenticator_data = self.authenticator_data(FLAGS);
        let mut signed = authenticator_data.clone();
        signed.extend(Sha256::digest(client_data.as_bytes()));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&authenticator_data),
                "clientDataJSON": b64(client_data.as_bytes()),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
    }
}
