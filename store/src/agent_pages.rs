//! What the agent's and applicant's pages read and write beyond the engine's own tables
//! (issue 17): an order's waybill, an applicant's own access, and the agent's order lists with
//! tabs, search and pagination (one query per page, on the indexed columns).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::earnings::PaidVia;
use crate::domain::network::{OrderState, PartyKind};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{
    agents, applicant_access, ledger_accounts, leg_payments, order_legs, order_lines,
    order_waybills, posting_lines, postings, products, restock_orders,
};
use crate::typed::Stored;

use super::network::orders::OrderRow;

#[derive(Debug, Clone, Queryable)]
pub struct WaybillRow {
    pub order_id: i64,
    pub carrier: String,
    pub waybill: String,
    pub recorded_by: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

/// Records (or corrects) the courier and waybill number of an order.
pub fn set_waybill(
    conn: &mut DbConnection,
    order: i64,
    carrier: &str,
    waybill: &str,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<()> {
    // One statement, so two instances recording the same order's waybill at once cannot both
    // find no row and insert (the second would fail on the key).
    let upsert = diesel::insert_into(order_waybills::table)
        .values((
            order_waybills::order_id.eq(order),
            order_waybills::carrier.eq(carrier),
            order_waybills::waybill.eq(waybill),
            order_waybills::recorded_by.eq(by),
            order_waybills::recorded_at.eq(at),
        ))
        .on_conflict(order_waybills::order_id)
        .do_update()
        .set((
            order_waybills::carrier.eq(carrier),
            order_waybills::waybill.eq(waybill),
            order_waybills::recorded_by.eq(by),
            order_waybills::recorded_at.eq(at),
            // A new waybill is a new parcel to ask the courier about.
            order_waybills::tracked_at.eq(None::<NaiveDateTime>),
        ));
    per_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}

pub fn waybill(conn: &mut DbConnection, order: i64) -> Result<Option<WaybillRow>> {
    Ok(order_waybills::table
        .find(order)
        .select((
            order_waybills::order_id,
            order_waybills::carrier,
            order_waybills::waybill,
            order_waybills::recorded_by,
            order_waybills::recorded_at,
        ))
        .load(conn)?
        .pop())
}

/// Keeps an applicant's status-link secret (its hash) and chosen password (its hash).
pub fn insert_access(
    conn: &mut DbConnection,
    application: i64,
    token_hash: &str,
    password_hash: &str,
) -> Result<()> {
    diesel::insert_into(applicant_access::table)
        .values((
            applicant_access::application_id.eq(application),
            applicant_access::token_hash.eq(token_hash),
            applicant_access::password_hash.eq(password_hash),
        ))
        .execute(conn)?;
    Ok(())
}

/// The application a status-link secret (hashed) belongs to.
pub fn application_by_token(conn: &mut DbConnection, token_hash: &str) -> Result<Option<i64>> {
    Ok(applicant_access::table
        .filter(applicant_access::token_hash.eq(token_hash))
        .select(applicant_access::application_id)
        .load(conn)?
        .pop())
}

/// The password hash the applicant chose, if it chose one.
pub fn chosen_password(conn: &mut DbConnection, application: i64) -> Result<Option<String>> {
    Ok(applicant_access::table
        .find(application)
        .select(applicant_access::password_hash)
        .load(conn)?
        .pop())
}

/// The tabs of the agent's order list (待付款 / 待发货 / 待收货 / 已完成 / 售后), each a set of
/// states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    All,
    ToPay,
    ToShip,
    ToReceive,
    Done,
    AfterSale,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::All,
        Tab::ToPay,
        Tab::ToShip,
        Tab::ToReceive,
        Tab::Done,
        Tab::AfterSale,
    ];

    pub fn param(self) -> &'static str {
        match self {
            Tab::All => "all",
            Tab::ToPay => "pay",
            Tab::ToShip => "ship",
            Tab::ToReceive => "receive",
            Tab::Done => "done",
            Tab::AfterSale => "aftersale",
        }
    }

    pub fn parse(s: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.param()) == s)
            .unwrap_or(Tab::All)
    }

    /// The states the tab shows; `None`: all.
    pub fn states(self) -> Option<&'static [OrderState]> {
        use OrderState as S;
        match self {
            Tab::All => None,
            Tab::ToPay => Some(&[S::Submitted, S::Accepted, S::Forwarded]),
            Tab::ToShip => Some(&[S::Paid, S::Shipping]),
            Tab::ToReceive => Some(&[S::Shipped]),
            Tab::Done => Some(&[S::Received, S::Completed]),
            Tab::AfterSale => Some(&[S::PartiallyRefunded, S::Refunded, S::Rejected, S::Cancelled]),
        }
    }
}

/// The orders an agent is a party of (buyer, seller, shipper or a forwarding leg's seller) in
/// `tab`, matching `search` (an order number, or part of the buyer's name or the product's name
/// or SKU), newest first, ids below `before` (0: from the newest), at most `limit`.
pub fn orders_of(
    conn: &mut DbConnection,
    agent: i64,
    tab: Tab,
    search: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    let legs = order_legs::table
        .filter(order_legs::seller_id.eq(agent))
        .select(order_legs::order_id);
    let mut q = restock_orders::table
        .filter(
            restock_orders::buyer_id
                .eq(agent)
                .or(restock_orders::seller_id.eq(agent))
                .or(restock_orders::shipper_id.eq(agent))
                .or(restock_orders::id.eq_any(legs)),
        )
        .order(restock_orders::id.desc())
        .limit(limit)
        .select(OrderRow::as_select())
        .into_boxed();
    if before > 0 {
        q = q.filter(restock_orders::id.lt(before));
    }
    if let Some(states) = tab.states() {
        q = q.filter(restock_orders::state.eq_any(states.iter().copied().map(Stored)));
    }
    if tab == Tab::AfterSale {
        q = q.or_filter(restock_orders::open_case.eq(true));
    }
    let search = search.trim();
    if !search.is_empty() {
        let number = search.trim_start_matches('#').parse::<i64>().ok();
        let pattern = format!("%{}%", search.replace(['%', '_'], ""));
        let buyers = agents::table
            .filter(agents::name.like(pattern.clone()))
            .select(agents::id);
        let goods = products::table
            .filter(
                products::name
                    .like(pattern.clone())
                    .or(products::sku.like(pattern)),
            )
            .select(products::id);
        q = match number {
            Some(n) => q.filter(restock_orders::id.eq(n)),
            None => q.filter(
                restock_orders::buyer_id
                    .eq_any(buyers)
                    .or(restock_orders::id.eq_any(
                        order_lines::table
                            .filter(order_lines::product_id.eq_any(goods))
                            .select(order_lines::order_id),
                    )),
            ),
        };
    }
    Ok(q.load(conn)?)
}

/// The states in which a paid order's forwarding legs are due: paid and not undone since.
pub const LEGS_DUE_IN: [OrderState; 5] = [
    OrderState::Paid,
    OrderState::Shipping,
    OrderState::Shipped,
    OrderState::Received,
    OrderState::Completed,
];

/// One forwarding leg's confirmed offline payment.
#[derive(Debug, Clone, Queryable)]
pub struct LegPaymentRow {
    pub order_id: i64,
    pub position: i32,
    pub confirmed_by: Option<i64>,
    pub paid_at: NaiveDateTime,
}

/// Records that the seller of leg `position` of `order` received its payment. `false` when it
/// was already recorded (a second confirmation, also a concurrent one, changes nothing).
pub fn record_leg_payment(
    conn: &mut DbConnection,
    order: i64,
    position: i32,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<bool> {
    let insert = diesel::insert_into(leg_payments::table)
        .values((
            leg_payments::order_id.eq(order),
            leg_payments::position.eq(position),
            leg_payments::confirmed_by.eq(by),
            leg_payments::paid_at.eq(at),
        ))
        .on_conflict_do_nothing();
    Ok(per_backend!(conn, |c| insert.execute(c))? == 1)
}

/// The confirmed leg payments of `orders`, by order and position.
pub fn leg_payments_of(conn: &mut DbConnection, orders: &[i64]) -> Result<Vec<LegPaymentRow>> {
    let mut out = Vec::new();
    for chunk in orders.chunks(1000) {
        out.extend(
            leg_payments::table
                .filter(leg_payments::order_id.eq_any(chunk))
                .order((leg_payments::order_id, leg_payments::position))
                .select((
                    leg_payments::order_id,
                    leg_payments::position,
                    leg_payments::confirmed_by,
                    leg_payments::paid_at,
                ))
                .load::<LegPaymentRow>(conn)?,
        );
    }
    Ok(out)
}

/// A forwarding leg whose offline payment is still to be made (by its buyer) or confirmed (by its
/// seller), as one of the two parties sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegDue {
    pub order_id: i64,
    pub position: i32,
    pub buyer_id: i64,
    pub seller_kind: PartyKind,
    pub seller_id: Option<i64>,
    pub goods_amount_cents: i64,
}

/// The legs `agent` still has to pay or to confirm, newest orders first, at most `limit`: the
/// legs after the first (which is the order itself) of orders their buyer paid offline to an agent (so the margins settle outside the books) with no
/// confirmed payment yet.
pub fn legs_due(conn: &mut DbConnection, agent: i64, limit: i64) -> Result<Vec<LegDue>> {
    let due: Vec<(i64, i32, i64, PartyKind, Option<i64>, i64)> = order_legs::table
        .inner_join(restock_orders::table)
        .filter(
            restock_orders::state
                .eq_any(LEGS_DUE_IN.iter().copied().map(Stored).collect::<Vec<_>>()),
        )
        .filter(restock_orders::paid_via.eq(Stored(PaidVia::Offline)))
        // Leg 0 is the order itself, paid with it.
        .filter(order_legs::position.gt(0))
        .filter(restock_orders::seller_kind.eq(Stored(PartyKind::Agent)))
        .filter(
            order_legs::buyer_id.eq(agent).or(order_legs::seller_kind
                .eq(Stored(PartyKind::Agent))
                .and(order_legs::seller_id.eq(agent))),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(
            leg_payments::table
                .filter(leg_payments::order_id.eq(order_legs::order_id))
                .filter(leg_payments::position.eq(order_legs::position)),
        )))
        .order((order_legs::order_id.desc(), order_legs::position))
        .limit(limit)
        .select((
            order_legs::order_id,
            order_legs::position,
            order_legs::buyer_id,
            order_legs::seller_kind,
            order_legs::seller_id,
            order_legs::goods_amount_cents,
        ))
        .load(conn)?;
    Ok(due
        .into_iter()
        .map(
            |(order_id, position, buyer_id, seller_kind, seller_id, goods_amount_cents)| LegDue {
                order_id,
                position,
                buyer_id,
                seller_kind,
                seller_id,
                goods_amount_cents,
            },
        )
        .collect())
}

/// How many orders wait for the agent, by what it has to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Placed with me, not yet answered (accept, forward or reject).
    pub to_answer: i64,
    /// Sold by me, waiting for me to confirm the buyer's transfer.
    pub to_confirm: i64,
    /// Paid, to be shipped by me.
    pub to_ship: i64,
    /// Mine, waiting for my payment.
    pub to_pay: i64,
    /// Mine, shipped to me.
    pub to_receive: i64,
}

pub fn waiting(conn: &mut DbConnection, agent: i64) -> Result<Waiting> {
    use OrderState as S;
    use restock_orders as o;
    let states = |states: &[OrderState]| states.iter().copied().map(Stored).collect::<Vec<_>>();
    let seller = |wanted: &[OrderState]| {
        o::table
            .filter(o::seller_kind.eq(Stored(PartyKind::Agent)))
            .filter(o::seller_id.eq(agent))
            .filter(o::state.eq_any(states(wanted)))
    };
    let to_answer: i64 = seller(&[S::Submitted]).count().get_result(conn)?;
    let to_confirm: i64 = seller(&[S::Accepted, S::Forwarded])
        .count()
        .get_result(conn)?;
    let to_ship: i64 = o::table
        .filter(o::shipper_kind.eq(Stored(PartyKind::Agent)))
        .filter(o::shipper_id.eq(agent))
        .filter(o::state.eq_any(states(&[S::Paid, S::Shipping])))
        .count()
        .get_result(conn)?;
    let to_pay: i64 = o::table
        .filter(o::buyer_id.eq(agent))
        .filter(o::state.eq_any(states(&[S::Submitted, S::Accepted, S::Forwarded])))
        .count()
        .get_result(conn)?;
    let to_receive: i64 = o::table
        .filter(o::buyer_id.eq(agent))
        .filter(o::state.eq(Stored(S::Shipped)))
        .count()
        .get_result(conn)?;
    Ok(Waiting {
        to_answer,
        to_confirm,
        to_ship,
        to_pay,
        to_receive,
    })
}

/// One order's frozen earnings of an agent: what is frozen, and when it unfreezes (the order's
/// return window end once received; `None` before receipt).
#[derive(Debug, Clone)]
pub struct FrozenLine {
    pub order_id: i64,
    pub cents: i64,
    pub state: OrderState,
    pub due_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
}

/// The agent's frozen money by order (orders whose frozen lines do not sum to zero), newest first,
/// at most `limit` orders.
pub fn frozen_by_order(
    conn: &mut DbConnection,
    agent: i64,
    limit: usize,
) -> Result<Vec<FrozenLine>> {
    let account: Option<i64> = ledger_accounts::table
        .filter(ledger_accounts::agent_id.eq(agent))
        .filter(ledger_accounts::wallet.eq("frozen"))
        .select(ledger_accounts::id)
        .load(conn)?
        .pop();
    let Some(account) = account else {
        return Ok(Vec::new());
    };
    let lines: Vec<(Option<i64>, i64)> = posting_lines::table
        .inner_join(postings::table)
        .filter(posting_lines::account_id.eq(account))
        .select((postings::order_id, posting_lines::amount_cents))
        .load(conn)?;
    let mut sums: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (order, cents) in lines {
        if let Some(order) = order {
            *sums.entry(order).or_default() += cents;
        }
    }
    let open: Vec<(i64, i64)> = sums
        .into_iter()
        .rev()
        .filter(|(_, c)| *c != 0)
        .take(limit)
        .collect();
    let ids: Vec<i64> = open.iter().map(|(o, _)| *o).collect();
    let rows: Vec<(
        i64,
        OrderState,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    )> = restock_orders::table
        .filter(restock_orders::id.eq_any(&ids))
        .select((
            restock_orders::id,
            restock_orders::state,
            restock_orders::due_at,
            restock_orders::received_at,
        ))
        .load(conn)?;
    Ok(open
        .into_iter()
        .filter_map(|(order_id, cents)| {
            let (_, state, due_at, received_at) = *rows.iter().find(|r| r.0 == order_id)?;
            Some(FrozenLine {
                order_id,
                cents,
                state,
                due_at,
                received_at,
            })
        })
        .collect())
}
