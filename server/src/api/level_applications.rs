//! Applications for a level (`/api/v1/levels/applications…`), registered with the levels API:
//! an agent sees what it may apply for, applies, reads and withdraws its own; its supplier
//! (an agent, for its direct downline) and HQ read what waits for them and decide. Thin: the use
//! cases in `crate::levels::applications` check role and ownership.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::json::Json;
use super::network::{CallerId, actor_of};
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::levels::Lang;
use crate::domain::levels::eligibility::Offer;
use crate::error::Result;
use crate::levels::application_lists::{self as lists, reasons_text};
use crate::levels::applications::{self as cases, ApplyInput};
use crate::network::Actor;
use crate::store::levels::applications::LevelApplicationRow;
use crate::store::users::now;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit, list))
        .routes(routes!(options))
        .routes(routes!(queue))
        .routes(routes!(withdraw))
        .routes(routes!(decide))
}

fn json_of(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(serde_json::Value::Null)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelApplicationView {
    pub id: i64,
    pub agent_id: i64,
    pub level_policy_version: i64,
    /// The level held when it applied, and the one applied for (tier ranks).
    pub from_rank: i32,
    pub to_rank: i32,
    pub level_key: String,
    /// The claimed path among the level's paths.
    pub path: i32,
    /// `hq` or `supplier_then_hq`.
    pub approval_mode: String,
    /// `awaiting_supplier`, `awaiting_hq`, `approved`, `rejected`, `withdrawn` or `lapsed`.
    pub status: String,
    pub note: Option<String>,
    pub applied_on: NaiveDate,
    /// The path's conditions on the day applied, in words and structured.
    pub evidence_zh: String,
    pub evidence_en: String,
    pub evidence: serde_json::Value,
    /// The supplier stage (two-stage approval): who, when, the verdict, why.
    pub supplier_agent_id: Option<i64>,
    pub supplier_decided_at: Option<NaiveDateTime>,
    pub supplier_approved: Option<bool>,
    pub supplier_note: Option<String>,
    pub hq_decided_at: Option<NaiveDateTime>,
    pub hq_approved: Option<bool>,
    pub hq_note: Option<String>,
    /// HQ's approval: the approval and the path's numbers on that day (as the level change).
    pub approval_evidence: serde_json::Value,
    /// When it was withdrawn or lapsed, and why it lapsed (`agent_inactive`, `level_changed`,
    /// `rules_changed`).
    pub closed_at: Option<NaiveDateTime>,
    pub lapse_reason: Option<String>,
}

impl From<LevelApplicationRow> for LevelApplicationView {
    fn from(r: LevelApplicationRow) -> Self {
        LevelApplicationView {
            evidence_zh: reasons_text(&r.evidence, Lang::Zh),
            evidence_en: reasons_text(&r.evidence, Lang::En),
            evidence: json_of(Some(&r.evidence)),
            approval_evidence: json_of(r.approval_evidence.as_deref()),
            id: r.id,
            agent_id: r.agent_id,
            level_policy_version: r.level_policy_version,
            from_rank: r.from_rank,
            to_rank: r.to_rank,
            level_key: r.level_key,
            path: r.path_index,
            approval_mode: r.approval_mode.as_str().to_string(),
            status: r.status.as_str().to_string(),
            note: r.note,
            applied_on: r.applied_on,
            supplier_agent_id: r.supplier_agent_id,
            supplier_decided_at: r.supplier_decided_at,
            supplier_approved: r.supplier_approved,
            supplier_note: r.supplier_note,
            hq_decided_at: r.hq_decided_at,
            hq_approved: r.hq_approved,
            hq_note: r.hq_note,
            closed_at: r.closed_at,
            lapse_reason: r.lapse_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelOfferView {
    pub level_key: String,
    pub to_rank: i32,
    pub name_zh: String,
    pub name_en: String,
    pub path: usize,
    /// `hq` or `supplier_then_hq`.
    pub approval_mode: String,
    /// Met now: the agent may apply through this path.
    pub met: bool,
    /// The conditions that carry it (or fail), in words and structured; empty for 0门槛.
    pub conditions_zh: String,
    pub conditions_en: String,
    pub reasons: serde_json::Value,
}

impl From<Offer> for LevelOfferView {
    fn from(o: Offer) -> Self {
        LevelOfferView {
            conditions_zh: o.conditions(Lang::Zh),
            conditions_en: o.conditions(Lang::En),
            reasons: serde_json::to_value(&o.reasons).unwrap_or_default(),
            level_key: o.level_key,
            to_rank: i32::from(o.rank.0),
            name_zh: o.name_zh,
            name_en: o.name_en,
            path: o.path,
            approval_mode: o.approval.as_str().to_string(),
            met: o.met,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The tier key of the level applied for.
    pub level: String,
    /// The path (index among the level's paths); default the first one needing approval met.
    pub path: Option<usize>,
    /// Words to the approvers (升级资料), at most 500 characters.
    pub note: Option<String>,
}

/// Applies for a level through a path that needs approval and is met now (agent). 422 when
/// not eligible, 409 when another application is open.
#[utoipa::path(post, path = "/api/v1/levels/applications", tag = "levels",
    security(("bearer" = [])), request_body = ApplyBody,
    responses((status = 201, body = LevelApplicationView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ApplyBody>,
) -> Result<(StatusCode, axum::Json<LevelApplicationView>)> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let input = ApplyInput {
                level: body.level,
                path: body.path,
                note: body.note.unwrap_or_default(),
            };
            let actor = actor_of(c, &who)?;
            cases::apply(c, actor, input, now())
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(row.into())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// HQ: only this status.
    pub status: Option<String>,
    /// HQ: ids below this (the next page).
    pub before: Option<i64>,
    /// HQ: at most this many (1–500, default 100).
    pub limit: Option<i64>,
}

/// An agent's own applications; for HQ (admin, finance, auditor) every application.
#[utoipa::path(get, path = "/api/v1/levels/applications", tag = "levels",
    security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<LevelApplicationView>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<LevelApplicationView>>> {
    let who = CallerId::from(&caller);
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let rows = state
        .db
        .run(move |c| match actor_of(c, &who)? {
            actor @ Actor::Agent { .. } => lists::mine(c, actor),
            actor => lists::all(c, actor, q.status.as_deref(), q.before, limit),
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// What the signed-in agent may apply for now: each path needing approval of each level above
/// its own, with its conditions, met or not (agent).
#[utoipa::path(get, path = "/api/v1/levels/applications/options", tag = "levels",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<LevelOfferView>), (status = 403, body = ErrorBody)))]
pub async fn options(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<LevelOfferView>>> {
    let who = CallerId::from(&caller);
    let offers = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            lists::options(c, actor, now().date())
        })
        .await?;
    Ok(axum::Json(offers.into_iter().map(Into::into).collect()))
}

/// What waits for the caller's decision: an agent's direct downline in the supplier stage; for
/// HQ, its stage (and the supplier stage of agents HQ supplies).
#[utoipa::path(get, path = "/api/v1/levels/applications/queue", tag = "levels",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<LevelApplicationView>), (status = 403, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<LevelApplicationView>>> {
    let who = CallerId::from(&caller);
    let rows = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            lists::queue(c, actor)
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// Withdraws the caller's open application (its applicant only); again changes nothing.
#[utoipa::path(post, path = "/api/v1/levels/applications/{id}/withdraw", tag = "levels",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Application id")),
    responses((status = 200, body = LevelApplicationView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<LevelApplicationView>> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            cases::withdraw(c, actor, id, now())
        })
        .await?;
    Ok(axum::Json(row.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub approve: bool,
    /// Why; required to reject, at most 500 characters.
    pub note: Option<String>,
}

/// Approves or rejects: the applicant's supplier in the first stage of two-stage approval, HQ
/// admin otherwise. HQ's approval changes the agent's level (supplier recomputed, prices from
/// the next order). The same decision again changes nothing.
#[utoipa::path(post, path = "/api/v1/levels/applications/{id}/decision", tag = "levels",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Application id")),
    request_body = DecisionBody,
    responses((status = 200, body = LevelApplicationView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> Result<axum::Json<LevelApplicationView>> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            let note = body.note.unwrap_or_default();
            cases::decide(c, actor, id, body.approve, &note, now())
        })
        .await?;
    Ok(axum::Json(row.into()))
}
