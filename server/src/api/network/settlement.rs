//! Monthly statements (JSON and CSV), generating them, and running settlement (HQ finance).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CallerId, actor_of, yuan};
use crate::api::error::ErrorBody;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Role;
use crate::error::Result;
use crate::network::settlement::{self, Settled};
use crate::network::statements::{self, Month};
use crate::network::{Actor, HQ_MONEY};
use crate::store::DbConnection;
use crate::store::network::statements::StatementRow;
use crate::store::users::now;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub agent_id: i64,
    pub month: String,
    pub opening_available: String,
    pub opening_frozen: String,
    /// Margins, rebates and awards credited this month.
    pub earned: String,
    /// Completions: earnings released (frozen → available, net 0 over both wallets) and a
    /// shipper's goods money.
    pub settled: String,
    /// Refunds received as a buyer, less clawbacks.
    pub refunds: String,
    /// Orders paid from the wallet (negative).
    pub payments: String,
    /// Withdrawals (negative), less rejected ones.
    pub withdrawals: String,
    /// Opening balances brought in from the brand's previous system (network import).
    pub migrated: String,
    pub closing_available: String,
    pub closing_frozen: String,
    pub line_count: i64,
    pub generated_at: NaiveDateTime,
}

impl From<StatementRow> for StatementView {
    fn from(s: StatementRow) -> Self {
        StatementView {
            agent_id: s.agent_id,
            month: s.month,
            opening_available: yuan(s.opening_available_cents),
            opening_frozen: yuan(s.opening_frozen_cents),
            earned: yuan(s.earned_cents),
            settled: yuan(s.settled_cents),
            refunds: yuan(s.refunds_cents),
            payments: yuan(s.payments_cents),
            withdrawals: yuan(s.withdrawals_cents),
            migrated: yuan(s.migrated_cents),
            closing_available: yuan(s.closing_available_cents),
            closing_frozen: yuan(s.closing_frozen_cents),
            line_count: s.line_count,
            generated_at: s.generated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatementQuery {
    /// The agent (HQ only; an agent always gets its own).
    pub agent_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Generated {
    pub month: String,
    pub statements: usize,
}

const HQ_READ: &[Role] = &[Role::HqAdmin, Role::HqFinance, Role::HqAuditor];

/// Whose statement: the agent's own, or any agent's for HQ.
fn whose(c: &mut DbConnection, who: &CallerId, asked: Option<i64>) -> Result<i64> {
    match actor_of(c, who)? {
        // Asking for another agent's statement is refused, not answered with one's own: a
        // client that got its own would take it for the other's.
        Actor::Agent { agent, .. } => match asked {
            Some(other) if other != agent => Err(crate::Error::Forbidden(format!(
                "agent_id {other}: an agent reads its own statement only"
            ))),
            _ => Ok(agent),
        },
        actor => {
            actor.require_hq(HQ_READ, "read agents' statements")?;
            let id = asked
                .ok_or_else(|| crate::Error::BadRequest("agent_id: say whose statement".into()))?;
            Ok(crate::store::network::agents::get(c, id)?.id)
        }
    }
}

/// A monthly statement (月结单) as data.
#[utoipa::path(get, path = "/api/v1/statements/{month}", tag = "network",
    security(("bearer" = [])),
    params(("month" = String, Path, description = "YYYY-MM"), StatementQuery),
    responses((status = 200, body = StatementView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
    Query(q): Query<StatementQuery>,
) -> Result<axum::Json<StatementView>> {
    let month = Month::parse(&month)?;
    let who = CallerId::from(&caller);
    let row = state
        .db
        .run(move |c| {
            let agent = whose(c, &who, q.agent_id)?;
            statements::of_agent(c, agent, &month)
        })
        .await?;
    Ok(axum::Json(row.into()))
}

/// A monthly statement's lines as CSV.
#[utoipa::path(get, path = "/api/v1/statements/{month}/csv", tag = "network",
    security(("bearer" = [])),
    params(("month" = String, Path, description = "YYYY-MM"), StatementQuery),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn statement_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
    Query(q): Query<StatementQuery>,
) -> Result<impl IntoResponse> {
    let month = Month::parse(&month)?;
    let who = CallerId::from(&caller);
    let name = month.name.clone();
    let (agent, body) = state
        .db
        .run(move |c| {
            let agent = whose(c, &who, q.agent_id)?;
            Ok((agent, statements::csv(c, agent, &month)?))
        })
        .await?;
    let disposition = format!("attachment; filename=\"statement-{agent}-{name}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    ))
}

/// Generates (or regenerates) every agent's statement for the month (HQ finance).
#[utoipa::path(post, path = "/api/v1/statements/{month}/generate", tag = "network",
    security(("bearer" = [])), params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, body = Generated), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
) -> Result<axum::Json<Generated>> {
    let month = Month::parse(&month)?;
    let who = CallerId::from(&caller);
    let out = state
        .db
        .write(move |c| {
            actor_of(c, &who)?.require_hq(HQ_MONEY, "generate statements")?;
            let n = statements::generate(c, &month)?;
            Ok(Generated {
                month: month.name,
                statements: n,
            })
        })
        .await?;
    Ok(axum::Json(out))
}

/// Runs settlement now (HQ finance): auto-receive and complete every due order. The server also
/// runs it every few minutes; overlapping runs pay once.
#[utoipa::path(post, path = "/api/v1/settlement/run", tag = "network",
    security(("bearer" = [])),
    responses((status = 200, body = Settled), (status = 403, body = ErrorBody)))]
pub async fn run(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Settled>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .write(move |c| {
            actor_of(c, &who)?.require_hq(HQ_MONEY, "run settlement")?;
            settlement::tick(c, now())
        })
        .await?;
    Ok(axum::Json(out))
}
