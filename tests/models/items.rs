use backend::models::{
    items::{self, AccessError, Archived, ItemCreate, ItemUpdate},
    pagination::Pagination,
    users::{self, Role, UserCreate},
};
use loco_rs::model::ModelError;
use sea_orm::{DatabaseConnection, IntoActiveModel};

use crate::support::{boot, email};

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
    let second = Pagination { skip: 1, limit: 1 };
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
