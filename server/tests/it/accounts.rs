//! Accounts, tokens and role checks through the API, on both backends.

use axum::http::{Method, StatusCode};
use chainmark_server::domain::Role;
use serde_json::json;

use crate::common::{TestApp, backends};

#[tokio::test]
async fn sign_in_use_and_revoke_a_token() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let token = app.token_for("admin", Role::HqAdmin).await;
        let (status, me) = app
            .json(Method::GET, "/api/v1/me", None, Some(&token))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(me["username"], "admin");
        assert_eq!(me["role"], "hq_admin");

        let (status, _) = app
            .json(Method::DELETE, "/api/v1/auth/token", None, Some(&token))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = app
            .json(Method::GET, "/api/v1/me", None, Some(&token))
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "revoked token still works on {backend:?}"
        );
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token_for("admin", Role::HqAdmin).await;
        for (user, pass) in [("admin", "wrong-password"), ("nobody", "test-password-123")] {
            let (status, body) = app
                .json(
                    Method::POST,
                    "/api/v1/auth/token",
                    Some(json!({"username": user, "password": pass})),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"]["message"], "wrong username or password");
        }
    }
}

#[tokio::test]
async fn only_admins_manage_users() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let auditor = app.token_for("auditor", Role::HqAuditor).await;
        let agent = app.token_for("agent1", Role::Agent).await;

        for token in [&auditor, &agent] {
            let (status, body) = app
                .json(Method::GET, "/api/v1/users", None, Some(token))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
            assert_eq!(body["error"]["code"], "forbidden");
            let (status, _) = app
                .json(
                    Method::POST,
                    "/api/v1/users",
                    Some(json!({"username": "sneaky", "role": "hq_admin"})),
                    Some(token),
                )
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
        let (status, _) = app.json(Method::GET, "/api/v1/users", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let (status, created) = app
            .json(
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": "finance1", "role": "hq_finance"})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let generated = created["password"].as_str().expect("generated password");
        assert_eq!(generated.len(), 16);
        assert_eq!(created["user"]["must_change_password"], true);

        let (status, body) = app
            .json(
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": "finance1", "role": "hq_finance"})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");

        let (status, list) = app
            .json(Method::GET, "/api/v1/users", None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(names, ["admin", "auditor", "agent1", "finance1"]);
        // Passwords never leave the server, not even hashed.
        assert!(!list.to_string().contains("argon2"));
    }
}

#[tokio::test]
async fn passwords_are_stored_as_argon2_hashes() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token_for("admin", Role::HqAdmin).await;
        let mut conn = app.conn();
        let user = chainmark_server::store::users::find_by_username(&mut conn, "admin")
            .expect("query")
            .expect("user");
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(!user.password_hash.contains("test-password-123"));
    }
}
