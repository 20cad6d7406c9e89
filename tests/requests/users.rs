use crate::support::request;
use insta::assert_json_snapshot;
use serde_json::{Value, json};

use super::prepare_data::{
    PASSWORD, admin_token, assert_redacted_snapshot, id_of, login, placeholder, register,
};

#[tokio::test]
async fn me_returns_the_caller() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let response = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(response.status_code(), 200);
        assert_redacted_snapshot!(response.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn update_me_changes_only_the_fields_sent() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let first = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "first_name": "Jane", "last_name": "Doe" }))
            .await;
        assert_eq!(first.status_code(), 200);
        let second = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "language": "fr", "role": "admin" }))
            .await;
        assert_eq!(second.status_code(), 200);
        let user: Value = second.json();
        assert_eq!(user["first_name"], "Jane");
        assert_eq!(user["last_name"], "Doe");
        assert_eq!(user["language"], "fr");
        assert_eq!(
            user["role"], "customer",
            "a user cannot change their own role"
        );
        assert_redacted_snapshot!(user);
    })
    .await;
}

#[tokio::test]
async fn update_me_refuses_an_email_taken_by_someone_else() {
    request(|server, _ctx| async move {
        register(&server, "taken@example.com").await;
        let (token, _) = register(&server, "jane@example.com").await;
        let taken = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "email": "Taken@example.com" }))
            .await;
        assert_eq!(taken.status_code(), 409);
        assert_json_snapshot!(taken.json::<Value>());

        let own = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "email": "JANE@example.com" }))
            .await;
        assert_eq!(own.status_code(), 200);

        let invalid = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "email": "nope" }))
            .await;
        assert_eq!(invalid.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn admin_routes_refuse_customers_in_their_language() {
    request(|server, _ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let id = id_of(&user);
        let refused = server
            .get("/api/v1/users")
            .authorization_bearer(&token)
            .await;
        assert_eq!(refused.status_code(), 403);
        assert_eq!(
            refused.json::<Value>(),
            json!({ "detail": "Current user do not have enough privilege" })
        );

        server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "language": "fr" }))
            .await
            .assert_status_ok();
        let requests = [
            server.get("/api/v1/users"),
            server
                .post("/api/v1/users")
                .json(&json!({ "email": "x@example.com" })),
            server.get(&format!("/api/v1/users/{id}")),
            server.put(&format!("/api/v1/users/{id}")).json(&json!({})),
            server.delete(&format!("/api/v1/users/{id}/archive")),
            server.put(&format!("/api/v1/users/{id}/unarchive")),
            server.delete(&format!("/api/v1/users/{id}")),
        ];
        for request in requests {
            let response = request.authorization_bearer(&token).await;
            assert_eq!(response.status_code(), 403);
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "L'utilisateur courant n'a pas assez de privilèges" })
            );
        }
    })
    .await;
}

#[tokio::test]
async fn admins_list_users_oldest_first_with_paging() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        for n in 0..4 {
            register(&server, &format!("user{n}@example.com")).await;
        }
        let emails = |response: axum_test::TestResponse| -> Vec<String> {
            response
                .json::<Vec<Value>>()
                .iter()
                .map(|user| user["email"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        let all = server
            .get("/api/v1/users")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(
            emails(all),
            [
                "admin@example.com",
                "user0@example.com",
                "user1@example.com",
                "user2@example.com",
                "user3@example.com"
            ]
        );
        let page = server
            .get("/api/v1/users?skip=2&limit=2")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(emails(page), ["user1@example.com", "user2@example.com"]);

        for query in ["limit=1001", "skip=-1", "limit=abc"] {
            let response = server
                .get(&format!("/api/v1/users?{query}"))
                .authorization_bearer(&admin)
                .await;
            assert_eq!(response.status_code(), 422, "{query}");
        }
        let too_many = server
            .get("/api/v1/users?limit=1001")
            .authorization_bearer(&admin)
            .await;
        assert_json_snapshot!(too_many.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn archived_users_are_listed_only_on_request() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (_, user) = register(&server, "jane@example.com").await;
        let id = id_of(&user);
        let archived = server
            .delete(&format!("/api/v1/users/{id}/archive"))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(archived.status_code(), 200);
        assert_eq!(archived.json::<Value>()["archived"], true);

        let listed = server
            .get("/api/v1/users")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(listed.json::<Vec<Value>>().len(), 1);
        let with_archived = server
            .get("/api/v1/users?with_archived=true")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(with_archived.json::<Vec<Value>>().len(), 2);

        let shown = server
            .get(&format!("/api/v1/users/{id}"))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(shown.status_code(), 200, "admins see archived users by id");

        let unarchived = server
            .put(&format!("/api/v1/users/{id}/unarchive"))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(unarchived.status_code(), 200);
        assert_redacted_snapshot!(unarchived.json::<Value>());
        login(&server, "jane@example.com", PASSWORD).await;
    })
    .await;
}

#[tokio::test]
async fn admins_create_users_with_a_role() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let created = server
            .post("/api/v1/users?role=moderator")
            .authorization_bearer(&admin)
            .json(&json!({ "email": "mod@example.com", "first_name": "Mo" }))
            .await;
        assert_eq!(created.status_code(), 200);
        assert_redacted_snapshot!(created.json::<Value>());

        let default_role = server
            .post("/api/v1/users")
            .authorization_bearer(&admin)
            .json(&json!({ "email": "customer@example.com", "password": PASSWORD }))
            .await;
        assert_eq!(default_role.json::<Value>()["role"], "customer");
        login(&server, "customer@example.com", PASSWORD).await;

        let taken = server
            .post("/api/v1/users")
            .authorization_bearer(&admin)
            .json(&json!({ "email": "mod@example.com" }))
            .await;
        assert_eq!(taken.status_code(), 409);

        let weak = server
            .post("/api/v1/users")
            .authorization_bearer(&admin)
            .json(&json!({ "email": "weak@example.com", "password": "password1" }))
            .await;
        assert_eq!(weak.status_code(), 422);
        assert_eq!(
            weak.json::<Value>()["detail"][0]["loc"],
            json!(["body", "password"])
        );

        let bad_role = server
            .post("/api/v1/users?role=owner")
            .authorization_bearer(&admin)
            .json(&json!({ "email": "x@example.com" }))
            .await;
        assert_eq!(bad_role.status_code(), 422);
        assert_eq!(
            bad_role.json::<Value>()["detail"][0]["loc"],
            json!(["query", "role"])
        );
    })
    .await;
}

#[tokio::test]
async fn admins_read_and_change_any_user() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (_, user) = register(&server, "jane@example.com").await;
        let id = id_of(&user);

        let updated = server
            .put(&format!("/api/v1/users/{id}/"))
            .authorization_bearer(&admin)
            .json(&json!({ "role": "moderator", "last_name": "Doe" }))
            .await;
        assert_eq!(updated.status_code(), 200);
        let body: Value = updated.json();
        assert_eq!(body["role"], "moderator");
        assert_eq!(body["is_moderator"], true);
        assert_eq!(body["last_name"], "Doe");

        let invalid = server
            .put(&format!("/api/v1/users/{id}"))
            .authorization_bearer(&admin)
            .json(&json!({ "email": "nope", "role": "admin" }))
            .await;
        assert_eq!(invalid.status_code(), 422);
        assert_eq!(
            invalid.json::<Value>()["detail"][0]["loc"],
            json!(["body", "email"])
        );
        let bad_role = server
            .put(&format!("/api/v1/users/{id}"))
            .authorization_bearer(&admin)
            .json(&json!({ "role": "owner" }))
            .await;
        assert_eq!(bad_role.status_code(), 422);

        let missing = uuid::Uuid::new_v4();
        for request in [
            server.get(&format!("/api/v1/users/{missing}")),
            server
                .put(&format!("/api/v1/users/{missing}"))
                .json(&json!({})),
            server.delete(&format!("/api/v1/users/{missing}/archive")),
            server.put(&format!("/api/v1/users/{missing}/unarchive")),
            server.delete(&format!("/api/v1/users/{missing}")),
        ] {
            let response = request.authorization_bearer(&admin).await;
            assert_eq!(response.status_code(), 404);
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "User not found" })
            );
        }

        let malformed = server
            .get("/api/v1/users/not-a-uuid")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(malformed.status_code(), 422);
        assert_json_snapshot!(malformed.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn messages_follow_the_users_language() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        server
            .put("/api/v1/users/me")
            .authorization_bearer(&admin)
            .json(&json!({ "language": "fr" }))
            .await
            .assert_status_ok();
        let missing = uuid::Uuid::new_v4();
        let response = server
            .get(&format!("/api/v1/users/{missing}"))
            .authorization_bearer(&admin)
            .add_header("accept-language", "en")
            .await;
        assert_eq!(response.status_code(), 404);
        assert_eq!(
            response.json::<Value>(),
            json!({ "detail": "Utilisateur introuvable" })
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_a_user_deletes_their_items() {
    request(|server, ctx| async move {
        let admin = admin_token(&server).await;
        let (token, user) = register(&server, "jane@example.com").await;
        let item = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "mine" }))
            .await;
        let item_id: uuid::Uuid = id_of(&item.json::<Value>()).parse().expect("uuid");

        let deleted = server
            .delete(&format!("/api/v1/users/{}", id_of(&user)))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(deleted.status_code(), 200);
        assert_eq!(deleted.json::<Value>()["email"], "jane@example.com");

        let gone = backend::models::items::Model::find_by_id(&ctx.db, item_id).await;
        assert!(gone.is_err(), "the user's items go with them");
        let again = server
            .delete(&format!("/api/v1/users/{}", id_of(&user)))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(again.status_code(), 404);
    })
    .await;
}

#[tokio::test]
async fn names_are_capped_at_255_characters() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let over = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "first_name": "a".repeat(256), "last_name": "b".repeat(255) }))
            .await;
        assert_eq!(over.status_code(), 422);
        let errors = over.json::<Value>()["detail"].clone();
        assert_eq!(errors.as_array().map(Vec::len), Some(1));
        assert_eq!(errors[0]["loc"], json!(["body", "first_name"]));
    })
    .await;
}

/// Archiving ends every token: unarchiving does not bring the old ones back.
#[tokio::test]
async fn fix_an_access_token_from_before_an_archive_stays_void() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (token, user) = register(&server, "jane@example.com").await;
        let id = id_of(&user);
        for path in ["archive", "unarchive"] {
            let request = if path == "archive" {
                server.delete(&format!("/api/v1/users/{id}/{path}"))
            } else {
                server.put(&format!("/api/v1/users/{id}/{path}"))
            };
            assert_eq!(
                request.authorization_bearer(&admin).await.status_code(),
                200
            );
        }
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401);
    })
    .await;
}
