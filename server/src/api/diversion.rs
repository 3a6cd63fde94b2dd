//! `/api/v1/diversion/…`: diversion alerts (串货预警) for HQ auditors and admins — list, read,
//! decide — and HQ admins' region settings for agents and warehouses. Views and exports are in
//! `diversion_views`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::diversion::decide::{self, DecisionInput};
use crate::diversion::filter::{self, FilterInput};
use crate::diversion::regions;
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::store::diversion_alerts::{self as alerts, AlertFilter, AlertRow};
use crate::store::diversion_places as places;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(decide_alert))
        .routes(routes!(set_agent_regions))
        .routes(routes!(set_warehouse_region))
        .merge(super::diversion_views::routes())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open`, `confirmed` or `dismissed`.
    pub status: Option<String>,
    /// `diversion`, `cloning` or `overuse`.
    pub kind: Option<String>,
    /// The agent that let the item out.
    pub agent_id: Option<i64>,
    /// Only this serial.
    pub serial: Option<String>,
    /// Observed region: a GB/T 2260 code; a province or city matches everything inside it.
    pub region: Option<String>,
    /// Raised in the last N days (1–366).
    pub days: Option<u32>,
    /// How many, newest first: 1–1000, default 100.
    pub limit: Option<i64>,
}

/// Checks a query into a store filter; every bad field is a 400 naming it
/// (`crate::diversion::filter`, shared with the HQ console).
pub fn filter_of(q: &AlertQuery) -> Result<AlertFilter> {
    filter::alert_filter(&FilterInput {
        status: q.status.clone(),
        kind: q.kind.clone(),
        agent_id: q.agent_id,
        serial: q.serial.clone(),
        region: q.region.clone(),
        days: q.days,
        from: None,
        limit: q.limit,
    })
}

/// An alert with its evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: i64,
    /// `diversion`, `cloning` or `overuse`.
    pub kind: String,
    pub serial: String,
    /// `verification` or `scan`.
    pub channel: String,
    pub expected_region: Option<String>,
    pub expected_region_name: Option<String>,
    pub observed_region: Option<String>,
    pub observed_region_name: Option<String>,
    /// `browser`, `picked`, `client_address` or `device`.
    pub place_source: String,
    /// The agent that let the item out (last received it).
    pub agent_id: Option<i64>,
    /// 0–100, from the strength of the evidence (docs/diversion.md).
    pub risk: i32,
    /// The code, chain of custody, expected and observed regions, the sighting or scan.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    /// `open`, `confirmed` or `dismissed`.
    pub status: String,
    pub note: Option<String>,
    /// `suspend`, `penalty` or `suspend+penalty` when confirmed with an action.
    pub action: Option<String>,
    pub penalty_cents: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl From<AlertRow> for AlertView {
    fn from(a: AlertRow) -> Self {
        let name = |c: &Option<String>| c.as_deref().map(crate::diversion::views::region_name);
        AlertView {
            expected_region_name: name(&a.expected_region),
            observed_region_name: name(&a.observed_region),
            evidence: serde_json::from_str(&a.evidence).unwrap_or(serde_json::Value::Null),
            id: a.id,
            kind: a.kind.as_str().to_string(),
            serial: a.serial,
            channel: a.channel.as_str().to_string(),
            expected_region: a.expected_region,
            observed_region: a.observed_region,
            place_source: a.place_source.as_str().to_string(),
            agent_id: a.agent_id,
            risk: a.risk,
            status: a.status.as_str().to_string(),
            note: a.note,
            action: a.action.map(|x| x.as_str().into()),
            penalty_cents: a.penalty_cents,
            decided_by: a.decided_by,
            decided_at: a.decided_at,
            created_at: a.created_at,
        }
    }
}

pub fn query_of(
    query: std::result::Result<Query<AlertQuery>, QueryRejection>,
) -> Result<AlertQuery> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Error::BadRequest(format!("bad query: {}", e.body_text())))
}

/// Diversion alerts, newest first (HQ auditors and admins).
#[utoipa::path(get, path = "/api/v1/diversion/alerts", tag = "diversion",
    security(("bearer" = [])), params(AlertQuery),
    responses((status = 200, body = Vec<AlertView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<AlertQuery>, QueryRejection>,
) -> Result<axum::Json<Vec<AlertView>>> {
    caller.require(Permission::ReadSightings)?;
    let filter = filter_of(&query_of(query)?)?;
    let rows = state.db.run(move |c| Ok(alerts::list(c, &filter)?)).await?;
    Ok(axum::Json(rows.into_iter().map(AlertView::from).collect()))
}

/// One alert with its evidence.
#[utoipa::path(get, path = "/api/v1/diversion/alerts/{id}", tag = "diversion",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, body = AlertView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<AlertView>> {
    caller.require(Permission::ReadSightings)?;
    let row = state
        .db
        .run(move |c| Ok(alerts::get(c, id)?))
        .await?
        .ok_or(Error::not_found("alert"))?;
    Ok(axum::Json(row.into()))
}

/// An auditor's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `confirm` or `dismiss`.
    pub decision: String,
    /// Why (1–500 characters).
    pub note: String,
    /// Confirming: suspend the agent that let the item out.
    #[serde(default)]
    pub suspend_agent: bool,
    /// Confirming: a penalty in yuan, whole cents, booked from the agent's available wallet.
    pub penalty: Option<String>,
}

/// Confirm or dismiss an open alert; confirming may suspend the agent or book a penalty.
#[utoipa::path(post, path = "/api/v1/diversion/alerts/{id}/decision", tag = "diversion",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Alert id")),
    request_body = DecisionBody,
    responses((status = 200, body = AlertView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already decided", body = ErrorBody)))]
pub async fn decide_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> Result<axum::Json<AlertView>> {
    caller.require(Permission::ReadSightings)?;
    let by = caller.user_id;
    let input = DecisionInput {
        decision: body.decision,
        note: body.note,
        suspend_agent: body.suspend_agent,
        penalty: body.penalty,
    };
    let row = state
        .db
        .write(move |c| decide::decide(c, id, &input, by))
        .await?;
    Ok(axum::Json(row.into()))
}

/// Regions to authorise.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionsBody {
    /// GB/T 2260 codes (province, city or district), 1–50.
    pub regions: Vec<String>,
}

fn known_codes(raw: &[String]) -> Result<Vec<String>> {
    if raw.is_empty() || raw.len() > 50 {
        return Err(Error::BadRequest("give 1 to 50 region codes".into()));
    }
    let mut codes =
        raw.iter()
            .map(|r| {
                regions().known(r).map(|c| c.to_string()).ok_or_else(|| {
                    Error::BadRequest(format!("region {r:?} is not a GB/T 2260 code"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// Sets the regions an agent is authorised for (HQ admin); replaces the previous ones.
#[utoipa::path(put, path = "/api/v1/diversion/agents/{id}/regions", tag = "diversion",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Agent id")),
    request_body = RegionsBody,
    responses((status = 200, body = RegionsBody), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_agent_regions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RegionsBody>,
) -> Result<axum::Json<RegionsBody>> {
    caller.require(Permission::ManageRegistry)?;
    let codes = known_codes(&body.regions)?;
    let by = caller.user_id;
    let stored = state
        .db
        .write(move |c| {
            crate::store::network::agents::find(c, id)?.ok_or(Error::not_found("agent"))?;
            places::set_agent_regions(c, id, &codes)?;
            crate::store::audit::record(
                c,
                Some(by),
                "diversion.agent_regions",
                &format!("agent:{id}"),
                &serde_json::json!({ "regions": codes }),
            )?;
            Ok(places::agent_regions(c, id)?)
        })
        .await?;
    Ok(axum::Json(RegionsBody { regions: stored }))
}

/// A warehouse's region.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseRegionBody {
    /// A GB/T 2260 code.
    pub region: String,
}

/// Sets the region of an HQ warehouse (HQ admin): scans by its handhelds (e.g. an auditor's
/// field kit) are placed there.
#[utoipa::path(put, path = "/api/v1/diversion/warehouses/{warehouse}/region", tag = "diversion",
    security(("bearer" = [])), params(("warehouse" = String, Path, description = "Warehouse name")),
    request_body = WarehouseRegionBody,
    responses((status = 200, body = WarehouseRegionBody), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn set_warehouse_region(
    State(state): State<AppState>,
    caller: Caller,
    Path(warehouse): Path<String>,
    Json(body): Json<WarehouseRegionBody>,
) -> Result<axum::Json<WarehouseRegionBody>> {
    caller.require(Permission::ManageRegistry)?;
    let warehouse = warehouse.trim().to_string();
    if warehouse.is_empty() || warehouse.chars().count() > 100 {
        return Err(Error::BadRequest(
            "warehouse must be 1 to 100 characters".into(),
        ));
    }
    let code = known_codes(std::slice::from_ref(&body.region))?
        .into_iter()
        .next()
        .ok_or_else(|| Error::BadRequest("give a region code".into()))?;
    let stored = code.clone();
    state
        .db
        .write(move |c| Ok(places::set_warehouse_region(c, &warehouse, &code)?))
        .await?;
    Ok(axum::Json(WarehouseRegionBody { region: stored }))
}
