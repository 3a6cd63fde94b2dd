//! Restock orders: rows, their forwarding legs and state history. Every state change is a
//! conditional UPDATE on the state the caller expects, so of two concurrent actions on one order
//! exactly one takes effect; the other sees `false` and reports what happened instead.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::earnings::PaidVia;
use crate::domain::network::{OrderKind, OrderState, PartyKind};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::{
    order_events, order_legs, order_line_legs, order_lines, restock_orders,
};
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = restock_orders)]
pub struct OrderRow {
    pub id: i64,
    pub kind: OrderKind,
    pub buyer_id: i64,
    pub tier_rank: i32,
    pub seller_kind: PartyKind,
    pub seller_id: Option<i64>,
    /// Items of all lines.
    pub quantity: i64,
    /// The goods of all lines.
    pub goods_amount_cents: i64,
    pub policy_version: i64,
    pub receive_days: i32,
    pub state: OrderState,
    pub shipper_kind: Option<PartyKind>,
    pub shipper_id: Option<i64>,
    pub shipper_amount_cents: Option<i64>,
    pub paid_via: Option<PaidVia>,
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
    /// The value of the returned items at their lines' prices.
    pub returned_amount_cents: i64,
}

/// One line of an order (a product of the cart), with its booked money once paid.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = order_lines)]
pub struct LineRow {
    pub id: i64,
    pub order_id: i64,
    pub position: i32,
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub goods_amount_cents: i64,
    pub upgrade_allowance_cents: Option<i64>,
    /// `agent@unit_price_cents` of each agent above the seller for this product, nearest first,
    /// joined by `,`.
    pub supplier_chain: String,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
    pub shipper_amount_cents: Option<i64>,
    pub rebate_cents: Option<i64>,
    pub award_cents: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = order_lines)]
pub struct NewLine {
    pub position: i32,
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub goods_amount_cents: i64,
    pub upgrade_allowance_cents: Option<i64>,
    pub supplier_chain: String,
}

/// A line's money fixed at payment.
#[derive(Debug, Clone, Copy)]
pub struct LineBooking {
    pub line_id: i64,
    pub shipper_amount_cents: i64,
    pub rebate_cents: Option<i64>,
    pub award_cents: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = restock_orders)]
pub struct NewOrder {
    pub kind: Stored<OrderKind>,
    pub buyer_id: i64,
    pub tier_rank: i32,
    pub seller_kind: Stored<PartyKind>,
    pub seller_id: Option<i64>,
    pub quantity: i64,
    pub goods_amount_cents: i64,
    pub policy_version: i64,
    pub receive_days: i32,
    pub state: Stored<OrderState>,
    pub created_at: NaiveDateTime,
    pub upgrade_allowance_cents: Option<i64>,
}

/// Inserts an order with its lines (in their positions).
pub fn insert(
    conn: &mut DbConnection,
    new: &NewOrder,
    lines: &[NewLine],
) -> Result<(OrderRow, Vec<LineRow>)> {
    let insert = diesel::insert_into(restock_orders::table).values(new);
    let row: OrderRow = per_backend!(conn, |c| insert
        .returning(OrderRow::as_returning())
        .get_result(c))?;
    let values: Vec<_> = lines
        .iter()
        .map(|l| (order_lines::order_id.eq(row.id), l))
        .collect();
    let insert = diesel::insert_into(order_lines::table).values(values);
    per_backend!(conn, |c| insert.execute(c))?;
    let lines = lines_of(conn, &[row.id])?;
    Ok((row, lines))
}

/// The lines of the orders, by order and position: one query per 1,000 orders.
pub fn lines_of(conn: &mut DbConnection, orders: &[i64]) -> Result<Vec<LineRow>> {
    let mut out = Vec::new();
    for chunk in orders.chunks(1000) {
        out.extend(
            order_lines::table
                .filter(order_lines::order_id.eq_any(chunk))
                .order((order_lines::order_id, order_lines::position))
                .select(LineRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Whether the buyer has an order of `kind` in one of `states`.
pub fn has_open(
    conn: &mut DbConnection,
    buyer: i64,
    kind: OrderKind,
    states: &[OrderState],
) -> Result<bool> {
    let n: i64 = restock_orders::table
        .filter(restock_orders::buyer_id.eq(buyer))
        .filter(restock_orders::kind.eq(Stored(kind)))
        .filter(restock_orders::state.eq_any(stored(states)))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Fixes who ships (when the order is accepted or forwarded).
pub fn set_shipper(
    conn: &mut DbConnection,
    id: i64,
    (kind, shipper): (PartyKind, Option<i64>),
) -> Result<()> {
    diesel::update(restock_orders::table.filter(restock_orders::id.eq(id)))
        .set((
            restock_orders::shipper_kind.eq(Some(Stored(kind))),
            restock_orders::shipper_id.eq(shipper),
        ))
        .execute(conn)?;
    Ok(())
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
    state: Option<OrderState>,
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
        q = q.filter(restock_orders::state.eq(Stored(s)));
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
                .eq(Stored(PartyKind::Hq))
                .or(restock_orders::shipper_kind.eq(Stored(PartyKind::Hq))),
        ),
        Listing::All => q,
    };
    Ok(q.load(conn)?)
}

fn stored(states: &[OrderState]) -> Vec<Stored<OrderState>> {
    states.iter().copied().map(Stored).collect()
}

/// Moves the order from one of `from` to `to`; false when it was in none of them.
pub fn transition(
    conn: &mut DbConnection,
    id: i64,
    from: &[OrderState],
    to: OrderState,
) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq_any(stored(from))),
    )
    .set(restock_orders::state.eq(Stored(to)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The money fixed at payment (the BookedOrder columns).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = restock_orders, treat_none_as_null = true)]
pub struct Booking {
    pub state: Stored<OrderState>,
    pub shipper_kind: Option<Stored<PartyKind>>,
    pub shipper_id: Option<i64>,
    pub shipper_amount_cents: Option<i64>,
    pub paid_via: Option<Stored<PaidVia>>,
    pub rebate_agent_id: Option<i64>,
    pub rebate_cents: Option<i64>,
    pub award_agent_id: Option<i64>,
    pub award_cents: Option<i64>,
    pub return_days: Option<i32>,
    pub paid_at: Option<NaiveDateTime>,
}

/// Records the payment with each line's money, only from `accepted` or `forwarded`: false when
/// someone paid (or cancelled) it first.
pub fn record_payment(
    conn: &mut DbConnection,
    id: i64,
    booking: &Booking,
    lines: &[LineBooking],
) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(
                restock_orders::state
                    .eq_any(stored(&[OrderState::Accepted, OrderState::Forwarded])),
            ),
    )
    .set(booking)
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    for l in lines {
        diesel::update(
            order_lines::table
                .filter(order_lines::id.eq(l.line_id))
                .filter(order_lines::order_id.eq(id)),
        )
        .set((
            order_lines::shipper_amount_cents.eq(Some(l.shipper_amount_cents)),
            order_lines::rebate_cents.eq(l.rebate_cents),
            order_lines::award_cents.eq(l.award_cents),
        ))
        .execute(conn)?;
    }
    Ok(true)
}

/// Counts one more item shipped on the line, unless the line has all it asked for (or the order
/// is past shipping); false then. The order's total follows in the same transaction.
pub fn count_shipped(conn: &mut DbConnection, id: i64, line: i64) -> Result<bool> {
    let n = diesel::update(
        order_lines::table
            .filter(order_lines::id.eq(line))
            .filter(order_lines::order_id.eq(id))
            .filter(order_lines::shipped_quantity.lt(order_lines::quantity)),
    )
    .set(order_lines::shipped_quantity.eq(order_lines::shipped_quantity + 1))
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq_any(stored(&[OrderState::Paid, OrderState::Shipping])))
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
    from: &[OrderState],
    to: OrderState,
    at: NaiveDateTime,
    due_at: Option<NaiveDateTime>,
) -> Result<bool> {
    let target = restock_orders::table
        .filter(restock_orders::id.eq(id))
        .filter(restock_orders::state.eq_any(stored(from)));
    let n = match to {
        OrderState::Shipped => diesel::update(target)
            .set((
                restock_orders::state.eq(Stored(to)),
                restock_orders::shipped_at.eq(Some(at)),
                restock_orders::due_at.eq(due_at),
            ))
            .execute(conn)?,
        OrderState::Received => diesel::update(target)
            .set((
                restock_orders::state.eq(Stored(to)),
                restock_orders::received_at.eq(Some(at)),
                restock_orders::due_at.eq(due_at),
            ))
            .execute(conn)?,
        _ => diesel::update(target)
            .set((
                restock_orders::state.eq(Stored(to)),
                restock_orders::due_at.eq(due_at),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// A return of items of one line, as recorded on the order and the line.
#[derive(Debug, Clone, Copy)]
pub struct Return {
    pub from: OrderState,
    pub to: OrderState,
    /// The order's returned items before (all lines).
    pub order_before: i64,
    pub line: i64,
    pub line_before: i64,
    pub quantity: i64,
    /// The returned items' value at the line's price.
    pub amount_cents: i64,
}

/// Adds `quantity` returned items to the line and the order, only if both counts are still the
/// ones read and the state still `from`; false when another refund came first.
pub fn record_return(conn: &mut DbConnection, id: i64, r: Return) -> Result<bool> {
    let n = diesel::update(
        restock_orders::table
            .filter(restock_orders::id.eq(id))
            .filter(restock_orders::state.eq(Stored(r.from)))
            .filter(restock_orders::returned_quantity.eq(r.order_before)),
    )
    .set((
        restock_orders::returned_quantity.eq(r.order_before + r.quantity),
        restock_orders::returned_amount_cents
            .eq(restock_orders::returned_amount_cents + r.amount_cents),
        restock_orders::state.eq(Stored(r.to)),
    ))
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    let n = diesel::update(
        order_lines::table
            .filter(order_lines::id.eq(r.line))
            .filter(order_lines::order_id.eq(id))
            .filter(order_lines::returned_quantity.eq(r.line_before)),
    )
    .set(order_lines::returned_quantity.eq(r.line_before + r.quantity))
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
    state: OrderState,
    now: NaiveDateTime,
    after_id: i64,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    Ok(restock_orders::table
        .filter(restock_orders::state.eq(Stored(state)))
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
                .filter(restock_orders::state.eq_any(stored(&[
                    OrderState::Received,
                    OrderState::PartiallyRefunded,
                ])))
                .filter(restock_orders::open_case.eq(false)),
        )
        .set((
            restock_orders::state.eq(Stored(OrderState::Completed)),
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
    pub from_state: Option<OrderState>,
    pub to_state: OrderState,
    pub actor_user_id: Option<i64>,
    pub note: Option<String>,
    pub at: NaiveDateTime,
}

/// One step to append to an order's history: `(order, from, to, actor, note)`.
pub type NewEvent<'a> = (
    i64,
    Option<OrderState>,
    OrderState,
    Option<i64>,
    Option<&'a str>,
);

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
                    order_events::from_state.eq(from.map(Stored)),
                    order_events::to_state.eq(Stored(*to)),
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
    events_of(conn, &[order])
}

/// The history of the orders, oldest step first: one query per 1,000 orders.
pub fn events_of(conn: &mut DbConnection, orders: &[i64]) -> Result<Vec<EventRow>> {
    let mut out = Vec::new();
    for chunk in orders.chunks(1000) {
        out.extend(
            order_events::table
                .filter(order_events::order_id.eq_any(chunk))
                .order(order_events::id)
                .select(EventRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// One leg of a forwarded order: who bought from whom, with the sums of its lines.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_legs)]
pub struct LegRow {
    pub order_id: i64,
    pub position: i32,
    pub buyer_id: i64,
    #[diesel(serialize_as = Stored<PartyKind>)]
    pub seller_kind: PartyKind,
    pub seller_id: Option<i64>,
    pub goods_amount_cents: i64,
    pub margin_cents: Option<i64>,
}

/// One leg of one line: the leg's buyer's price for the line's product, and its margin on it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_line_legs)]
pub struct LineLegRow {
    pub line_id: i64,
    pub position: i32,
    pub unit_price_cents: i64,
    pub goods_amount_cents: i64,
    pub margin_cents: Option<i64>,
}

pub fn insert_legs(conn: &mut DbConnection, legs: &[LegRow], lines: &[LineLegRow]) -> Result<()> {
    let insert = diesel::insert_into(order_legs::table).values(legs.to_vec());
    per_backend!(conn, |c| insert.execute(c))?;
    for chunk in lines.chunks(1000) {
        let insert = diesel::insert_into(order_line_legs::table).values(chunk);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

/// The per-line legs of the lines, by line and position.
pub fn line_legs_of(conn: &mut DbConnection, lines: &[i64]) -> Result<Vec<LineLegRow>> {
    let mut out = Vec::new();
    for chunk in lines.chunks(1000) {
        out.extend(
            order_line_legs::table
                .filter(order_line_legs::line_id.eq_any(chunk))
                .order((order_line_legs::line_id, order_line_legs::position))
                .select(LineLegRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// An order with everything stored on it: lines, legs and the lines' legs.
#[derive(Debug, Clone)]
pub struct FullOrder {
    pub row: OrderRow,
    pub lines: Vec<LineRow>,
    pub legs: Vec<LegRow>,
    pub line_legs: Vec<LineLegRow>,
}

/// Loads the orders' lines and legs for `rows`, in a fixed number of queries whatever the count
/// (not one per order).
pub fn full(conn: &mut DbConnection, rows: Vec<OrderRow>) -> Result<Vec<FullOrder>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let lines = lines_of(conn, &ids)?;
    let legs = legs_of(conn, &ids)?;
    // Only forwarded orders have legs: read the lines' legs of those alone.
    let forwarded: std::collections::HashSet<i64> = legs.iter().map(|g| g.order_id).collect();
    let line_ids: Vec<i64> = lines
        .iter()
        .filter(|l| forwarded.contains(&l.order_id))
        .map(|l| l.id)
        .collect();
    let line_legs = line_legs_of(conn, &line_ids)?;
    let mut by_order: std::collections::HashMap<i64, FullOrder> = std::collections::HashMap::new();
    let order: Vec<i64> = ids.clone();
    for row in rows {
        by_order.insert(
            row.id,
            FullOrder {
                row,
                lines: Vec::new(),
                legs: Vec::new(),
                line_legs: Vec::new(),
            },
        );
    }
    let line_order: std::collections::HashMap<i64, i64> =
        lines.iter().map(|l| (l.id, l.order_id)).collect();
    for l in lines {
        if let Some(f) = by_order.get_mut(&l.order_id) {
            f.lines.push(l);
        }
    }
    for g in legs {
        if let Some(f) = by_order.get_mut(&g.order_id) {
            f.legs.push(g);
        }
    }
    for g in line_legs {
        if let Some(f) = line_order.get(&g.line_id).and_then(|o| by_order.get_mut(o)) {
            f.line_legs.push(g);
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|id| by_order.remove(&id))
        .collect())
}

/// One order with everything stored on it.
pub fn get_full(conn: &mut DbConnection, id: i64) -> Result<FullOrder> {
    let row = get(conn, id)?;
    full(conn, vec![row])?
        .pop()
        .ok_or_else(|| Error::not_found("order"))
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
    line: i64,
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
            order_refunds::line_id.eq(Some(line)),
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

/// The progress of the line an item belongs to on the order: its product's SKU, items shipped
/// and ordered of it (what the handheld shows after a scan); `None` when no line is for it.
pub fn line_progress(
    conn: &mut DbConnection,
    order: i64,
    serial: &str,
) -> Result<Option<(String, i64, i64)>> {
    use crate::store::schema::{batches, items, products};
    // `get_result`, not `first`: a bound `LIMIT` makes the bundled SQLite prepare the statement
    // again on every scan (BENCHMARKS.md).
    Ok(items::table
        .inner_join(batches::table)
        .inner_join(order_lines::table.on(order_lines::product_id.eq(batches::product_id)))
        .inner_join(products::table.on(products::id.eq(order_lines::product_id)))
        .filter(items::serial.eq(serial))
        .filter(order_lines::order_id.eq(order))
        .select((
            products::sku,
            order_lines::shipped_quantity,
            order_lines::quantity,
        ))
        .get_result(conn)
        .optional()?)
}

/// Items ordered per (tier the order is priced at, SKU) since `since`, orders cancelled or
/// rejected left out: the orders a tier-policy what-if prices again under new prices. One grouped
/// query, so its size is the number of tiers × products, not of orders.
pub fn items_by_tier_and_sku(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<Vec<(i32, String, i64)>> {
    use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        tier_rank: i32,
        #[diesel(sql_type = Text)]
        sku: String,
        #[diesel(sql_type = BigInt)]
        items: i64,
    }
    let sql = |ph: &str| {
        format!(
            "SELECT o.tier_rank AS tier_rank, p.sku AS sku, CAST(SUM(l.quantity) AS BIGINT) AS items \
             FROM order_lines l JOIN restock_orders o ON o.id = l.order_id \
             JOIN products p ON p.id = l.product_id \
             WHERE o.created_at >= {ph} AND o.state NOT IN ('{}', '{}') \
             GROUP BY o.tier_rank, p.sku ORDER BY o.tier_rank, p.sku",
            OrderState::Cancelled.as_str(),
            OrderState::Rejected.as_str(),
        )
    };
    let rows: Vec<Row> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql("?"))
            .bind::<Timestamp, _>(since)
            .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(sql("$1"))
            .bind::<Timestamp, _>(since)
            .load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.tier_rank, r.sku, r.items))
        .collect())
}
