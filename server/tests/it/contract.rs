//! The API's contract as snapshots (`insta`): the whole OpenAPI document, and the error body of
//! every kind of error. A change to either shows up as a snapshot diff to review; a snapshot no
//! test uses any more fails CI (`scripts/test` checks the references).

use axum::body::Body;
use axum::http::{Method, Request, header};
use axum::response::IntoResponse;
use chainmark_server::Error;
use chainmark_server::auth::password::PasswordProblem;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};

#[tokio::test]
async fn the_openapi_document() {
    let app = TestApp::new(Backend::Sqlite);
    let (status, mut doc) = app.json(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    // The crate's version is not part of the contract.
    doc["info"]["version"] = json!("(version)");
    insta::assert_json_snapshot!("openapi", doc);
}

/// The status and body a client gets for `error`.
async fn answer(error: Error) -> Value {
    let response = error.into_response();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: Value = serde_json::from_slice(&body).expect("a JSON body");
    json!({ "status": status, "retry_after": retry_after, "body": body })
}

/// Every kind of error the handlers return, as the client sees it: the status, the stable code
/// and the message. Internal details (database, internal) never show.
#[tokio::test]
async fn the_error_bodies() {
    let errors = [
        Error::BadRequest("quantity: must be at least 1".into()),
        Error::not_found("order"),
        Error::refuse(
            "changed_meanwhile",
            "order 7 changed meanwhile: it is paid now; nothing was done",
        ),
        Error::refused(&chainmark_server::domain::network::order::TransitionError::AlreadyPaid),
        Error::Unauthorized("sign in first".into()),
        Error::Forbidden("only HQ finance may do this".into()),
        Error::NotEligible("the conditions of level 3 are not met".into()),
        Error::IdempotencyKeyReused("this Idempotency-Key was used for another request".into()),
        Error::WeakPassword(PasswordProblem::TooShort),
        Error::WeakPassword(PasswordProblem::ContainsUsername),
        Error::WeakPassword(PasswordProblem::TooCommon),
        Error::WeakPassword(PasswordProblem::TooPredictable),
        Error::PasswordChangeRequired,
        Error::RateLimited {
            retry_after_secs: 7,
        },
        Error::Import("the batch signature does not verify".into()),
        Error::TooLarge,
        Error::Config("port: not a number".into()),
        Error::Database("connection reset by peer (SELECT … FROM agents)".into()),
        Error::Unavailable("database pool: timed out".into()),
        Error::Internal("ledger account agent:7:available missing".into()),
        Error::from(chainmark_server::store::Error::Duplicate(
            "UNIQUE constraint failed: products.sku".into(),
        )),
    ];
    let mut answers = Vec::new();
    for error in errors {
        answers.push(answer(error).await);
    }
    insta::assert_json_snapshot!("error_bodies", answers);
}

/// Errors made before any handler runs: an unknown path, a wrong method, no token, malformed
/// JSON, a wrong content type.
#[tokio::test]
async fn the_error_bodies_outside_handlers() {
    let app = TestApp::new(Backend::Sqlite);
    let requests = [
        Request::get("/api/v1/no-such-thing").body(Body::empty()),
        Request::delete("/api/v1/verify").body(Body::empty()),
        Request::get("/api/v1/users").body(Body::empty()),
        Request::post("/api/v1/auth/token")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json")),
        Request::post("/api/v1/auth/token")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("username=a")),
    ];
    let mut answers = Vec::new();
    for request in requests {
        let request = request.expect("request");
        let what = format!("{} {}", request.method(), request.uri());
        let (status, _, body) = app.send(request).await;
        let body: Value = serde_json::from_slice(&body).expect("a JSON body");
        answers.push(json!({ "request": what, "status": status.as_u16(), "body": body }));
    }
    insta::assert_json_snapshot!("error_bodies_outside_handlers", answers);
}
