//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::app::AppState;
use crate::error::Error;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: the database answers, its writer runs (SQLite), and no background part
/// (device consumer, periodic jobs) has stopped. A 503 names what is wrong.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = String),
        (status = 503, description = "Database unreachable, or a part of the server stopped")
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, Error> {
    if !state.db.writer_running() {
        return Err(Error::Unavailable("the database writer has stopped".into()));
    }
    if let Some((part, why)) = state.parts.stopped().into_iter().next() {
        return Err(Error::Unavailable(format!("{part} {why}")));
    }
    state
        .db
        .run(|c| crate::store::ping(c).map_err(|e| Error::Unavailable(format!("database: {e}"))))
        .await?;
    Ok("ready")
}

/// Prometheus metrics, text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
