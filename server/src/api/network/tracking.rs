//! A shipment's track (物流轨迹, issue 20): `GET /api/v1/orders/{id}/tracking` for the order's
//! parties and HQ, `POST` of an event the shipper learnt of. Thin over `network::tracking`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CallerId, actor_of};
use crate::api::error::ErrorBody;
use crate::api::idempotency::{IdempotencyHeader, IdempotencyKey, write_once};
use crate::api::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::network::tracking::{TrackingEvent, TrackingStatus};
use crate::error::{Error, Result};
use crate::network::tracking::{self as cases, Track};

/// One event of the track.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrackingEventView {
    /// When it happened (UTC).
    pub at: NaiveDateTime,
    /// `picked_up`, `in_transit`, `out_for_delivery`, `delivered` or `exception`.
    pub status: String,
    pub place: Option<String>,
    pub detail: String,
    /// `manual` (the shipper typed it) or `courier` (fetched).
    pub source: String,
}

/// An order's shipment: the courier and waybill (when recorded), where the parcel is, and the
/// events oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrackingView {
    pub carrier: Option<String>,
    pub waybill: Option<String>,
    /// The latest event's status; `null` before the first.
    pub status: Option<String>,
    pub events: Vec<TrackingEventView>,
}

impl From<Track> for TrackingView {
    fn from(t: Track) -> Self {
        TrackingView {
            status: t.status().map(|s| s.as_str().to_string()),
            carrier: t.waybill.as_ref().map(|w| w.carrier.clone()),
            waybill: t.waybill.as_ref().map(|w| w.waybill.clone()),
            events: t
                .events
                .into_iter()
                .map(|e| TrackingEventView {
                    at: e.at,
                    status: e.status.as_str().to_string(),
                    place: e.place,
                    detail: e.detail,
                    source: e.source.as_str().to_string(),
                })
                .collect(),
        }
    }
}

/// An event the shipper adds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingEventBody {
    /// When it happened (UTC), between the order's placing and now.
    pub at: NaiveDateTime,
    /// `picked_up`, `in_transit`, `out_for_delivery`, `delivered` or `exception`.
    pub status: String,
    #[serde(default)]
    pub place: Option<String>,
    /// What happened, 1 to 200 characters.
    pub detail: String,
}

/// The order's shipment and its track, for the order's parties and HQ staff who read orders.
#[utoipa::path(get, path = "/api/v1/orders/{id}/tracking", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, body = TrackingView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<TrackingView>> {
    let who = CallerId::from(&caller);
    let track = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            cases::track_of(c, id, actor)
        })
        .await?;
    Ok(axum::Json(track.into()))
}

/// The shipper adds an event it learnt of (a courier without an adapter, a phone call): only once
/// shipping started, dated between the order's placing and now.
#[utoipa::path(post, path = "/api/v1/orders/{id}/tracking", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = TrackingEventBody,
    responses((status = 201, body = TrackingView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`order_not_shipped`, `bad_tracking_event`, `tracking_event_time`", body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<TrackingEventBody>,
) -> Result<Response> {
    let status = TrackingStatus::parse(&body.status).ok_or_else(|| {
        Error::BadRequest(
            "status: picked_up, in_transit, out_for_delivery, delivered or exception".into(),
        )
    })?;
    let event = TrackingEvent {
        at: body.at,
        status,
        place: body.place.clone(),
        detail: body.detail.clone(),
    };
    let who = CallerId::from(&caller);
    write_once(
        &state.db,
        who.user,
        idem,
        &body,
        StatusCode::CREATED,
        move |c| {
            let actor = actor_of(c, &who)?;
            Ok(TrackingView::from(cases::add_event(c, id, actor, event)?))
        },
    )
    .await
}
