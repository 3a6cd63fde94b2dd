//! Item 10: every API error is the documented JSON body with a stable code, including the
//! answers made before a handler runs (body limit, path and query parameters, routing).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chainmark_server::domain::Role;
use serde_json::Value;

use crate::common::{TestApp, backends};

async fn error_of(app: &TestApp, req: Request<Body>) -> (StatusCode, String, Value) {
    let (status, headers, body) = app.send(req).await;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let json = serde_json::from_slice(&body).unwrap_or_else(|_| {
        panic!(
            "{status} {kind}: not JSON: {}",
            String::from_utf8_lossy(&body)
        )
    });
    (status, kind, json)
}

#[tokio::test]
async fn errors_outside_handlers_are_the_json_body() {
    for backend in backends() {
        let app = TestApp::with_settings(backend, |s| s.max_body_bytes = 1024);
        let token = app.token_for("admin", Role::HqAdmin).await;
        let auth = format!("Bearer {token}");
        let big = format!(
            "{{\"username\":\"{}\",\"password\":\"x\"}}",
            "a".repeat(4096)
        );
        let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
            (
                Request::post("/api/v1/auth/token")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CONTENT_LENGTH, big.len())
                    .body(Body::from(big.clone()))
                    .expect("request"),
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
            ),
            (
                Request::get("/api/v1/orders/not-a-number")
                    .header(header::AUTHORIZATION, &auth)
                    .body(Body::empty())
                    .expect("request"),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                Request::get("/api/v1/agents?after=lots")
                    .header(header::AUTHORIZATION, &auth)
                    .body(Body::empty())
                    .expect("request"),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                Request::get("/api/v1/no-such-thing")
                    .body(Body::empty())
                    .expect("request"),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                Request::builder()
                    .method(Method::PATCH)
                    .uri("/api/v1/me")
                    .body(Body::empty())
                    .expect("request"),
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            ),
        ];
        for (req, status, code) in cases {
            let what = format!("{} {}", req.method(), req.uri());
            let (got, kind, body) = error_of(&app, req).await;
            assert_eq!(got, status, "{backend:?} {what}: {body}");
            assert!(kind.starts_with("application/json"), "{what}: {kind}");
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}: {body}"
            );
        }
    }
}
