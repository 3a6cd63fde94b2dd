//! Retail (issue 20): an agent's end customers, the O2O orders consumers place with it, and its
//! retail sales with their items. The rules are `chainmark_domain::retail`; the custody moves of
//! a sale are `custody`'s.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::custody::CustodianKind;
use crate::domain::network::AgentStatus;
use crate::domain::retail::{Customer, CustomerSource, RetailOrderState};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{
    agents, batches, custody_events, end_customers, items, products, retail_orders,
    retail_sale_items, retail_sales,
};
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable)]
pub struct CustomerRow {
    pub id: i64,
    pub agent_id: i64,
    pub name: String,
    pub phone: String,
    pub source: CustomerSource,
    pub created_at: NaiveDateTime,
    pub last_purchase_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable)]
pub struct RetailOrderRow {
    pub id: i64,
    pub agent_id: i64,
    pub customer_id: i64,
    pub product_id: i64,
    pub quantity: i32,
    pub note: Option<String>,
    pub from_serial: Option<String>,
    pub state: RetailOrderState,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<i64>,
}

#[derive(Debug, Clone, Queryable)]
pub struct SaleRow {
    pub id: i64,
    pub agent_id: i64,
    pub customer_id: Option<i64>,
    pub retail_order_id: Option<i64>,
    pub item_count: i32,
    pub sold_by: Option<i64>,
    pub sold_at: NaiveDateTime,
}

/// One line of a receipt: a product and how many of it, with the serials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub product: String,
    pub product_en: Option<String>,
    pub serials: Vec<String>,
}

/// Finds the agent's member with this phone, or adds one; a later name replaces the earlier.
/// Answers the member's id. One statement, so two sales to a new phone at once make one member.
pub fn upsert_customer(
    conn: &mut DbConnection,
    agent: i64,
    customer: &Customer,
    source: CustomerSource,
    at: NaiveDateTime,
) -> Result<i64> {
    let upsert = diesel::insert_into(end_customers::table)
        .values((
            end_customers::agent_id.eq(agent),
            end_customers::name.eq(&customer.name),
            end_customers::phone.eq(&customer.phone),
            end_customers::source.eq(Stored(source)),
            end_customers::created_at.eq(at),
        ))
        .on_conflict((end_customers::agent_id, end_customers::phone))
        .do_update()
        .set(end_customers::name.eq(&customer.name))
        .returning(end_customers::id);
    Ok(per_backend!(conn, |c| upsert.get_result(c))?)
}

pub fn customer(conn: &mut DbConnection, id: i64) -> Result<Option<CustomerRow>> {
    Ok(end_customers::table.find(id).first(conn).optional()?)
}

/// Some customers by id, in one query (a page of orders and sales names each one once).
pub fn customers_by_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<CustomerRow>> {
    Ok(end_customers::table
        .filter(end_customers::id.eq_any(ids))
        .load(conn)?)
}

/// A page of the agent's members, newest first, matching `search` (name or phone) when given;
/// each with how many purchases it made.
pub fn customers(
    conn: &mut DbConnection,
    agent: i64,
    search: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(CustomerRow, i64)>> {
    let mut q = end_customers::table
        .filter(end_customers::agent_id.eq(agent))
        .into_boxed();
    if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", s.replace(['%', '_'], ""));
        q = q.filter(
            end_customers::name
                .like(like.clone())
                .or(end_customers::phone.like(like)),
        );
    }
    if let Some(b) = before {
        q = q.filter(end_customers::id.lt(b));
    }
    let rows: Vec<CustomerRow> = q.order(end_customers::id.desc()).limit(limit).load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts: Vec<(Option<i64>, i64)> = retail_sales::table
        .filter(retail_sales::customer_id.eq_any(&ids))
        .group_by(retail_sales::customer_id)
        .select((retail_sales::customer_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = counts
                .iter()
                .find(|(c, _)| *c == Some(r.id))
                .map_or(0, |(_, n)| *n);
            (r, n)
        })
        .collect())
}

pub struct NewSale {
    pub agent_id: i64,
    pub customer_id: Option<i64>,
    pub retail_order_id: Option<i64>,
    pub serials: Vec<String>,
    pub sold_by: Option<i64>,
}

/// Records a sale and its items (the items' custody was moved by the caller, in the same
/// transaction). An item already sold at retail fails on the key: the transaction rolls back.
pub fn insert_sale(conn: &mut DbConnection, sale: &NewSale, at: NaiveDateTime) -> Result<i64> {
    let id: i64 = diesel::insert_into(retail_sales::table)
        .values((
            retail_sales::agent_id.eq(sale.agent_id),
            retail_sales::customer_id.eq(sale.customer_id),
            retail_sales::retail_order_id.eq(sale.retail_order_id),
            retail_sales::item_count.eq(i32::try_from(sale.serials.len()).unwrap_or(i32::MAX)),
            retail_sales::sold_by.eq(sale.sold_by),
            retail_sales::sold_at.eq(at),
        ))
        .returning(retail_sales::id)
        .get_result(conn)?;
    for chunk in sale.serials.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|s| {
                (
                    retail_sale_items::serial.eq(s),
                    retail_sale_items::sale_id.eq(id),
                )
            })
            .collect();
        let insert = diesel::insert_into(retail_sale_items::table).values(rows);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    if let Some(c) = sale.customer_id {
        diesel::update(end_customers::table.find(c))
            .set(end_customers::last_purchase_at.eq(Some(at)))
            .execute(conn)?;
    }
    Ok(id)
}

pub fn sale(conn: &mut DbConnection, id: i64) -> Result<Option<SaleRow>> {
    Ok(retail_sales::table.find(id).first(conn).optional()?)
}

/// The agent's sales, newest first (of one customer when given).
pub fn sales(
    conn: &mut DbConnection,
    agent: i64,
    customer: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SaleRow>> {
    let mut q = retail_sales::table
        .filter(retail_sales::agent_id.eq(agent))
        .into_boxed();
    if let Some(c) = customer {
        q = q.filter(retail_sales::customer_id.eq(c));
    }
    if let Some(b) = before {
        q = q.filter(retail_sales::id.lt(b));
    }
    Ok(q.order(retail_sales::id.desc()).limit(limit).load(conn)?)
}

/// A sale's items by product, for its receipt.
pub fn receipt_lines(conn: &mut DbConnection, sale: i64) -> Result<Vec<ReceiptLine>> {
    let rows: Vec<(String, String, Option<String>)> = retail_sale_items::table
        .inner_join(items::table.inner_join(batches::table.inner_join(products::table)))
        .filter(retail_sale_items::sale_id.eq(sale))
        .order((products::id.asc(), retail_sale_items::serial.asc()))
        .select((retail_sale_items::serial, products::name, products::name_en))
        .load(conn)?;
    let mut out: Vec<ReceiptLine> = Vec::new();
    for (serial, name, name_en) in rows {
        match out.last_mut() {
            Some(l) if l.product == name => l.serials.push(serial),
            _ => out.push(ReceiptLine {
                product: name,
                product_en: name_en,
                serials: vec![serial],
            }),
        }
    }
    Ok(out)
}

pub struct NewRetailOrder<'a> {
    pub agent_id: i64,
    pub customer_id: i64,
    pub product_id: i64,
    pub quantity: u32,
    pub note: Option<&'a str>,
    pub from_serial: Option<&'a str>,
}

pub fn place_order(
    conn: &mut DbConnection,
    order: &NewRetailOrder<'_>,
    at: NaiveDateTime,
) -> Result<i64> {
    Ok(diesel::insert_into(retail_orders::table)
        .values((
            retail_orders::agent_id.eq(order.agent_id),
            retail_orders::customer_id.eq(order.customer_id),
            retail_orders::product_id.eq(order.product_id),
            retail_orders::quantity.eq(i32::try_from(order.quantity).unwrap_or(i32::MAX)),
            retail_orders::note.eq(order.note),
            retail_orders::from_serial.eq(order.from_serial),
            retail_orders::state.eq(Stored(RetailOrderState::Open)),
            retail_orders::created_at.eq(at),
        ))
        .returning(retail_orders::id)
        .get_result(conn)?)
}

pub fn retail_order(conn: &mut DbConnection, id: i64) -> Result<Option<RetailOrderRow>> {
    Ok(retail_orders::table.find(id).first(conn).optional()?)
}

/// The agent's O2O orders in `state`, newest first.
pub fn retail_orders(
    conn: &mut DbConnection,
    agent: i64,
    state: Option<RetailOrderState>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<RetailOrderRow>> {
    let mut q = retail_orders::table
        .filter(retail_orders::agent_id.eq(agent))
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(retail_orders::state.eq(Stored(s)));
    }
    if let Some(b) = before {
        q = q.filter(retail_orders::id.lt(b));
    }
    Ok(q.order(retail_orders::id.desc()).limit(limit).load(conn)?)
}

/// Closes an open order (fulfilled or cancelled): true if this call closed it.
pub fn close_order(
    conn: &mut DbConnection,
    id: i64,
    to: RetailOrderState,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<bool> {
    Ok(diesel::update(
        retail_orders::table
            .find(id)
            .filter(retail_orders::state.eq(Stored(RetailOrderState::Open))),
    )
    .set((
        retail_orders::state.eq(Stored(to)),
        retail_orders::closed_at.eq(Some(at)),
        retail_orders::closed_by.eq(by),
    ))
    .execute(conn)?
        == 1)
}

/// The agent that sold `serial` to a consumer: by a retail sale, or by a handheld's sell scan
/// (the item's last move to "sold" from an agent). `None`: sold by HQ, or not sold.
pub fn seller_of(conn: &mut DbConnection, serial: &str) -> Result<Option<i64>> {
    let by_sale: Option<i64> = retail_sale_items::table
        .inner_join(retail_sales::table)
        .filter(retail_sale_items::serial.eq(serial))
        .select(retail_sales::agent_id)
        .first(conn)
        .optional()?;
    if by_sale.is_some() {
        return Ok(by_sale);
    }
    let last: Option<(Option<CustodianKind>, Option<i64>)> = custody_events::table
        .filter(custody_events::serial.eq(serial))
        .filter(custody_events::to_kind.eq(Stored(CustodianKind::Sold)))
        .order(custody_events::id.desc())
        .select((custody_events::from_kind, custody_events::from_id))
        .first(conn)
        .optional()?;
    Ok(match last {
        Some((Some(CustodianKind::Agent), Some(id))) => Some(id),
        _ => None,
    })
}

/// The active agent authorised for `region` (GB/T 2260): one of that county, else of its city,
/// else of its province; the one nearest the consumer (the highest tier rank) first, then the
/// longest-standing.
pub fn agent_for_region(conn: &mut DbConnection, region: &str) -> Result<Option<i64>> {
    let code = region.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let city = format!("{}%", &code[..4]);
    let province = format!("{}%", &code[..2]);
    let active = || {
        agents::table
            .filter(agents::status.eq(Stored(AgentStatus::Active)))
            .order((agents::tier_rank.desc(), agents::id.asc()))
            .select(agents::id)
    };
    if let Some(a) = active()
        .filter(agents::region.eq(code))
        .first(conn)
        .optional()?
    {
        return Ok(Some(a));
    }
    if let Some(a) = active()
        .filter(agents::region.like(city))
        .first(conn)
        .optional()?
    {
        return Ok(Some(a));
    }
    Ok(active()
        .filter(agents::region.like(province))
        .first(conn)
        .optional()?)
}

/// The product of an item.
pub fn product_of_item(conn: &mut DbConnection, serial: &str) -> Result<Option<i64>> {
    Ok(items::table
        .inner_join(batches::table)
        .filter(items::serial.eq(serial))
        .select(batches::product_id)
        .first(conn)
        .optional()?)
}
