//! The Python template's password hashes, against its own test vectors.

use backend::models::legacy_passwords::{is_legacy, python_bytes_repr, verify};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    password: String,
    python_repr: String,
    stored_hash: String,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("../fixtures/legacy/legacy-hash-vectors.json");
    serde_json::from_str::<Vectors>(text)
        .expect("vectors")
        .vectors
}

#[test]
fn the_scrypt_input_is_pythons_repr_of_the_bytes() {
    for vector in vectors() {
        assert_eq!(
            python_bytes_repr(vector.password.as_bytes()),
            vector.python_repr,
            "{:?}",
            vector.password
        );
    }
}

#[test]
fn every_vector_verifies_and_nothing_else_does() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 14);
    for vector in &vectors {
        assert!(is_legacy(&vector.stored_hash));
        assert!(
            verify(&vector.password, &vector.stored_hash),
            "{:?}",
            vector.password
        );
        let wrong = format!("{}x", vector.password);
        assert!(!verify(&wrong, &vector.stored_hash), "{wrong:?}");
    }
}

#[test]
fn other_hashes_are_not_taken_for_legacy_ones() {
    let stored = &vectors()[0].stored_hash;
    for other in [
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        &stored.to_uppercase(),
        &stored[..158],
        &format!("{stored}00"),
        "",
    ] {
        assert!(!is_legacy(other), "{other}");
        assert!(!verify("Password1234", other));
    }
}
