//! The legacy items, each kept with its owner when the owner came over.

use super::*;

#[derive(Debug, FromQueryResult)]
pub(super) struct LegacyItem {
    id: Uuid,
    name: Option<String>,
    description: Option<String>,
    user_id: Option<Uuid>,
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
    archived_at: Option<NaiveDateTime>,
}

/// The owners among `ids` that are here.
pub(super) async fn owners_here(
    txn: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashSet<Uuid>, DbErr> {
    let ids: HashSet<Uuid> = ids.collect();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|user| user.id)
        .collect())
}

/// The owner of a row, or why the row cannot come over without one.
pub(super) fn owner(user_id: Option<Uuid>, owners: &HashSet<Uuid>) -> Result<Uuid, &'static str> {
    match user_id {
        None => Err("it has no owner"),
        Some(owner) if owners.contains(&owner) => Ok(owner),
        Some(_) => Err("its owner was not imported"),
    }
}

pub(super) async fn import_items(
    legacy: &DatabaseConnection,
    target: &Target<'_>,
    after: Uuid,
    report: &mut Report,
) -> Result<Option<Uuid>, ImportError> {
    let columns = "id, name, description, user_id, created_at, updated_at, archived_at";
    let legacy_items: Vec<LegacyItem> = batch(legacy, columns, "item", after).await?;
    let Some(last) = legacy_items.last().map(|item| item.id) else {
        return Ok(None);
    };
    let txn = write_transaction::begin(target.db).await?;
    let present: HashSet<Uuid> = items::Entity::find()
        .filter(items::Column::Id.is_in(legacy_items.iter().map(|item| item.id)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|item| item.id)
        .collect();
    let owners = owners_here(&txn, legacy_items.iter().filter_map(|item| item.user_id)).await?;
    let mut rows = Vec::new();
    let Report {
        items: tally,
        skipped,
        ..
    } = report;
    for item in legacy_items {
        if present.contains(&item.id) {
            tally.present += 1;
            continue;
        }
        match owner(item.user_id, &owners) {
            Err(why) => Report::skip(tally, skipped, "item", item.id, why),
            Ok(owner_id) => rows.push(items::ActiveModel {
                id: ActiveValue::Set(item.id),
                name: ActiveValue::Set(item.name),
                description: ActiveValue::Set(item.description),
                owner_id: ActiveValue::Set(owner_id),
                archived_at: ActiveValue::Set(archived(item.archived_at)),
                created_at: ActiveValue::Set(item.created_at),
                updated_at: ActiveValue::Set(updated(item.created_at, item.updated_at)),
            }),
        }
    }
    tally.imported += rows.len() as u64;
    if !rows.is_empty() {
        items::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(Some(last))
}
