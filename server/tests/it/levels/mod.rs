//! The level engine on the real store, SQLite and PostgreSQL: the window sums against the pure
//! reference, an assessment's changes (tier, supplier, reasons) and its idempotence, policy
//! activation with re-levelling or quotas, what-if, activity, applications for a level with
//! their approval, and the API's checks.

mod api;
mod application_api;
mod application_pages;
mod applications;
mod assess;
pub(crate) mod pages;
mod sums;

use chainmark_server::domain::network::{OrderKind, OrderState, PartyKind};
use chainmark_server::network::Actor;
use chainmark_server::store::levels::policies;
use chainmark_server::store::network::orders::{self as orders_store, NewOrder};
use chainmark_server::store::schema::{products, restock_orders};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;
use chrono::{Days, NaiveDate};
use diesel::prelude::*;

use crate::network::{Net, SKU};

/// Today (UTC), the last day an assessment may look at.
pub fn today() -> NaiveDate {
    now().date()
}

pub fn days_ago(n: u64) -> NaiveDate {
    today() - Days::new(n)
}

/// An order of `buyer` paid `ago` days before today at noon, for `cents`, left in `state`.
pub fn paid_order(net: &Net, buyer: i64, ago: u64, cents: i64, state: &str) -> i64 {
    let mut conn = net.conn();
    let product: i64 = products::table
        .filter(products::sku.eq(SKU))
        .select(products::id)
        .first(&mut conn)
        .expect("product");
    let at = days_ago(ago).and_hms_opt(12, 0, 0).expect("noon");
    let (row, _) = orders_store::insert(
        &mut conn,
        &NewOrder {
            kind: Stored(OrderKind::Restock),
            buyer_id: buyer,
            tier_rank: 5,
            seller_kind: Stored(PartyKind::Hq),
            seller_id: None,
            quantity: 1,
            goods_amount_cents: cents,
            policy_version: 1,
            receive_days: 10,
            state: Stored(OrderState::parse(state).expect("an order state")),
            created_at: at,
            upgrade_allowance_cents: None,
        },
        &[orders_store::NewLine {
            position: 0,
            product_id: product,
            quantity: 1,
            unit_price_cents: cents,
            goods_amount_cents: cents,
            upgrade_allowance_cents: None,
            supplier_chain: String::new(),
        }],
    )
    .expect("order");
    diesel::update(restock_orders::table.filter(restock_orders::id.eq(row.id)))
        .set(restock_orders::paid_at.eq(Some(at)))
        .execute(&mut conn)
        .expect("paid_at");
    row.id
}

/// Makes `document` the active level policy without applying its `on_change` (a fixture).
pub fn install(net: &Net, document: &str) {
    let mut conn = net.conn();
    chainmark_server::levels::policy::validate(&mut conn, document).expect("valid document");
    let version = policies::list(&mut conn).expect("list").len() as i64 + 1;
    let doc = document.replacen("version = 1", &format!("version = {version}"), 1);
    policies::insert_draft(&mut conn, version, "fixture", &doc, None).expect("draft");
    conn.transaction(|c| policies::activate(c, version, None))
        .expect("activate");
}

pub fn admin(net: &Net) -> Actor {
    net.admin
}
