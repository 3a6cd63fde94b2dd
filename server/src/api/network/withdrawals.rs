//! Withdrawals: an agent requests, HQ finance approves or rejects, then marks paid.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CallerId, actor_of, yuan};
use crate::api::error::ErrorBody;
use crate::api::idempotency::{IdempotencyHeader, IdempotencyKey, write_once};
use crate::api::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::network::WithdrawalStatus;
use crate::error::{Error, Result};
use crate::network::{Actor, withdrawals as cases};
use crate::store::network::withdrawals::{self as store, WithdrawalRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalView {
    pub id: i64,
    pub agent_id: i64,
    pub amount: String,
    /// `requested`, `approved`, `rejected` or `paid`.
    pub status: String,
    pub requested_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<i64>,
    pub paid_at: Option<NaiveDateTime>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

impl From<WithdrawalRow> for WithdrawalView {
    fn from(w: WithdrawalRow) -> Self {
        WithdrawalView {
            id: w.id,
            agent_id: w.agent_id,
            amount: yuan(w.amount_cents),
            status: w.status.as_str().to_string(),
            requested_at: w.requested_at,
            decided_at: w.decided_at,
            decided_by: w.decided_by,
            paid_at: w.paid_at,
            reference: w.reference,
            note: w.note,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// Yuan, as a decimal string ("150.00").
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaidBody {
    /// The bank transfer's reference.
    pub reference: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<String>,
}

/// Withdrawals, newest first: an agent's own, or everyone's for HQ finance.
#[utoipa::path(get, path = "/api/v1/withdrawals", tag = "network", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Vec<WithdrawalView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<WithdrawalView>>> {
    let who = CallerId::from(&caller);
    let status = q
        .status
        .as_deref()
        .map(|s| {
            WithdrawalStatus::parse(s).ok_or_else(|| {
                Error::BadRequest(format!(
                    "status: {s:?} is no withdrawal status; one of requested, approved, \
                     rejected, paid"
                ))
            })
        })
        .transpose()?;
    let rows = state
        .db
        .run(move |c| {
            let agent = match actor_of(c, &who)? {
                Actor::Agent { agent, .. } => Some(agent),
                actor => {
                    actor.require(
                        crate::domain::Permission::DecideWithdrawals,
                        "see withdrawals",
                    )?;
                    None
                }
            };
            Ok(store::list(c, agent, status, 500)?)
        })
        .await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// The signed-in agent asks to withdraw from its available balance.
#[utoipa::path(post, path = "/api/v1/withdrawals", tag = "network", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body = RequestBody,
    responses((status = 201, body = WithdrawalView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyKey,
    Json(body): Json<RequestBody>,
) -> Result<Response> {
    let amount: Decimal = body.amount.trim().parse().map_err(|_| {
        Error::BadRequest(format!(
            "amount {:?}: give yuan as a decimal string, e.g. \"150.00\"",
            body.amount
        ))
    })?;
    let who = CallerId::from(&caller);
    write_once(
        &state.db,
        who.user,
        idem,
        &body,
        StatusCode::CREATED,
        move |c| {
            let actor = actor_of(c, &who)?;
            Ok(WithdrawalView::from(cases::request(c, actor, amount)?))
        },
    )
    .await
}

async fn decide(
    state: AppState,
    caller: Caller,
    idem: IdempotencyKey,
    id: i64,
    approve: bool,
    body: DecisionBody,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let note = body.note.clone();
    write_once(&state.db, who.user, idem, &body, StatusCode::OK, move |c| {
        let actor = actor_of(c, &who)?;
        let row = cases::decide(c, id, approve, note.as_deref(), actor)?;
        Ok(WithdrawalView::from(row))
    })
    .await
}

/// HQ finance approves: the money leaves HQ's bank.
#[utoipa::path(post, path = "/api/v1/withdrawals/{id}/approve", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Withdrawal id"),
        IdempotencyHeader),
    request_body = DecisionBody,
    responses((status = 200, body = WithdrawalView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<DecisionBody>,
) -> Result<Response> {
    decide(state, caller, idem, id, true, body).await
}

/// HQ finance rejects: the amount returns to the agent's available balance.
#[utoipa::path(post, path = "/api/v1/withdrawals/{id}/reject", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Withdrawal id"),
        IdempotencyHeader),
    request_body = DecisionBody,
    responses((status = 200, body = WithdrawalView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<DecisionBody>,
) -> Result<Response> {
    decide(state, caller, idem, id, false, body).await
}

/// HQ finance records the bank transfer of an approved withdrawal.
#[utoipa::path(post, path = "/api/v1/withdrawals/{id}/paid", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Withdrawal id"),
        IdempotencyHeader),
    request_body = PaidBody,
    responses((status = 200, body = WithdrawalView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn paid(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<PaidBody>,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let reference = body.reference.clone();
    write_once(&state.db, who.user, idem, &body, StatusCode::OK, move |c| {
        let actor = actor_of(c, &who)?;
        Ok(WithdrawalView::from(cases::mark_paid(
            c, id, &reference, actor,
        )?))
    })
    .await
}
