//! The `Idempotency-Key` header on the routes that move money or stock (the rules are in
//! [`crate::idempotency`]): an extractor that reads it with the route it was sent to, and the
//! write that runs once per key and answers a repeat with the first answer.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::idempotency::{self, Answer};
use crate::store::{Db, DbConnection};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on an answer that is the stored answer to an earlier request with the same key.
pub const REPLAYED: &str = "idempotent-replayed";

/// The header as the OpenAPI document describes it, on every route that takes it.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Optional, 1 to 255 visible ASCII characters (a UUID). The same request sent again with the
    /// same key books nothing and gets the first answer (`Idempotent-Replayed: true`); the same
    /// key with another request is refused (422 `idempotency_key_reused`).
    #[serde(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

/// The `Idempotency-Key` a request carried (if any), with where it was sent.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: Option<String>,
    method: String,
    route: String,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        let key = match parts.headers.get(HEADER) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| {
                        Error::BadRequest(
                            "Idempotency-Key: give visible ASCII characters (a UUID)".into(),
                        )
                    })?
                    .to_string(),
            ),
        };
        let path = parts.uri.path().to_string();
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map_or_else(|| path.clone(), |m| m.as_str().to_string());
        Ok(IdempotencyKey {
            key,
            method: parts.method.as_str().to_string(),
            route,
            path,
        })
    }
}

/// Runs the write `f` and answers `status` with its result as JSON. With an `Idempotency-Key`,
/// `f` runs at most once per caller, route and key: a repeat of the same request gets the first
/// answer (marked `Idempotent-Replayed: true`) and changes nothing; the same key with another
/// `body` is refused. `body` is the request body as parsed (it is what the key is bound to).
pub async fn write_once<T, F>(
    db: &Db,
    user: i64,
    idem: IdempotencyKey,
    body: &impl Serialize,
    status: StatusCode,
    f: F,
) -> Result<Response>
where
    F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
    T: Serialize + Send + 'static,
{
    write_once_as(db, user, idem, body, move |c| Ok((status, f(c)?))).await
}

/// [`write_once`] for a write whose status depends on what it did (`f` answers both).
pub async fn write_once_as<T, F>(
    db: &Db,
    user: i64,
    idem: IdempotencyKey,
    body: &impl Serialize,
    f: F,
) -> Result<Response>
where
    F: FnOnce(&mut DbConnection) -> Result<(StatusCode, T)> + Send + 'static,
    T: Serialize + Send + 'static,
{
    let Some(key) = idem.key else {
        let (status, value) = db.write(f).await?;
        return Ok((status, axum::Json(value)).into_response());
    };
    let body = serde_json::to_string(body)
        .map_err(|e| Error::Internal(format!("cannot hash a request body: {e}")))?;
    let req = idempotency::Request::new(&key, &idem.method, &idem.route, &idem.path, &body)?;
    let answer = db
        .write(move |c| {
            idempotency::once_answering(c, user, &req, |c| {
                let (status, value) = f(c)?;
                let body = serde_json::to_string(&value)
                    .map_err(|e| Error::Internal(format!("cannot serialise an answer: {e}")))?;
                Ok((status.as_u16(), body))
            })
        })
        .await?;
    Ok(respond(answer))
}

fn respond(a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    let mut r = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        a.body,
    )
        .into_response();
    if a.replayed {
        r.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    r
}
