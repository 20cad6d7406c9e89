use serde_json::{Value, json};

use super::prepare_data::{
    assert_detail, assert_redacted_snapshot, last_mail_to, placeholder, register,
};
use crate::{
    models::soft_passkey::SoftPasskey,
    support::{request, request_with},
};

const ORIGIN: &str = "http://localhost:5150";

/// Adds a passkey made by `authenticator` to the account of `token`.
pub async fn add(
    server: &axum_test::TestServer,
    token: &str,
    authenticator: &mut SoftPasskey,
) -> Value {
    let begun: Value = server
        .post("/api/v1/users/me/passkeys/registration")
        .authorization_bearer(token)
        .await
        .json();
    let answer = authenticator.register(&begun["options"]);
    let added = server
        .post("/api/v1/users/me/passkeys/registration/finish")
        .authorization_bearer(token)
        .json(&json!({ "registration_id": begun["registration_id"], "name": "phone", "credential": answer }))
        .await;
    assert_eq!(added.status_code(), 200, "{}", added.text());
    added.json()
}

/// The options of a passkey sign-in, and the answer `authenticator` gives.
pub async fn answered(server: &axum_test::TestServer, authenticator: &mut SoftPasskey) -> Value {
    let begun: Value = server.post("/api/v1/auth/passkey/options").await.json();
    let credential = authenticator.sign_in(&begun["options"]);
    json!({ "authentication_id": begun["authentication_id"], "credential": credential })
}

#[tokio::test]
async fn a_passkey_added_to_an_account_signs_in_alone() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let mut phone = SoftPasskey::new("localhost", ORIGIN);

        let begun = server
            .post("/api/v1/users/me/passkeys/registration")
            .authorization_bearer(&token)
            .await;
        assert_eq!(begun.status_code(), 200, "{}", begun.text());
        insta::assert_json_snapshot!("registration_options", begun.json::<Value>(), {
            ".registration_id" => placeholder("[uuid]"),
            ".options.publicKey.challenge" => placeholder("[challenge]"),
            ".options.publicKey.user.id" => placeholder("[user handle]"),
        });
        let answer = phone.register(&begun.json::<Value>()["options"]);
        let registration_id = begun.json::<Value>()["registration_id"].clone();
        let finish =
            json!({ "registration_id": registration_id, "name": "phone", "credential": answer });
        let added = server
            .post("/api/v1/users/me/passkeys/registration/finish")
            .authorization_bearer(&token)
            .json(&finish)
            .await;
        assert_eq!(added.status_code(), 200, "{}", added.text());
        assert_redacted_snapshot!(added.json::<Value>(), @r#"
        {
          "backed_up": true,
          "created_at": "[timestamp]",
          "id": "[uuid]",
          "last_used_at": null,
          "name": "phone"
        }
        "#);
        assert!(last_mail_to(&ctx, "jane@example.com").contains("A passkey was added"));
        // The same answer again: the registration was taken.
        let again = server
            .post("/api/v1/users/me/passkeys/registration/finish")
            .authorization_bearer(&token)
            .json(&finish)
            .await;
        assert_detail(
            &again,
            400,
            "Unknown or expired passkey ceremony: start again",
        );

        let options = server.post("/api/v1/auth/passkey/options").await;
        insta::assert_json_snapshot!("authentication_options", options.json::<Value>(), {
            ".authentication_id" => placeholder("[uuid]"),
            ".options.publicKey.challenge" => placeholder("[challenge]"),
        });
        let body = options.json::<Value>();
        let credential = phone.sign_in(&body["options"]);
        let answer =
            json!({ "authentication_id": body["authentication_id"], "credential": credential });
        let signed_in = server.post("/api/v1/auth/passkey").json(&answer).await;
        assert_eq!(signed_in.status_code(), 200, "{}", signed_in.text());
        let tokens = signed_in.json::<Value>();
        assert_eq!(tokens["user"]["email"], "jane@example.com");
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(tokens["access_token"].as_str().expect("token"))
            .await;
        assert_eq!(me.status_code(), 200);
        let replayed = server.post("/api/v1/auth/passkey").json(&answer).await;
        assert_detail(
            &replayed,
            400,
            "Unknown or expired passkey ceremony: start again",
        );

        let events: Value = server
            .get("/api/v1/users/me/security-events")
            .authorization_bearer(&token)
            .await
            .json();
        let kinds: Vec<_> = events
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert_eq!(kinds[..2], [json!("sign_in"), json!("passkey_added")]);
    })
    .await;
}

#[tokio::test]
async fn passkeys_are_managed_by_their_owner_only() {
    request(|server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        let mut phone = SoftPasskey::new("localhost", ORIGIN);
        let added = add(&server, &jane, &mut phone).await;
        let path = format!("/api/v1/users/me/passkeys/{}", added["id"].as_str().expect("id"));

        let listed = server.get("/api/v1/users/me/passkeys").authorization_bearer(&jane).await;
        assert_eq!(listed.json::<Value>().as_array().map(Vec::len), Some(1));
        let none = server.get("/api/v1/users/me/passkeys").authorization_bearer(&john).await;
        assert_eq!(none.json::<Value>(), json!([]));

        let renamed = server
            .patch(&path)
            .authorization_bearer(&jane)
            .json(&json!({ "name": "laptop" }))
            .await;
        assert_eq!(renamed.json::<Value>()["name"], "laptop");
        let empty = server.patch(&path).authorization_bearer(&jane).json(&json!({ "name": "" })).await;
        assert_eq!(empty.status_code(), 422);
        for theirs in [
            server.patch(&path).authorization_bearer(&john).json(&json!({ "name": "mine" })).await,
            server.delete(&path).authorization_bearer(&john).await,
        ] {
            assert_detail(&theirs, 404, "Passkey not found");
        }

        // John finishing Jane's registration: not his to finish.
        let begun: Value = server
            .post("/api/v1/users/me/passkeys/registration")
            .authorization_bearer(&jane)
            .await
            .json();
        let mut tablet = SoftPasskey::new("localhost", ORIGIN);
        let answer = tablet.register(&begun["options"]);
        let stolen = server
            .post("/api/v1/users/me/passkeys/registration/finish")
            .authorization_bearer(&john)
            .json(&json!({ "registration_id": begun["registration_id"], "name": "x", "credential": answer }))
            .await;
        assert_detail(&stolen, 400, "Unknown or expired passkey ceremony: start again");
        let malformed = server
            .post("/api/v1/auth/passkey")
            .json(&json!({ "authentication_id": begun["registration_id"], "credential": {"id": 1} }))
            .await;
        assert_eq!(malformed.status_code(), 422);

        let removed = server.delete(&path).authorization_bearer(&jane).await;
        assert_eq!(removed.status_code(), 204);
        let answer = answered(&server, &mut phone).await;
        let gone = server.post("/api/v1/auth/passkey").json(&answer).await;
        assert_detail(&gone, 401, "The passkey was not accepted");
    })
    .await;
}

#[tokio::test]
async fn a_cloned_passkey_is_refused_and_recorded() {
    request(|server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let mut phone = SoftPasskey::new("localhost", ORIGIN);
        add(&server, &jane, &mut phone).await;
        let mut clone = phone.clone();
        let first = answered(&server, &mut phone).await;
        assert_eq!(
            server
                .post("/api/v1/auth/passkey")
                .json(&first)
                .await
                .status_code(),
            200
        );
        let copied = answered(&server, &mut clone).await;
        let refused = server.post("/api/v1/auth/passkey").json(&copied).await;
        assert_detail(&refused, 401, "The passkey was not accepted");
        let events: Value = server
            .get("/api/v1/users/me/security-events")
            .authorization_bearer(&jane)
            .await
            .json();
        assert_eq!(events[0]["kind"], "sign_in_failed");
        assert!(
            events[0]["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("passkey sign count went back"))
        );
    })
    .await;
}

#[tokio::test]
async fn the_apps_association_files_are_served_when_set() {
    request(|server, _ctx| async move {
        let apple = server.get("/.well-known/apple-app-site-association").await;
        assert_eq!(
            apple.json::<Value>(),
            json!({ "webcredentials": { "apps": ["ABCDE12345.com.example.app"] } })
        );
        let android = server.get("/.well-known/assetlinks.json").await;
        insta::assert_json_snapshot!("assetlinks", android.json::<Value>());
    })
    .await;
    let unset = |settings: &mut Value| {
        settings["passkeys"]["apple_app_ids"] = json!("");
        settings["passkeys"]["android_package_name"] = json!("");
        settings["passkeys"]["enabled"] = json!(false);
    };
    request_with(unset, |server, _ctx| async move {
        for path in [
            "/.well-known/apple-app-site-association",
            "/.well-known/assetlinks.json",
        ] {
            assert_detail(&server.get(path).await, 404, "Not Found");
        }
        let off = server.post("/api/v1/auth/passkey/options").await;
        assert_detail(&off, 403, "Passkeys are not enabled on this server");
    })
    .await;
}
