//! The legacy users, with their password hashes as they are (verified, and
//! moved to argon2id, at their next sign-in).

use super::*;

#[derive(Debug, FromQueryResult)]
pub(super) struct Person {
    id: Uuid,
    email: String,
    password_hash: Option<String>,
    role: String,
    language: String,
    confirmed: bool,
    first_name: String,
    last_name: String,
    provider: String,
    sso_provider_id: Option<String>,
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
    archived_at: Option<NaiveDateTime>,
}

pub(super) fn provider(name: &str) -> Option<Provider> {
    Provider::from_name(name).or((name == "email").then_some(Provider::Email))
}

/// One batch of users; the last id read, or `None` when there were none.
pub(super) async fn import_users(
    legacy: &DatabaseConnection,
    target: &Target<'_>,
    after: Uuid,
    report: &mut Report,
) -> Result<Option<Uuid>, ImportError> {
    let columns = "id, email, password_hash, role, language, confirmed, first_name, last_name, \
                   provider, sso_provider_id, created_at, updated_at, archived_at";
    let people: Vec<Person> = batch(legacy, columns, "person", after).await?;
    let Some(last) = people.last().map(|person| person.id) else {
        return Ok(None);
    };
    let emails: Vec<Option<Email>> = people
        .iter()
        .map(|person| Email::parse(&person.email).ok())
        .collect();
    let txn = write_transaction::begin(target.db).await?;
    let existing = users::Entity::find()
        .filter(
            users::Column::Id
                .is_in(people.iter().map(|person| person.id))
                .or(users::Column::Email.is_in(emails.iter().flatten().map(Email::as_str))),
        )
        .all(&txn)
        .await?;
    let present: HashSet<Uuid> = existing.iter().map(|user| user.id).collect();
    let mut taken: HashSet<String> = existing.into_iter().map(|user| user.email).collect();
    let mut rows = Vec::new();
    let Report {
        users: tally,
        skipped,
        ..
    } = report;
    for (person, email) in people.into_iter().zip(emails) {
        let (id, kinds) = (
            person.id,
            (Role::from_name(&person.role), provider(&person.provider)),
        );
        if present.contains(&id) {
            tally.present += 1;
            continue;
        }
        let Some(email) = email else {
            Report::skip(
                tally,
                skipped,
                "user",
                id,
                "its email is not a valid address",
            );
            continue;
        };
        let (Some(role), Some(provider)) = kinds else {
            Report::skip(tally, skipped, "user", id, "unknown role or provider");
            continue;
        };
        if !taken.insert(email.to_string()) {
            let why = "another account has its email (letter case aside)";
            Report::skip(tally, skipped, "user", id, why);
            continue;
        }
        let language = if target.languages.contains(&person.language.as_str()) {
            person.language
        } else {
            "en".to_string()
        };
        rows.push(users::ActiveModel {
            id: ActiveValue::Set(id),
            email: ActiveValue::Set(email.to_string()),
            hashed_password: ActiveValue::Set(person.password_hash),
            first_name: ActiveValue::Set(person.first_name),
            last_name: ActiveValue::Set(person.last_name),
            language: ActiveValue::Set(language),
            role: ActiveValue::Set(role),
            provider: ActiveValue::Set(provider),
            provider_id: ActiveValue::Set(person.sso_provider_id),
            confirmed: ActiveValue::Set(person.confirmed),
            archived_at: ActiveValue::Set(archived(person.archived_at)),
            token_version: ActiveValue::Set(0),
            pending_email: ActiveValue::Set(None),
            two_factor_secret: ActiveValue::Set(None),
            two_factor_enabled: ActiveValue::Set(false),
            two_factor_last_step: ActiveValue::Set(None),
            profile_picture_id: ActiveValue::Set(None),
            deletes_at: ActiveValue::Set(None),
            created_at: ActiveValue::Set(person.created_at),
            updated_at: ActiveValue::Set(updated(person.created_at, person.updated_at)),
        });
    }
    tally.imported += rows.len() as u64;
    if !rows.is_empty() {
        // `insert_many` keeps the legacy ids and timestamps (no `before_save`).
        users::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(Some(last))
}
