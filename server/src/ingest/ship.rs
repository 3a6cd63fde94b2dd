//! Shipping and receiving against restock orders by scans (DOMAIN §4, §6). The order rules live in
//! `network::shipping`; this adapts a scan to them: the context names the order, the device must
//! belong to the order's shipper (or buyer, to receive), and a case scan ships all of its items or
//! none of them.

use chainmark_wire::{OrderProgress, RejectReason, ScanEvent};

use crate::domain::custody::{self, Context, Custodian, Party, Scanned};
use crate::domain::network::OrderState;
use crate::error::{Error, Result};
use crate::ingest::apply::Moved;
use crate::ingest::directory::DeviceEntry;
use crate::network::Actor;
use crate::network::book;
use crate::network::shipping;
use crate::store::network::custodian_columns;
use crate::store::network::orders::{self as orders, OrderRow};
use crate::store::users::now;
use crate::store::{DbConnection, in_transaction};
use crate::store::{custody as custody_store, items};

/// The order id a scan names: `123`, or the pick-list QR's `CMORDER:123`.
pub fn order_id(context: Option<&str>) -> Option<i64> {
    let raw = context?.trim();
    let raw = raw.strip_prefix("CMORDER:").unwrap_or(raw);
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

fn load_order(conn: &mut DbConnection, context: Option<&str>) -> Result<Option<OrderRow>> {
    match order_id(context) {
        Some(id) => Ok(orders::find(conn, id)?),
        None => Ok(None),
    }
}

fn same_party(device: Party, party: crate::domain::network::Party) -> bool {
    device.custodian().columns() == custodian_columns(party)
}

/// Why a ship scan was refused, or a storage failure; rolls the scan's savepoint back.
enum Abort {
    Refused(RejectReason),
    Failed(Error),
}

impl From<crate::store::Error> for Abort {
    fn from(e: crate::store::Error) -> Self {
        Abort::Failed(e.into())
    }
}

impl From<Error> for Abort {
    fn from(e: Error) -> Self {
        Abort::Failed(e)
    }
}

/// Ships what was scanned against the order in the scan's context; answers with the order's
/// progress, so the handheld shows its product's count against what was ordered.
pub fn ship(
    conn: &mut DbConnection,
    device: &DeviceEntry,
    scanned: &Scanned,
    event: &ScanEvent,
    seq: i64,
) -> Result<std::result::Result<Moved, RejectReason>> {
    let Some(order) = load_order(conn, event.context.as_deref())? else {
        return Ok(Err(RejectReason::NotOnOrder));
    };
    let shippable = matches!(
        order.state,
        OrderState::Paid | OrderState::Shipping | OrderState::Shipped
    );
    let shipper = book::shipper(&order)?;
    if !shippable || !shipper.is_some_and(|s| same_party(device.owner, s)) {
        return Ok(Err(RejectReason::NotOnOrder));
    }
    let serials: Vec<String> = match custody::items_of(scanned) {
        Ok(items) => items.iter().map(|i| i.serial.clone()).collect(),
        Err(reason) => return Ok(Err(reason)),
    };
    let outcome = in_transaction(conn, |conn| {
        let shipped = shipping::ship_items(conn, order.id, None, &serials)?;
        if let Some((_, rejection)) = shipped.rejected.first() {
            return Err(Abort::Refused(rejection.reason()));
        }
        custody_store::tag_ship_events(conn, &shipped.accepted, order.id, &device.id, seq)?;
        Ok((shipped.accepted.len(), shipped.accepted.first().cloned()))
    });
    match outcome {
        Ok((items, first)) => Ok(Ok(Moved {
            items,
            order: match first {
                Some(serial) => progress(conn, &order, &serial)?,
                None => None,
            },
        })),
        Err(Abort::Refused(reason)) => Ok(Err(reason)),
        Err(Abort::Failed(e)) => Err(e),
    }
}

/// How much of the scanned product's line is shipped, this scan included: the handheld shows that
/// product's count against what was ordered of it.
fn progress(
    conn: &mut DbConnection,
    order: &OrderRow,
    serial: &str,
) -> Result<Option<OrderProgress>> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(
        orders::line_progress(conn, order.id, serial)?.map(|(sku, done, ordered)| OrderProgress {
            id: count(order.id),
            sku,
            done: count(done),
            ordered: count(ordered),
        }),
    )
}

/// A receive scan's context: the order, with its buyer.
pub fn receive_context(
    conn: &mut DbConnection,
    context: Option<&str>,
) -> Result<std::result::Result<Context, RejectReason>> {
    let Some(order) = load_order(conn, context)? else {
        return Ok(Err(RejectReason::NotOnOrder));
    };
    if !matches!(order.state.as_str(), "shipping" | "shipped") {
        return Ok(Err(RejectReason::NotOnOrder));
    }
    Ok(Ok(Context::Order {
        id: order.id,
        buyer: Party::Agent(order.buyer_id),
    }))
}

/// After a receive scan: once nothing of a fully shipped order is still in transit, the order is
/// received (its return window starts), as if the buyer had confirmed it.
pub fn complete_receipt(conn: &mut DbConnection, context: Option<&str>) -> Result<()> {
    let Some(order) = load_order(conn, context)? else {
        return Ok(());
    };
    if order.state != OrderState::Shipped {
        return Ok(());
    }
    let (kind, id) = Custodian::Transit(Some(order.id)).columns();
    let in_transit = items::count_held_by(conn, kind, id)?;
    if in_transit == 0 {
        shipping::receive_row(conn, &order, Actor::System, false, now())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_from_scan_context() {
        assert_eq!(order_id(Some("42")), Some(42));
        assert_eq!(order_id(Some(" CMORDER:7 ")), Some(7));
        assert_eq!(order_id(Some("CMORDER:")), None);
        assert_eq!(order_id(Some("-3")), None);
        assert_eq!(order_id(Some("SHP-1")), None);
        assert_eq!(order_id(None), None);
    }
}
