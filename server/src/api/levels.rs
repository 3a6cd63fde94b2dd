//! The level engine's JSON API (`/api/v1/levels/…`): the level policy's versions, validation,
//! activation and what-if; assessment runs; level changes with their reasons; an agent's own
//! level; activity HQ records; applications for a level (handlers in `level_applications`,
//! registered here). Thin: each handler resolves who is acting and calls a use case of
//! `crate::levels`, which checks role and ownership itself.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::idempotency::{IdempotencyHeader, IdempotencyKey, write_once};
use super::json::Json;
use super::network::{CallerId, actor_of};
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Role;
use crate::error::{Error, Result};
use crate::levels::activity::{self, NewActivity};
use crate::levels::assess::{self, RunSummary};
use crate::levels::policy::{self as cases, Activation};
use crate::levels::whatif::{self, WhatIf};
use crate::network::Actor;
use crate::store::levels::changes::{self, LevelChangeRow};
use crate::store::levels::policies::{self, LevelPolicyRow};
use crate::store::levels::state;
use crate::store::network::agents as agents_store;
use crate::store::users::now;

/// Every route of the levels API.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(active))
        .routes(routes!(versions, create))
        .routes(routes!(validate))
        .routes(routes!(activate))
        .routes(routes!(what_if))
        .routes(routes!(run))
        .routes(routes!(list_changes))
        .routes(routes!(mine))
        .routes(routes!(record_activity))
        .merge(super::level_applications::routes())
}

const READERS: &[Role] = &[Role::HqAdmin, Role::HqFinance, Role::HqAuditor];

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelPolicyView {
    pub version: i64,
    pub name: String,
    /// `draft`, `active` or `retired`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    /// The TOML document as written (see docs/levels.md).
    pub document: String,
}

impl From<LevelPolicyRow> for LevelPolicyView {
    fn from(r: LevelPolicyRow) -> Self {
        LevelPolicyView {
            version: r.version,
            name: r.name,
            status: r.status.as_str().to_string(),
            created_at: r.created_at,
            activated_at: r.activated_at,
            document: r.document,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelDocument {
    /// The level policy document (TOML).
    pub document: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelProblem {
    /// The field, e.g. `levels[1].paths[0].window_days`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelValidation {
    pub valid: bool,
    pub problems: Vec<LevelProblem>,
}

/// The active level policy (any signed-in user); 404 when none is active.
#[utoipa::path(get, path = "/api/v1/levels/policy", tag = "levels", security(("bearer" = [])),
    responses((status = 200, body = LevelPolicyView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn active(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<axum::Json<LevelPolicyView>> {
    let row = state.db.run(|c| Ok(policies::active(c)?)).await?;
    Ok(axum::Json(
        row.ok_or_else(|| Error::not_found("active level policy"))?
            .into(),
    ))
}

/// Every level policy version, newest first (HQ).
#[utoipa::path(get, path = "/api/v1/levels/policy/versions", tag = "levels", security(("bearer" = [])),
    responses((status = 200, body = Vec<LevelPolicyView>), (status = 403, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<LevelPolicyView>>> {
    let who = CallerId::from(&caller);
    let rows = state
        .db
        .run(move |c| {
            actor_of(c, &who)?.require_hq(READERS, "read level policies")?;
            Ok(policies::list(c)?)
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// Saves a valid document as a draft version (HQ admin; its `version` must be new).
#[utoipa::path(post, path = "/api/v1/levels/policy/versions", tag = "levels", security(("bearer" = [])),
    request_body = LevelDocument,
    responses((status = 201, body = LevelPolicyView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<LevelDocument>,
) -> Result<(StatusCode, axum::Json<LevelPolicyView>)> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            cases::save_draft(c, &body.document, actor)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(row.into())))
}

/// Checks a document against the active tier policy: every problem, each naming its field.
#[utoipa::path(post, path = "/api/v1/levels/policy/validate", tag = "levels", security(("bearer" = [])),
    request_body = LevelDocument,
    responses((status = 200, body = LevelValidation), (status = 403, body = ErrorBody)))]
pub async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<LevelDocument>,
) -> Result<axum::Json<LevelValidation>> {
    let who = CallerId::from(&caller);
    let problems = state
        .db
        .write(move |c| {
            actor_of(c, &who)?.require_hq(&[Role::HqAdmin], "validate level policies")?;
            cases::problems(c, &body.document)
        })
        .await?;
    Ok(axum::Json(LevelValidation {
        valid: problems.is_empty(),
        problems: problems
            .into_iter()
            .map(|p| LevelProblem {
                field: p.field,
                message: p.message,
            })
            .collect(),
    }))
}

/// Activates a draft and applies its `on_change`: every agent re-levelled, or quotas recorded.
#[utoipa::path(post, path = "/api/v1/levels/policy/versions/{version}/activate", tag = "levels",
    security(("bearer" = [])), params(("version" = i64, Path, description = "Level policy version")),
    responses((status = 200, body = Activation), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<i64>,
) -> Result<axum::Json<Activation>> {
    let who = CallerId::from(&caller);
    let done = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            cases::activate(c, version, actor)
        })
        .await?;
    Ok(axum::Json(done))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfBody {
    /// The level policy document to try (TOML); nothing is stored.
    pub document: String,
    /// The day to assess as (default today).
    pub date: Option<NaiveDate>,
}

/// What a document would do if activated: how many agents move up or down, and who (HQ).
#[utoipa::path(post, path = "/api/v1/levels/what-if", tag = "levels", security(("bearer" = [])),
    request_body = WhatIfBody,
    responses((status = 200, body = WhatIf), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn what_if(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<WhatIfBody>,
) -> Result<axum::Json<WhatIf>> {
    let who = CallerId::from(&caller);
    let day = body.date.unwrap_or_else(|| now().date());
    let out = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            whatif::what_if(c, &body.document, day, actor)
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// The day to assess (default today; never in the future).
    pub date: Option<NaiveDate>,
}

/// Runs the level assessment now (HQ admin). A day already assessed changes nothing again.
#[utoipa::path(post, path = "/api/v1/levels/assessments", tag = "levels", security(("bearer" = [])),
    request_body = RunBody,
    responses((status = 200, body = RunSummary), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RunBody>,
) -> Result<axum::Json<RunSummary>> {
    let who = CallerId::from(&caller);
    let day = body.date.unwrap_or_else(|| now().date());
    let out = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            assess::run(c, day, actor, &mut |_, _| {})
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelChangeView {
    pub id: i64,
    pub agent_id: i64,
    pub assessed_on: NaiveDate,
    /// `assessment`, `policy_change` or `application` (an approved level application).
    pub cause: String,
    /// `upgrade`, `downgrade` or `protected`.
    pub kind: String,
    pub from_rank: i32,
    pub to_rank: i32,
    pub level_policy_version: i64,
    /// Why, in the words the agent reads.
    pub summary_zh: String,
    pub summary_en: String,
    /// The reasons, structured (metric, actual, target, window).
    pub reasons: serde_json::Value,
}

impl From<LevelChangeRow> for LevelChangeView {
    fn from(r: LevelChangeRow) -> Self {
        LevelChangeView {
            reasons: serde_json::from_str(&r.reasons).unwrap_or(serde_json::Value::Null),
            id: r.id,
            agent_id: r.agent_id,
            assessed_on: r.assessed_on,
            cause: r.cause.as_str().into(),
            kind: r.kind.as_str().into(),
            from_rank: r.from_rank,
            to_rank: r.to_rank,
            level_policy_version: r.level_policy_version,
            summary_zh: r.summary_zh,
            summary_en: r.summary_en,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ChangesQuery {
    /// Only this agent's changes.
    pub agent_id: Option<i64>,
    /// Changes with an id below this (the next page).
    pub before: Option<i64>,
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
}

/// Level changes, newest first (HQ; an agent reads its own through `/levels/me`).
#[utoipa::path(get, path = "/api/v1/levels/changes", tag = "levels", security(("bearer" = [])),
    params(ChangesQuery),
    responses((status = 200, body = Vec<LevelChangeView>), (status = 403, body = ErrorBody)))]
pub async fn list_changes(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ChangesQuery>,
) -> Result<axum::Json<Vec<LevelChangeView>>> {
    let who = CallerId::from(&caller);
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let rows = state
        .db
        .run(move |c| {
            actor_of(c, &who)?.require_hq(READERS, "read level changes")?;
            Ok(changes::list(c, q.agent_id, q.before, limit)?)
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyLevel {
    pub agent_id: i64,
    pub tier_rank: i32,
    /// The day it reached its level, when the level engine has recorded it.
    pub reached_on: Option<NaiveDate>,
    /// 配额 by metric, decimal strings (`orders` → "5").
    pub quota: std::collections::BTreeMap<String, String>,
    /// Its level changes, newest first, with their reasons.
    pub changes: Vec<LevelChangeView>,
}

/// The signed-in agent's level, quotas and level changes with their reasons.
#[utoipa::path(get, path = "/api/v1/levels/me", tag = "levels", security(("bearer" = [])),
    responses((status = 200, body = MyLevel), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn mine(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<MyLevel>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            let Actor::Agent { agent, .. } = actor_of(c, &who)? else {
                return Err(Error::Forbidden(
                    "only an agent has a level of its own".into(),
                ));
            };
            let row = agents_store::get(c, agent)?;
            let level = state::find(c, agent)?.filter(|s| s.tier_rank == row.tier_rank);
            let quota = level
                .as_ref()
                .map(|s| {
                    s.quota()
                        .into_iter()
                        .map(|(m, v)| (m.key().to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            Ok(MyLevel {
                agent_id: agent,
                tier_rank: row.tier_rank,
                reached_on: level.map(|s| s.reached_on),
                quota,
                changes: changes::list(c, Some(agent), None, 50)?
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            })
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    pub agent_id: i64,
    /// `customer_bound`, `recharge` or `level_payment`.
    pub kind: String,
    /// Yuan, a decimal string; for a recharge or a level payment.
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    /// The tier key a level payment is for.
    pub level_key: Option<String>,
    /// When it happened (default now).
    pub at: Option<NaiveDateTime>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    pub id: i64,
    pub agent_id: i64,
    pub kind: String,
    /// Yuan, a decimal string.
    pub amount: String,
    pub level_key: Option<String>,
    pub at: NaiveDateTime,
}

/// Records a bound customer, a recharge or a level price paid for an agent (HQ admin, finance).
#[utoipa::path(post, path = "/api/v1/levels/activity", tag = "levels", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body = ActivityBody,
    responses((status = 201, body = ActivityView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_activity(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyKey,
    Json(body): Json<ActivityBody>,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let input = NewActivity {
        agent_id: body.agent_id,
        kind: body.kind.clone(),
        amount: body.amount,
        level_key: body.level_key.clone(),
        at: body.at,
        note: body.note.clone(),
    };
    // A recharge or level payment recorded twice would count twice: once per key.
    write_once(
        &state.db,
        who.user,
        idem,
        &body,
        StatusCode::CREATED,
        move |c| {
            let actor = actor_of(c, &who)?;
            let row = activity::record(c, input, actor)?;
            Ok(ActivityView {
                id: row.id,
                agent_id: row.agent_id,
                kind: row.kind.as_str().into(),
                amount: Decimal::new(row.amount_cents, 2).to_string(),
                level_key: row.level_key,
                at: row.at,
            })
        },
    )
    .await
}
