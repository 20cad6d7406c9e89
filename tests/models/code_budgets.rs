//! Budgets of wrong codes: locks that grow while the guessing goes on.

use std::net::{IpAddr, Ipv4Addr};

use backend::models::code_budgets::{self, Attempt, Factor, SOURCE_FAILURES, Wrong};
use chrono::{Duration, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, sea_query::Expr};

use crate::support::boot;

/// Spends the source's budget; returns the minutes its lock lasts.
async fn lock_minutes(db: &DatabaseConnection, attempt: &Attempt<'_>) -> i64 {
    let mut last = Wrong::Counted;
    for _ in 0..SOURCE_FAILURES {
        let refused = attempt.take_try(db).await.expect("a try");
        assert!(refused.is_none(), "within the budget");
        last = attempt.record_wrong(db).await.expect("counted");
    }
    let Wrong::Locked { until, .. } = last else {
        panic!("the budget's last wrong code locks: {last:?}");
    };
    (until.to_utc() - Utc::now()).num_minutes() + 1
}

/// A source that guesses again the moment its lock ends is locked twice as
/// long, even when its last wrong code is older than a day (it came before a
/// long lock): waiting out a lock does not start a new series. Quiet for a
/// day after its lock, it starts afresh.
#[tokio::test]
async fn waiting_out_a_lock_does_not_shorten_the_next() {
    let booted = boot().await;
    let db = &booted.app_context.db;
    let attempt = Attempt {
        factor: Factor::AppleReview,
        account: None,
        source: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
    };
    let ended = |lock_ended: Duration| {
        code_budgets::Entity::update_many()
            .col_expr(
                code_budgets::Column::LockedUntil,
                Expr::value(Utc::now() - lock_ended),
            )
            .col_expr(
                code_budgets::Column::UpdatedAt,
                Expr::value(Utc::now() - Duration::days(2)),
            )
            .exec(db)
    };
    assert_eq!(lock_minutes(db, &attempt).await, 15);
    ended(Duration::minutes(1)).await.expect("the lock ended");
    assert_eq!(lock_minutes(db, &attempt).await, 30);
    ended(Duration::days(1) + Duration::minutes(1))
        .await
        .expect("quiet for a day since");
    assert_eq!(lock_minutes(db, &attempt).await, 15);
}

/// Tries sent at once cannot pass the budget together: each is taken before
/// its code is compared, so of twenty at once exactly the budget's eight go
/// through, and the rest are refused before any code is checked.
#[tokio::test]
async fn tries_sent_at_once_share_one_budget() {
    let booted = boot().await;
    let db = &booted.app_context.db;
    let attempt = Attempt {
        factor: Factor::SecondFactor,
        account: Some("someone"),
        source: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)),
    };
    let tries = (0..20).map(|_| attempt.take_try(db));
    let taken = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|refused| refused.expect("a try"))
        .filter(Option::is_none)
        .count();
    assert_eq!(taken, usize::try_from(SOURCE_FAILURES).expect("a count"));
    attempt.give_back(db).await.expect("given back");
    assert!(
        attempt.take_try(db).await.expect("a try").is_none(),
        "one try back"
    );
}
