//! Items 1, 2, 3 and 6: one-time passwords, sign-in throttles, what a password change ends,
//! and password strength.

use axum::http::{Method, StatusCode};
use chainmark_server::domain::Role;
use serde_json::{Value, json};

use super::{behind_proxy, call, client};
use crate::common::{TestApp, backends};

const PASSWORD: &str = "test-password-123";

/// Signs in through the API from the router's default client; returns the token.
async fn token(app: &TestApp, username: &str, password: &str) -> String {
    let (status, body) = app
        .json(
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": username, "password": password})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "sign-in: {body}");
    body["token"].as_str().expect("token").to_string()
}

async fn create_user(app: &TestApp, admin: &str, body: Value) -> (StatusCode, Value) {
    app.json(Method::POST, "/api/v1/users", Some(body), Some(admin))
        .await
}

#[tokio::test]
async fn a_one_time_password_can_only_be_changed_on_the_api() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let (status, created) = create_user(
            &app,
            &admin,
            json!({"username": "newadmin", "role": "hq_admin"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let otp = created["password"].as_str().expect("one-time password");
        let (status, body) = app
            .json(
                Method::POST,
                "/api/v1/auth/token",
                Some(json!({"username": "newadmin", "password": otp})),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["must_change_password"], true);
        let fresh = body["token"].as_str().expect("token").to_string();

        // Nothing but changing it: not users, not products, not even reading.
        let (status, body) = create_user(
            &app,
            &fresh,
            json!({"username": "sneaky", "role": "hq_admin", "password": "sneaky-horse-staple-9"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}: {body}");
        assert_eq!(body["error"]["code"], "password_change_required");
        let (status, body) = app
            .json(
                Method::POST,
                "/api/v1/products",
                Some(json!({"sku": "X-1", "name": "x"})),
                Some(&fresh),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "password_change_required");
        let (status, body) = app
            .json(Method::GET, "/api/v1/users", None, Some(&fresh))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        // Who am I still answers, and says what to do.
        let (status, me) = app
            .json(Method::GET, "/api/v1/me", None, Some(&fresh))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["must_change_password"], true);

        let (status, body) = app
            .json(
                Method::POST,
                "/api/v1/auth/password",
                Some(json!({"current": otp, "new": "violet tram harbour 42"})),
                Some(&fresh),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = create_user(
            &app,
            &fresh,
            json!({"username": "later", "role": "agent", "password": "sneaky-horse-staple-9"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {body}");
        let users: Vec<String> = app
            .json(Method::GET, "/api/v1/users", None, Some(&admin))
            .await
            .1
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["username"].as_str().unwrap_or("").to_string())
            .collect();
        assert!(!users.contains(&"sneaky".to_string()), "{users:?}");
    }
}

#[tokio::test]
async fn token_sign_in_is_throttled_per_client() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token_for("admin", Role::HqAdmin).await;
        let limit = chainmark_server::ratelimit::LOGIN_ATTEMPTS_PER_MINUTE;
        // `token_for` spent one attempt of this client's budget.
        for _ in 1..limit {
            let (status, _) = app
                .json(
                    Method::POST,
                    "/api/v1/auth/token",
                    Some(json!({"username": "admin", "password": "wrong-password-1"})),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");
        }
        // Then even the right password waits.
        let req = axum::http::Request::post("/api/v1/auth/token")
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(
                json!({"username": "admin", "password": PASSWORD}).to_string(),
            ))
            .expect("request");
        let (status, headers, body) = app.send(req).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        let retry = crate::common::retry_after(&headers);
        assert!((1..=60).contains(&retry), "{retry}");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["code"], "rate_limited");
    }
}

#[tokio::test]
async fn token_sign_in_is_throttled_per_account_from_any_address() {
    for backend in backends() {
        let app = behind_proxy(backend);
        let mut conn = app.conn();
        for name in ["target", "bystander"] {
            chainmark_server::accounts::create_user(
                &mut conn,
                name,
                name,
                Role::HqAdmin,
                Some(PASSWORD),
            )
            .expect("user");
        }
        drop(conn);
        let budget = chainmark_server::ratelimit::LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR;
        let per_client = chainmark_server::ratelimit::LOGIN_ATTEMPTS_PER_MINUTE;
        // Spread over addresses so that no client reaches its own limit.
        for i in 0..budget {
            let (status, _, _) = call(
                &app,
                Method::POST,
                "/api/v1/auth/token",
                Some(json!({"username": "Target", "password": format!("guess-{i}")})),
                None,
                client(i / (per_client - 1)),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?} #{i}");
        }
        // One failure more, from yet another address, locks the account…
        let fresh = client(1000);
        let (status, _, _) = call(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "target", "password": "one-more-guess"})),
            None,
            fresh,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // …so the right password waits too, from any address;
        let (status, headers, body) = call(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "target", "password": PASSWORD})),
            None,
            client(1001),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}: {body}");
        assert!(crate::common::retry_after(&headers) >= 1);
        // while other accounts sign in from that very address.
        let (status, _, body) = call(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "bystander", "password": PASSWORD})),
            None,
            client(1001),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
    }
}

/// A `Write` into shared memory, for reading what was logged.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn refused_sign_ins_are_logged_with_name_and_client_never_the_password() {
    let app = behind_proxy(crate::common::Backend::Sqlite);
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/api/v1/auth/token",
        Some(json!({"username": "mallory", "password": "secret-guess-77"})),
        None,
        client(7),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let text = String::from_utf8(log.0.lock().expect("lock").clone()).expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.contains("sign-in refused"))
        .unwrap_or_else(|| panic!("no refusal logged: {text}"));
    assert!(line.contains("mallory"), "{line}");
    assert!(line.contains(&client(7).to_string()), "{line}");
    assert!(
        !text.contains("secret-guess-77"),
        "the password is logged: {text}"
    );
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_token() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let first = app.token_for("alice", Role::HqAdmin).await;
        let second = token(&app, "alice", PASSWORD).await;
        let (status, body) = app
            .json(
                Method::POST,
                "/api/v1/auth/password",
                Some(json!({"current": PASSWORD, "new": "quiet otter lamp 1987x"})),
                Some(&first),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{backend:?}: {body}");
        let me = |t: String| {
            let app = &app;
            async move { app.json(Method::GET, "/api/v1/me", None, Some(&t)).await.0 }
        };
        assert_eq!(
            me(first.clone()).await,
            StatusCode::OK,
            "the changing token stays"
        );
        assert_eq!(
            me(second.clone()).await,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: a token from before the change still works"
        );
        token(&app, "alice", "quiet otter lamp 1987x").await;
    }
}

#[tokio::test]
async fn an_admin_reset_ends_every_session_and_token_of_the_user() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let bob = {
            let mut conn = app.conn();
            chainmark_server::accounts::create_user(
                &mut conn,
                "bob",
                "Bob",
                Role::HqFinance,
                Some(PASSWORD),
            )
            .expect("user")
            .0
            .id
        };
        let bobs = token(&app, "bob", PASSWORD).await;
        let (status, body) = app
            .json(
                Method::POST,
                &format!("/api/v1/users/{bob}/password"),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        let otp = body["password"].as_str().expect("one-time password");
        let (status, _) = app.json(Method::GET, "/api/v1/me", None, Some(&bobs)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");
        let fresh = token(&app, "bob", otp).await;
        let (status, me) = app
            .json(Method::GET, "/api/v1/me", None, Some(&fresh))
            .await;
        assert_eq!(
            (status, &me["must_change_password"]),
            (StatusCode::OK, &json!(true))
        );
        // Only admins reset.
        let (status, _) = app
            .json(
                Method::POST,
                &format!("/api/v1/users/{bob}/password"),
                None,
                Some(&app.token_for("fin", Role::HqFinance).await),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn guessable_passwords_are_refused_with_a_stable_code() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        for (password, code) in [
            ("          ", "password_too_short"),
            ("aaaaaaaaaaaa", "password_too_predictable"),
            ("123456789012", "password_too_predictable"),
            ("password1234", "password_too_common"),
            ("warehouse-bob", "password_contains_username"),
        ] {
            let (status, body) = create_user(
                &app,
                &admin,
                json!({"username": "warehouse-bob", "role": "warehouse", "password": password}),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{backend:?} {password:?}: {body}"
            );
            assert_eq!(body["error"]["code"], code, "{password:?}");
            // And for one's own change.
            let (status, body) = app
                .json(
                    Method::POST,
                    "/api/v1/auth/password",
                    Some(json!({"current": PASSWORD, "new": password.replace("warehouse-bob", "admin-admin")})),
                    Some(&admin),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{password:?}: {body}");
            assert!(
                body["error"]["code"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("password_")),
                "{body}"
            );
        }
        let (status, body) = create_user(
            &app,
            &admin,
            json!({"username": "warehouse-bob", "role": "warehouse", "password": "ferry lantern oblique 7"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}
