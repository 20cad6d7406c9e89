use backend::models::{
    items::{self, AccessError, Archived, ItemCreate, ItemUpdate},
    pagination::{Cursor, Pagination},
    users::{self, Role, UserCreate},
};
use loco_rs::model::ModelError;
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

fn named(name: &str) -> ItemCreate {
    ItemCreate {
        name: Some(name.to_string()),
        description: None,
    }
}

#[tokio::test]
async fn list_for_shows_owners_their_items_and_admins_everything() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let john = user(db, "john@example.com", Role::Customer).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    for n in 0..3 {
        items::Model::create(db, jane.id, &named(&format!("j{n}")))
            .await
            .expect("item");
    }
    let johns = items::Model::create(db, john.id, &named("x"))
        .await
        .expect("item");
    johns
        .clone()
        .into_active_model()
        .archive(db)
        .await
        .expect("archived");
    items::Model::create(db, john.id, &named("y"))
        .await
        .expect("item");

    let page = Pagination::default();
    let names = |items: Vec<items::Model>| -> Vec<String> {
        items.into_iter().filter_map(|item| item.name).collect()
    };
    assert_eq!(
        names(
            items::Model::list_for(db, &jane, &page)
                .await
                .expect("list")
        ),
        ["j0", "j1", "j2"]
    );
    assert_eq!(
        names(
            items::Model::list_for(db, &john, &page)
                .await
                .expect("list")
        ),
        ["y"]
    );
    assert_eq!(
        names(
            items::Model::list_for(db, &admin, &page)
                .await
                .expect("list")
        ),
        ["j0", "j1", "j2", "y"]
    );
    let second = Pagination {
        skip: 1,
        limit: 1,
        ..Pagination::default()
    };
    assert_eq!(
        names(
            items::Model::list_for(db, &jane, &second)
                .await
                .expect("list")
        ),
        ["j1"]
    );
}

#[tokio::test]
async fn access_is_for_owners_and_admins() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let john = user(db, "john@example.com", Role::Moderator).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    let item = items::Model::create(db, jane.id, &named("lamp"))
        .await
        .expect("item");
    for allowed in [&jane, &admin] {
        let found = items::Model::find_for(db, item.id, allowed, Archived::Excluded)
            .await
            .expect("allowed");
        assert_eq!(found.id, item.id);
    }
    assert!(matches!(
        items::Model::find_for(db, item.id, &john, Archived::Excluded).await,
        Err(AccessError::Forbidden)
    ));
    assert!(matches!(
        items::Model::find_for(db, uuid::Uuid::new_v4(), &admin, Archived::Included).await,
        Err(AccessError::NotFound)
    ));
}

#[tokio::test]
async fn transitions_archive_update_and_destroy() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let item = items::Model::create(
        db,
        jane.id,
        &ItemCreate {
            name: Some("lamp".into()),
            description: Some("blue".into()),
        },
    )
    .await
    .expect("item");

    let archived = item
        .into_active_model()
        .archive(db)
        .await
        .expect("archived");
    assert!(archived.is_archived());
    assert!(matches!(
        items::Model::find_for(db, archived.id, &jane, Archived::Excluded).await,
        Err(AccessError::NotFound)
    ));
    items::Model::find_for(db, archived.id, &jane, Archived::Included)
        .await
        .expect("found with the archived");
    let back = archived
        .into_active_model()
        .unarchive(db)
        .await
        .expect("unarchived");
    items::Model::find_for(db, back.id, &jane, Archived::Excluded)
        .await
        .expect("visible again");

    let changes = ItemUpdate {
        name: None,
        description: Some(None),
    };
    let updated = back
        .into_active_model()
        .apply_update(db, &changes)
        .await
        .expect("updated");
    assert_eq!(updated.name.as_deref(), Some("lamp"));
    assert_eq!(updated.description, None);

    let id = updated.id;
    updated.destroy(db).await.expect("destroyed");
    assert!(matches!(
        items::Model::find_by_id(db, id).await,
        Err(ModelError::EntityNotFound)
    ));
}

/// Every page of `viewer`'s list, `size` at a time, each after the cursor
/// the one before gave.
async fn walk(db: &DatabaseConnection, viewer: &users::Model, size: u64) -> Vec<uuid::Uuid> {
    let mut page = Pagination {
        limit: size,
        ..Pagination::default()
    };
    let mut seen = Vec::new();
    loop {
        let rows = items::Model::list_for(db, viewer, &page)
            .await
            .expect("list");
        seen.extend(rows.iter().map(|item| item.id));
        match page.next(&rows, |item| (item.created_at, item.id)) {
            Some(cursor) => page.cursor = Some(cursor),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn cursors_walk_a_list_once_in_order() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let john = user(db, "john@example.com", Role::Customer).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    for n in 0..5 {
        for owner in [&jane, &john] {
            items::Model::create(db, owner.id, &named(&format!("{n}")))
                .await
                .expect("item");
        }
    }
    for viewer in [&jane, &admin] {
        let whole = items::Model::list_for(db, viewer, &Pagination::default())
            .await
            .expect("list");
        let whole: Vec<_> = whole.iter().map(|item| item.id).collect();
        for size in [1, 2, 5] {
            assert_eq!(walk(db, viewer, size).await, whole, "pages of {size}");
        }
    }
}

#[tokio::test]
async fn lists_are_read_from_their_index_whatever_the_data() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let jane = user(db, "jane@example.com", Role::Customer).await;
    let admin = user(db, "boss@example.com", Role::Admin).await;
    let item = items::Model::create(db, jane.id, &named("lamp"))
        .await
        .expect("item");
    let after = Pagination {
        cursor: Some(Cursor::after(item.created_at, item.id)),
        ..Pagination::default()
    };
    for page in [Pagination::default(), after] {
        let mine = items::Model::listed(&jane, &page);
        support::assert_served_by(db, mine, "idx-items-owner_id-created_at-id").await;
        let everyones = items::Model::listed(&admin, &page);
        support::assert_served_by(db, everyones, "idx-items-created_at-id").await;
    }
}
