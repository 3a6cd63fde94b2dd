//! Shipping and receiving an order by its item codes (DOMAIN §4, §6).
//!
//! [`ship_items`] is what a `ship` scan does, and also what the HQ/agent "ship these codes"
//! action does until the handhelds are in use: each named item moves from the shipper's custody
//! to `transit` for the order, or is rejected with one reason from [`ShipRejection`] and left as
//! it was. The order turns `shipping` at its first item and `shipped` when all its items are on
//! the way. [`receive`] moves them from transit into the buyer's custody.

use chainmark_wire::RejectReason;
use chrono::{Duration, NaiveDateTime};

use super::book;
use super::orders::changed_meanwhile;
use super::{Actor, refused};
use crate::domain::Role;
use crate::domain::custody::{Custodian, CustodyEventKind, ItemStatus};
use crate::domain::network::Party;
use crate::domain::network::order::{OrderAction, OrderState, transition};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::orders::{self as store, OrderRow};
use crate::store::network::{agent_id, custodian_columns, stock};
use crate::store::users::now;

/// Why one item could not be shipped against the order. The names are the MQTT ack reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipRejection {
    /// No item has this code.
    UnknownCode,
    /// The item is not (any more) in the shipper's custody, or it is voided or recalled.
    NotInCustody,
    /// The item is of a product none of the order's lines is for.
    NotOnOrder,
    /// The item's line has all the items it asked for.
    QuantityExceeded,
    /// The item was already shipped against this order.
    AlreadyShipped,
}

impl ShipRejection {
    pub fn as_str(self) -> &'static str {
        self.reason().as_str()
    }

    /// The scanner wire protocol's reason.
    pub fn reason(self) -> RejectReason {
        match self {
            ShipRejection::UnknownCode => RejectReason::UnknownCode,
            ShipRejection::NotInCustody => RejectReason::NotInCustody,
            ShipRejection::NotOnOrder => RejectReason::NotOnOrder,
            ShipRejection::QuantityExceeded => RejectReason::QuantityExceeded,
            ShipRejection::AlreadyShipped => RejectReason::AlreadyShipped,
        }
    }
}

/// What a call of [`ship_items`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    /// The serials moved to transit, as stored (upper case).
    pub accepted: Vec<String>,
    /// Each refused code as given, with its reason.
    pub rejected: Vec<(String, ShipRejection)>,
    /// The order's state afterwards (`shipping`, or `shipped` once complete).
    pub state: OrderState,
    pub shipped_quantity: i64,
}

/// Ships the named item codes against order `order_id`, from whoever is to ship it (the order's
/// shipper, fixed when it was accepted or forwarded). Callable inside an existing transaction
/// (it opens a savepoint). `actor` is the user who scanned or asked, for the custody events.
///
/// The order must be paid (or already shipping/shipped, when rescans are answered item by item);
/// any other state is an error and changes nothing. Per item, in this order of checks:
/// `unknown_code`, `not_on_order` (another product), `already_shipped` (on this order),
/// `not_in_custody`, `quantity_exceeded`. Whoever calls it must have checked that the caller may
/// ship for the shipper (HQ staff or device of HQ, or the shipping agent).
pub fn ship_items(
    conn: &mut DbConnection,
    order_id: i64,
    actor: Option<i64>,
    serials: &[String],
) -> Result<Shipped> {
    crate::store::in_transaction(conn, |conn| {
        let row = store::get(conn, order_id)?;
        let lines = store::lines_of(conn, &[order_id])?;
        let state = row.state;
        if !matches!(
            state,
            OrderState::Paid | OrderState::Shipping | OrderState::Shipped
        ) {
            let e = transition(state, OrderAction::StartShipping)
                .err()
                .map_or_else(|| format!("order {order_id} is {state}"), |e| e.to_string());
            return Err(Error::refuse("cannot_ship", format!("cannot ship: {e}")));
        }
        let shipper = book::shipper(&row)?
            .ok_or_else(|| Error::Internal(format!("paid order {order_id} has no shipper")))?;
        let from = custodian_columns(shipper);
        let transit = Custodian::Transit(Some(order_id)).columns();
        let at = now();
        let mut out = Shipped {
            accepted: Vec::new(),
            rejected: Vec::new(),
            state: row.state,
            shipped_quantity: row.shipped_quantity,
        };
        for given in serials {
            let serial = given.trim().to_uppercase();
            let item = stock::item(conn, &serial)?;
            let line = item
                .as_ref()
                .and_then(|i| lines.iter().find(|l| l.product_id == i.product_id));
            let rejection = match (item, line) {
                (None, _) => Some(ShipRejection::UnknownCode),
                (Some(_), None) => Some(ShipRejection::NotOnOrder),
                (Some(_), Some(_)) if stock::allocated(conn, order_id, &serial)? => {
                    Some(ShipRejection::AlreadyShipped)
                }
                (Some(item), Some(_))
                    if item.status != ItemStatus::Active
                        || (item.custodian_kind, item.custodian_id) != from =>
                {
                    Some(ShipRejection::NotInCustody)
                }
                (Some(_), Some(line)) if !store::count_shipped(conn, order_id, line.id)? => {
                    Some(ShipRejection::QuantityExceeded)
                }
                (Some(_), Some(_)) => {
                    let note = format!("order {order_id}");
                    if !stock::move_item(
                        conn,
                        &serial,
                        from,
                        transit,
                        CustodyEventKind::Ship,
                        actor,
                        &note,
                        at,
                    )? {
                        // Counted above but moved by someone else meanwhile: undo by failing.
                        return Err(changed_meanwhile(conn, order_id)?);
                    }
                    stock::allocate(conn, order_id, &serial, actor, at)?;
                    None
                }
            };
            match rejection {
                Some(r) => out.rejected.push((given.clone(), r)),
                None => out.accepted.push(serial),
            }
        }
        if !out.accepted.is_empty() {
            let after = store::get(conn, order_id)?;
            let mut steps = Vec::new();
            if after.state == OrderState::Paid {
                store::stamp(
                    conn,
                    order_id,
                    &[OrderState::Paid],
                    OrderState::Shipping,
                    at,
                    None,
                )?;
                steps.push((OrderState::Paid, OrderState::Shipping));
            }
            // Every line has all its items: the order's total says so (it is their sum).
            if after.shipped_quantity >= after.quantity {
                let due = at + Duration::days(i64::from(after.receive_days));
                store::stamp(
                    conn,
                    order_id,
                    &[OrderState::Shipping],
                    OrderState::Shipped,
                    at,
                    Some(due),
                )?;
                steps.push((OrderState::Shipping, OrderState::Shipped));
            }
            let events: Vec<_> = steps
                .iter()
                .map(|(f, t)| (order_id, Some(*f), *t, actor, None))
                .collect();
            store::add_events(conn, &events, at)?;
            let done = store::get(conn, order_id)?;
            out.state = done.state;
            out.shipped_quantity = done.shipped_quantity;
        }
        tracing::info!(
            order = order_id,
            accepted = out.accepted.len(),
            rejected = out.rejected.len(),
            state = out.state.as_str(),
            "items shipped"
        );
        Ok(out)
    })
}

/// HQ roles that ship HQ's orders (scans, waybills).
pub const HQ_SHIPPERS: &[Role] = &[Role::HqAdmin, Role::Warehouse];

/// Who may ship for the order's shipper through the API: the shipping agent, or HQ's warehouse
/// staff and admins.
pub fn may_ship(conn: &mut DbConnection, order_id: i64, actor: Actor) -> Result<()> {
    let row = store::get(conn, order_id)?;
    let shipper = book::shipper(&row)?.ok_or_else(|| {
        Error::refuse(
            "no_shipper_yet",
            format!("order {order_id} has no shipper yet: it is {}", row.state),
        )
    })?;
    actor.require_party(shipper, HQ_SHIPPERS, "ship this order")
}

/// The buyer confirms receipt (or the receive window passed: `auto`): the order's items move from
/// transit into its custody, and the return window starts.
pub fn receive(
    conn: &mut DbConnection,
    order_id: i64,
    actor: Actor,
    auto: bool,
) -> Result<OrderRow> {
    crate::store::in_transaction(conn, |conn| {
        let row = store::get(conn, order_id)?;
        if !auto {
            actor.require_party(
                Party::Agent(agent_id(row.buyer_id)),
                &[],
                "confirm receipt of this order",
            )?;
        }
        receive_row(conn, &row, actor, auto, now())?;
        Ok(store::get(conn, order_id)?)
    })
}

/// Receives one loaded order at `at` (the receive job calls this for each due order).
pub fn receive_row(
    conn: &mut DbConnection,
    row: &OrderRow,
    actor: Actor,
    auto: bool,
    at: NaiveDateTime,
) -> Result<()> {
    let action = if auto {
        OrderAction::AutoReceive
    } else {
        OrderAction::Receive
    };
    let from = row.state;
    transition(from, action).map_err(refused)?;
    let return_days = row.return_days.unwrap_or(0);
    let due = at + Duration::days(i64::from(return_days));
    if !store::stamp(
        conn,
        row.id,
        &[OrderState::Shipped],
        OrderState::Received,
        at,
        Some(due),
    )? {
        return Err(changed_meanwhile(conn, row.id)?);
    }
    let buyer = Custodian::Agent(row.buyer_id).columns();
    let note = format!("order {}", row.id);
    for serial in stock::shipped_serials(conn, row.id)? {
        stock::move_item(
            conn,
            &serial,
            Custodian::Transit(Some(row.id)).columns(),
            buyer,
            CustodyEventKind::Receive,
            actor.user(),
            &note,
            at,
        )?;
    }
    stock::mark_received(conn, row.id, at)?;
    let note = if auto {
        Some("received automatically")
    } else {
        None
    };
    store::add_events(
        conn,
        &[(
            row.id,
            Some(OrderState::Shipped),
            OrderState::Received,
            actor.user(),
            note,
        )],
        at,
    )?;
    Ok(())
}
