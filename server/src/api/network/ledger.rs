//! Ledger views: an agent's own balances and lines, one agent's for HQ, and HQ's accounts.

use axum::extract::{Path, Query, State};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CallerId, actor_of, yuan};
use crate::api::error::ErrorBody;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::network::Actor;
use crate::network::statements::Month;
use crate::store::DbConnection;
use crate::store::network::ledger::{self as store};
use crate::store::users::now;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// `agent:7:available`, `hq:sales`, …
    pub code: String,
    /// `available`, `frozen`, `sales`, `rebate_expense`, `payables` or `cash`.
    pub wallet: String,
    /// Yuan. Agents' wallets and HQ sales/payables read positive when owed; HQ cash and rebate
    /// expense read negative (cash −500.00: 500.00 came in).
    pub balance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub id: i64,
    pub wallet: String,
    /// Positive credits the wallet.
    pub amount: String,
    /// The idempotency key of its posting (the business event).
    pub posting: String,
    pub kind: String,
    pub order_id: Option<i64>,
    pub withdrawal_id: Option<i64>,
    pub booked_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerView {
    /// Withdrawable (may be negative after a clawback: withdrawals wait until it is covered).
    pub available: String,
    /// Earned, released when the orders complete.
    pub frozen: String,
    pub accounts: Vec<AccountView>,
    /// The month's lines, oldest first (at most 1000 from `after`).
    pub lines: Vec<LineView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LinesQuery {
    /// `YYYY-MM` (UTC); default this month.
    pub month: Option<String>,
    /// Lines with an id above this (paging).
    pub after: Option<i64>,
}

fn ledger_of(c: &mut DbConnection, agent: Option<i64>, q: &LinesQuery) -> Result<LedgerView> {
    let month = match &q.month {
        Some(m) => Month::parse(m)?,
        None => Month::of(now())?,
    };
    let accounts = store::accounts_of(c, agent)?;
    let sum = |w: &str| {
        yuan(
            accounts
                .iter()
                .filter(|a| a.wallet == w)
                .map(|a| a.balance_cents)
                .sum(),
        )
    };
    let lines = store::lines(c, agent, month.from, month.to, q.after.unwrap_or(0), 1000)?;
    Ok(LedgerView {
        available: sum("available"),
        frozen: sum("frozen"),
        accounts: accounts
            .iter()
            .map(|a| AccountView {
                code: a.code.clone(),
                wallet: a.wallet.clone(),
                balance: yuan(a.balance_cents),
            })
            .collect(),
        lines: lines
            .into_iter()
            .map(|l| LineView {
                id: l.id,
                wallet: l.wallet,
                amount: yuan(l.amount_cents),
                posting: l.key,
                kind: l.kind.as_str().to_string(),
                order_id: l.order_id,
                withdrawal_id: l.withdrawal_id,
                booked_at: l.created_at,
            })
            .collect(),
    })
}

/// The signed-in agent's balances (frozen, available) and the month's lines.
#[utoipa::path(get, path = "/api/v1/ledger/me", tag = "network", security(("bearer" = [])),
    params(LinesQuery),
    responses((status = 200, body = LedgerView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<LinesQuery>,
) -> Result<axum::Json<LedgerView>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            let Actor::Agent { agent, .. } = actor_of(c, &who)? else {
                return Err(Error::Forbidden(
                    "this account is not an agent: see /api/v1/ledger/hq".into(),
                ));
            };
            ledger_of(c, Some(agent), &q)
        })
        .await?;
    Ok(axum::Json(out))
}

/// One agent's balances and lines (HQ).
#[utoipa::path(get, path = "/api/v1/ledger/agents/{id}", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Agent id"), LinesQuery),
    responses((status = 200, body = LedgerView), (status = 403, body = ErrorBody)))]
pub async fn agent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<LinesQuery>,
) -> Result<axum::Json<LedgerView>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            actor_of(c, &who)?.require(
                crate::domain::Permission::ReadHqLedger,
                "read agents' ledgers",
            )?;
            crate::store::network::agents::get(c, id)?;
            ledger_of(c, Some(id), &q)
        })
        .await?;
    Ok(axum::Json(out))
}

/// HQ's accounts (sales, rebate expense, payables, cash) and the month's lines (HQ).
#[utoipa::path(get, path = "/api/v1/ledger/hq", tag = "network", security(("bearer" = [])),
    params(LinesQuery),
    responses((status = 200, body = LedgerView), (status = 403, body = ErrorBody)))]
pub async fn hq(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<LinesQuery>,
) -> Result<axum::Json<LedgerView>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            actor_of(c, &who)?
                .require(crate::domain::Permission::ReadHqLedger, "read HQ's ledger")?;
            ledger_of(c, None, &q)
        })
        .await?;
    Ok(axum::Json(out))
}
