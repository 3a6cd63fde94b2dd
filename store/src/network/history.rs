//! Historical orders brought in from a brand's previous system (issue 23). They are stored as
//! ordinary completed, offline-paid restock orders (so the level engine's windows, order lists
//! and team sales read them like any other) and marked in `imported_orders`, because their money
//! settled in the old system: nothing may book on them here.
//!
//! Kept behind this one function so a change of the order's shape (carts of several lines,
//! issue 19) changes only this file.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::earnings::PaidVia;
use crate::domain::network::{OrderKind, OrderState, PartyKind};
use crate::typed::Stored;

use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{imported_orders, order_lines, restock_orders};

/// One historical order: bought by `buyer_id` from `seller_id` (`None`: HQ), paid, shipped,
/// received and completed at `paid_at`.
#[derive(Debug, Clone)]
pub struct HistoricalOrder {
    pub buyer_id: i64,
    pub seller_id: Option<i64>,
    pub tier_rank: i32,
    pub product_id: i64,
    pub quantity: i64,
    pub goods_amount_cents: i64,
    pub policy_version: i64,
    pub paid_at: NaiveDateTime,
    /// The old system's order number (unique within one import).
    pub source_no: String,
}

/// Inserts the orders and marks each as imported by `import_id`; returns how many.
pub fn insert_historical(
    conn: &mut DbConnection,
    import_id: i64,
    orders: &[HistoricalOrder],
) -> Result<usize> {
    for chunk in orders.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|o| {
                let seller_kind = Stored(if o.seller_id.is_some() {
                    PartyKind::Agent
                } else {
                    PartyKind::Hq
                });
                (
                    (
                        restock_orders::kind.eq(Stored(OrderKind::Restock)),
                        restock_orders::buyer_id.eq(o.buyer_id),
                        restock_orders::tier_rank.eq(o.tier_rank),
                        restock_orders::seller_kind.eq(seller_kind),
                        restock_orders::seller_id.eq(o.seller_id),
                        restock_orders::quantity.eq(o.quantity),
                        restock_orders::goods_amount_cents.eq(o.goods_amount_cents),
                        restock_orders::policy_version.eq(o.policy_version),
                        restock_orders::receive_days.eq(0),
                    ),
                    (
                        restock_orders::state.eq(Stored(OrderState::Completed)),
                        restock_orders::shipper_kind.eq(Some(seller_kind)),
                        restock_orders::shipper_id.eq(o.seller_id),
                        restock_orders::shipper_amount_cents.eq(Some(o.goods_amount_cents)),
                        restock_orders::paid_via.eq(Some(Stored(PaidVia::Offline))),
                        restock_orders::return_days.eq(Some(0)),
                        restock_orders::shipped_quantity.eq(o.quantity),
                        restock_orders::created_at.eq(o.paid_at),
                        restock_orders::paid_at.eq(Some(o.paid_at)),
                        restock_orders::shipped_at.eq(Some(o.paid_at)),
                        restock_orders::received_at.eq(Some(o.paid_at)),
                    ),
                )
            })
            .collect();
        let insert = diesel::insert_into(restock_orders::table)
            .values(rows)
            .returning((
                restock_orders::id,
                restock_orders::buyer_id,
                restock_orders::quantity,
                restock_orders::goods_amount_cents,
                restock_orders::created_at,
            ));
        let made: Vec<(i64, i64, i64, i64, NaiveDateTime)> =
            per_backend!(conn, |c| insert.get_results(c))?;
        // RETURNING's row order is not promised: match rows back by their values. Orders alike
        // in every value are interchangeable, so any match is right: the line's product and the
        // old number below both come from the order that took the id.
        let mut by_values: HashMap<(i64, i64, i64, NaiveDateTime), Vec<i64>> = HashMap::new();
        for (id, buyer, quantity, goods, at) in made {
            by_values
                .entry((buyer, quantity, goods, at))
                .or_default()
                .push(id);
        }
        let mut marks = Vec::with_capacity(chunk.len());
        let mut lines = Vec::with_capacity(chunk.len());
        for o in chunk {
            let key = (o.buyer_id, o.quantity, o.goods_amount_cents, o.paid_at);
            let id = by_values.get_mut(&key).and_then(Vec::pop).ok_or_else(|| {
                crate::error::Error::Internal("an inserted historical order went missing".into())
            })?;
            // One line per historical order, at the unit price its goods amount works out to
            // (to the cent, half away from zero), shipped whole and settled.
            let unit = (o.goods_amount_cents * 2 + o.quantity) / (o.quantity * 2);
            lines.push((
                order_lines::order_id.eq(id),
                order_lines::position.eq(0),
                order_lines::product_id.eq(o.product_id),
                order_lines::quantity.eq(o.quantity),
                order_lines::unit_price_cents.eq(unit),
                order_lines::goods_amount_cents.eq(o.goods_amount_cents),
                order_lines::supplier_chain.eq(""),
                order_lines::shipped_quantity.eq(o.quantity),
                order_lines::shipper_amount_cents.eq(Some(o.goods_amount_cents)),
            ));
            marks.push((
                imported_orders::order_id.eq(id),
                imported_orders::import_id.eq(import_id),
                imported_orders::source_no.eq(o.source_no.clone()),
            ));
        }
        let insert = diesel::insert_into(order_lines::table).values(lines);
        per_backend!(conn, |c| insert.execute(c))?;
        let insert = diesel::insert_into(imported_orders::table).values(marks);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(orders.len())
}

/// Whether an order came from a previous system (nothing books on it here).
pub fn is_imported(conn: &mut DbConnection, order_id: i64) -> Result<bool> {
    let n: i64 = imported_orders::table
        .filter(imported_orders::order_id.eq(order_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
