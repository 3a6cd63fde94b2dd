//! Stock as item custody (DOMAIN §4, §6): how many items of a product a party holds, the items an
//! order ships, and each custody move with its event. An item on a shipment is held by `transit`
//! with `custodian_id` = the order it ships against.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{batches, custody_events, items, order_items};
use crate::typed::Stored;

/// A custodian as its columns: `(Hq, None)`, `(Agent, Some(id))`, `(Transit, Some(order))`
/// (`Custodian::columns`).
pub type Holder = (CustodianKind, Option<i64>);

/// Filters a query on `items` to what `holder` holds (HQ's items have no custodian id).
macro_rules! held_by {
    ($query:expr, $holder:expr) => {
        match $holder {
            (kind, Some(id)) => $query
                .filter(items::custodian_kind.eq(Stored(kind)))
                .filter(items::custodian_id.eq(id))
                .into_boxed(),
            (kind, None) => $query
                .filter(items::custodian_kind.eq(Stored(kind)))
                .filter(items::custodian_id.is_null())
                .into_boxed(),
        }
    };
}

/// Whether `holder` has at least `quantity` active items of `product` (counts no further).
pub fn holds(conn: &mut DbConnection, holder: Holder, product: i64, quantity: i64) -> Result<bool> {
    let q = items::table.inner_join(batches::table);
    let found: Vec<String> = held_by!(q, holder)
        .filter(items::status.eq(Stored(ItemStatus::Active)))
        .filter(batches::product_id.eq(product))
        .select(items::serial)
        .limit(quantity)
        .load(conn)?;
    Ok(found.len() as i64 >= quantity)
}

/// How many active items of each product `holder` holds: (product id, count).
pub fn counts(conn: &mut DbConnection, holder: Holder) -> Result<Vec<(i64, i64)>> {
    let q = items::table
        .inner_join(batches::table)
        .filter(items::status.eq(Stored(ItemStatus::Active)))
        .filter(items::custodian_kind.eq(Stored(holder.0)))
        .group_by(batches::product_id)
        .select((batches::product_id, diesel::dsl::count_star()));
    Ok(match holder.1 {
        Some(id) => q.filter(items::custodian_id.eq(id)).load(conn)?,
        None => q.filter(items::custodian_id.is_null()).load(conn)?,
    })
}

/// One item as shipping needs it.
#[derive(Debug, Clone, Queryable)]
pub struct ItemRow {
    pub serial: String,
    pub product_id: i64,
    pub status: ItemStatus,
    pub custodian_kind: CustodianKind,
    pub custodian_id: Option<i64>,
    pub released_at: Option<NaiveDateTime>,
}

pub fn item(conn: &mut DbConnection, serial: &str) -> Result<Option<ItemRow>> {
    Ok(items::table
        .inner_join(batches::table)
        .filter(items::serial.eq(serial))
        .select((
            items::serial,
            batches::product_id,
            items::status,
            items::custodian_kind,
            items::custodian_id,
            items::released_at,
        ))
        .load(conn)?
        .pop())
}

/// Moves one active item from `from` to `to` with its custody event; false when it was not
/// held by `from` (any more). Leaving HQ custody releases it for sale.
#[allow(clippy::too_many_arguments)]
pub fn move_item(
    conn: &mut DbConnection,
    serial: &str,
    from: Holder,
    to: Holder,
    event: CustodyEventKind,
    actor: Option<i64>,
    note: &str,
    at: NaiveDateTime,
) -> Result<bool> {
    let target = items::table
        .filter(items::serial.eq(serial))
        .filter(items::status.eq(Stored(ItemStatus::Active)))
        .filter(items::custodian_kind.eq(Stored(from.0)));
    let set = (
        items::custodian_kind.eq(Stored(to.0)),
        items::custodian_id.eq(to.1),
    );
    let n = match from.1 {
        Some(id) => diesel::update(target.filter(items::custodian_id.eq(id)))
            .set(set)
            .execute(conn)?,
        None => diesel::update(target.filter(items::custodian_id.is_null()))
            .set(set)
            .execute(conn)?,
    };
    if n == 0 {
        return Ok(false);
    }
    if from.0 == CustodianKind::Hq {
        diesel::update(
            items::table
                .filter(items::serial.eq(serial))
                .filter(items::released_at.is_null()),
        )
        .set(items::released_at.eq(Some(at)))
        .execute(conn)?;
    }
    diesel::insert_into(custody_events::table)
        .values((
            custody_events::serial.eq(serial),
            custody_events::kind.eq(Stored(event)),
            custody_events::from_kind.eq(Some(Stored(from.0))),
            custody_events::from_id.eq(from.1),
            custody_events::to_kind.eq(Some(Stored(to.0))),
            custody_events::to_id.eq(to.1),
            custody_events::actor_user_id.eq(actor),
            custody_events::note.eq(Some(note)),
            custody_events::at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Whether the serial was shipped against the order already.
pub fn allocated(conn: &mut DbConnection, order: i64, serial: &str) -> Result<bool> {
    let n: i64 = order_items::table
        .filter(order_items::order_id.eq(order))
        .filter(order_items::serial.eq(serial))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn allocate(
    conn: &mut DbConnection,
    order: i64,
    serial: &str,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(order_items::table)
        .values((
            order_items::order_id.eq(order),
            order_items::serial.eq(serial),
            order_items::shipped_at.eq(at),
            order_items::shipped_by.eq(by),
        ))
        .execute(conn)?;
    Ok(())
}

/// The serials shipped against the order that have not been returned.
pub fn shipped_serials(conn: &mut DbConnection, order: i64) -> Result<Vec<String>> {
    Ok(order_items::table
        .filter(order_items::order_id.eq(order))
        .filter(order_items::returned_at.is_null())
        .order(order_items::id)
        .select(order_items::serial)
        .load(conn)?)
}

pub fn mark_received(conn: &mut DbConnection, order: i64, at: NaiveDateTime) -> Result<()> {
    diesel::update(order_items::table.filter(order_items::order_id.eq(order)))
        .set(order_items::received_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

pub fn mark_returned(
    conn: &mut DbConnection,
    order: i64,
    serial: &str,
    at: NaiveDateTime,
) -> Result<()> {
    diesel::update(
        order_items::table
            .filter(order_items::order_id.eq(order))
            .filter(order_items::serial.eq(serial)),
    )
    .set(order_items::returned_at.eq(Some(at)))
    .execute(conn)?;
    Ok(())
}
