//! `/api/v1/diversion/…` views: the dashboard, the flow matrix with agents' diversion counts, a
//! code's trace, and CSV exports of alerts and traces. HQ auditors and admins.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::diversion::{AlertQuery, AlertView, filter_of, query_of};
use super::error::ErrorBody;
use crate::app::AppState;
use crate::auth::Caller;
use crate::diversion::views::{self, region_name};
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::store::diversion_alerts as alerts;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(flows))
        .routes(routes!(trace))
        .routes(routes!(trace_csv))
        .routes(routes!(alerts_csv))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// The window in days, 1–366 (default 30).
    pub days: Option<u32>,
}

fn days_of(q: std::result::Result<Query<DaysQuery>, QueryRejection>) -> Result<u32> {
    let Query(q) = q.map_err(|e| Error::BadRequest(format!("bad query: {}", e.body_text())))?;
    Ok(q.days.unwrap_or(30))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardView {
    pub codes_issued: i64,
    /// Items out of HQ custody.
    pub shipped: i64,
    /// Right-code verifications.
    pub verified: i64,
    /// Counterfeit sightings (codes the brand never issued or forged tags).
    pub counterfeit_sightings: i64,
    pub open_alerts: i64,
    /// The window's days, oldest first; each series has one number per day.
    pub days: Vec<String>,
    pub issued_per_day: Vec<i64>,
    pub shipped_per_day: Vec<i64>,
    pub verified_per_day: Vec<i64>,
    pub counterfeit_per_day: Vec<i64>,
    pub alerts_per_day: Vec<i64>,
}

/// Headline counts and daily series.
#[utoipa::path(get, path = "/api/v1/diversion/dashboard", tag = "diversion",
    security(("bearer" = [])), params(DaysQuery),
    responses((status = 200, body = DashboardView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<DaysQuery>, QueryRejection>,
) -> Result<axum::Json<DashboardView>> {
    caller.require(Permission::ReadSightings)?;
    let days = days_of(query)?;
    let d = state.db.run(move |c| views::dashboard(c, days)).await?;
    let fill = |s| views::fill(&d.days, s);
    Ok(axum::Json(DashboardView {
        codes_issued: d.totals.issued,
        shipped: d.totals.shipped,
        verified: d.totals.verified,
        counterfeit_sightings: d.totals.counterfeit,
        open_alerts: d.totals.open_alerts,
        issued_per_day: fill(&d.series.issued),
        shipped_per_day: fill(&d.series.shipped),
        verified_per_day: fill(&d.series.verified),
        counterfeit_per_day: fill(&d.series.counterfeit),
        alerts_per_day: fill(&d.series.alerts),
        days: d.days.clone(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowCell {
    /// Expected province (GB/T 2260, `PP0000`).
    pub expected: String,
    pub expected_name: String,
    pub observed: String,
    pub observed_name: String,
    /// Located sightings from expected to observed.
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentDiversions {
    pub agent_id: i64,
    pub name: String,
    /// Diversion alerts per week, one number per `weeks` label.
    pub per_week: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowsView {
    pub cells: Vec<FlowCell>,
    /// ISO weeks (`2026-W48`), oldest first.
    pub weeks: Vec<String>,
    pub agents: Vec<AgentDiversions>,
}

/// The region-to-region flow matrix and each agent's diversion count over time.
#[utoipa::path(get, path = "/api/v1/diversion/flows", tag = "diversion",
    security(("bearer" = [])), params(DaysQuery),
    responses((status = 200, body = FlowsView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn flows(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<DaysQuery>, QueryRejection>,
) -> Result<axum::Json<FlowsView>> {
    caller.require(Permission::ReadSightings)?;
    let days = days_of(query)?;
    let (matrix, (weeks, agents)) = state
        .db
        .run(move |c| Ok((views::flows(c, days)?, views::agent_weeks(c, days)?)))
        .await?;
    Ok(axum::Json(FlowsView {
        cells: matrix
            .cells
            .into_iter()
            .map(|((e, o), n)| FlowCell {
                expected_name: region_name(&e),
                observed_name: region_name(&o),
                expected: e,
                observed: o,
                count: n,
            })
            .collect(),
        weeks,
        agents: agents
            .into_iter()
            .map(|a| AgentDiversions {
                agent_id: a.agent_id,
                name: a.name,
                per_week: a.weeks,
                total: a.total,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraceItem {
    pub serial: String,
    pub batch_id: String,
    pub case_code: Option<String>,
    pub status: String,
    /// `hq`, `agent`, `transit` or `sold`, with the agent or order id.
    pub custodian_kind: String,
    pub custodian_id: Option<i64>,
    pub verify_count: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraceEventView {
    pub at: NaiveDateTime,
    /// `custody`, `scan` or `verification`.
    pub source: String,
    pub code: String,
    pub what: String,
    pub detail: String,
    pub region: Option<String>,
    pub region_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraceView {
    pub code: String,
    pub is_case: bool,
    pub items: Vec<TraceItem>,
    /// Oldest first.
    pub events: Vec<TraceEventView>,
    pub alerts: Vec<AlertView>,
}

/// The whole chain of custody of an item or case, with every scan and verification.
#[utoipa::path(get, path = "/api/v1/diversion/trace/{code}", tag = "diversion",
    security(("bearer" = [])), params(("code" = String, Path, description = "Serial, case code or SSCC")),
    responses((status = 200, body = TraceView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn trace(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<axum::Json<TraceView>> {
    caller.require(Permission::ReadSightings)?;
    let t = state.db.run(move |c| views::trace(c, &code)).await?;
    Ok(axum::Json(TraceView {
        code: t.code,
        is_case: t.is_case,
        items: t
            .items
            .into_iter()
            .map(|i| TraceItem {
                serial: i.serial,
                batch_id: i.batch_id,
                case_code: i.case_code,
                status: i.status.as_str().into(),
                custodian_kind: i.custodian_kind.as_str().into(),
                custodian_id: i.custodian_id,
                verify_count: i.verify_count,
            })
            .collect(),
        events: t
            .events
            .into_iter()
            .map(|e| TraceEventView {
                region_name: e.region.as_deref().map(region_name),
                at: e.at,
                source: e.source.to_string(),
                code: e.serial,
                what: e.what,
                detail: e.detail,
                region: e.region,
            })
            .collect(),
        alerts: t.alerts.into_iter().map(AlertView::from).collect(),
    }))
}

pub fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A trace as CSV.
#[utoipa::path(get, path = "/api/v1/diversion/trace/{code}/csv", tag = "diversion",
    security(("bearer" = [])), params(("code" = String, Path, description = "Serial, case code or SSCC")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn trace_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response> {
    caller.require(Permission::ReadSightings)?;
    let t = state.db.run(move |c| views::trace(c, &code)).await?;
    Ok(csv_response(
        &format!("trace-{}.csv", t.code),
        views::trace_csv(&t),
    ))
}

/// Alerts as CSV, with the same filters as the list.
#[utoipa::path(get, path = "/api/v1/diversion/alerts.csv", tag = "diversion",
    security(("bearer" = [])), params(AlertQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn alerts_csv(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Response> {
    caller.require(Permission::ReadSightings)?;
    let filter = filter_of(&query_of(query)?)?;
    let rows = state.db.run(move |c| Ok(alerts::list(c, &filter)?)).await?;
    Ok(csv_response(
        "diversion-alerts.csv",
        views::alerts_csv(&rows),
    ))
}
