//! What the warehouse page shows: orders waiting to ship or shipping, with their progress.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::{OrderState, PartyKind};
use crate::typed::Stored;

use super::DbConnection;
use super::schema::{agents, order_lines, products, restock_orders};
use crate::error::Result;

#[derive(Debug, Clone, Queryable)]
pub struct Shipment {
    pub order_id: i64,
    pub state: OrderState,
    pub buyer: String,
    pub sku: String,
    pub quantity: i64,
    pub shipped_quantity: i64,
    pub shipper_kind: Option<PartyKind>,
    pub shipper_id: Option<i64>,
    pub paid_at: Option<NaiveDateTime>,
}

/// The lines of paid orders not fully shipped yet, oldest payment first (what to pack next): one
/// row per line, so each product's count shows against what was ordered of it.
pub fn open_shipments(conn: &mut DbConnection, limit: i64) -> Result<Vec<Shipment>> {
    Ok(restock_orders::table
        .inner_join(agents::table.on(agents::id.eq(restock_orders::buyer_id)))
        .inner_join(order_lines::table.on(order_lines::order_id.eq(restock_orders::id)))
        .inner_join(products::table.on(products::id.eq(order_lines::product_id)))
        .filter(
            restock_orders::state.eq_any([Stored(OrderState::Paid), Stored(OrderState::Shipping)]),
        )
        .order((
            restock_orders::paid_at.asc(),
            restock_orders::id.asc(),
            order_lines::position.asc(),
        ))
        .limit(limit)
        .select((
            restock_orders::id,
            restock_orders::state,
            agents::name,
            products::sku,
            order_lines::quantity,
            order_lines::shipped_quantity,
            restock_orders::shipper_kind,
            restock_orders::shipper_id,
            restock_orders::paid_at,
        ))
        .load(conn)?)
}
