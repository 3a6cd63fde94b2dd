//! The scheduled jobs of the order life cycle (DOMAIN §4–§5): auto-receive shipped orders once
//! the receive window has passed, and complete received orders once the return window has passed
//! with no after-sale case open — completing books what is left of each earning from frozen to
//! available and the shipper's money out of payables (settlement).
//!
//! Both are safe to run twice or concurrently: each order changes state only from the state the
//! job found it in (one run gets each order), and each completion posting is keyed
//! `order:{id}:complete`, unique in the ledger.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::book::{self, booked};
use super::{Actor, shipping};
use crate::domain::network::{OrderState, postings, settlement};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::network::ledger::{self as ledger_store, Meta};
use crate::store::network::orders as store;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Settled {
    /// Orders received automatically.
    pub received: u64,
    /// Orders completed (their earnings released).
    pub completed: u64,
    /// Completion postings booked.
    pub postings: u64,
}

/// Orders a transaction handles at a time.
pub const CHUNK: i64 = 5000;

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Auto-receives every shipped order whose receive window has passed by `now`.
pub fn auto_receive(conn: &mut DbConnection, now: NaiveDateTime) -> Result<u64> {
    let mut done = 0;
    let mut after = 0;
    loop {
        // Read inside the transaction that acts on the rows, so what is decided is what is there.
        let (last, n) = crate::store::in_transaction(conn, |conn| {
            let rows = store::due(conn, OrderState::Shipped, now, after, CHUNK)?;
            let mut n = 0;
            for row in &rows {
                let due = row.shipped_at.is_some_and(|s| {
                    settlement::auto_receive_due(
                        utc(s),
                        utc(now),
                        u32::try_from(row.receive_days).unwrap_or(0),
                    )
                });
                if due {
                    shipping::receive_row(conn, row, Actor::System, true, now)?;
                    n += 1;
                }
            }
            Ok::<_, crate::Error>((rows.last().map(|r| r.id), n))
        })?;
        let Some(last) = last else { break };
        after = last;
        done += n;
    }
    Ok(done)
}

/// Completes every received order whose return window has passed by `now`, [`CHUNK`] orders per
/// transaction.
pub fn complete_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Settled> {
    complete_due_in_chunks(conn, now, CHUNK)
}

/// [`complete_due`] with `chunk` orders per transaction: larger chunks write each touched page
/// of the ledger's indexes fewer times, smaller ones hold the database's write lock for less.
pub fn complete_due_in_chunks(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    chunk: i64,
) -> Result<Settled> {
    let mut out = Settled::default();
    for state in [OrderState::Received, OrderState::PartiallyRefunded] {
        let mut after = 0;
        loop {
            let (last, completed, booked) = crate::store::in_transaction(conn, |conn| {
                let rows = store::due(conn, state, now, after, chunk.max(1))?;
                let last = rows.last().map(|r| r.id);
                let (completed, booked) = complete_chunk(conn, rows, now)?;
                Ok::<_, crate::Error>((last, completed, booked))
            })?;
            let Some(last) = last else { break };
            after = last;
            out.completed += completed;
            out.postings += booked;
        }
    }
    Ok(out)
}

fn complete_chunk(
    conn: &mut DbConnection,
    rows: Vec<store::OrderRow>,
    now: NaiveDateTime,
) -> Result<(u64, u64)> {
    // Only orders truly due (the domain's rule), then only those this run moves itself.
    let due: Vec<i64> = rows
        .iter()
        .filter(|r| {
            let days = r
                .return_days
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(0);
            r.received_at
                .is_some_and(|at| settlement::completion_due(utc(at), utc(now), days))
        })
        .map(|r| r.id)
        .collect();
    let mine = store::complete_many(conn, &due)?;
    let mine_set: std::collections::HashSet<i64> = mine.iter().copied().collect();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| mine_set.contains(&r.id))
        .collect();
    // Lines and legs of the whole chunk in a few queries, not per order.
    let orders = store::full(conn, rows)?;
    let mut items = Vec::with_capacity(orders.len());
    let mut events = Vec::with_capacity(orders.len());
    for o in &orders {
        let row = &o.row;
        let b = booked(o)?;
        let returned = o
            .lines
            .iter()
            .map(|l| book::quantity(l.returned_quantity))
            .collect::<Result<Vec<_>>>()?;
        if let Some(p) = postings::completion(&b, &returned) {
            let meta = Meta {
                kind: crate::domain::network::PostingKind::Complete,
                order_id: Some(row.id),
                withdrawal_id: None,
                policy_version: Some(row.policy_version),
            };
            items.push((p, meta));
        }
        events.push((row.id, Some(row.state), OrderState::Completed, None, None));
    }
    let booked_now = ledger_store::book_all(conn, &items)?
        .into_iter()
        .filter(|b| *b == ledger_store::Booked::New)
        .count();
    store::add_events(conn, &events, now)?;
    Ok((orders.len() as u64, booked_now as u64))
}

/// One pass of both jobs.
pub fn tick(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Settled> {
    let received = auto_receive(conn, now)?;
    let mut out = complete_due(conn, now)?;
    out.received = received;
    // Opening frozen balances of an imported network whose release day has come.
    let released = crate::network_import::release_due(conn, now)?;
    if released > 0 {
        tracing::info!(released, "opening frozen balances released");
    }
    if out.received + out.completed > 0 {
        tracing::info!(
            received = out.received,
            completed = out.completed,
            "orders settled"
        );
    }
    Ok(out)
}
