//! Refunds by returned quantity per line (DOMAIN §4–§5), decided by HQ on an after-sale case: the
//! buyer gets back the stored shares of the line's shipper money and margins, and the line's
//! rebate and award are clawed back in the same proportion — from frozen before completion, from
//! available after, which may go negative (never capped: no money is lost). Exactly the line's
//! stored amounts, never a fresh computation at today's rates.

use super::book::{self, booked};
use super::orders::changed_meanwhile;
use super::{Actor, HQ_MONEY, ledger, refused};
use crate::domain::custody::{Custodian, CustodyEventKind};
use crate::domain::network::order::{OrderAction, OrderState, RefundScope, transition};
use crate::domain::network::postings;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::ledger as ledger_store;
use crate::store::network::orders::{self as store, FullOrder, LineRow, OrderRow, Return};
use crate::store::network::{custodian_columns, stock};
use crate::store::products;
use crate::store::users::now;

/// A refund as HQ decides it.
#[derive(Debug, Clone, Default)]
pub struct RefundInput {
    /// The product whose items come back; may be left out when the order has one line.
    pub sku: Option<String>,
    /// Items of that line returned now.
    pub quantity: i64,
    /// The returned items' serials, when they are back in hand: they move from the buyer's
    /// custody back to the shipper's. Must number `quantity` when given.
    pub serials: Vec<String>,
    pub reason: String,
}

/// The line a refund is about: by SKU, or the only line.
fn line_of(conn: &mut DbConnection, o: &FullOrder, sku: Option<&str>) -> Result<usize> {
    match sku.map(str::trim).filter(|s| !s.is_empty()) {
        None if o.lines.len() == 1 => Ok(0),
        None => Err(Error::BadRequest(format!(
            "sku: order {} has {} lines: say which product's items are returned",
            o.row.id,
            o.lines.len()
        ))),
        Some(sku) => {
            let product = products::find_by_sku(conn, sku)?.map(|p| p.id);
            o.lines
                .iter()
                .position(|l| Some(l.product_id) == product)
                .ok_or_else(|| {
                    Error::BadRequest(format!("sku: product {sku:?} is not on order {}", o.row.id))
                })
        }
    }
}

/// Refunds `input.quantity` more returned items of one line of a received (or completed) order.
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
    crate::store::in_transaction(conn, |conn| {
        let o = store::get_full(conn, id)?;
        // A historical order's money settled in the brand's previous system: refunding it here
        // would pay out money that never came in (issue 23).
        if crate::store::network::history::is_imported(conn, id)? {
            return Err(Error::refuse(
                "order_imported",
                format!("order {id} was imported from the previous system: refund it there"),
            ));
        }
        let state = o.row.state;
        let index = line_of(conn, &o, input.sku.as_deref())?;
        let line = &o.lines[index];
        let (q, before) = (
            book::quantity(line.quantity)?,
            book::quantity(line.returned_quantity)?,
        );
        let returning = u32::try_from(input.quantity).unwrap_or(0);
        RefundScope::of(q, before, returning).ok_or_else(|| {
            Error::BadRequest(format!(
                "quantity {}: {} of the line's {q} items can still be returned",
                input.quantity,
                q - before
            ))
        })?;
        // The order is refunded when every line is; partly while any item is still held.
        let scope = if o.row.returned_quantity + i64::from(returning) >= o.row.quantity {
            RefundScope::Full
        } else {
            RefundScope::Partial
        };
        let to = transition(state, OrderAction::Refund(scope)).map_err(refused)?;
        book_refund(conn, &o, index, before, returning, reason, actor)?;
        let r = Return {
            from: state,
            to,
            order_before: o.row.returned_quantity,
            line: line.id,
            line_before: line.returned_quantity,
            quantity: input.quantity,
            amount_cents: input.quantity * line.unit_price_cents,
        };
        if !store::record_return(conn, id, r)? {
            return Err(changed_meanwhile(conn, id)?);
        }
        return_items(conn, &o.row, line, &input.serials, actor)?;
        store::add_events(
            conn,
            &[(id, Some(state), to, actor.user(), Some(reason))],
            now(),
        )?;
        tracing::info!(
            order = id,
            line = line.position,
            returned = returning,
            state = to.as_str(),
            "order refunded"
        );
        Ok(store::get(conn, id)?)
    })
}

/// The refund row (its id keys the posting) and the posting itself, for line `index`.
fn book_refund(
    conn: &mut DbConnection,
    o: &FullOrder,
    index: usize,
    before: u32,
    returning: u32,
    reason: &str,
    actor: Actor,
) -> Result<()> {
    let row = &o.row;
    // Whether the completion posting moved the money out of frozen and payables already: the
    // state alone cannot say, since a refund after completion leaves it partially refunded.
    let completed =
        ledger_store::posting_exists(conn, &postings::keys::complete(book::order_id(row.id)))?;
    let refund_id = store::insert_refund(
        conn,
        row.id,
        o.lines[index].id,
        i64::from(returning),
        // The order's count before, not the line's: unique per order, so of two concurrent
        // refunds of the same order one fails here whatever lines they are about.
        row.returned_quantity,
        completed,
        reason,
        actor.user(),
        now(),
    )?;
    let b = booked(o)?;
    let posting = postings::refund(
        &b,
        refund_id.unsigned_abs(),
        index,
        before,
        returning,
        completed,
    )
    .map_err(refused)?;
    if let Some(p) = posting {
        ledger::book_order(conn, row, &[p])?;
    }
    Ok(())
}

/// Returned items of the line go back from the buyer to whoever shipped them.
fn return_items(
    conn: &mut DbConnection,
    row: &OrderRow,
    line: &LineRow,
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
        let of_line = stock::item(conn, &serial)?.is_some_and(|i| i.product_id == line.product_id);
        if !on_order.contains(&serial) || !of_line {
            return Err(Error::BadRequest(format!(
                "item {given} was not shipped on this line of order {}, or was returned already",
                row.id
            )));
        }
        let buyer = Custodian::Agent(row.buyer_id).columns();
        if !stock::move_item(
            conn,
            &serial,
            buyer,
            custodian_columns(shipper),
            CustodyEventKind::Return,
            actor.user(),
            &note,
            at,
        )? {
            return Err(Error::refuse(
                "item_not_with_buyer",
                format!(
                    "item {serial} is not in the buyer's custody: it cannot be returned from there"
                ),
            ));
        }
        stock::mark_returned(conn, row.id, &serial, at)?;
    }
    Ok(())
}

/// Cancelling a paid restock before shipping: everything booked is reversed to the buyer's
/// wallet with a full refund posting per line, and the order is cancelled.
pub fn cancel_paid(
    conn: &mut DbConnection,
    id: i64,
    actor: Actor,
    reason: &str,
) -> Result<OrderRow> {
    let mut o = store::get_full(conn, id)?;
    let from = o.row.state;
    let to = transition(from, OrderAction::Cancel).map_err(refused)?;
    for index in 0..o.lines.len() {
        let line = o.lines[index].clone();
        let q = book::quantity(line.quantity)?;
        book_refund(conn, &o, index, 0, q, reason, actor)?;
        let last = index + 1 == o.lines.len();
        let r = Return {
            from,
            // The order stays paid until its last line is reversed.
            to: if last { to } else { OrderState::Paid },
            order_before: o.row.returned_quantity,
            line: line.id,
            line_before: 0,
            quantity: line.quantity,
            amount_cents: line.goods_amount_cents,
        };
        if !store::record_return(conn, id, r)? {
            return Err(changed_meanwhile(conn, id)?);
        }
        o.row.returned_quantity += line.quantity;
    }
    store::add_events(
        conn,
        &[(id, Some(from), to, actor.user(), Some(reason))],
        now(),
    )?;
    Ok(store::get(conn, id)?)
}
