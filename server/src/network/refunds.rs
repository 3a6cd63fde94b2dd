//! Refunds by returned quantity (DOMAIN §4–§5), decided by HQ on an after-sale case: the buyer
//! gets back the stored shares of the shipper's money and margins, and the rebate and award are
//! clawed back in the same proportion — from frozen before completion, from available after,
//! which may go negative (never capped: no money is lost). Exactly the stored amounts, never a
//! fresh computation at today's rates.

use diesel::Connection;

use super::book::{self, booked};
use super::orders::changed_meanwhile;
use super::{Actor, HQ_MONEY, ledger, refused};
use crate::domain::network::order::{OrderAction, RefundScope, transition};
use crate::domain::network::postings;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::ledger as ledger_store;
use crate::store::network::orders::{self as store, OrderRow};
use crate::store::network::{party_columns, stock};
use crate::store::users::now;

/// A refund as HQ decides it.
#[derive(Debug, Clone, Default)]
pub struct RefundInput {
    /// Items returned now.
    pub quantity: i64,
    /// The returned items' serials, when they are back in hand: they move from the buyer's
    /// custody back to the shipper's. Must number `quantity` when given.
    pub serials: Vec<String>,
    pub reason: String,
}

/// Refunds `input.quantity` more returned items of a received (or completed) order.
pub fn refund(
    conn: &mut DbConnection,
    id: i64,
    input: &RefundInput,
    actor: Actor,
) -> Result<OrderRow> {
    actor.require_hq(HQ_MONEY, "refund an order")?;
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::BadRequest(
            "reason: say why, in 1 to 500 characters".into(),
        ));
    }
    if !input.serials.is_empty() && input.serials.len() as i64 != input.quantity {
        return Err(Error::BadRequest(format!(
            "{} serials given for a quantity of {}: give one serial per returned item, or none",
            input.serials.len(),
            input.quantity
        )));
    }
    conn.transaction(|conn| {
        let row = store::get(conn, id)?;
        let state = book::state_of(&row.state)?;
        let (q, before) = (
            book::quantity(row.quantity)?,
            book::quantity(row.returned_quantity)?,
        );
        let returning = u32::try_from(input.quantity).unwrap_or(0);
        let scope = RefundScope::of(q, before, returning).ok_or_else(|| {
            Error::BadRequest(format!(
                "quantity {}: {} of {q} items can still be returned",
                input.quantity,
                q - before
            ))
        })?;
        let to = transition(state, OrderAction::Refund(scope)).map_err(refused)?;
        book_refund(conn, &row, before, returning, reason, actor)?;
        if !store::record_return(
            conn,
            id,
            state.as_str(),
            row.returned_quantity,
            input.quantity,
            to.as_str(),
        )? {
            return Err(changed_meanwhile(conn, id)?);
        }
        return_items(conn, &row, &input.serials, actor)?;
        store::add_events(
            conn,
            &[(
                id,
                Some(state.as_str()),
                to.as_str(),
                actor.user(),
                Some(reason),
            )],
            now(),
        )?;
        tracing::info!(
            order = id,
            returned = returning,
            state = to.as_str(),
            "order refunded"
        );
        store::get(conn, id)
    })
}

/// The refund row (its id keys the posting) and the posting itself.
fn book_refund(
    conn: &mut DbConnection,
    row: &OrderRow,
    before: u32,
    returning: u32,
    reason: &str,
    actor: Actor,
) -> Result<()> {
    // Whether the completion posting moved the money out of frozen and payables already: the
    // state alone cannot say, since a refund after completion leaves it partially refunded.
    let completed =
        ledger_store::posting_exists(conn, &postings::keys::complete(book::order_id(row.id)))?;
    let refund_id = store::insert_refund(
        conn,
        row.id,
        i64::from(returning),
        i64::from(before),
        completed,
        reason,
        actor.user(),
        now(),
    )?;
    let legs = store::legs_of(conn, &[row.id])?;
    let b = booked(row, &legs)?;
    let posting = postings::refund(&b, refund_id.unsigned_abs(), before, returning, completed)
        .map_err(refused)?;
    if let Some(p) = posting {
        ledger::book_order(conn, row, &[p])?;
    }
    Ok(())
}

/// Returned items go back from the buyer to whoever shipped them.
fn return_items(
    conn: &mut DbConnection,
    row: &OrderRow,
    serials: &[String],
    actor: Actor,
) -> Result<()> {
    if serials.is_empty() {
        return Ok(());
    }
    let shipper = book::shipper(row)?
        .ok_or_else(|| Error::Internal(format!("order {} has no shipper", row.id)))?;
    let on_order = stock::shipped_serials(conn, row.id)?;
    let at = now();
    let note = format!("refund of order {}", row.id);
    for given in serials {
        let serial = given.trim().to_uppercase();
        if !on_order.contains(&serial) {
            return Err(Error::BadRequest(format!(
                "item {given} was not shipped against order {}, or was returned already",
                row.id
            )));
        }
        let buyer = ("agent", Some(row.buyer_id));
        if !stock::move_item(
            conn,
            &serial,
            buyer,
            party_columns(shipper),
            "return",
            actor.user(),
            &note,
            at,
        )? {
            return Err(Error::Conflict(format!(
                "item {serial} is not in the buyer's custody: it cannot be returned from there"
            )));
        }
        stock::mark_returned(conn, row.id, &serial, at)?;
    }
    Ok(())
}

/// Cancelling a paid restock before shipping: everything booked is reversed to the buyer's
/// wallet with a full refund posting, and the order is cancelled.
pub fn cancel_paid(
    conn: &mut DbConnection,
    row: &OrderRow,
    actor: Actor,
    reason: &str,
) -> Result<OrderRow> {
    let to = transition(book::state_of(&row.state)?, OrderAction::Cancel).map_err(refused)?;
    let q = book::quantity(row.quantity)?;
    book_refund(conn, row, 0, q, reason, actor)?;
    if !store::record_return(conn, row.id, "paid", 0, row.quantity, to.as_str())? {
        return Err(changed_meanwhile(conn, row.id)?);
    }
    store::add_events(
        conn,
        &[(
            row.id,
            Some("paid"),
            to.as_str(),
            actor.user(),
            Some(reason),
        )],
        now(),
    )?;
    store::get(conn, row.id)
}
