//! Item 8: security headers on pages and API answers; no caching of answers that carry secrets.

use axum::http::{HeaderMap, Method, StatusCode, header};
use chainmark_server::domain::Role;
use serde_json::json;

use crate::common::{Backend, TestApp, backends, get_with_cookie};

fn check_common(headers: &HeaderMap, what: &str) {
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(!csp.contains("script-src 'unsafe-inline'"), "{what}: {csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{what}");
}

#[tokio::test]
async fn pages_and_api_answers_carry_security_headers() {
    for backend in backends() {
        let app = TestApp::new(backend);
        for path in ["/login", "/api/v1/me", "/api/docs", "/healthz"] {
            let (_, headers, _) = app.send(get_with_cookie(path, None)).await;
            check_common(&headers, path);
            assert!(
                headers
                    .get(header::STRICT_TRANSPORT_SECURITY)
                    .is_some_and(|v| v.to_str().unwrap_or("").contains("max-age=")),
                "{path}: HSTS on an https site"
            );
        }
    }
}

#[tokio::test]
async fn no_hsts_when_the_site_is_plain_http() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| {
        s.base_url = "http://127.0.0.1:8080".into()
    });
    let (_, headers, _) = app.send(get_with_cookie("/login", None)).await;
    check_common(&headers, "/login");
    assert!(headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
}

#[tokio::test]
async fn answers_with_secrets_are_never_cached() {
    for backend in backends() {
        let keys = tempfile::tempdir().expect("temp dir");
        let device_key = keys.path().join("device.key");
        chainmark_server::ingest::device_key::DeviceKey::load_or_create(&device_key)
            .expect("device key");
        let app = TestApp::with_settings(backend, |s| {
            s.mqtt.device_key_file = Some(device_key.clone())
        });
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let send = |method: Method, path: &str, body: Option<serde_json::Value>| {
            let mut b = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {admin}"));
            let req = match body {
                Some(v) => b
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(v.to_string())),
                None => {
                    b = b.header(header::ACCEPT, "application/json");
                    b.body(axum::body::Body::empty())
                }
            }
            .expect("request");
            app.send(req)
        };
        let (status, headers, _) = send(Method::GET, "/api/v1/users", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "no-store",
            "{backend:?}: user list"
        );
        let (status, headers, _) = send(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "fin", "role": "hq_finance"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "no-store",
            "one-time password"
        );
        let (status, headers, _) = send(
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "admin", "password": "test-password-123"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "a token");
        let (status, headers, body) = send(
            Method::POST,
            "/api/v1/devices",
            Some(json!({"id": "hh-1", "warehouse": "HQ-WH01"})),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "no-store",
            "device provisioning"
        );
        let (status, headers, _) =
            send(Method::GET, "/api/v1/devices/hh-1/provisioning", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "no-store",
            "device provisioning"
        );
        let (status, headers, _) = send(
            Method::GET,
            "/api/v1/epcis/events?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "an export");
    }
}
