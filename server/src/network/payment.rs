//! Paying an order (DOMAIN §4–§5): the payee confirms an offline transfer, or the buyer pays
//! from its wallet. Payment fixes the order's money ([`BookedOrder`]: shipper, margins, rebate,
//! award, return window) and books it; an entry order activates its buyer, an upgrade's top-up
//! moves the buyer up a tier. Of two concurrent payments exactly one books: the state change is
//! conditional, and the postings' keys are unique.

use super::book::{self, restock_order};
use super::orders::{HQ_ANSWER, changed_meanwhile};
use super::{Actor, HQ_MONEY, agents, ledger, refused};
use crate::domain::network::earnings::{BookedOrder, PaidVia, Referrer};
use crate::domain::network::order::{OrderAction, transition};
use crate::domain::network::{Account, Party, Policy, postings};
use crate::domain::network::{OrderKind, OrderState};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::agent_pages as pages;
use crate::store::network::agents as agents_store;
use crate::store::network::orders::{self as store, Booking, FullOrder, LineBooking, OrderRow};
use crate::store::network::{agent_id, agent_key, cents, party_columns};
use crate::store::typed::Stored;
use crate::store::users::now;

/// Pays order `id`. `Offline`: the payee confirms the transfer arrived (HQ finance for HQ).
/// `Wallet`: the buyer pays from its available balance, which must cover it.
pub fn pay(conn: &mut DbConnection, id: i64, via: PaidVia, actor: Actor) -> Result<OrderRow> {
    crate::store::in_transaction(conn, |conn| {
        let full = store::get_full(conn, id)?;
        let row = full.row.clone();
        let order = restock_order(&full)?;
        match via {
            PaidVia::Offline => {
                let roles = if order.seller == Party::Hq {
                    HQ_MONEY
                } else {
                    HQ_ANSWER
                };
                actor.require_party(order.seller, roles, "confirm the payment of this order")?
            }
            PaidVia::Wallet => actor.require_party(
                Party::Agent(order.buyer),
                &[],
                "pay this order from its wallet",
            )?,
        }
        transition(order.state, OrderAction::Pay).map_err(refused)?;
        let policy = super::policy::by_version(conn, row.policy_version)?;
        let plans = book::plans(&full)?;
        let referrer = referrer_now(conn, row.buyer_id)?;
        let booked = BookedOrder::at_payment(&policy, &order, plans.as_deref(), referrer, via)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let at = now();
        let lines = full
            .lines
            .iter()
            .zip(&booked.lines)
            .map(|(l, b)| {
                Ok(LineBooking {
                    line_id: l.id,
                    shipper_amount_cents: cents(b.shipper_amount)?,
                    rebate_cents: booked.rebate_agent.map(|_| cents(b.rebate)).transpose()?,
                    award_cents: booked.award_agent.map(|_| cents(b.award)).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if !store::record_payment(conn, id, &booking(&booked, at)?, &lines)? {
            return Err(changed_meanwhile(conn, id)?);
        }
        store::add_events(
            conn,
            &[(
                id,
                Some(order.state),
                OrderState::Paid,
                actor.user(),
                Some(via.as_str()),
            )],
            at,
        )?;
        ledger::book_order(conn, &row, &postings::on_payment(&booked))?;
        if via == PaidVia::Wallet {
            ledger::require_cover(conn, Account::available(order.buyer))?;
        }
        after_payment(conn, &full, &policy, actor.user())?;
        tracing::info!(order = id, via = via.as_str(), "order paid");
        Ok(store::get(conn, id)?)
    })
}

/// The buyer's referrer as it stands now, if it is active (a suspended referrer earns nothing).
fn referrer_now(conn: &mut DbConnection, buyer: i64) -> Result<Option<Referrer>> {
    let Some(r) = agents_store::get(conn, buyer)?.referrer_id else {
        return Ok(None);
    };
    let referrer = agents_store::get(conn, r)?;
    Ok(referrer.is_active().then(|| Referrer {
        agent: agent_id(referrer.id),
        tier: book::tier(referrer.tier_rank),
    }))
}

fn booking(b: &BookedOrder, at: chrono::NaiveDateTime) -> Result<Booking> {
    let (shipper_kind, shipper_id) = party_columns(b.shipper);
    Ok(Booking {
        state: Stored(OrderState::Paid),
        shipper_kind: Some(Stored(shipper_kind)),
        shipper_id,
        shipper_amount_cents: Some(cents(b.shipper_amount())?),
        paid_via: Some(Stored(b.paid_via)),
        rebate_agent_id: b.rebate().map(|e| agent_key(e.agent)),
        rebate_cents: b.rebate().map(|e| cents(e.amount)).transpose()?,
        award_agent_id: b.award().map(|e| agent_key(e.agent)),
        award_cents: b.award().map(|e| cents(e.amount)).transpose()?,
        return_days: Some(i32::try_from(b.return_days).unwrap_or(i32::MAX)),
        paid_at: Some(at),
    })
}

/// An entry order activates its buyer; an upgrade's top-up moves it to the order's tier. Either
/// way the suppliers below it are recomputed.
fn after_payment(
    conn: &mut DbConnection,
    full: &FullOrder,
    policy: &Policy,
    by: Option<i64>,
) -> Result<()> {
    let row = &full.row;
    let buyer = agents_store::get(conn, row.buyer_id)?;
    match row.kind {
        OrderKind::Entry => {
            if !agents_store::activate(conn, buyer.id, row.tier_rank, row.goods_amount_cents)? {
                return Err(Error::refuse(
                    "agent_not_pending",
                    format!(
                        "agent {} is {}, not pending: its entry order cannot activate it",
                        buyer.id, buyer.status
                    ),
                ));
            }
            agents_store::set_entry_items(conn, buyer.id, row.quantity)?;
            agents::recompute_below(conn, buyer.id, true)?;
        }
        OrderKind::Upgrade => {
            let takes = super::upgrade::Takes {
                paid_cents: row.goods_amount_cents - row.upgrade_allowance_cents.unwrap_or(0),
                items: row.quantity,
                policy_version: row.policy_version,
                order: Some(row.id),
                by,
            };
            let to = u8::try_from(row.tier_rank).map_err(|_| {
                Error::Internal(format!("order {} has tier rank {}", row.id, row.tier_rank))
            })?;
            super::upgrade::take_effect(conn, &buyer, to, takes, policy)?;
        }
        OrderKind::Restock => {}
    }
    Ok(())
}

/// Confirms that the seller of forwarding leg `position` of order `id` received its payment from
/// the leg's buyer (DOMAIN §4: an offline payment to an agent settles the margins outside the
/// books, so each agent of the chain pays the one above it its own price). Only the leg's seller
/// confirms (HQ finance when the leg ends at HQ); only once the order itself is paid, offline, to
/// an agent. A second confirmation is refused and changes nothing.
pub fn confirm_leg(
    conn: &mut DbConnection,
    id: i64,
    position: i32,
    actor: Actor,
) -> Result<OrderRow> {
    crate::store::in_transaction(conn, |conn| {
        let full = store::get_full(conn, id)?;
        let Some(leg) = full.legs.iter().find(|l| l.position == position) else {
            return Err(Error::not_found("forwarding leg"));
        };
        let seller = crate::store::network::party_of(leg.seller_kind, leg.seller_id)?;
        let roles = if seller == Party::Hq { HQ_MONEY } else { &[] };
        actor.require_party(seller, roles, "confirm the payment of this forwarding leg")?;
        let row = &full.row;
        let due = pages::LEGS_DUE_IN.contains(&row.state);
        // Leg 0 is the order itself: its payment is the order's (`pay`).
        if position == 0 && due {
            return Err(Error::refuse(
                "leg_already_paid",
                "the payment of this forwarding leg is already confirmed",
            ));
        }
        if !due {
            return Err(Error::refuse(
                "leg_not_due",
                "the buyer's payment of the order comes first; a forwarding leg is paid after it",
            ));
        }
        if row.paid_via != Some(PaidVia::Offline)
            || row.seller_kind != crate::domain::network::PartyKind::Agent
        {
            return Err(Error::refuse(
                "leg_settled_in_books",
                "this order was paid through the platform: its forwarding legs are settled in the ledger",
            ));
        }
        if !pages::record_leg_payment(conn, id, position, actor.user(), now())? {
            return Err(Error::refuse(
                "leg_already_paid",
                "the payment of this forwarding leg is already confirmed",
            ));
        }
        tracing::info!(order = id, leg = position, "forwarding leg paid");
        Ok(store::get(conn, id)?)
    })
}
