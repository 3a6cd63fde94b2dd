//! `GET /api/v1/epcis/events`: the traceability export, a GS1 EPCIS 2.0 JSON-LD document for a
//! batch or a time window (docs/epcis.md). The document is streamed as it is written: a
//! million-item batch never sits in memory as one JSON value, and there is no paging to stitch.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::error::ErrorBody;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::domain::epcis::Ids;
use crate::epcis::{self, Request};
use crate::error::{Error, Result};

/// Bytes sent to the client at a time.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EpcisQuery {
    /// The batch (its 8-character id): every event of its items, its cases and its scans.
    pub batch: Option<String>,
    /// Start of a time window (inclusive), RFC 3339, e.g. `2026-11-01T00:00:00+08:00`.
    pub from: Option<String>,
    /// End of the window (exclusive), RFC 3339; must be after `from`.
    pub to: Option<String>,
}

/// The custody history of a batch or of a window as a GS1 EPCIS 2.0 document (HQ admin and
/// auditors). Give `batch`, or `from` and `to`. The body is streamed; a failure after the first
/// byte ends it early (the JSON is then incomplete) and is logged.
#[utoipa::path(
    get,
    path = "/api/v1/epcis/events",
    tag = "registry",
    security(("bearer" = [])),
    params(EpcisQuery),
    responses(
        (status = 200, description = "An EPCISDocument (JSON-LD)", content_type = "application/ld+json"),
        (status = 400, description = "Neither or both of batch and from/to; a bad timestamp; from not before to", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown batch", body = ErrorBody),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<EpcisQuery>, QueryRejection>,
) -> Result<Response> {
    caller.require(Permission::ExportTraceability)?;
    let Query(query) =
        query.map_err(|e| Error::BadRequest(format!("bad query: {}", e.body_text())))?;
    let filter = epcis::parse_request(&Request {
        batch: query.batch.as_deref(),
        from: query.from.as_deref(),
        to: query.to.as_deref(),
    })?;
    let checked = filter.clone();
    state.db.run(move |c| epcis::check(c, &checked)).await?;

    let ids = Ids::new(&state.settings.base_url);
    let db = state.db.clone();
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::task::spawn_blocking(move || {
        let result = db.get().and_then(|mut conn| {
            let mut out = ChannelWriter {
                tx,
                buf: Vec::with_capacity(CHUNK),
            };
            epcis::export(&mut conn, &ids, &filter, &mut out, &mut |_| {})
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "EPCIS export stopped early");
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Hands the document to the response body in chunks; fails once the client has gone.
struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}
