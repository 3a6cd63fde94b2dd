//! Restock orders: rows, their forwarding legs and state history. Every state change is a
//! conditional UPDATE on the state the caller expects, so of two concurrent actions on one order
//! exactly one takes effect; the other sees `false` and reports what happened instead.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::{order_events, order_legs, restock_orders};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = restock_orders)]
pub struct OrderRow {
    pub id: i64,
    /// `entry`, `restock` or `upgrade`.
    pub kind: String,
    pub buyer_id: i64,
    pub product_id: i64,
    pub tier_rank: i32,
    pub seller_kind: String,
    pub seller_id: Option<i64>,
    /// `agent@unit_price_cents`, nearest first, joined by `,`.
    pub supplier_chain: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub goods_amount_cents: i64,
    pub policy_version: i64,
    pub receive_days: i32,
    pub state: String,
    pub shipper_kind: Option<String>,
    pub shipper_id: Option<i64>,
    pub shipper_amount_cents: Option<i64>,
    pub paid_via: Option<String>,
    pub rebate_agent_id: Option<i64>,
    pub rebate_cents: Option<i64>,
    pub award_agent_id: Option<i64>,
    pub award_cents: Option<i64>,
    pub return_days: Option<i32>,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
    pub open_case: bool,
    pub created_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
    pub shipped_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    /// An upgrade's price-difference credit that HQ bears (the buyer pays goods − this); `None`
    /// on every other order and on top-ups placed before the rule (DOMAIN §5).
    pub upgrade_allowance_cents: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = restock_orders)]
pub struct NewOrder {
    pub kind: String,
    pub buyer_id: i64,
    pub product_id: i64,
    pub tier_rank: i32,
    pub seller_kind: String,
    pub seller_id: Option<i64>,
    pub supplier_chain: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub goods_amount_cents: i64,
    pub policy_version: i64,
    pub receive_days: i32,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub upgrade_allowance_cents: Option<i64>,
}

pub fn insert(conn: &mut DbConnection, new: &NewOrder) -> Result<OrderRow> {
    let insert = diesel::insert_into(restock_orders::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(OrderRow::as_returning())
        .get_result(c))?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<OrderRow>> {
    Ok(restock_orders::table
        .filter(restock_orders::id.eq(id))
        .select(OrderRow::as_select())
        .load(conn)?
        .pop())
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<OrderRow> {
    find(conn, id)?.ok_or_else(|| Error::not_found("order"))
}

/// Whose orders a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Orders the agent placed.
    PlacedBy(i64),
    /// Orders the agent answers, forwards, or ships.
    HandledBy(i64),
    /// Orders HQ sells or ships.
    HandledByHq,
    All,
}

/// A page of orders, newest first, with ids below `before` (0: from the newest).
pub fn list(
    conn: &mut DbConnection,
    listing: Listing,
    state: Option<&str>,
    before: i64,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    let mut q = restock_orders::table
        .order(restock_orders::id.desc())
        .limit(limit)
        .select(OrderRow::as_select())
        .into_boxed();
    if before > 0 {
        q = q.filter(restock_orders::id.lt(before));
    }
    if let Some(s) = state {
        q = q.filter(restock_orders::state.eq(s.to_string()));
    }
    q = match listing {
        Listing::PlacedBy(a) => q.filter(restock_orders::buyer_id.eq(a)),
        Listing::HandledBy(a) => {
            let forwarded_to = order_legs::table
                .filter(order_legs::seller_id.eq(a))
                .select(order_legs::order_id);
            q.filter(
                restock_orders::seller_id
                    .eq(a)
                    .or(restock_orders::shipper_id.eq(a))
                    .or(restock_orders::id.eq_any(forwarded_to)),
            )
        }
        Listing::HandledByHq => q.filter(
            restock_orders::seller_kind
                .eq("hq")
                .or(restock_orders::shipper_kind.eq("hq")),
        ),
        Listing::All => q,
    };
    Ok(q.load(conn)?)
}

/// Moves the order from one of `from` to `to`; false when it was in none of them.
pub fn transition(conn: &mut DbConnection, id: i64, from: &[&str], to: &str) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq_any(from)),
    )
    .set(restock_orders::state.eq(to))
    .execute(conn)?;
    Ok(n == 1)
}

/// The money fixed at payment (the BookedOrder columns).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = restock_orders, treat_none_as_null = true)]
pub struct Booking {
    pub state: String,
    pub shipper_kind: Option<String>,
    pub shipper_id: Option<i64>,
    pub shipper_amount_cents: Option<i64>,
    pub paid_via: Option<String>,
    pub rebate_agent_id: Option<i64>,
    pub rebate_cents: Option<i64>,
    pub award_agent_id: Option<i64>,
    pub award_cents: Option<i64>,
    pub return_days: Option<i32>,
    pub paid_at: Option<NaiveDateTime>,
}

/// Records the payment, only from `accepted` or `forwarded`: false when someone paid (or
/// cancelled) it first.
pub fn record_payment(conn: &mut DbConnection, id: i64, booking: &Booking) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq_any(["accepted", "forwarded"])),
    )
    .set(booking)
    .execute(conn)?;
    Ok(n == 1)
}

/// Counts one more item shipped, unless the order has all it asked for; false then.
pub fn count_shipped(conn: &mut DbConnection, id: i64) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq_any(["paid", "shipping"]))
            .filter(restock_orders::shipped_quantity.lt(restock_orders::quantity)),
    )
    .set(restock_orders::shipped_quantity.eq(restock_orders::shipped_quantity + 1))
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets the state with the time it happened and when the next automatic step is due.
pub fn stamp(
    conn: &mut DbConnection,
    id: i64,
    from: &[&str],
    to: &str,
    at: NaiveDateTime,
    due_at: Option<NaiveDateTime>,
) -> Result<bool> {
    let target = restock_orders::table
        .filter(restock_orders::id.eq(id))
        .filter(restock_orders::state.eq_any(from));
    let n = match to {
        "shipped" => diesel::update(target)
            .set((
                restock_orders::state.eq(to),
                restock_orders::shipped_at.eq(Some(at)),
                restock_orders::due_at.eq(due_at),
            ))
            .execute(conn)?,
        "received" => diesel::update(target)
            .set((
                restock_orders::state.eq(to),
                restock_orders::received_at.eq(Some(at)),
                restock_orders::due_at.eq(due_at),
            ))
            .execute(conn)?,
        _ => diesel::update(target)
            .set((
                restock_orders::state.eq(to),
                restock_orders::due_at.eq(due_at),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Adds `quantity` returned items, only if `returned_before` is still the count and the state
/// still `from`; false when another refund came first.
pub fn record_return(
    conn: &mut DbConnection,
    id: i64,
    from: &str,
    returned_before: i64,
    quantity: i64,
    to: &str,
) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq(from))
            .filter(restock_orders::returned_quantity.eq(returned_before)),
    )
    .set((
        restock_orders::returned_quantity.eq(returned_before + quantity),
        restock_orders::state.eq(to),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_open_case(conn: &mut DbConnection, id: i64, open: bool) -> Result<()> {
    diesel::update(restock_orders::table.filter(restock_orders::id.eq(id)))
        .set(restock_orders::open_case.eq(open))
        .execute(conn)?;
    Ok(())
}

/// Orders in `state` whose next automatic step is due by `now`, in id order after `after_id`.
/// Walks the (state, id) index, so paging through a large backlog is one pass.
pub fn due(
    conn: &mut DbConnection,
    state: &str,
    now: NaiveDateTime,
    after_id: i64,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    Ok(restock_orders::table
        .filter(restock_orders::state.eq(state))
        .filter(restock_orders::id.gt(after_id))
        .filter(restock_orders::due_at.le(now))
        .filter(restock_orders::open_case.eq(false))
        .order(restock_orders::id)
        .limit(limit)
        .select(OrderRow::as_select())
        .load(conn)?)
}

/// Marks the orders completed, each only from `received` or `partially_refunded`; returns the ids
/// this call completed (an overlapping run gets the others).
pub fn complete_many(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<i64>> {
    let mut done = Vec::new();
    for chunk in ids.chunks(1000) {
        let update = diesel::update(
            restock_orders::table
                .filter(restock_orders::id.eq_any(chunk))
                .filter(restock_orders::state.eq_any(["received", "partially_refunded"]))
                .filter(restock_orders::open_case.eq(false)),
        )
        .set((
            restock_orders::state.eq("completed"),
            restock_orders::due_at.eq(None::<NaiveDateTime>),
        ))
        .returning(restock_orders::id);
        done.extend(per_backend!(conn, |c| update.get_results::<i64>(c))?);
    }
    Ok(done)
}

/// One step of an order's history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = order_events)]
pub struct EventRow {
    pub id: i64,
    pub order_id: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_user_id: Option<i64>,
    pub note: Option<String>,
    pub at: NaiveDateTime,
}

/// One step to append to an order's history: `(order, from, to, actor, note)`.
pub type NewEvent<'a> = (i64, Option<&'a str>, &'a str, Option<i64>, Option<&'a str>);

/// Appends history, one row per step.
pub fn add_events(
    conn: &mut DbConnection,
    events: &[NewEvent<'_>],
    at: NaiveDateTime,
) -> Result<()> {
    for chunk in events.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(o, from, to, actor, note)| {
                (
                    order_events::order_id.eq(*o),
                    order_events::from_state.eq(*from),
                    order_events::to_state.eq(*to),
                    order_events::actor_user_id.eq(*actor),
                    order_events::note.eq(*note),
                    order_events::at.eq(at),
                )
            })
            .collect();
        let insert = diesel::insert_into(order_events::table).values(rows);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

pub fn events(conn: &mut DbConnection, order: i64) -> Result<Vec<EventRow>> {
    Ok(order_events::table
        .filter(order_events::order_id.eq(order))
        .order(order_events::id)
        .select(EventRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_legs)]
pub struct LegRow {
    pub order_id: i64,
    pub position: i32,
    pub buyer_id: i64,
    pub seller_kind: String,
    pub seller_id: Option<i64>,
    pub unit_price_cents: i64,
    pub goods_amount_cents: i64,
    pub margin_cents: Option<i64>,
}

pub fn insert_legs(conn: &mut DbConnection, legs: &[LegRow]) -> Result<()> {
    let insert = diesel::insert_into(order_legs::table).values(legs);
    per_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

/// The forwarding legs of the orders, by position.
pub fn legs_of(conn: &mut DbConnection, orders: &[i64]) -> Result<Vec<LegRow>> {
    let mut out = Vec::new();
    for chunk in orders.chunks(1000) {
        out.extend(
            order_legs::table
                .filter(order_legs::order_id.eq_any(chunk))
                .order((order_legs::order_id, order_legs::position))
                .select(LegRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Records a refund of `quantity` items after `returned_before`; its id keys the posting. The
/// unique (order, returned_before) makes a concurrent second refund of the same items fail.
#[allow(clippy::too_many_arguments)]
pub fn insert_refund(
    conn: &mut DbConnection,
    order: i64,
    quantity: i64,
    returned_before: i64,
    after_completion: bool,
    reason: &str,
    actor: Option<i64>,
    at: NaiveDateTime,
) -> Result<i64> {
    use crate::store::schema::order_refunds;
    let insert = diesel::insert_into(order_refunds::table)
        .values((
            order_refunds::order_id.eq(order),
            order_refunds::quantity.eq(quantity),
            order_refunds::returned_before.eq(returned_before),
            order_refunds::after_completion.eq(after_completion),
            order_refunds::reason.eq(reason),
            order_refunds::actor_user_id.eq(actor),
            order_refunds::at.eq(at),
        ))
        .returning(order_refunds::id);
    Ok(per_backend!(conn, |c| insert.get_result(c))?)
}
