//! Issue 15's security findings, each through the router on both backends (or, for files, on
//! disk): one-time passwords on the API, sign-in throttles, sessions ending with a password
//! change, join throttles and open-link tiers, private files, password strength, one permission
//! check per resource, security headers, per-client verification throttles, JSON errors.

mod accounts;
mod errors;
mod files;
mod headers;
mod joining;
mod pages;
mod verify;

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;

use crate::common::TestApp;

/// An app that takes the client address from `X-Forwarded-For`, so a test can play many clients.
pub fn behind_proxy(backend: crate::common::Backend) -> TestApp {
    TestApp::with_settings(backend, |s| s.trust_proxy = true)
}

/// A JSON request from `client` (sent as `X-Forwarded-For`); returns status, headers and body.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
    client: IpAddr,
) -> (StatusCode, HeaderMap, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("x-forwarded-for", client.to_string());
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("request");
    let (status, headers, bytes) = app.send(req).await;
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The `n`-th test client address.
pub fn client(n: u32) -> IpAddr {
    IpAddr::from([198, 51, (n >> 8) as u8, n as u8])
}
