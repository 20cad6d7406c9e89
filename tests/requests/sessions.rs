//! Sessions (devices): listing them, ending one, the others, or all of a user's.

use axum_test::{TestResponse, TestServer};
use backend::models::{
    security_events,
    tokens::{SessionStamp, TokenKind},
};
use serde_json::Value;

use super::prepare_data::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, access_token, admin_token, assert_detail, event_kinds,
    id_of, register,
};
use crate::support::{app_state, request};

/// Signs in as `email` from a device calling itself `agent`.
async fn sign_in_from(server: &TestServer, email: &str, password: &str, agent: &str) -> Value {
    let response = server
        .post("/api/v1/auth/login")
        .add_header("user-agent", agent)
        .form(&[("username", email), ("password", password)])
        .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json()
}

async fn list(server: &TestServer, token: &str) -> Vec<Value> {
    let response = server
        .get("/api/v1/auth/sessions")
        .authorization_bearer(token)
        .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json::<Vec<Value>>()
}

async fn end(server: &TestServer, token: &str, id: &str) -> TestResponse {
    server
        .delete(&format!("/api/v1/auth/sessions/{id}"))
        .authorization_bearer(token)
        .await
}

async fn refresh(server: &TestServer, auth: &Value) -> TestResponse {
    server
        .post("/api/v1/auth/refresh")
        .json(&auth["refresh_token"])
        .await
}

async fn me(server: &TestServer, auth: &Value) -> u16 {
    server
        .get("/api/v1/users/me")
        .authorization_bearer(access_token(auth))
        .await
        .status_code()
        .as_u16()
}

fn agents(sessions: &[Value]) -> Vec<&str> {
    sessions
        .iter()
        .map(|session| session["user_agent"].as_str().expect("a user agent"))
        .collect()
}

#[tokio::test]
async fn a_user_sees_their_sessions_newest_first_with_the_current_one_marked() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let laptop = sign_in_from(&server, "jane@example.com", PASSWORD, "laptop/2.0").await;
        register(&server, "john@example.com").await;

        let listed = list(&server, &access_token(&laptop)).await;
        // Registration signs in too; John's sessions are not Jane's.
        assert_eq!(agents(&listed), ["laptop/2.0", "phone/1.0", ""]);
        let current: Vec<bool> = listed.iter().map(|s| s["current"] == true).collect();
        assert_eq!(current, [true, false, false]);
        insta::assert_json_snapshot!(listed[0], {
            ".id" => "[uuid]",
            ".created_at" => "[timestamp]",
            ".last_used_at" => "[timestamp]",
        });
        let from_phone = list(&server, &access_token(&phone)).await;
        assert_eq!(from_phone[1]["current"], true);
        assert_eq!(from_phone[0]["id"], listed[0]["id"]);

        let page = server
            .get("/api/v1/auth/sessions?skip=1&limit=1")
            .authorization_bearer(access_token(&laptop))
            .await;
        assert_eq!(agents(&page.json::<Vec<Value>>()), ["phone/1.0"]);
        let too_many = server
            .get("/api/v1/auth/sessions?limit=1001")
            .authorization_bearer(access_token(&laptop))
            .await;
        assert_eq!(too_many.status_code(), 422);
        let anonymous = server.get("/api/v1/auth/sessions").await;
        assert_detail(&anonymous, 401, "Not authenticated");
    })
    .await;
}

#[tokio::test]
async fn a_refresh_keeps_its_session_and_notes_its_use() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let before = list(&server, &access_token(&phone)).await;
        let renewed = server
            .post("/api/v1/auth/refresh")
            .add_header("user-agent", "phone/1.1")
            .json(&phone["refresh_token"])
            .await;
        assert_eq!(renewed.status_code(), 200);
        let renewed: Value = renewed.json();
        let after = list(&server, &access_token(&renewed)).await;
        assert_eq!(after.len(), before.len(), "no new session");
        assert_eq!(after[0]["id"], before[0]["id"]);
        assert_eq!(after[0]["current"], true);
        assert_eq!(after[0]["user_agent"], "phone/1.1");
        assert_eq!(after[0]["created_at"], before[0]["created_at"]);
        assert!(
            after[0]["last_used_at"].as_str() > before[0]["last_used_at"].as_str(),
            "{after:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn ending_a_session_voids_its_access_and_refresh_tokens_only() {
    request(|server, ctx| async move {
        let (_, jane) = register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let laptop = sign_in_from(&server, "jane@example.com", PASSWORD, "laptop/2.0").await;
        let phone_id = list(&server, &access_token(&phone)).await[1]["id"]
            .as_str()
            .expect("id")
            .to_string();

        let ended = end(&server, &access_token(&laptop), &phone_id).await;
        assert_eq!(ended.status_code(), 204, "{}", ended.text());
        assert_eq!(me(&server, &phone).await, 401, "its access token is void");
        let refused = refresh(&server, &phone).await;
        assert_detail(&refused, 401, "Could not validate credentials");
        assert_eq!(me(&server, &laptop).await, 200, "the others live");
        assert_eq!(refresh(&server, &laptop).await.status_code(), 200);
        let kinds = event_kinds(&ctx, &jane).await;
        assert_eq!(kinds[0], "session_ended");
        assert!(
            !kinds.iter().any(|kind| kind == "refresh_token_reused"),
            "a token of an ended session is no replay: {kinds:?}"
        );

        let again = end(&server, &access_token(&laptop), &phone_id).await;
        assert_detail(&again, 404, "Session not found");
        let unknown = end(
            &server,
            &access_token(&laptop),
            &uuid::Uuid::new_v4().to_string(),
        )
        .await;
        assert_detail(&unknown, 404, "Session not found");
        let malformed = end(&server, &access_token(&laptop), "not-a-uuid").await;
        assert_eq!(malformed.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn a_user_may_end_the_current_session_and_logout_ends_it_too() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let own = list(&server, &access_token(&phone)).await[0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        assert_eq!(
            end(&server, &access_token(&phone), &own)
                .await
                .status_code(),
            204
        );
        assert_eq!(me(&server, &phone).await, 401);

        let laptop = sign_in_from(&server, "jane@example.com", PASSWORD, "laptop/2.0").await;
        let out = server
            .post("/api/v1/auth/logout")
            .authorization_bearer(access_token(&laptop))
            .json(&laptop["refresh_token"])
            .await;
        assert_eq!(out.status_code(), 204);
        assert_eq!(
            me(&server, &laptop).await,
            401,
            "logout voids its access token"
        );
    })
    .await;
}

#[tokio::test]
async fn end_others_keeps_only_the_callers_session() {
    request(|server, ctx| async move {
        let (_, jane) = register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let laptop = sign_in_from(&server, "jane@example.com", PASSWORD, "laptop/2.0").await;
        let (john, _) = register(&server, "john@example.com").await;

        let ended = server
            .post("/api/v1/auth/sessions/end-others")
            .authorization_bearer(access_token(&laptop))
            .await;
        assert_eq!(ended.status_code(), 204);
        assert_eq!(me(&server, &phone).await, 401);
        assert_eq!(refresh(&server, &phone).await.status_code(), 401);
        assert_eq!(
            agents(&list(&server, &access_token(&laptop)).await),
            ["laptop/2.0"]
        );
        assert_eq!(list(&server, &john).await.len(), 1, "John's untouched");
        let kinds = event_kinds(&ctx, &jane).await;
        assert_eq!(kinds[0], "session_ended");
        assert!(!kinds.iter().any(|kind| kind == "refresh_token_reused"));
        // Nothing left to end: nothing recorded.
        let again = server
            .post("/api/v1/auth/sessions/end-others")
            .authorization_bearer(access_token(&laptop))
            .await;
        assert_eq!(again.status_code(), 204);
        assert_eq!(event_kinds(&ctx, &jane).await.len(), kinds.len());
    })
    .await;
}

#[tokio::test]
async fn someone_elses_session_is_not_found_to_a_user_and_ended_by_an_admin() {
    request(|server, ctx| async move {
        let (_, jane) = register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let phone_id = list(&server, &access_token(&phone)).await[0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let (john, _) = register(&server, "john@example.com").await;
        let taken = end(&server, &john, &phone_id).await;
        assert_detail(&taken, 404, "Session not found");
        assert_eq!(me(&server, &phone).await, 200, "still signed in");

        let admin = admin_token(&server).await;
        assert_eq!(end(&server, &admin, &phone_id).await.status_code(), 204);
        assert_eq!(me(&server, &phone).await, 401);
        let id = id_of(&jane).parse().expect("uuid");
        let events = security_events::Model::list_for(&ctx.db, id, &Default::default())
            .await
            .expect("events");
        assert_eq!(events[0].kind, "session_ended");
        assert_eq!(events[0].detail.as_deref(), Some("by an admin"));
    })
    .await;
}

#[tokio::test]
async fn admins_list_and_end_every_session_of_a_user() {
    request(|server, _ctx| async move {
        let (_, jane) = register(&server, "jane@example.com").await;
        let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
        let admin = sign_in_from(&server, ADMIN_EMAIL, ADMIN_PASSWORD, "admin/1.0").await;
        let path = format!("/api/v1/users/{}/sessions", id_of(&jane));

        let listed = server
            .get(&path)
            .authorization_bearer(access_token(&admin))
            .await;
        assert_eq!(listed.status_code(), 200);
        let listed: Vec<Value> = listed.json();
        assert_eq!(agents(&listed), ["phone/1.0", ""]);
        assert!(listed.iter().all(|session| session["current"] == false));
        insta::assert_json_snapshot!(listed, {
            "[].id" => "[uuid]",
            "[].created_at" => "[timestamp]",
            "[].last_used_at" => "[timestamp]",
        });

        let customer = server
            .get(&path)
            .authorization_bearer(access_token(&phone))
            .await;
        assert_detail(&customer, 403, "Current user do not have enough privilege");
        let not_theirs = server
            .delete(&path)
            .authorization_bearer(access_token(&phone))
            .await;
        assert_eq!(not_theirs.status_code(), 403);
        let unknown = format!("/api/v1/users/{}/sessions", uuid::Uuid::new_v4());
        for response in [
            server
                .get(&unknown)
                .authorization_bearer(access_token(&admin))
                .await,
            server
                .delete(&unknown)
                .authorization_bearer(access_token(&admin))
                .await,
        ] {
            assert_detail(&response, 404, "User not found");
        }

        let ended = server
            .delete(&path)
            .authorization_bearer(access_token(&admin))
            .await;
        assert_eq!(ended.status_code(), 204);
        assert_eq!(me(&server, &phone).await, 401);
        assert_eq!(refresh(&server, &phone).await.status_code(), 401);
        let after = server
            .get(&path)
            .authorization_bearer(access_token(&admin))
            .await;
        assert_eq!(after.json::<Vec<Value>>().len(), 0);
        assert_eq!(me(&server, &admin).await, 200, "the admin's own live");
    })
    .await;
}

#[tokio::test]
async fn an_access_token_outside_any_session_is_refused() {
    request(|server, ctx| async move {
        let (_, jane) = register(&server, "jane@example.com").await;
        let signer = &app_state(&ctx).signer;
        let user = id_of(&jane).parse().expect("uuid");
        let stamp = |session_id| SessionStamp {
            version: 0,
            auth_time: chrono::Utc::now().timestamp(),
            session_id,
        };
        for session_id in [None, Some(uuid::Uuid::new_v4())] {
            let forged = signer
                .issue_stamped(user, TokenKind::Access, 60, stamp(session_id))
                .expect("token");
            let response = server
                .get("/api/v1/users/me")
                .authorization_bearer(&forged.token)
                .await;
            assert_detail(&response, 401, "Could not validate credentials");
        }
        // A session of someone else's does not carry Jane in.
        let (john, _) = register(&server, "john@example.com").await;
        let johns = list(&server, &john).await[0]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        let borrowed = signer
            .issue_stamped(user, TokenKind::Access, 60, stamp(Some(johns)))
            .expect("token");
        let response = server
            .get("/api/v1/users/me")
            .authorization_bearer(&borrowed.token)
            .await;
        assert_eq!(response.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn a_refresh_racing_the_end_of_its_session_never_counts_as_a_replay() {
    request(|server, ctx| async move {
        let (_, jane) = register(&server, "jane@example.com").await;
        let laptop = sign_in_from(&server, "jane@example.com", PASSWORD, "laptop/2.0").await;
        let laptop_token = access_token(&laptop);
        for _ in 0..5 {
            let phone = sign_in_from(&server, "jane@example.com", PASSWORD, "phone/1.0").await;
            let phone_id = list(&server, &access_token(&phone)).await[0]["id"]
                .as_str()
                .expect("id")
                .to_string();
            let (renewed, ended) = tokio::join!(
                refresh(&server, &phone),
                end(&server, &laptop_token, &phone_id)
            );
            assert_eq!(ended.status_code(), 204);
            assert!([200, 401].contains(&renewed.status_code().as_u16()));
            if renewed.status_code() == 200 {
                assert_eq!(me(&server, &renewed.json::<Value>()).await, 401);
            }
        }
        let kinds = event_kinds(&ctx, &jane).await;
        assert!(
            !kinds.iter().any(|kind| kind == "refresh_token_reused"),
            "{kinds:?}"
        );
        assert_eq!(me(&server, &laptop).await, 200, "no sign-out everywhere");
        assert_eq!(
            list(&server, &laptop_token).await.len(),
            2,
            "the laptop and the sign-up"
        );
    })
    .await;
}
