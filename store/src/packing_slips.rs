//! What a packing slip (货单) prints of an order: the buyer, its lines with the products' names,
//! the waybill if one was recorded, and the case codes of the items shipped on it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    agents, items, order_items, order_lines, order_waybills, products, restock_orders,
};
use crate::domain::network::OrderState;
use crate::error::Result;

/// The order's head.
#[derive(Debug, Clone, Queryable)]
pub struct SlipOrder {
    pub id: i64,
    pub state: OrderState,
    pub buyer: String,
    pub buyer_region: String,
    pub created_at: NaiveDateTime,
    pub shipped_at: Option<NaiveDateTime>,
}

/// One line: the product in both languages, ordered and shipped quantities.
#[derive(Debug, Clone, Queryable)]
pub struct SlipLine {
    pub sku: String,
    pub name: String,
    pub name_en: Option<String>,
    pub quantity: i64,
    pub shipped_quantity: i64,
}

/// Everything on the slip; `None` when there is no such order.
#[derive(Debug, Clone)]
pub struct SlipData {
    pub order: SlipOrder,
    pub lines: Vec<SlipLine>,
    /// `(carrier, waybill)` when recorded.
    pub waybill: Option<(String, String)>,
    /// The case codes of the items shipped on the order, each once, in order.
    pub cases: Vec<String>,
    /// Items shipped that belong to no case.
    pub loose_items: i64,
}

pub fn slip(conn: &mut DbConnection, order: i64) -> Result<Option<SlipData>> {
    let head: Option<SlipOrder> = restock_orders::table
        .inner_join(agents::table.on(agents::id.eq(restock_orders::buyer_id)))
        .filter(restock_orders::id.eq(order))
        .select((
            restock_orders::id,
            restock_orders::state,
            agents::name,
            agents::region,
            restock_orders::created_at,
            restock_orders::shipped_at,
        ))
        .first(conn)
        .optional()?;
    let Some(order_row) = head else {
        return Ok(None);
    };
    let lines = order_lines::table
        .inner_join(products::table.on(products::id.eq(order_lines::product_id)))
        .filter(order_lines::order_id.eq(order))
        .order(order_lines::position.asc())
        .select((
            products::sku,
            products::name,
            products::name_en,
            order_lines::quantity,
            order_lines::shipped_quantity,
        ))
        .load(conn)?;
    let waybill = order_waybills::table
        .filter(order_waybills::order_id.eq(order))
        .select((order_waybills::carrier, order_waybills::waybill))
        .first(conn)
        .optional()?;
    let shipped: Vec<(Option<String>, i64)> = order_items::table
        .inner_join(items::table.on(items::serial.eq(order_items::serial)))
        .filter(order_items::order_id.eq(order))
        .group_by(items::case_code)
        .select((items::case_code, diesel::dsl::count_star()))
        .order(items::case_code.asc())
        .load(conn)?;
    let mut cases = Vec::new();
    let mut loose_items = 0;
    for (case, n) in shipped {
        match case {
            Some(c) => cases.push(c),
            None => loose_items += n,
        }
    }
    Ok(Some(SlipData {
        order: order_row,
        lines,
        waybill,
        cases,
        loose_items,
    }))
}
