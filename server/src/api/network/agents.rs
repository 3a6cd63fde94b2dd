//! Agents: HQ lists, creates, suspends and reinstates them and corrects a referrer; an agent
//! sees itself, its stock and its upgrade progress, and places its top-up order.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::orders::OrderView;
use super::{CallerId, actor_of, yuan};
use crate::api::error::ErrorBody;
use crate::api::idempotency::{IdempotencyHeader, IdempotencyKey, write_once_as};
use crate::api::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Role;
use crate::domain::custody::Custodian;
use crate::domain::network::AgentStatus;
use crate::error::{Error, Result};
use crate::network::{Actor, agents as cases, upgrade};
use crate::store::network::agents::{self as store, AgentRow};
use crate::store::network::stock;
use crate::store::products;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: i64,
    pub name: String,
    /// 1 is the top tier (总代 in seed 004).
    pub tier_rank: i32,
    pub referrer_id: Option<i64>,
    /// `null`: HQ supplies this agent.
    pub supplier_id: Option<i64>,
    pub region: String,
    /// `pending` (until its entry order is paid), `active` or `suspended`.
    pub status: String,
    pub user_id: Option<i64>,
    pub joined_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    pub policy_version: i64,
    /// What it paid to enter its current tier (yuan).
    pub entry_paid: String,
}

impl From<AgentRow> for AgentView {
    fn from(a: AgentRow) -> Self {
        AgentView {
            id: a.id,
            name: a.name,
            tier_rank: a.tier_rank,
            referrer_id: a.referrer_id,
            supplier_id: a.supplier_id,
            region: a.region,
            status: a.status.as_str().to_string(),
            user_id: a.user_id,
            joined_at: a.joined_at,
            activated_at: a.activated_at,
            policy_version: a.policy_version,
            entry_paid: yuan(a.entry_paid_cents),
        }
    }
}

/// An agent with the stock it holds (counted from item custody).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentDetail {
    #[serde(flatten)]
    pub agent: AgentView,
    pub stock: Vec<StockLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockLine {
    pub sku: String,
    pub items: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Agents with an id above this (paging).
    pub after: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgentBody {
    pub name: String,
    /// Tier key in the active policy: `national`, `provincial`, `city`, `district`, `special`.
    pub tier: String,
    /// Who referred it (推荐人); must be an active agent.
    pub referrer_id: Option<i64>,
    /// Authorised region (GB/T 2260 code or name).
    pub region: String,
    /// The `agent` account it signs in with.
    pub user_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerBody {
    pub referrer_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpgradeView {
    /// The tier key above, when the policy offers an upgrade into it.
    pub target: Option<String>,
    pub have: u32,
    pub need: u32,
    /// Items and yuan of the top-up order it would place now.
    pub top_up_quantity: Option<u32>,
    pub top_up_amount: Option<String>,
    pub eligible: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeBody {
    /// The product the top-up order is for.
    pub sku: String,
}

const HQ_READ: &[Role] = &[Role::HqAdmin, Role::HqFinance, Role::HqAuditor];
const ADMIN: &[Role] = &[Role::HqAdmin];

/// Agents by id (HQ), 500 a page.
#[utoipa::path(get, path = "/api/v1/agents", tag = "network", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Vec<AgentView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<AgentView>>> {
    let who = CallerId::from(&caller);
    let rows = state
        .db
        .run(move |c| {
            actor_of(c, &who)?.require_hq(HQ_READ, "list agents")?;
            Ok(store::list(
                c,
                q.status
                    .as_deref()
                    .map(|s| {
                        AgentStatus::parse(s).ok_or_else(|| {
                            Error::BadRequest(format!(
                                "status: {s:?} is no agent status; one of pending, active, \
                                 suspended"
                            ))
                        })
                    })
                    .transpose()?,
                q.after.unwrap_or(0),
                500,
            )?)
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(AgentView::from).collect()))
}

/// Creates an agent (HQ admin): pending until its entry order is paid.
#[utoipa::path(post, path = "/api/v1/agents", tag = "network", security(("bearer" = [])),
    request_body = NewAgentBody,
    responses((status = 201, body = AgentView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewAgentBody>,
) -> Result<(StatusCode, axum::Json<AgentView>)> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            actor.require_hq(ADMIN, "create agents")?;
            let input = cases::NewAgentInput {
                name: body.name,
                tier: body.tier,
                referrer_id: body.referrer_id,
                region: body.region,
                user_id: body.user_id,
            };
            cases::create(c, input, actor.user())
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(row.into())))
}

fn detail(c: &mut crate::store::DbConnection, row: AgentRow) -> Result<AgentDetail> {
    let all = products::list(c)?;
    let lines = stock::counts(c, Custodian::Agent(row.id).columns())?
        .into_iter()
        .map(|(product, items)| StockLine {
            sku: all
                .iter()
                .find(|p| p.id == product)
                .map_or_else(|| product.to_string(), |p| p.sku.clone()),
            items,
        })
        .collect();
    Ok(AgentDetail {
        agent: row.into(),
        stock: lines,
    })
}

/// The signed-in agent, with its stock.
#[utoipa::path(get, path = "/api/v1/agents/me", tag = "network", security(("bearer" = [])),
    responses((status = 200, body = AgentDetail), (status = 403, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<AgentDetail>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            let Actor::Agent { agent, .. } = actor_of(c, &who)? else {
                return Err(Error::Forbidden("this account is not an agent".into()));
            };
            let row = store::get(c, agent)?;
            detail(c, row)
        })
        .await?;
    Ok(axum::Json(out))
}

/// One agent with its stock: HQ, or the agent itself.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = AgentDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<AgentDetail>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            match actor_of(c, &who)? {
                Actor::Agent { agent, .. } if agent == id => {}
                actor => actor.require_hq(HQ_READ, "see other agents")?,
            }
            let row = store::get(c, id)?;
            detail(c, row)
        })
        .await?;
    Ok(axum::Json(out))
}

/// Suspends an agent (HQ admin): its downline orders go to the next active agent above it.
#[utoipa::path(post, path = "/api/v1/agents/{id}/suspend", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Agent id")),
    request_body = ReasonBody,
    responses((status = 200, body = AgentView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ReasonBody>,
) -> Result<axum::Json<AgentView>> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            actor.require_hq(ADMIN, "suspend agents")?;
            cases::suspend(c, id, &body.reason, actor.user())
        })
        .await?;
    Ok(axum::Json(row.into()))
}

/// Reinstates a suspended agent (HQ admin).
#[utoipa::path(post, path = "/api/v1/agents/{id}/reinstate", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reinstate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<AgentView>> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            actor.require_hq(ADMIN, "reinstate agents")?;
            cases::reinstate(c, id, actor.user())
        })
        .await?;
    Ok(axum::Json(row.into()))
}

/// Corrects a referrer entered by mistake (HQ admin); a referral cycle of any length is refused.
#[utoipa::path(put, path = "/api/v1/agents/{id}/referrer", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Agent id")),
    request_body = ReferrerBody,
    responses((status = 200, body = AgentView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn referrer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ReferrerBody>,
) -> Result<axum::Json<AgentView>> {
    let who = CallerId::from(&caller);
    let row = state
        .db
        .write(move |c| {
            let actor = actor_of(c, &who)?;
            actor.require_hq(ADMIN, "correct referrers")?;
            cases::correct_referrer(c, id, body.referrer_id, actor.user())
        })
        .await?;
    Ok(axum::Json(row.into()))
}

/// The signed-in agent's upgrade progress (升级).
#[utoipa::path(get, path = "/api/v1/agents/me/upgrade", tag = "network",
    security(("bearer" = [])),
    responses((status = 200, body = UpgradeView), (status = 403, body = ErrorBody)))]
pub async fn upgrade_progress(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<UpgradeView>> {
    let who = CallerId::from(&caller);
    let p = state
        .db
        .write(move |c| {
            let Actor::Agent { agent, .. } = actor_of(c, &who)? else {
                return Err(Error::Forbidden("this account is not an agent".into()));
            };
            upgrade::progress(c, agent)
        })
        .await?;
    Ok(axum::Json(UpgradeView {
        target: p.target,
        have: p.have,
        need: p.need,
        top_up_quantity: p.top_up.map(|t| t.0),
        top_up_amount: p.top_up.map(|t| super::yuan_of(t.1)),
        eligible: p.eligible,
    }))
}

/// Places the signed-in agent's top-up order (补齐差额); paying it completes the upgrade (201,
/// the order). An agent whose entry and earlier top-ups already bought the target tier's entry
/// quantity has nothing to top up: it is upgraded at once, without an order (200, the agent at
/// its new tier with its supplier recomputed).
#[utoipa::path(post, path = "/api/v1/agents/me/upgrade", tag = "network",
    security(("bearer" = [])),
    params(IdempotencyHeader), request_body = UpgradeBody,
    responses((status = 201, body = OrderView, description = "The top-up order"),
        (status = 200, body = AgentView, description = "Nothing to top up: upgraded now"),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyKey,
    Json(body): Json<UpgradeBody>,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let sku = body.sku.clone();
    write_once_as(&state.db, who.user, idem, &body, move |c| {
        let actor = actor_of(c, &who)?;
        Ok(match upgrade::request(c, actor, &sku)? {
            upgrade::Requested::Order(row) => (
                StatusCode::CREATED,
                Upgraded::Order(Box::new(super::orders::view(c, *row)?)),
            ),
            upgrade::Requested::Upgraded(agent) => (StatusCode::OK, Upgraded::Agent(agent.into())),
        })
    })
    .await
}

/// The answer to an upgrade request: the top-up order, or the agent upgraded without one.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Upgraded {
    Order(Box<OrderView>),
    Agent(AgentView),
}

/// A product at the signed-in agent's price.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnPriceView {
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    /// Yuan per item at the agent's tier (授权价格), a decimal string.
    pub unit_price: String,
    /// The product's picture, a path on this site or a URL; `null` without one.
    pub image_url: Option<String>,
}

/// The signed-in agent's prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnPrices {
    pub tier_key: String,
    /// 首批 in items, when the brand counts items.
    pub entry_quantity: Option<u32>,
    /// 首批 as an amount of goods, when the brand counts money.
    pub entry_amount: Option<String>,
    /// Every product the agent may order, at its own tier's price; products without a price at
    /// its tier are not listed (they cannot be ordered).
    pub products: Vec<OwnPriceView>,
}

/// The signed-in agent's own prices (授权价格), and only its own.
#[utoipa::path(get, path = "/api/v1/agents/me/prices", tag = "network", security(("bearer" = [])),
    responses((status = 200, body = OwnPrices), (status = 403, body = ErrorBody)))]
pub async fn my_prices(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<OwnPrices>> {
    let who = CallerId::from(&caller);
    // A read: it does not queue behind the writer.
    let out = state
        .db
        .run(move |c| {
            let Actor::Agent { agent, .. } = actor_of(c, &who)? else {
                return Err(Error::Forbidden("this account is not an agent".into()));
            };
            crate::network::policy::own_prices(c, agent)
        })
        .await?;
    let (tier, prices) = out;
    Ok(axum::Json(OwnPrices {
        tier_key: tier.key.clone(),
        entry_quantity: tier.entry_quantity(),
        entry_amount: match tier.entry {
            crate::domain::network::Entry::Amount(a) => Some(super::yuan_of(a)),
            crate::domain::network::Entry::Quantity(_) => None,
        },
        products: prices
            .into_iter()
            .map(|p| OwnPriceView {
                product_id: p.product_id,
                sku: p.sku,
                name: p.name,
                name_en: p.name_en,
                unit_price: super::yuan_of(p.unit_price),
                image_url: p.image_url,
            })
            .collect(),
    }))
}
