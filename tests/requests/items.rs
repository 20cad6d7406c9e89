use crate::support::request;
use insta::assert_json_snapshot;
use serde_json::{Value, json};

use super::prepare_data::{
    admin_token, assert_detail, assert_redacted_snapshot, id_of, placeholder, register,
};

async fn create(server: &axum_test::TestServer, token: &str, body: Value) -> Value {
    let response = server
        .post("/api/v1/items")
        .authorization_bearer(token)
        .json(&body)
        .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json()
}

fn names(response: &axum_test::TestResponse) -> Vec<String> {
    response
        .json::<Vec<Value>>()
        .iter()
        .map(|item| item["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn create_and_read_an_item() {
    request(|server, _ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let item = create(
            &server,
            &token,
            json!({ "name": "Lamp", "description": "Blue" }),
        )
        .await;
        assert_eq!(item["owner_id"], user["id"]);
        assert_redacted_snapshot!(item.clone());

        let shown = server
            .get(&format!("/api/v1/items/{}", id_of(&item)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(shown.status_code(), 200);
        assert_eq!(shown.json::<Value>(), item);

        let empty = create(&server, &token, json!({})).await;
        assert_eq!(empty["name"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn items_require_a_signed_in_user() {
    request(|server, _ctx| async move {
        let id = uuid::Uuid::new_v4();
        for request in [
            server.get("/api/v1/items"),
            server.post("/api/v1/items").json(&json!({})),
            server.get(&format!("/api/v1/items/{id}")),
            server.put(&format!("/api/v1/items/{id}")).json(&json!({})),
            server.delete(&format!("/api/v1/items/{id}")),
            server.delete(&format!("/api/v1/items/{id}/archive")),
            server.put(&format!("/api/v1/items/{id}/unarchive")),
            server
                .post(&format!("/api/v1/items/admin?user_id={id}"))
                .json(&json!({})),
        ] {
            let response = request.await;
            assert_eq!(response.status_code(), 401);
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "Not authenticated" })
            );
        }
    })
    .await;
}

#[tokio::test]
async fn lists_are_per_owner_oldest_first_and_admins_see_all() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        for n in 0..5 {
            create(&server, &jane, json!({ "name": format!("jane-{n}") })).await;
        }
        create(&server, &john, json!({ "name": "john-0" })).await;

        let mine = server
            .get("/api/v1/items")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(
            names(&mine),
            ["jane-0", "jane-1", "jane-2", "jane-3", "jane-4"]
        );
        let page = server
            .get("/api/v1/items?skip=1&limit=2")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(names(&page), ["jane-1", "jane-2"]);
        let johns = server
            .get("/api/v1/items")
            .authorization_bearer(&john)
            .await;
        assert_eq!(names(&johns), ["john-0"]);
        let all = server
            .get("/api/v1/items")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(all.json::<Vec<Value>>().len(), 6);

        let too_many = server
            .get("/api/v1/items?limit=1001")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(too_many.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn a_list_continues_after_the_cursor_its_last_page_gave() {
    request(|server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        for n in 0..5 {
            create(&server, &jane, json!({ "name": format!("jane-{n}") })).await;
            create(&server, &john, json!({ "name": format!("john-{n}") })).await;
        }
        let first = server
            .get("/api/v1/items?limit=2")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(names(&first), ["jane-0", "jane-1"]);
        let cursor = first.header("x-next-cursor");
        let cursor = cursor.to_str().expect("ascii");
        let second = server
            .get(&format!("/api/v1/items?limit=2&cursor={cursor}"))
            .authorization_bearer(&jane)
            .await;
        assert_eq!(names(&second), ["jane-2", "jane-3"]);
        let skipped = server
            .get(&format!("/api/v1/items?limit=2&skip=1&cursor={cursor}"))
            .authorization_bearer(&jane)
            .await;
        assert_eq!(names(&skipped), ["jane-3", "jane-4"]);
        let cursor = second.header("x-next-cursor");
        let last = server
            .get(&format!(
                "/api/v1/items?cursor={}",
                cursor.to_str().expect("ascii")
            ))
            .authorization_bearer(&jane)
            .await;
        assert_eq!(names(&last), ["jane-4"]);
        assert!(
            last.maybe_header("x-next-cursor").is_none(),
            "the last page has no next"
        );

        // Someone else's cursor only says where to start: the list stays the caller's.
        let johns = server
            .get("/api/v1/items?limit=1")
            .authorization_bearer(&john)
            .await;
        let cursor = johns.header("x-next-cursor");
        let mine = server
            .get(&format!(
                "/api/v1/items?cursor={}",
                cursor.to_str().expect("ascii")
            ))
            .authorization_bearer(&jane)
            .await;
        assert_eq!(names(&mine), ["jane-1", "jane-2", "jane-3", "jane-4"]);

        for bad in ["nonsense", "AAAA", "%00", ""] {
            let refused = server
                .get(&format!("/api/v1/items?cursor={bad}"))
                .authorization_bearer(&jane)
                .await;
            assert_eq!(refused.status_code(), 422, "{bad}: {}", refused.text());
        }
        let refused = server
            .get("/api/v1/items?cursor=nonsense")
            .authorization_bearer(&jane)
            .await;
        assert_json_snapshot!(refused.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn someone_elses_item_is_forbidden_and_a_missing_one_not_found() {
    request(|server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        let item = create(&server, &jane, json!({ "name": "Lamp" })).await;
        let id = id_of(&item);
        for request in [
            server.get(&format!("/api/v1/items/{id}")),
            server
                .put(&format!("/api/v1/items/{id}"))
                .json(&json!({ "name": "mine" })),
            server.delete(&format!("/api/v1/items/{id}")),
            server.delete(&format!("/api/v1/items/{id}/archive")),
            server.put(&format!("/api/v1/items/{id}/unarchive")),
        ] {
            let response = request.authorization_bearer(&john).await;
            assert_eq!(response.status_code(), 403);
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "Current user do not have enough privilege" })
            );
        }

        let missing = uuid::Uuid::new_v4();
        let response = server
            .get(&format!("/api/v1/items/{missing}"))
            .authorization_bearer(&jane)
            .await;
        assert_eq!(response.status_code(), 404);
        assert_eq!(
            response.json::<Value>(),
            json!({ "detail": "Item not found" })
        );

        server
            .put("/api/v1/users/me")
            .authorization_bearer(&jane)
            .json(&json!({ "language": "fr" }))
            .await
            .assert_status_ok();
        let french = server
            .get(&format!("/api/v1/items/{missing}"))
            .authorization_bearer(&jane)
            .await;
        assert_eq!(
            french.json::<Value>(),
            json!({ "detail": "Item introuvable" })
        );
    })
    .await;
}

/// A caller whose session ended gets 401 for an item of theirs and for one
/// that does not exist alike (no telling which exist), and someone else's
/// item is refused in the refused caller's language.
#[tokio::test]
async fn an_item_is_read_only_within_a_live_session() {
    request(|server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        let path = format!(
            "/api/v1/items/{}",
            id_of(&create(&server, &jane, json!({ "name": "Lamp" })).await)
        );
        server
            .put("/api/v1/users/me")
            .authorization_bearer(&john)
            .json(&json!({ "language": "fr" }))
            .await
            .assert_status_ok();
        let refused = server.get(&path).authorization_bearer(&john).await;
        assert_detail(
            &refused,
            403,
            "L'utilisateur courant n'a pas assez de privilèges",
        );

        let sessions = server
            .get("/api/v1/auth/sessions")
            .authorization_bearer(&jane)
            .await
            .json::<Vec<Value>>();
        let current = sessions
            .iter()
            .find(|session| session["current"] == true)
            .expect("the current session");
        server
            .delete(&format!("/api/v1/auth/sessions/{}", id_of(current)))
            .authorization_bearer(&jane)
            .await
            .assert_status_success();
        for request in [
            server.get(&path),
            server.put(&path).json(&json!({ "name": "mine" })),
            server.delete(&path),
            server.get(&format!("/api/v1/items/{}", uuid::Uuid::new_v4())),
        ] {
            let response = request.authorization_bearer(&jane).await;
            assert_detail(&response, 401, "Could not validate credentials");
        }
    })
    .await;
}

#[tokio::test]
async fn update_changes_only_the_fields_sent_and_null_clears() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let item = create(
            &server,
            &token,
            json!({ "name": "Lamp", "description": "Blue" }),
        )
        .await;
        let path = format!("/api/v1/items/{}", id_of(&item));

        let renamed = server
            .put(&path)
            .authorization_bearer(&token)
            .json(&json!({ "name": "Desk lamp" }))
            .await;
        assert_eq!(renamed.status_code(), 200);
        let renamed: Value = renamed.json();
        assert_eq!(renamed["name"], "Desk lamp");
        assert_eq!(renamed["description"], "Blue");

        let cleared = server
            .put(&path)
            .authorization_bearer(&token)
            .json(&json!({ "description": null }))
            .await;
        let cleared: Value = cleared.json();
        assert_eq!(cleared["name"], "Desk lamp");
        assert_eq!(cleared["description"], Value::Null);
        assert_redacted_snapshot!(cleared);

        let too_long = server
            .put(&path)
            .authorization_bearer(&token)
            .json(&json!({ "name": "x".repeat(256) }))
            .await;
        assert_eq!(too_long.status_code(), 422);
        assert_json_snapshot!(too_long.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn archived_items_disappear_until_unarchived() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let item = create(&server, &token, json!({ "name": "Lamp" })).await;
        let id = id_of(&item);

        let archived = server
            .delete(&format!("/api/v1/items/{id}/archive"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(archived.status_code(), 200);
        assert_redacted_snapshot!(archived.json::<Value>());

        let hidden = server
            .get(&format!("/api/v1/items/{id}"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(hidden.status_code(), 404);
        let listed = server
            .get("/api/v1/items")
            .authorization_bearer(&token)
            .await;
        assert!(names(&listed).is_empty());

        let unarchived = server
            .put(&format!("/api/v1/items/{id}/unarchive"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(unarchived.status_code(), 200);
        assert_eq!(unarchived.json::<Value>()["archived"], false);
        let shown = server
            .get(&format!("/api/v1/items/{id}"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(shown.status_code(), 200);
    })
    .await;
}

#[tokio::test]
async fn delete_removes_the_item_and_returns_it() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let item = create(&server, &token, json!({ "name": "Lamp" })).await;
        let path = format!("/api/v1/items/{}", id_of(&item));
        let deleted = server.delete(&path).authorization_bearer(&token).await;
        assert_eq!(deleted.status_code(), 200);
        assert_eq!(deleted.json::<Value>(), item);
        let gone = server.get(&path).authorization_bearer(&token).await;
        assert_eq!(gone.status_code(), 404);
    })
    .await;
}

#[tokio::test]
async fn admins_create_and_manage_items_of_other_users() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (token, user) = register(&server, "jane@example.com").await;
        let created = server
            .post(&format!("/api/v1/items/admin?user_id={}", id_of(&user)))
            .authorization_bearer(&admin)
            .json(&json!({ "name": "Gift" }))
            .await;
        assert_eq!(created.status_code(), 200);
        let item: Value = created.json();
        assert_eq!(item["owner_id"], user["id"]);

        let mine = server
            .get("/api/v1/items")
            .authorization_bearer(&token)
            .await;
        assert_eq!(names(&mine), ["Gift"]);
        let edited = server
            .put(&format!("/api/v1/items/{}", id_of(&item)))
            .authorization_bearer(&admin)
            .json(&json!({ "name": "Present" }))
            .await;
        assert_eq!(edited.status_code(), 200);

        let unknown = server
            .post(&format!(
                "/api/v1/items/admin?user_id={}",
                uuid::Uuid::new_v4()
            ))
            .authorization_bearer(&admin)
            .json(&json!({ "name": "Gift" }))
            .await;
        assert_eq!(unknown.status_code(), 404);
        assert_eq!(
            unknown.json::<Value>(),
            json!({ "detail": "User not found" })
        );

        let missing_param = server
            .post("/api/v1/items/admin")
            .authorization_bearer(&admin)
            .json(&json!({ "name": "Gift" }))
            .await;
        assert_eq!(missing_param.status_code(), 422);
        assert_json_snapshot!(missing_param.json::<Value>());

        let customer = server
            .post(&format!("/api/v1/items/admin?user_id={}", id_of(&user)))
            .authorization_bearer(&token)
            .json(&json!({ "name": "Gift" }))
            .await;
        assert_eq!(customer.status_code(), 403);
    })
    .await;
}

#[tokio::test]
async fn descriptions_are_capped_at_ten_thousand_characters() {
    request(|server, _ctx| async move {
        let token = admin_token(&server).await;
        let fits = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "long", "description": "é".repeat(10_000) }))
            .await;
        assert_eq!(fits.status_code(), 200);
        let over = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "long", "description": "é".repeat(10_001) }))
            .await;
        assert_eq!(over.status_code(), 422);
        assert_eq!(
            over.json::<Value>()["detail"][0]["loc"],
            json!(["body", "description"])
        );
    })
    .await;
}
