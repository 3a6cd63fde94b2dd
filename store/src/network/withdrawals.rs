//! Withdrawal requests (提现) and HQ finance's decisions on them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::WithdrawalStatus;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::withdrawals;
use crate::store::users::now;
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = withdrawals)]
pub struct WithdrawalRow {
    pub id: i64,
    pub agent_id: i64,
    pub amount_cents: i64,
    pub status: WithdrawalStatus,
    pub requested_at: NaiveDateTime,
    pub requested_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<i64>,
    pub paid_at: Option<NaiveDateTime>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

pub fn insert(
    conn: &mut DbConnection,
    agent: i64,
    amount_cents: i64,
    by: Option<i64>,
) -> Result<WithdrawalRow> {
    let insert = diesel::insert_into(withdrawals::table).values((
        withdrawals::agent_id.eq(agent),
        withdrawals::amount_cents.eq(amount_cents),
        withdrawals::status.eq(Stored(WithdrawalStatus::Requested)),
        withdrawals::requested_at.eq(now()),
        withdrawals::requested_by.eq(by),
    ));
    Ok(per_backend!(conn, |c| insert
        .returning(WithdrawalRow::as_returning())
        .get_result(c))?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<WithdrawalRow> {
    withdrawals::table
        .filter(withdrawals::id.eq(id))
        .select(WithdrawalRow::as_select())
        .load(conn)?
        .pop()
        .ok_or_else(|| Error::not_found("withdrawal"))
}

/// Newest first; one agent's or everyone's, optionally one status.
pub fn list(
    conn: &mut DbConnection,
    agent: Option<i64>,
    status: Option<WithdrawalStatus>,
    limit: i64,
) -> Result<Vec<WithdrawalRow>> {
    let mut q = withdrawals::table
        .order(withdrawals::id.desc())
        .limit(limit)
        .select(WithdrawalRow::as_select())
        .into_boxed();
    if let Some(a) = agent {
        q = q.filter(withdrawals::agent_id.eq(a));
    }
    if let Some(s) = status {
        q = q.filter(withdrawals::status.eq(Stored(s)));
    }
    Ok(q.load(conn)?)
}

/// Moves a withdrawal from `from` to `to`, recording who decided; false when it was not `from`.
pub fn decide(
    conn: &mut DbConnection,
    id: i64,
    from: WithdrawalStatus,
    to: WithdrawalStatus,
    by: Option<i64>,
    note: Option<&str>,
) -> Result<bool> {
    let n = diesel::update(
        withdrawals::table
            .filter(withdrawals::id.eq(id))
            .filter(withdrawals::status.eq(Stored(from))),
    )
    .set((
        withdrawals::status.eq(Stored(to)),
        withdrawals::decided_at.eq(Some(now())),
        withdrawals::decided_by.eq(by),
        withdrawals::note.eq(note),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The bank transfer went out: its reference.
pub fn mark_paid(conn: &mut DbConnection, id: i64, reference: &str) -> Result<bool> {
    let n = diesel::update(
        withdrawals::table
            .filter(withdrawals::id.eq(id))
            .filter(withdrawals::status.eq(Stored(WithdrawalStatus::Approved))),
    )
    .set((
        withdrawals::status.eq(Stored(WithdrawalStatus::Paid)),
        withdrawals::paid_at.eq(Some(now())),
        withdrawals::reference.eq(Some(reference)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
