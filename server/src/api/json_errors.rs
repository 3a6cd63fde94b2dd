//! Every API error is the documented JSON body (issue 15, item 10). Handlers return `Error`,
//! which `error.rs` turns into that body; but some answers are made before a handler runs or
//! outside it, in plain text: the body-size limit's 413, axum's rejections of a path or query
//! parameter (400), an unknown route (404) or method (405). This middleware rewrites any such
//! answer under `/api/` into the JSON body with a stable code, keeping its status and headers
//! (`Retry-After`, `Allow`) and the rejection's own words as the message.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::{ErrorBody, ErrorDetail};

/// The most of a plain-text error body kept as the message.
const MAX_TEXT: usize = 2048;

pub async fn rewrite(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, message) = describe(status, &method, &path, text);
    let json = serde_json::to_vec(&ErrorBody {
        error: ErrorDetail { code, message },
    })
    .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The stable code for `status`, and a message: the plain text's when there is one.
fn describe(
    status: StatusCode,
    method: &Method,
    path: &str,
    text: String,
) -> (&'static str, String) {
    let or = |fallback: String| {
        if text.is_empty() {
            fallback
        } else {
            text.clone()
        }
    };
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "request body too large: send less (see max_body_bytes)".into(),
        ),
        StatusCode::NOT_FOUND => ("not_found", or(format!("no API route {method} {path}"))),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            or(format!(
                "{method} is not allowed on {path}: see the Allow header"
            )),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            or("unsupported content type".into()),
        ),
        StatusCode::UNAUTHORIZED => ("unauthorized", or("sign in first".into())),
        StatusCode::FORBIDDEN => ("forbidden", or("not allowed".into())),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", or("too many requests".into())),
        StatusCode::SERVICE_UNAVAILABLE => (
            "unavailable",
            "the service is busy or starting: try again shortly".into(),
        ),
        s if s.is_server_error() => (
            "internal",
            "internal error: it has been logged; try again later".into(),
        ),
        _ => ("bad_request", or(format!("bad request ({status})"))),
    }
}
