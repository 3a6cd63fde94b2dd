//! Monthly statements (月结单): per agent and month, both wallets' opening and closing balances
//! and the month's net movement by kind of event, computed from the ledger's lines in a few
//! grouped queries and stored, one row per agent and month (regenerating replaces them).

use crate::domain::network::PostingKind;
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{ledger_accounts, monthly_statements};

#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = monthly_statements)]
pub struct StatementRow {
    pub agent_id: i64,
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub opening_available_cents: i64,
    pub opening_frozen_cents: i64,
    /// Margins, rebates and awards credited (frozen until their orders complete).
    pub earned_cents: i64,
    /// Completions: earnings released and, for a shipper, its goods money.
    pub settled_cents: i64,
    /// Refunds received as a buyer, less clawbacks.
    pub refunds_cents: i64,
    /// Orders paid from the wallet.
    pub payments_cents: i64,
    /// Withdrawals requested, less those rejected.
    pub withdrawals_cents: i64,
    pub closing_available_cents: i64,
    pub closing_frozen_cents: i64,
    pub line_count: i64,
    pub generated_at: NaiveDateTime,
    /// Opening balances brought in from the brand's previous system (network import).
    pub migrated_cents: i64,
}

#[derive(QueryableByName)]
struct Movement {
    #[diesel(sql_type = BigInt)]
    agent_id: i64,
    #[diesel(sql_type = Text)]
    wallet: String,
    #[diesel(sql_type = crate::store::schema::sql_types::PostingKindText)]
    kind: PostingKind,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    lines: i64,
}

/// Net amounts of agents' lines booked in `[from, to)` (or from `from` on, when `to` is None),
/// by agent, wallet and kind.
fn movements(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: Option<NaiveDateTime>,
) -> Result<Vec<Movement>> {
    let sql = |p1: &str, p2: &str| {
        format!(
            "SELECT a.agent_id AS agent_id, a.wallet AS wallet, p.kind AS kind, \
             CAST(SUM(l.amount_cents) AS BIGINT) AS total, COUNT(*) AS lines \
             FROM posting_lines l JOIN ledger_accounts a ON a.id = l.account_id \
             JOIN postings p ON p.id = l.posting_id \
             WHERE a.agent_id IS NOT NULL AND l.created_at >= {p1} {} \
             GROUP BY a.agent_id, a.wallet, p.kind",
            if to.is_some() {
                format!("AND l.created_at < {p2}")
            } else {
                String::new()
            }
        )
    };
    Ok(match (conn, to) {
        (DbConnection::Sqlite(c), Some(to)) => diesel::sql_query(sql("?", "?"))
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .load(c)?,
        (DbConnection::Sqlite(c), None) => diesel::sql_query(sql("?", ""))
            .bind::<Timestamp, _>(from)
            .load(c)?,
        (DbConnection::Postgres(c), Some(to)) => diesel::sql_query(sql("$1", "$2"))
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .load(c)?,
        (DbConnection::Postgres(c), None) => diesel::sql_query(sql("$1", ""))
            .bind::<Timestamp, _>(from)
            .load(c)?,
    })
}

fn slot<'a>(
    m: &'a mut BTreeMap<i64, StatementRow>,
    agent: i64,
    month: &str,
    at: NaiveDateTime,
) -> &'a mut StatementRow {
    m.entry(agent).or_insert_with(|| StatementRow {
        agent_id: agent,
        month: month.to_string(),
        generated_at: at,
        ..StatementRow::default()
    })
}

/// Computes every agent's statement for `[from, to)` named `month`: closing balances are today's
/// balances less what was booked since `to`; opening is closing less the month's movements.
pub fn compute(
    conn: &mut DbConnection,
    month: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<Vec<StatementRow>> {
    let mut by_agent: BTreeMap<i64, StatementRow> = BTreeMap::new();
    let balances: Vec<(Option<i64>, String, i64)> = ledger_accounts::table
        .filter(ledger_accounts::agent_id.is_not_null())
        .select((
            ledger_accounts::agent_id,
            ledger_accounts::wallet,
            ledger_accounts::balance_cents,
        ))
        .load(conn)?;
    for (agent, wallet, balance) in balances {
        let Some(agent) = agent else { continue };
        let s = slot(&mut by_agent, agent, month, at);
        match wallet.as_str() {
            "available" => s.closing_available_cents += balance,
            _ => s.closing_frozen_cents += balance,
        }
    }
    for m in movements(conn, to, None)? {
        if let Some(s) = by_agent.get_mut(&m.agent_id) {
            match m.wallet.as_str() {
                "available" => s.closing_available_cents -= m.total,
                _ => s.closing_frozen_cents -= m.total,
            }
        }
    }
    for s in by_agent.values_mut() {
        s.opening_available_cents = s.closing_available_cents;
        s.opening_frozen_cents = s.closing_frozen_cents;
    }
    for m in movements(conn, from, Some(to))? {
        let s = slot(&mut by_agent, m.agent_id, month, at);
        match m.wallet.as_str() {
            "available" => s.opening_available_cents -= m.total,
            _ => s.opening_frozen_cents -= m.total,
        }
        s.line_count += m.lines;
        use PostingKind as K;
        let bucket = match m.kind {
            K::Margin | K::Rebate | K::Award | K::Allowance => &mut s.earned_cents,
            K::Complete | K::Release => &mut s.settled_cents,
            K::Opening => &mut s.migrated_cents,
            K::Refund => &mut s.refunds_cents,
            K::Paid => &mut s.payments_cents,
            K::WithdrawalRequested
            | K::WithdrawalApproved
            | K::WithdrawalRejected
            | K::Deposit
            | K::DiversionPenalty
            | K::Payout
            | K::Reward
            | K::RewardClaim
            | K::Other => &mut s.withdrawals_cents,
        };
        *bucket += m.total;
    }
    Ok(by_agent
        .into_values()
        .filter(|s| {
            s.line_count > 0 || s.opening_available_cents != 0 || s.opening_frozen_cents != 0
        })
        .collect())
}

/// Replaces the month's stored statements.
pub fn replace_month(conn: &mut DbConnection, month: &str, rows: &[StatementRow]) -> Result<()> {
    diesel::delete(monthly_statements::table.filter(monthly_statements::month.eq(month)))
        .execute(conn)?;
    for chunk in rows.chunks(1000) {
        let insert = diesel::insert_into(monthly_statements::table).values(chunk);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

pub fn get(conn: &mut DbConnection, agent: i64, month: &str) -> Result<Option<StatementRow>> {
    Ok(monthly_statements::table
        .filter(monthly_statements::agent_id.eq(agent))
        .filter(monthly_statements::month.eq(month))
        .select(StatementRow::as_select())
        .load(conn)?
        .pop())
}

/// An agent's stored statements, newest month first.
pub fn of_agent(conn: &mut DbConnection, agent: i64) -> Result<Vec<StatementRow>> {
    Ok(monthly_statements::table
        .filter(monthly_statements::agent_id.eq(agent))
        .order(monthly_statements::month.desc())
        .select(StatementRow::as_select())
        .load(conn)?)
}
