//! The Apple review team's code: long-lived, not consumed by use, shared by
//! any `@apple.com` email, and void after `APPLE_REVIEW_MAX_WRONG` wrong
//! tries in all.

use super::*;

impl Model {
    /// Makes (or replaces) the Apple review team's long-lived code. Returns
    /// the code row and the code, which is shown this once.
    ///
    /// # Errors
    /// On a database error.
    pub async fn issue_apple_review(
        db: &DatabaseConnection,
        policy: &CodePolicy,
    ) -> ModelResult<(Self, String)> {
        let code = policy.generate();
        let otp = Self::issue(
            db,
            policy,
            &policy.apple_review_email,
            &code,
            Purpose::AppleReview,
        )
        .await?;
        Ok((otp, code))
    }

    /// The Apple review code, sent from `source`. Wrong ones count against
    /// the source's budget (no account's: anyone may try it with any
    /// `@apple.com` email) and the code's own `APPLE_REVIEW_MAX_WRONG`.
    pub(super) async fn check_for_review(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        code: &str,
        source: IpAddr,
    ) -> ModelResult<CodeCheck> {
        let attempt = Attempt {
            factor: Factor::AppleReview,
            account: None,
            source,
        };
        let locked = |until| CodeCheck::Locked {
            until,
            account_lock_began: false,
        };
        if let Some(until) = attempt.take_try(db).await? {
            return Ok(locked(until));
        }
        let reviewer = &policy.apple_review_email;
        Ok(
            match Self::check(db, policy, reviewer, Purpose::AppleReview, code).await? {
                Checked::Right => CodeCheck::AppleReview,
                Checked::NoCode => {
                    attempt.give_back(db).await?;
                    CodeCheck::Refused
                }
                Checked::Wrong => match attempt.record_wrong(db).await? {
                    Wrong::Counted => CodeCheck::Refused,
                    Wrong::Locked { until, .. } => locked(until),
                },
            },
        )
    }

    /// The state of the Apple review code, if there is one: the code row
    /// (its `attempts` are its wrong tries so far).
    ///
    /// # Errors
    /// On a database error.
    pub async fn apple_review_state(
        db: &DatabaseConnection,
        policy: &CodePolicy,
    ) -> ModelResult<Option<Self>> {
        Self::find_for(db, &policy.apple_review_email, Purpose::AppleReview).await
    }

    /// Whether this Apple review code still signs in: not expired, and not
    /// void by wrong tries.
    #[must_use]
    pub fn is_usable(&self) -> bool {
        self.attempts < APPLE_REVIEW_MAX_WRONG && self.expires_at > timestamps::now()
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
}
