//! `GET /api/v1/sightings`: verification attempts, for auditors (DOMAIN §7, §8).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::registry;
use crate::store::sightings::{self, SightingFilter, SightingRow};

/// Largest page.
pub const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SightingQuery {
    /// Only this serial (its check character is verified).
    pub serial: Option<String>,
    /// Only this result (e.g. `counterfeit`, `genuine_repeat`), or a family ending in `:`
    /// (`not_released:`).
    pub result: Option<String>,
    /// Only at or after this time: RFC 3339 (`2026-01-31T08:00:00Z`) or a date (`2026-01-31`).
    pub since: Option<String>,
    /// How many, newest first: 1-1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SightingView {
    pub id: i64,
    pub serial: String,
    /// Whether the serial is in the registry (false: a made-up or foreign code).
    pub known_item: bool,
    pub result: String,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub place: Option<String>,
    pub at: NaiveDateTime,
}

impl From<SightingRow> for SightingView {
    fn from(s: SightingRow) -> Self {
        SightingView {
            id: s.id,
            serial: s.serial,
            known_item: s.known_item,
            result: s.result,
            client_addr: s.client_addr,
            user_agent: s.user_agent,
            latitude: s.latitude,
            longitude: s.longitude,
            place: s.place,
            at: s.at,
        }
    }
}

fn parse_since(s: &str) -> Result<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    if let Some(t) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t);
    }
    Err(Error::BadRequest(format!(
        "since {s:?} is not a time: use RFC 3339 (2026-01-31T08:00:00Z) or a date (2026-01-31)"
    )))
}

fn filter_of(q: SightingQuery) -> Result<SightingFilter> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "limit {limit} is out of range: give 1 to {MAX_LIMIT}"
        )));
    }
    let serial = match q.serial.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(registry::parse_serial(s)?.to_string()),
        None => None,
    };
    let result = q
        .result
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if result.as_ref().is_some_and(|r| r.len() > 64) {
        return Err(Error::BadRequest("result filter is too long".into()));
    }
    Ok(SightingFilter {
        serial,
        result,
        since: q.since.as_deref().map(parse_since).transpose()?,
        limit,
    })
}

/// Verification sightings, newest first (HQ admin and auditors).
#[utoipa::path(
    get,
    path = "/api/v1/sightings",
    tag = "registry",
    security(("bearer" = [])),
    params(SightingQuery),
    responses(
        (status = 200, body = Vec<SightingView>),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<SightingQuery>, QueryRejection>,
) -> Result<axum::Json<Vec<SightingView>>> {
    caller.require(Permission::ReadSightings)?;
    let Query(query) =
        query.map_err(|e| Error::BadRequest(format!("bad query: {}", e.body_text())))?;
    let filter = filter_of(query)?;
    let rows = state
        .db
        .run(move |c| Ok(sightings::list(c, &filter)?))
        .await?;
    Ok(axum::Json(
        rows.into_iter().map(SightingView::from).collect(),
    ))
}
