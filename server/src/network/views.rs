//! Orders as the API and the pages show them: one view model, [`OrderSummary`], with its lines
//! and their products, loaded for a whole page of orders in a fixed number of queries (orders,
//! lines, legs, the forwarded lines' legs, products) instead of several per order.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::error::Result;
use crate::store::DbConnection;
use crate::store::network::money;
use crate::store::network::orders::{self as store, FullOrder, LegRow, OrderRow};
use crate::store::products;

/// One line of an order as shown: the product, what was ordered at what price, and how far it
/// got (shipped, returned), with its booked money once paid.
#[derive(Debug, Clone, PartialEq)]
pub struct LineView {
    pub position: i32,
    pub product_id: i64,
    pub sku: String,
    pub product_name: String,
    pub product_name_en: Option<String>,
    pub quantity: i64,
    pub unit_price: Decimal,
    pub goods_amount: Decimal,
    pub upgrade_allowance: Option<Decimal>,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
    pub shipper_amount: Option<Decimal>,
    pub rebate: Option<Decimal>,
    pub award: Option<Decimal>,
    /// 差价 earned on this line by each forwarding agent: (agent, amount), nearest the buyer
    /// first.
    pub margins: Vec<(i64, Decimal)>,
    /// Each forwarding leg's buyer's price for this product, by leg position (empty when the
    /// order was not forwarded).
    pub leg_prices: Vec<Decimal>,
}

/// An order with its lines, as the API and the pages show it.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub order: OrderRow,
    pub lines: Vec<LineView>,
    /// The forwarding legs (empty when it was not forwarded), amounts summed over the lines.
    pub legs: Vec<LegRow>,
    /// When each leg's offline payment was confirmed, by position (`leg_payments`): empty for
    /// orders paid through the platform, whose legs settle in the ledger.
    pub leg_paid: Vec<(i32, chrono::NaiveDateTime)>,
}

impl OrderSummary {
    /// When the payment of leg `position` was confirmed, if it was.
    pub fn leg_paid_at(&self, position: i32) -> Option<chrono::NaiveDateTime> {
        self.leg_paid
            .iter()
            .find(|(p, _)| *p == position)
            .map(|(_, at)| *at)
    }
}

/// The view of each order of `rows`, in the same order.
pub fn summaries(conn: &mut DbConnection, rows: Vec<OrderRow>) -> Result<Vec<OrderSummary>> {
    let full = store::full(conn, rows)?;
    let mut ids: Vec<i64> = full
        .iter()
        .flat_map(|o| o.lines.iter().map(|l| l.product_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let products: HashMap<i64, products::Product> = products::by_ids(conn, &ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let forwarded: Vec<i64> = full
        .iter()
        .filter(|o| !o.legs.is_empty())
        .map(|o| o.row.id)
        .collect();
    let mut paid: HashMap<i64, Vec<(i32, chrono::NaiveDateTime)>> = HashMap::new();
    for p in crate::store::agent_pages::leg_payments_of(conn, &forwarded)? {
        paid.entry(p.order_id)
            .or_default()
            .push((p.position, p.paid_at));
    }
    Ok(full
        .into_iter()
        .map(|o| {
            let leg_paid = paid.remove(&o.row.id).unwrap_or_default();
            summary(o, &products, leg_paid)
        })
        .collect())
}

/// One order's view.
pub fn summary_of(conn: &mut DbConnection, row: OrderRow) -> Result<OrderSummary> {
    let mut out = summaries(conn, vec![row])?;
    out.pop()
        .ok_or_else(|| crate::error::Error::not_found("order"))
}

fn summary(
    o: FullOrder,
    products: &HashMap<i64, products::Product>,
    leg_paid: Vec<(i32, chrono::NaiveDateTime)>,
) -> OrderSummary {
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let p = products.get(&l.product_id);
            let margins = o
                .legs
                .iter()
                .filter_map(|g| {
                    let mine = o
                        .line_legs
                        .iter()
                        .find(|x| x.line_id == l.id && x.position == g.position)?;
                    Some((g.buyer_id, money(mine.margin_cents?)))
                })
                .collect();
            let leg_prices = o
                .line_legs
                .iter()
                .filter(|x| x.line_id == l.id)
                .map(|x| money(x.unit_price_cents))
                .collect();
            LineView {
                position: l.position,
                product_id: l.product_id,
                sku: p.map_or_else(String::new, |p| p.sku.clone()),
                product_name: p.map_or_else(String::new, |p| p.name.clone()),
                product_name_en: p.and_then(|p| p.name_en.clone()),
                quantity: l.quantity,
                unit_price: money(l.unit_price_cents),
                goods_amount: money(l.goods_amount_cents),
                upgrade_allowance: l.upgrade_allowance_cents.map(money),
                shipped_quantity: l.shipped_quantity,
                returned_quantity: l.returned_quantity,
                shipper_amount: l.shipper_amount_cents.map(money),
                rebate: l.rebate_cents.map(money),
                award: l.award_cents.map(money),
                margins,
                leg_prices,
            }
        })
        .collect();
    OrderSummary {
        order: o.row,
        lines,
        legs: o.legs,
        leg_paid,
    }
}
