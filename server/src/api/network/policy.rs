//! The tier policy: view the active version, list versions, validate a document, save it as a
//! draft, activate a draft.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CallerId, actor_of};
use crate::api::error::ErrorBody;
use crate::api::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::network::Policy;
use crate::error::Result;
use crate::network::policy as cases;
use crate::store::network::policies::{self, PolicyRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    pub rank: u8,
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// 首批, in items (盒), when the brand counts items; `null` when it counts an amount.
    pub entry_quantity: Option<u32>,
    /// 首批 as an amount of goods (yuan, a decimal string), when the brand counts money.
    pub entry_amount: Option<String>,
    /// Yuan per item of any product without a price of its own in `prices`; `null`: only the
    /// products listed there are sold at this tier.
    pub unit_price: Option<String>,
    /// Referred agents activated at this tier needed to upgrade into it.
    pub upgrade_count: Option<u32>,
    /// 同级推荐奖 as a fraction, a decimal string ("0.09").
    pub same_tier_rate: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub version: i64,
    pub name: String,
    /// `draft`, `active` or `retired`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    /// The TOML document as written.
    pub document: String,
    /// Present when the document parses (always, for stored versions).
    pub tiers: Vec<TierView>,
    pub receive_days: Option<u32>,
    pub return_days: Option<u32>,
    /// 授权价格: the price list, one entry per product and tier priced apart.
    pub prices: Vec<PriceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceView {
    pub sku: String,
    pub tier_key: String,
    /// Yuan per item, a decimal string.
    pub unit_price: String,
}

fn view(row: PolicyRow) -> PolicyView {
    let parsed = Policy::parse(&row.document).ok();
    PolicyView {
        tiers: parsed
            .as_ref()
            .map(|p| {
                p.tiers()
                    .iter()
                    .map(|t| TierView {
                        rank: t.rank.0,
                        key: t.key.clone(),
                        name_zh: t.name_zh.clone(),
                        name_en: t.name_en.clone(),
                        entry_quantity: t.entry_quantity(),
                        entry_amount: match t.entry {
                            crate::domain::network::Entry::Amount(a) => Some(super::yuan_of(a)),
                            crate::domain::network::Entry::Quantity(_) => None,
                        },
                        unit_price: t.unit_price.map(super::yuan_of),
                        upgrade_count: t.upgrade_count,
                        same_tier_rate: t.same_tier_rate.map(|r| r.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        prices: parsed
            .as_ref()
            .map(|p| {
                p.listed_skus()
                    .flat_map(|sku| {
                        // Only what the list itself sets: a tier's own price is on the tier.
                        p.tiers().iter().filter_map(move |t| {
                            p.listed_price(t.rank, sku).map(|price| PriceView {
                                sku: sku.to_string(),
                                tier_key: t.key.clone(),
                                unit_price: super::yuan_of(price),
                            })
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        receive_days: parsed.as_ref().map(Policy::receive_days),
        return_days: parsed.as_ref().map(Policy::return_days),
        version: row.version,
        name: row.name,
        status: row.status.as_str().to_string(),
        created_at: row.created_at,
        activated_at: row.activated_at,
        document: row.document,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// The policy document (TOML, like the shipped seed-004 preset).
    pub document: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, e.g. `tiers[2].unit_price` or `awards.district.city`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Validation {
    pub valid: bool,
    pub problems: Vec<FieldProblem>,
}

/// The active tier policy (HQ staff). An agent sees its own prices only, at
/// `/api/v1/agents/me/prices`: the whole document would show every tier's.
#[utoipa::path(get, path = "/api/v1/policy", tag = "network", security(("bearer" = [])),
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn active(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<PolicyView>> {
    let who = CallerId::from(&caller);
    let (row, _) = state
        .db
        .write(move |c| {
            if let crate::network::Actor::Agent { .. } = actor_of(c, &who)? {
                return Err(crate::error::Error::Forbidden(
                    "an agent sees its own prices only: GET /api/v1/agents/me/prices".into(),
                ));
            }
            cases::active(c)
        })
        .await?;
    Ok(axum::Json(view(row)))
}

/// Every policy version, newest first (HQ).
#[utoipa::path(get, path = "/api/v1/policy/versions", tag = "network", security(("bearer" = [])),
    responses((status = 200, body = Vec<PolicyView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<PolicyView>>> {
    let who = CallerId::from(&caller);
    let rows = state
        .db
        .run(move |c| {
            actor_of(c, &who)?.require(
                crate::domain::Permission::ReadPolicy,
                "read policy versions",
            )?;
            Ok(policies::list(c)?)
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(view).collect()))
}

/// Checks a policy document: every problem, each naming its field. Changes nothing.
#[utoipa::path(post, path = "/api/v1/policy/validate", tag = "network", security(("bearer" = [])),
    request_body = DocumentBody,
    responses((status = 200, body = Validation), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DocumentBody>,
) -> Result<axum::Json<Validation>> {
    let who = CallerId::from(&caller);
    state
        .db
        .run(move |c| {
            actor_of(c, &who)?.require(crate::domain::Permission::ManagePolicy, "validate policies")
        })
        .await?;
    let problems = match cases::validate(&body.document) {
        Ok(_) => Vec::new(),
        Err(e) => {
            e.0.into_iter()
                .map(|p| FieldProblem {
                    field: p.field,
                    message: p.message,
                })
                .collect()
        }
    };
    Ok(axum::Json(Validation {
        valid: problems.is_empty(),
        problems,
    }))
}

/// Saves a valid document as a draft version (its `version` must be new).
#[utoipa::path(post, path = "/api/v1/policy/versions", tag = "network", security(("bearer" = [])),
    request_body = DocumentBody,
    responses((status = 201, body = PolicyView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DocumentBody>,
) -> Result<(StatusCode, axum::Json<PolicyView>)> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            actor.require(crate::domain::Permission::ManagePolicy, "write policies")?;
            cases::save_draft(c, &body.document, actor.user())
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(row))))
}

/// Activates a draft: orders placed from now on are under it.
#[utoipa::path(post, path = "/api/v1/policy/versions/{version}/activate", tag = "network",
    security(("bearer" = [])), params(("version" = i64, Path, description = "Policy version")),
    responses((status = 200, body = PolicyView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<i64>,
) -> Result<axum::Json<PolicyView>> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            actor.require(crate::domain::Permission::ManagePolicy, "activate policies")?;
            cases::activate(c, version, actor.user())
        })
        .await?;
    Ok(axum::Json(view(row)))
}
