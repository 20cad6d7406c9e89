{#- The model's tests: who sees and may act on a row, paging, archiving,
    changes and deletion. -#}
{%- set snake = name | snake_case -%}
{%- set plural = name | plural | snake_case -%}
{%- set pascal = name | pascal_case -%}
to: "tests/models/{{plural}}.rs"
skip_exists: true
message: "Tests for model `{{pascal}}` added in tests/models/{{plural}}.rs. Run them with `cargo test`."
---
//! `{{plural}}`: written by `cargo loco generate`, in the shape of
//! `tests/models/items.rs`.

use backend::models::{
    {{plural}}::{self, AccessError, Archived, {{pascal}}Create, {{pascal}}Update},
    pagination::{Cursor, Pagination},
    users::{self, Role, UserCreate},
};
use sea_orm::{DatabaseConnection, IntoActiveModel};

use crate::support::{self, boot, email};

async fn user(db: &DatabaseConnection, address: &str, role: Role) -> users::Model {
    let params = UserCreate {
        email: email(address),
        password: None,
        first_name: None,
        last_name: None,
        language: None,
    };
    users::Model::create(db, &params, role, &["en"])
        .await
        .expect("user")
}

/// The `n`th sample: every field set, and different for each `n`.
fn sample(n: i32) -> {{pascal}}Create {
    {{pascal}}Create {
{%- for column in columns %}
{%- set base = column.1 | replace(from="Null", to="") | replace(from="Uniq", to="") %}
{%- if base == "String" or base == "Text" %}{% set value = 'format!("' ~ column.0 ~ ' {n}")' %}
{%- elif base == "BigInteger" %}{% set value = "i64::from(n)" %}
{%- elif base == "Boolean" %}{% set value = "n.unsigned_abs().is_multiple_of(2)" %}
{%- elif base == "Uuid" %}{% set value = "uuid::Uuid::from_u128(u128::from(n.unsigned_abs()))" %}
{%- elif base == "TimestampWithTimeZone" %}{% set value = 'chrono::DateTime::from_timestamp(i64::from(n), 0).expect("a time").fixed_offset()' %}
{%- elif base == "Date" %}{% set value = 'chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date") + chrono::Days::new(u64::from(n.unsigned_abs()))' %}
{%- else %}{% set value = "f64::from(n)" %}
{%- endif %}
{%- if column.1 is ending_with("Null") %}
        {{column.0}}: Some({{value}}),
{%- else %}
        {{column.0}}: {{value}},
{%- endif %}
{%- endfor %}
    }
}

#[tokio::test]
async fn list_for_shows_owners_theirs_and_admins_everything() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let john = user(db, "john@example.com", Role::Customer).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    let mut janes = Vec::new();
    for n in 0..3 {
        let created = {{plural}}::Model::create(db, jane.id, &sample(n)).await;
        janes.push(created.expect("created").id);
    }
    let archived = {{plural}}::Model::create(db, john.id, &sample(3))
        .await
        .expect("created");
    archived.into_active_model().archive(db).await.expect("archived");
    let johns = {{plural}}::Model::create(db, john.id, &sample(4))
        .await
        .expect("created");

    let ids = |rows: Vec<{{plural}}::Model>| rows.into_iter().map(|row| row.id).collect::<Vec<_>>();
    let page = Pagination::default();
    let mine = {{plural}}::Model::list_for(db, &jane, &page).await;
    assert_eq!(ids(mine.expect("list")), janes);
    let theirs = {{plural}}::Model::list_for(db, &john, &page).await;
    assert_eq!(ids(theirs.expect("list")), [johns.id], "archived rows are not listed");
    let all = {{plural}}::Model::list_for(db, &admin, &page).await;
    let mut everyone = janes.clone();
    everyone.push(johns.id);
    assert_eq!(ids(all.expect("list")), everyone);
    let second = Pagination {
        skip: 1,
        limit: 1,
        ..Pagination::default()
    };
    let paged = {{plural}}::Model::list_for(db, &jane, &second).await;
    assert_eq!(ids(paged.expect("list")), [janes[1]]);
}

/// The lists stay fast as rows grow: an owner's is a range of their index,
/// everyone's of the time index, from the start or after a cursor.
#[tokio::test]
async fn lists_are_read_from_their_index_whatever_the_data() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    let row = {{plural}}::Model::create(db, jane.id, &sample(0))
        .await
        .expect("created");
    let after = Pagination {
        cursor: Some(Cursor::after(row.created_at, row.id)),
        ..Pagination::default()
    };
    for page in [Pagination::default(), after] {
        let mine = {{plural}}::Model::listed(&jane, &page);
        support::assert_served_by(db, mine, "idx-{{plural}}-owner_id-created_at-id").await;
        let everyones = {{plural}}::Model::listed(&admin, &page);
        support::assert_served_by(db, everyones, "idx-{{plural}}-created_at-id").await;
    }
}

#[tokio::test]
async fn access_is_for_owners_and_admins() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let john = user(db, "john@example.com", Role::Moderator).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    let row = {{plural}}::Model::create(db, jane.id, &sample(0))
        .await
        .expect("created");

    for allowed in [&jane, &admin] {
        let found = {{plural}}::Model::find_for(db, row.id, allowed, Archived::Excluded).await;
        assert_eq!(found.expect("found"), row);
    }
    let theirs = {{plural}}::Model::find_for(db, row.id, &john, Archived::Excluded).await;
    assert!(matches!(theirs, Err(AccessError::Forbidden)));
    let missing = uuid::Uuid::new_v4();
    let unknown = {{plural}}::Model::find_for(db, missing, &admin, Archived::Included).await;
    assert!(matches!(unknown, Err(AccessError::NotFound)));

    let archived = row.into_active_model().archive(db).await.expect("archived");
    assert!(archived.is_archived());
    let hidden = {{plural}}::Model::find_for(db, archived.id, &jane, Archived::Excluded).await;
    assert!(matches!(hidden, Err(AccessError::NotFound)));
    let back = archived.into_active_model().unarchive(db).await.expect("back");
    let found = {{plural}}::Model::find_for(db, back.id, &jane, Archived::Excluded).await;
    assert!(!found.expect("found").is_archived());
}

#[tokio::test]
async fn updates_change_the_fields_given_and_destroy_deletes() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let row = {{plural}}::Model::create(db, jane.id, &sample(0))
        .await
        .expect("created");
    let unchanged = row
        .clone()
        .into_active_model()
        .apply_update(db, &{{pascal}}Update::default())
        .await
        .expect("updated");
    let stamped = {{plural}}::Model {
        updated_at: row.updated_at,
        ..unchanged.clone()
    };
    assert_eq!(stamped, row, "an empty update changes nothing but the time");
    let other = sample(1);
    let changes = {{pascal}}Update {
{%- for column in columns %}
{%- if column.1 is ending_with("Null") %}
        {{column.0}}: Some(None),
{%- else %}
        {{column.0}}: Some(other.{{column.0}}{% if column.1 is starting_with("String") or column.1 is starting_with("Text") %}.clone(){% endif %}),
{%- endif %}
{%- endfor %}
    };
    let changed = unchanged
        .into_active_model()
        .apply_update(db, &changes)
        .await
        .expect("updated");
{%- for column in columns %}
{%- if column.1 is ending_with("Null") %}
    assert_eq!(changed.{{column.0}}, None, "`null` clears {{column.0}}");
{%- else %}
    assert_eq!(changed.{{column.0}}, other.{{column.0}});
{%- endif %}
{%- endfor %}

    let deleted = changed.destroy(db).await.expect("deleted");
    let gone = {{plural}}::Model::find_for(db, deleted.id, &jane, Archived::Included).await;
    assert!(matches!(gone, Err(AccessError::NotFound)));
}
