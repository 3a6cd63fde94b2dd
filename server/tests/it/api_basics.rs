//! What every client meets first: health, metrics, the OpenAPI document, bad input.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::common::{Backend, TestApp};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::new(Backend::Sqlite);
    let (status, _, body) = app
        .send(Request::get("/healthz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok"[..]));
    let (status, _, _) = app
        .send(Request::get("/readyz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, body) = app
        .send(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("chainmark_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/healthz\""),
        "routes are labelled by template: {text}"
    );
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let app = TestApp::new(Backend::Sqlite);
    let (status, doc) = app.json(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for path in [
        "/api/v1/verify",
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/users",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let (status, _, page) = app
        .send(Request::get("/api/docs").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page).contains("/api/v1/verify"));
}

#[tokio::test]
async fn malformed_json_and_oversized_bodies_are_refused_clearly() {
    let app = TestApp::new(Backend::Sqlite);
    let send = |body: Body, ctype: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/verify")
            .header(header::CONTENT_TYPE, ctype)
            .body(body)
            .expect("req")
    };
    let (status, _, body) = app
        .send(send(Body::from("{not json"), "application/json"))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json error body");
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("invalid JSON")
    );

    let (status, _, _) = app
        .send(send(
            Body::from(json!({"serial": 5}).to_string()),
            "application/json",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = app
        .send(send(
            Body::from("serial=x"),
            "application/x-www-form-urlencoded",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let huge = format!(
        "{{\"serial\":\"{}\",\"tag\":\"x\",\"security_code\":\"1\"}}",
        "A".repeat(200_000)
    );
    let (status, _, _) = app.send(send(Body::from(huge), "application/json")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
