//! Retail (issue 20; rules in `chainmark_domain::retail`): an agent's sales to end customers by
//! scanning items out of its custody (零售开单出库), its members (终端会员), consumers joining
//! from a verified item, and O2O reorders from an item's code (扫码下单) that the agent fulfils
//! by a sale.
//!
//! A sale is all or nothing: every scanned code is read and checked against the custody rules
//! (the same `Sell` decision as a handheld's sell scan) before anything is written; a code that
//! cannot be sold comes back with its reason and nothing changes. The writes — the sale, its
//! items (each sold at retail once: the key), the custody moves (conditional on the custodian
//! seen), the member, the O2O order closed — are one transaction.

use chainmark_wire::{RejectReason, ScanKind};

use crate::domain::custody::{self, Context, CustodyEventKind, Party, Scanned};
use crate::domain::retail::{
    self as rules, CustomerSource, RetailError, RetailOrderState, receipt_number,
};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::network::{Actor, refused};
use crate::store::DbConnection;
use crate::store::custody::{self as custody_store, ScanOrigin};
use crate::store::network::agents as agent_store;
use crate::store::retail::{self as store, NewRetailOrder, NewSale, RetailOrderRow, SaleRow};
use crate::store::users::now;

/// The agent a retail request acts for: retail is an agent's own business.
pub fn agent_of(actor: Actor) -> Result<i64> {
    match actor {
        Actor::Agent { agent, .. } => Ok(agent),
        _ => Err(Error::Forbidden(
            "retail sales are an agent's: sign in as the agent".into(),
        )),
    }
}

/// A sale as the agent asks for it.
#[derive(Debug, Clone, Default)]
pub struct SaleInput {
    /// The scanned or typed codes, one per line (item URLs, serials, case codes).
    pub codes: String,
    pub customer_name: String,
    pub customer_phone: String,
    /// The O2O order this sale fulfils.
    pub retail_order: Option<i64>,
}

/// A code that cannot be sold, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsold {
    pub code: String,
    pub reason: RejectReason,
}

/// A sale made.
#[derive(Debug, Clone)]
pub struct Sold {
    pub sale: SaleRow,
    pub receipt: String,
}

/// Sells the scanned items to the customer (or a walk-in). `Ok(Err(codes))`: some codes cannot
/// be sold (unknown, forged, not in the agent's custody, an opened case), and nothing was written.
pub fn sell(
    c: &mut DbConnection,
    keys: &KeyRing,
    actor: Actor,
    input: &SaleInput,
) -> Result<std::result::Result<Sold, Vec<Unsold>>> {
    let agent = agent_of(actor)?;
    let codes = rules::scanned_codes(&input.codes).map_err(refused)?;
    let mut customer = rules::sale_customer(&input.customer_name, &input.customer_phone)
        .map_err(refused)?
        .map(|c| (c, CustomerSource::Sale));
    let order = match input.retail_order {
        Some(id) => {
            let o = own_order(c, agent, id)?;
            rules::may_close(o.state).map_err(refused)?;
            Some(o)
        }
        None => None,
    };
    crate::store::in_transaction(c, |c| {
        // Read and decide every code first: all or nothing.
        let mut decided = Vec::with_capacity(codes.len());
        let mut unsold = Vec::new();
        for code in &codes {
            let scanned = match crate::ingest::apply::resolve(c, keys, code)? {
                Ok(s) => s,
                Err(reason) => {
                    unsold.push(Unsold {
                        code: code.clone(),
                        reason,
                    });
                    continue;
                }
            };
            match custody::decide(
                ScanKind::Sell,
                Party::Agent(agent),
                &scanned,
                &Context::None,
            ) {
                Ok(changes) => decided.push((scanned, changes)),
                Err(reason) => unsold.push(Unsold {
                    code: code.clone(),
                    reason,
                }),
            }
        }
        if !unsold.is_empty() {
            return Ok(Err(unsold));
        }
        let mut serials: Vec<String> = Vec::new();
        for (scanned, _) in &decided {
            match scanned {
                Scanned::Item(i) => serials.push(i.serial.clone()),
                Scanned::Case { items, .. } => {
                    serials.extend(items.iter().map(|i| i.serial.clone()))
                }
            }
        }
        // An item scanned twice (or once alone and once in its sealed case) is one item sold:
        // keep the first of each, in the order scanned.
        let mut seen = std::collections::HashSet::new();
        serials.retain(|s| seen.insert(s.clone()));
        let at = now();
        if let Some(o) = &order {
            let member =
                store::customer(c, o.customer_id)?.ok_or_else(|| Error::not_found("customer"))?;
            customer = Some((
                rules::Customer {
                    name: member.name,
                    phone: member.phone,
                },
                CustomerSource::Reorder,
            ));
            if !store::close_order(c, o.id, RetailOrderState::Fulfilled, actor.user(), at)? {
                return Err(refused(RetailError::OrderNotOpen));
            }
        }
        let customer_id = match &customer {
            Some((cu, source)) => Some(store::upsert_customer(c, agent, cu, *source, at)?),
            None => None,
        };
        let id = store::insert_sale(
            c,
            &NewSale {
                agent_id: agent,
                customer_id,
                retail_order_id: order.as_ref().map(|o| o.id),
                serials,
                sold_by: actor.user(),
            },
            at,
        )?;
        let note = format!("retail sale {id}");
        let origin = ScanOrigin {
            kind: CustodyEventKind::Sell,
            device: None,
            actor: actor.user(),
            note: Some(&note),
        };
        for (scanned, changes) in &decided {
            let seen = match scanned {
                Scanned::Item(item) => std::slice::from_ref(item),
                Scanned::Case { items, .. } => items.as_slice(),
            };
            custody_store::apply(c, changes, seen, &origin)?;
        }
        let sale = store::sale(c, id)?.ok_or_else(|| Error::not_found("sale"))?;
        Ok(Ok(Sold {
            receipt: receipt_number(id, (at + chrono::Duration::hours(8)).date()),
            sale,
        }))
    })
}

fn own_order(c: &mut DbConnection, agent: i64, id: i64) -> Result<RetailOrderRow> {
    store::retail_order(c, id)?
        .filter(|o| o.agent_id == agent)
        .ok_or_else(|| Error::not_found("retail order"))
}

/// The agent calls off an O2O order it cannot fulfil.
pub fn cancel_order(c: &mut DbConnection, actor: Actor, id: i64) -> Result<RetailOrderRow> {
    let agent = agent_of(actor)?;
    let o = own_order(c, agent, id)?;
    rules::may_close(o.state).map_err(refused)?;
    if !store::close_order(c, id, RetailOrderState::Cancelled, actor.user(), now())? {
        return Err(refused(RetailError::OrderNotOpen));
    }
    own_order(c, agent, id)
}

/// A sale of the agent's, with its receipt lines.
pub fn receipt(
    c: &mut DbConnection,
    actor: Actor,
    id: i64,
) -> Result<(
    SaleRow,
    String,
    Vec<store::ReceiptLine>,
    Option<store::CustomerRow>,
)> {
    let agent = agent_of(actor)?;
    let sale = store::sale(c, id)?
        .filter(|s| s.agent_id == agent)
        .ok_or_else(|| Error::not_found("sale"))?;
    let customer = match sale.customer_id {
        Some(cid) => store::customer(c, cid)?,
        None => None,
    };
    let number = receipt_number(id, (sale.sold_at + chrono::Duration::hours(8)).date());
    Ok((sale, number, store::receipt_lines(c, id)?, customer))
}

/// One of the agent's members.
pub fn member(c: &mut DbConnection, actor: Actor, id: i64) -> Result<store::CustomerRow> {
    let agent = agent_of(actor)?;
    store::customer(c, id)?
        .filter(|m| m.agent_id == agent)
        .ok_or_else(|| Error::not_found("customer"))
}

/// Who sells an item to its consumer now: the agent that sold it (at retail or by a sell scan).
/// `None` when HQ sold it or nobody has yet.
pub fn seller_name(c: &mut DbConnection, serial: &str) -> Result<Option<(i64, String)>> {
    Ok(match store::seller_of(c, serial)? {
        Some(a) => Some((a, agent_store::get(c, a)?.name)),
        None => None,
    })
}

/// A consumer who verified `serial` joins the agent that sold it as a member (its phone found
/// again when it was one already). Answers the agent's name.
pub fn join_as_member(
    c: &mut DbConnection,
    serial: &str,
    name: &str,
    phone: &str,
) -> Result<String> {
    let customer = rules::customer(name, phone).map_err(refused)?;
    let (agent, agent_name) =
        seller_name(c, serial)?.ok_or_else(|| refused(RetailError::NoAgent))?;
    store::upsert_customer(c, agent, &customer, CustomerSource::Verify, now())?;
    Ok(agent_name)
}

/// A consumer's reorder from an item's code (O2O 扫码下单).
#[derive(Debug, Clone, Default)]
pub struct ReorderInput {
    pub name: String,
    pub phone: String,
    pub quantity: String,
    pub note: String,
    /// The region (GB/T 2260) the consumer picked when no agent sold the item.
    pub region: Option<String>,
}

/// Places the reorder with the agent that sold the item, or the agent authorised for the
/// region picked; the agent sees it among its retail orders.
pub fn reorder(
    c: &mut DbConnection,
    serial: &str,
    input: &ReorderInput,
) -> Result<(RetailOrderRow, String)> {
    let customer = rules::customer(&input.name, &input.phone).map_err(refused)?;
    let (quantity, note) = rules::reorder(&input.quantity, &input.note).map_err(refused)?;
    let product = store::product_of_item(c, serial)?.ok_or_else(|| Error::not_found("item"))?;
    let agent = match store::seller_of(c, serial)? {
        Some(a) => a,
        None => match input.region.as_deref() {
            Some(r) => {
                store::agent_for_region(c, r)?.ok_or_else(|| refused(RetailError::NoAgent))?
            }
            None => return Err(refused(RetailError::NoAgent)),
        },
    };
    crate::store::in_transaction(c, |c| {
        let at = now();
        let member = store::upsert_customer(c, agent, &customer, CustomerSource::Reorder, at)?;
        let id = store::place_order(
            c,
            &NewRetailOrder {
                agent_id: agent,
                customer_id: member,
                product_id: product,
                quantity,
                note: note.as_deref(),
                from_serial: Some(serial),
            },
            at,
        )?;
        let order = store::retail_order(c, id)?.ok_or_else(|| Error::not_found("retail order"))?;
        Ok((order, agent_store::get(c, agent)?.name))
    })
}
