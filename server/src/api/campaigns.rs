//! Scan marketing's desk (issue 21): campaigns (`/api/v1/campaigns`) and the cash paid out to
//! consumers (`/api/v1/payouts`). Thin over `crate::campaign_desk`, which asks the permissions
//! (`ReadCampaigns`, `ManageCampaigns`, `PayRewards`) the pages ask too. The POSTs take an
//! `Idempotency-Key`: a retried export or mark-paid books nothing twice.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use super::idempotency::{IdempotencyHeader, IdempotencyKey, write_once};
use super::json::Json;
use super::network::{CallerId, actor_of};
use crate::app::AppState;
use crate::auth::Caller;
use crate::campaign_desk::{self as cases, PrizeInput, yuan};
use crate::domain::Permission;
use crate::domain::marketing::{
    CampaignAction, CampaignDraft, CampaignState, MarketingError, PrizeKind, Scope,
};
use crate::error::{Error, Result};
use crate::store::campaigns::{self as store, CampaignRow, Counts, PrizeRow};
use crate::store::payouts::{self as payouts, BatchRow, Line};

/// Campaigns listed per page.
const PER_PAGE: i64 = 50;

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: i64,
    pub name: String,
    /// `draft`, `running`, `paused` or `ended`.
    pub state: String,
    /// SKUs rewarded; empty for every product.
    pub skus: Vec<String>,
    pub batches: Vec<String>,
    /// GB/T 2260 codes; empty for all of China.
    pub regions: Vec<String>,
    /// UTC.
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    /// Yuan, as a decimal string.
    pub budget: String,
    /// Yuan: what the rewards drawn cost, as settled (a second or so behind the draws).
    pub spent: String,
    pub daily_limit: i32,
    pub lottery: bool,
}

impl From<&CampaignRow> for CampaignView {
    fn from(c: &CampaignRow) -> Self {
        let scope = c.scope();
        CampaignView {
            id: c.id,
            name: c.name.clone(),
            state: c.state.as_str().to_string(),
            skus: scope.skus,
            batches: scope.batches,
            regions: scope.regions,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            budget: yuan(c.budget_cents),
            spent: yuan(c.spent_cents),
            daily_limit: c.daily_limit,
            lottery: c.lottery,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrizeView {
    pub position: i32,
    pub name: String,
    /// `points`, `coupon` or `cash`.
    pub kind: String,
    pub points: i64,
    /// Yuan: a coupon's face value, cash's lowest amount.
    pub min: String,
    pub max: String,
    /// Basis points (10000 = every scan).
    pub odds_bp: i32,
    /// `null`: as many as the budget allows.
    pub stock: Option<i64>,
    pub remaining: Option<i64>,
}

impl From<&PrizeRow> for PrizeView {
    fn from(p: &PrizeRow) -> Self {
        PrizeView {
            position: p.position,
            name: p.name.clone(),
            kind: p.kind.as_str().to_string(),
            points: p.points,
            min: yuan(p.min_cents),
            max: yuan(p.max_cents),
            odds_bp: p.odds_bp,
            stock: p.stock,
            remaining: p.remaining,
        }
    }
}

/// The dashboard's totals over the campaign's life.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsView {
    pub scans: i64,
    pub rewards: i64,
    pub claimed: i64,
    /// Yuan.
    pub cost: String,
}

impl From<&Counts> for TotalsView {
    fn from(c: &Counts) -> Self {
        TotalsView {
            scans: c.scans,
            rewards: c.rewards,
            claimed: c.claimed,
            cost: yuan(c.cost_cents),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub campaign: CampaignView,
    pub prizes: Vec<PrizeView>,
    pub totals: TotalsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignPage {
    pub campaigns: Vec<CampaignView>,
    /// Whether a next page exists.
    pub more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Part of the name.
    pub q: Option<String>,
    /// Only this state: `draft`, `running`, `paused` or `ended`.
    pub state: Option<String>,
    /// 1-based; 50 a page.
    pub page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrizeBody {
    /// 1 to 40 characters.
    pub name: String,
    /// `points`, `coupon` or `cash`.
    pub kind: String,
    /// Points won (points prizes).
    pub points: Option<i64>,
    /// Yuan: a coupon's face value, a fixed cash amount or the lowest of a random one.
    pub min: Option<String>,
    /// Yuan: the highest random cash amount (empty: fixed).
    pub max: Option<String>,
    /// Basis points; 10000 (every scan) when not a lottery. Default 10000.
    pub odds_bp: Option<u32>,
    /// How many can be won; empty for as many as the budget allows.
    pub stock: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaignBody {
    pub name: String,
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub batches: Vec<String>,
    /// GB/T 2260 codes (province, city or county).
    #[serde(default)]
    pub regions: Vec<String>,
    /// UTC.
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    /// Yuan, as a decimal string ("5000.00").
    pub budget: String,
    pub daily_limit: i32,
    #[serde(default)]
    pub lottery: bool,
    /// One prize (every scan wins it), or 1 to 8 for a lottery.
    pub prizes: Vec<PrizeBody>,
}

impl NewCampaignBody {
    fn draft(&self) -> std::result::Result<CampaignDraft, MarketingError> {
        let budget: Decimal = self
            .budget
            .trim()
            .parse()
            .map_err(|_| MarketingError::Budget)?;
        let prizes = self
            .prizes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                PrizeInput {
                    name: p.name.clone(),
                    kind: PrizeKind::parse(&p.kind),
                    points: p.points,
                    min: p.min.clone(),
                    max: p.max.clone(),
                    odds_bp: p.odds_bp.unwrap_or(crate::domain::marketing::ALL_ODDS),
                    stock: p.stock,
                }
                .prize(i + 1)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(CampaignDraft {
            name: self.name.clone(),
            scope: Scope {
                skus: self.skus.clone(),
                batches: self.batches.clone(),
                regions: self.regions.clone(),
            },
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            budget,
            daily_limit: self.daily_limit,
            lottery: self.lottery,
            prizes,
        })
    }
}

/// Campaigns, newest first, searched by name and filtered by state.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "marketing", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = CampaignPage), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<CampaignPage>> {
    caller.require(Permission::ReadCampaigns)?;
    let filter = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(CampaignState::parse(s).ok_or_else(|| {
            Error::BadRequest(format!(
                "state: {s:?} is no campaign state; one of draft, running, paused, ended"
            ))
        })?),
    };
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let found = state
        .db
        .run(move |c| {
            Ok(store::page(
                c,
                q.q.as_deref(),
                filter,
                (page - 1) * PER_PAGE,
                PER_PAGE,
            )?)
        })
        .await?;
    Ok(axum::Json(CampaignPage {
        campaigns: found.rows.iter().map(CampaignView::from).collect(),
        more: found.more,
    }))
}

/// HQ admin creates a campaign, as a draft (start it with `/campaigns/{id}/start`).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "marketing", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body = NewCampaignBody,
    responses((status = 201, body = CampaignDetail), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyKey,
    Json(body): Json<NewCampaignBody>,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let draft = body.draft().map_err(|e| Error::refused(&e));
    write_once(
        &state.db,
        who.user,
        idem,
        &body,
        StatusCode::CREATED,
        move |c| {
            let actor = actor_of(c, &who)?;
            let row = cases::create(c, actor, &draft?)?;
            detail(c, actor, row.id)
        },
    )
    .await
}

fn detail(
    c: &mut crate::store::DbConnection,
    actor: crate::network::Actor,
    id: i64,
) -> Result<CampaignDetail> {
    let view = cases::get(c, actor, id)?;
    Ok(CampaignDetail {
        campaign: CampaignView::from(&view.campaign),
        prizes: view.prizes.iter().map(PrizeView::from).collect(),
        totals: TotalsView::from(&view.totals),
    })
}

/// A campaign with its prizes (stock left) and the dashboard's totals.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "marketing",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<CampaignDetail>> {
    let who = CallerId::from(&caller);
    let d = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            detail(c, actor, id)
        })
        .await?;
    Ok(axum::Json(d))
}

/// Starts, pauses or ends a campaign (`start`, `pause`, `end`); `campaign_transition` when its
/// state does not allow it (of two admins at once, one makes the change).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/{action}", tag = "marketing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Campaign id"),
        ("action" = String, Path, description = "`start`, `pause` or `end`"), IdempotencyHeader),
    responses((status = 200, body = CampaignDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
    idem: IdempotencyKey,
) -> Result<Response> {
    let action = CampaignAction::parse(&action).ok_or_else(|| Error::not_found("action"))?;
    let who = CallerId::from(&caller);
    let answer = write_once(
        &state.db,
        who.user,
        idem,
        &action.as_str(),
        StatusCode::OK,
        move |c| {
            let actor = actor_of(c, &who)?;
            cases::act(c, actor, id, action)?;
            detail(c, actor, id)
        },
    )
    .await;
    // This instance draws from the new state at once; others within `marketing::REFRESH`.
    state.offers.invalidate();
    answer
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutView {
    pub id: i64,
    /// The remark on the bank transfer (`HB000001`).
    pub number: String,
    /// `exported` or `paid`.
    pub state: String,
    /// Yuan.
    pub total: String,
    /// Consumers paid.
    pub lines: i32,
    pub created_at: NaiveDateTime,
    pub reference: Option<String>,
    pub paid_at: Option<NaiveDateTime>,
}

impl From<&BatchRow> for PayoutView {
    fn from(b: &BatchRow) -> Self {
        PayoutView {
            id: b.id,
            number: b.number(),
            state: b.state.clone(),
            total: yuan(b.total_cents),
            lines: b.line_count,
            created_at: b.created_at,
            reference: b.reference.clone(),
            paid_at: b.paid_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwedLine {
    pub consumer_id: i64,
    pub phone: String,
    /// Yuan.
    pub amount: String,
    pub rewards: i64,
}

impl From<&Line> for OwedLine {
    fn from(l: &Line) -> Self {
        OwedLine {
            consumer_id: l.consumer_id,
            phone: l.phone.clone(),
            amount: yuan(l.cents),
            rewards: l.rewards,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutsView {
    /// Yuan owed in all (claimed cash in no batch yet).
    pub owed: String,
    pub owed_consumers: i64,
    /// The first 100 consumers owed.
    pub owed_lines: Vec<OwedLine>,
    /// The newest 100 batches.
    pub batches: Vec<PayoutView>,
}

/// What is owed to consumers in cash, and the payout batches.
#[utoipa::path(get, path = "/api/v1/payouts", tag = "marketing", security(("bearer" = [])),
    responses((status = 200, body = PayoutsView), (status = 403, body = ErrorBody)))]
pub async fn payouts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<PayoutsView>> {
    caller.require(Permission::PayRewards)?;
    let view = state
        .db
        .run(|c| {
            let (consumers, cents, _) = payouts::owed_totals(c)?;
            let lines = payouts::lines(c, None, 0, 100)?.rows;
            let batches = payouts::page(c, None, 0, 100)?.rows;
            Ok(PayoutsView {
                owed: yuan(cents),
                owed_consumers: consumers,
                owed_lines: lines.iter().map(OwedLine::from).collect(),
                batches: batches.iter().map(PayoutView::from).collect(),
            })
        })
        .await?;
    Ok(axum::Json(view))
}

/// HQ finance exports everything owed as a payout batch (`payout_empty` when nothing is owed).
#[utoipa::path(post, path = "/api/v1/payouts", tag = "marketing", security(("bearer" = [])),
    params(IdempotencyHeader),
    responses((status = 201, body = PayoutView), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyKey,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    write_once(
        &state.db,
        who.user,
        idem,
        &(),
        StatusCode::CREATED,
        move |c| {
            let actor = actor_of(c, &who)?;
            Ok(PayoutView::from(&cases::export(c, actor)?))
        },
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutPaidBody {
    /// The bank's reference, 1 to 64 characters.
    pub reference: String,
}

/// HQ finance marks a batch paid; the ledger books each consumer's line once
/// (`payout_paid` on a second mark, `payout_reference` for a missing reference).
#[utoipa::path(post, path = "/api/v1/payouts/{id}/paid", tag = "marketing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Payout batch id"), IdempotencyHeader),
    request_body = PayoutPaidBody,
    responses((status = 200, body = PayoutView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn paid(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<PayoutPaidBody>,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let reference = body.reference.clone();
    write_once(&state.db, who.user, idem, &body, StatusCode::OK, move |c| {
        let actor = actor_of(c, &who)?;
        Ok(PayoutView::from(&cases::mark_paid(
            c, actor, id, &reference,
        )?))
    })
    .await
}
