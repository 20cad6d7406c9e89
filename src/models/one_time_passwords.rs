//! One-time sign-in codes. A code is six digits from 1 to 9, drawn from a
//! CSPRNG, bound to one email, stored only as a keyed hash, valid for minutes,
//! consumed by its use, and void after five tries: every check spends a try
//! before it compares, so the sixth try fails even with the right code.

use chrono::Duration;
use hmac::{Hmac, Mac};
use loco_rs::prelude::*;
use rand::Rng;
use sea_orm::{
    Condition, TryIntoModel,
    sea_query::{Expr, OnConflict},
};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use super::_entities::one_time_passwords::{self, ActiveModel, Column, Entity, Model};
use super::{
    email::Email,
    timestamps,
    users::{self, SignedIn},
};

/// Tries a code allows, right or wrong.
pub const MAX_ATTEMPTS: i32 = 5;
pub const CODE_LENGTH: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An ordinary code, consumed by its use.
    Login,
    /// The long-lived code for the Apple review team, not consumed by use.
    AppleReview,
}

impl Purpose {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::AppleReview => "apple_review",
        }
    }
}

/// What signing in with a code needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct CodePolicy {
    /// Keys the code hashes, so a copy of the table does not give the codes away.
    pub secret: SecretString,
    /// The development code that signs in any existing user; `None` in production.
    pub persistent_code: Option<SecretString>,
    pub apple_review_email: Email,
    /// How long an ordinary code lives.
    pub lifetime: Duration,
    /// How long the Apple review team's code lives.
    pub apple_review_lifetime: Duration,
}

/// What asking for a sign-in code came to.
#[derive(Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// A fresh code, stored for the email, to be sent to it.
    Issued(String),
    /// The Apple review team's email, which signs in with its own code only.
    AppleReviewRefused,
}

/// Whether `text` has the shape of a code (six digits).
#[must_use]
pub fn is_code(text: &str) -> bool {
    text.len() == CODE_LENGTH && text.bytes().all(|byte| byte.is_ascii_digit())
}

impl CodePolicy {
    /// `None` only if the key were refused, which HMAC never does.
    #[must_use]
    pub fn hash(&self, email: &Email, code: &str) -> Option<String> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes()).ok()?;
        mac.update(email.as_str().as_bytes());
        mac.update(b":");
        mac.update(code.as_bytes());
        Some(hex(&mac.finalize().into_bytes()))
    }

    /// A fresh code: digits 1 to 9, never the persistent code.
    #[must_use]
    pub fn generate(&self) -> String {
        let mut rng = rand::rng();
        loop {
            let code: String = (0..CODE_LENGTH)
                .map(|_| char::from(b'0' + rng.random_range(1..=9u8)))
                .collect();
            if !self.is_persistent(&code) {
                return code;
            }
        }
    }

    fn is_persistent(&self, code: &str) -> bool {
        self.persistent_code.as_ref().is_some_and(|persistent| {
            bool::from(persistent.expose_secret().as_bytes().ct_eq(code.as_bytes()))
        })
    }

    fn is_apple_reviewer(email: &Email) -> bool {
        email.domain() == "apple.com"
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

timestamps::stamped_model!();

impl Model {
    /// Stores a code for `email`, replacing any earlier one.
    ///
    /// # Errors
    /// On a database error.
    pub async fn issue(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        email: &Email,
        code: &str,
        purpose: Purpose,
    ) -> ModelResult<Self> {
        let lifetime = match purpose {
            Purpose::Login => policy.lifetime,
            Purpose::AppleReview => policy.apple_review_lifetime,
        };
        let otp = ActiveModel {
            id: ActiveValue::Set(Uuid::new_v4()),
            // An empty hash matches no code.
            code_hash: ActiveValue::Set(policy.hash(email, code).unwrap_or_default()),
            email: ActiveValue::Set(email.to_string()),
            purpose: ActiveValue::Set(purpose.as_str().to_string()),
            attempts: ActiveValue::Set(0),
            expires_at: ActiveValue::Set(timestamps::now() + lifetime),
            created_at: ActiveValue::Set(timestamps::now()),
            updated_at: ActiveValue::Set(timestamps::now()),
        };
        // One statement, so that two requests at once cannot both insert.
        Entity::insert(otp.clone())
            .on_conflict(
                OnConflict::column(Column::Email)
                    .update_columns([
                        Column::Id,
                        Column::CodeHash,
                        Column::Purpose,
                        Column::Attempts,
                        Column::ExpiresAt,
                        Column::CreatedAt,
                        Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        // Every column was written, so the row is what was sent.
        Ok(otp.try_into_model()?)
    }

    /// A fresh login code for `email`, replacing any earlier one; the Apple
    /// review team's email gets none.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn request(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        email: &Email,
    ) -> ModelResult<CodeRequest> {
        if *email == policy.apple_review_email {
            return Ok(CodeRequest::AppleReviewRefused);
        }
        let code = policy.generate();
        Self::issue(db, policy, email, &code, Purpose::Login).await?;
        Ok(CodeRequest::Issued(code))
    }

    /// Makes (or replaces) the Apple review team's long-lived code, and the
    /// review account it signs in to. Returns the code row, the account and
    /// the code, which is shown this once.
    ///
    /// # Errors
    /// On a database error.
    pub async fn issue_apple_review(
        db: &DatabaseConnection,
        policy: &CodePolicy,
    ) -> ModelResult<(Self, users::Model, String)> {
        let reviewer =
            users::Model::find_or_register_by_code(db, &policy.apple_review_email).await?;
        let code = policy.generate();
        let otp = Self::issue(
            db,
            policy,
            &policy.apple_review_email,
            &code,
            Purpose::AppleReview,
        )
        .await?;
        Ok((otp, reviewer.user, code))
    }

    /// The live code of `email` for `purpose`, if any.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_for(
        db: &DatabaseConnection,
        email: &Email,
        purpose: Purpose,
    ) -> ModelResult<Option<Self>> {
        Ok(Entity::find()
            .filter(Column::Email.eq(email.as_str()))
            .filter(Column::Purpose.eq(purpose.as_str()))
            .one(db)
            .await?)
    }

    /// Checks `code` against the live code of `email` (`code_email`'s for the
    /// Apple review team), spending one try first. A right login code is
    /// consumed; the Apple review code stays, and a right try gives its tries
    /// back.
    async fn check(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        code_email: &Email,
        purpose: Purpose,
        code: &str,
    ) -> ModelResult<bool> {
        let Some(otp) = Self::find_for(db, code_email, purpose).await? else {
            return Ok(false);
        };
        use sea_orm::ExprTrait;
        let now = timestamps::now();
        let spent = Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(otp.id))
            .filter(Column::Attempts.lt(MAX_ATTEMPTS))
            .filter(Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        if spent.rows_affected == 0 {
            return Ok(false);
        }
        let Some(given) = policy.hash(code_email, code) else {
            return Ok(false);
        };
        if otp.code_hash.is_empty() || !bool::from(given.as_bytes().ct_eq(otp.code_hash.as_bytes()))
        {
            return Ok(false);
        }
        match purpose {
            Purpose::Login => {
                // Consumed: of two requests with the right code, one wins.
                let consumed = Entity::delete_by_id(otp.id).exec(db).await?;
                Ok(consumed.rows_affected == 1)
            }
            Purpose::AppleReview => {
                Entity::update_many()
                    .col_expr(Column::Attempts, Expr::value(0))
                    .filter(Column::Id.eq(otp.id))
                    .exec(db)
                    .await?;
                Ok(true)
            }
        }
    }

    /// Who `code` signs in as `email`: the persistent development code (existing
    /// users only), the Apple review code (any `@apple.com` email, as the review
    /// account), or the email's own code, which registers an email without an
    /// account. `None` when the code does not sign in.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        email: &Email,
        code: &str,
    ) -> ModelResult<Option<SignedIn>> {
        let active = |user: ModelResult<users::Model>| {
            user.ok()
                .filter(|user| !user.is_archived())
                .map(SignedIn::existing)
        };
        if policy.is_persistent(code) {
            return Ok(active(users::Model::find_by_email(db, email).await));
        }
        // An @apple.com email with a code of its own is an ordinary sign-in; it
        // must not spend the review code's tries.
        let own_code = Self::find_for(db, email, Purpose::Login).await?;
        if CodePolicy::is_apple_reviewer(email)
            && own_code.is_none()
            && Self::check(
                db,
                policy,
                &policy.apple_review_email,
                Purpose::AppleReview,
                code,
            )
            .await?
        {
            let reviewer = users::Model::find_by_email(db, &policy.apple_review_email).await;
            return Ok(active(reviewer));
        }
        if !Self::check(db, policy, email, Purpose::Login, code).await? {
            return Ok(None);
        }
        match users::Model::find_by_email(db, email).await {
            Ok(user) if user.is_archived() => Ok(None),
            Ok(user) => Ok(Some(SignedIn::existing(
                user.into_active_model().prove_email(db).await?,
            ))),
            Err(ModelError::EntityNotFound) => users::Model::find_or_register_by_code(db, email)
                .await
                .map(Some),
            Err(error) => Err(error),
        }
    }

    /// The OAuth2 password form's sign-in: the password, or else a one-time
    /// code given in its place (which may register the email, as `sign_in`).
    ///
    /// # Errors
    /// On a database error.
    pub async fn sign_in_with_password_or_code(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        email: &Email,
        secret: &str,
    ) -> ModelResult<Option<SignedIn>> {
        if let Some(user) = users::Model::authenticate(db, email, secret).await? {
            return Ok(Some(SignedIn::existing(user)));
        }
        if is_code(secret) {
            return Self::sign_in(db, policy, email, secret).await;
        }
        Ok(None)
    }

    /// Deletes the Apple review code; returns what it was.
    ///
    /// # Errors
    /// On a database error.
    pub async fn delete_for(
        db: &DatabaseConnection,
        email: &Email,
        purpose: Purpose,
    ) -> ModelResult<Option<Self>> {
        let Some(otp) = Self::find_for(db, email, purpose).await? else {
            return Ok(None);
        };
        Entity::delete_by_id(otp.id).exec(db).await?;
        Ok(Some(otp))
    }

    /// Deletes codes past their expiry or out of tries; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &DatabaseConnection) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(
                Condition::any()
                    .add(Column::ExpiresAt.lt(timestamps::now()))
                    .add(Column::Attempts.gte(MAX_ATTEMPTS)),
            )
            .exec(db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CodePolicy {
        CodePolicy {
            secret: SecretString::from("secret"),
            persistent_code: Some(SecretString::from("123456")),
            apple_review_email: email("review@apple.com"),
            lifetime: Duration::minutes(10),
            apple_review_lifetime: Duration::days(15),
        }
    }

    fn email(raw: &str) -> Email {
        Email::parse(raw).expect("an email")
    }

    #[test]
    fn codes_are_six_digits_from_one_to_nine_and_never_the_persistent_code() {
        let policy = policy();
        for _ in 0..2000 {
            let code = policy.generate();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(
                code.chars().all(|digit| ('1'..='9').contains(&digit)),
                "{code}"
            );
            assert_ne!(code, "123456");
        }
    }

    #[test]
    fn hashes_are_keyed_and_bound_to_the_email() {
        let policy = policy();
        let hash = policy.hash(&email("Jane@example.com"), "654321");
        assert_eq!(hash, policy.hash(&email("jane@example.com"), "654321"));
        assert_ne!(hash, policy.hash(&email("john@example.com"), "654321"));
        assert_ne!(hash.as_deref(), Some("654321"));
        let other = CodePolicy {
            secret: SecretString::from("other"),
            ..policy
        };
        assert_ne!(hash, other.hash(&email("jane@example.com"), "654321"));
    }
}
