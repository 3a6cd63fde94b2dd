//! Placing and answering restock orders (DOMAIN §4): submit, accept, reject, forward
//! (一键提交上级代发, up the chain fixed on the order until someone holds the stock), cancel, and
//! opening or closing an after-sale case. Payment, shipping and refunds have their own modules.

use diesel::Connection;

use super::book::{self, chain_links, restock_order};
use super::{Actor, HQ_MONEY, policy, refused};
use crate::domain::Role;
use crate::domain::network::order::{OrderAction, OrderKind, transition};
use crate::domain::network::{Party, Policy, SupplierLink, goods_amount, plan_forwarding};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::agents::{self as agents_store, AgentRow};
use crate::store::network::orders::{self as store, LegRow, NewOrder, OrderRow};
use crate::store::network::stock;
use crate::store::network::{agent_key, cents, party_columns, supplier_party};
use crate::store::products;
use crate::store::users::now;

/// HQ roles that answer orders placed with HQ.
pub const HQ_ANSWER: &[Role] = &[Role::HqAdmin];

/// An order as an agent asks for it.
#[derive(Debug, Clone)]
pub struct OrderInput {
    pub sku: String,
    pub quantity: i64,
}

/// The product an order is for, by SKU.
pub fn product_id(conn: &mut DbConnection, sku: &str) -> Result<i64> {
    products::find_by_sku(conn, sku.trim())?
        .map(|p| p.id)
        .ok_or_else(|| Error::BadRequest(format!("product SKU {sku:?} is not in the registry")))
}

/// The supplier chain from `seller` up, each with its tier's price under `policy`.
pub fn chain_from(
    conn: &mut DbConnection,
    seller: Party,
    policy: &Policy,
) -> Result<Vec<SupplierLink>> {
    let mut links = Vec::new();
    let mut at = seller;
    while let Party::Agent(a) = at {
        if links.iter().any(|l: &SupplierLink| l.agent == a) || links.len() > 64 {
            return Err(Error::Internal(format!("supplier chain above {a} loops")));
        }
        let row = agents_store::get(conn, agent_key(a))?;
        let price = policy
            .tier(book::tier(row.tier_rank))
            .ok_or_else(|| Error::Internal(format!("agent {a} has a tier outside the policy")))?
            .unit_price;
        links.push(SupplierLink {
            agent: a,
            unit_price: price,
        });
        at = supplier_party(row.supplier_id);
    }
    Ok(links)
}

/// Submits an order by the acting agent: its entry order (首批) while pending, a restock once
/// active. Priced at its tier, placed with its supplier, under the active policy.
pub fn submit(conn: &mut DbConnection, actor: Actor, input: &OrderInput) -> Result<OrderRow> {
    let Actor::Agent { agent, .. } = actor else {
        return Err(Error::Forbidden(
            "only an agent places restock orders".into(),
        ));
    };
    conn.transaction(|conn| {
        let buyer = agents_store::get(conn, agent)?;
        let (_, policy) = policy::active(conn)?;
        let kind = match buyer.status.as_str() {
            "pending" => OrderKind::Entry,
            "active" => OrderKind::Restock,
            other => {
                return Err(Error::Forbidden(format!(
                    "agent {agent} is {other} and cannot order"
                )));
            }
        };
        let tier = policy
            .tier(book::tier(buyer.tier_rank))
            .ok_or_else(|| Error::Internal("the agent's tier is not in the policy".into()))?
            .clone();
        if input.quantity < 1 || input.quantity > 1_000_000 {
            return Err(Error::BadRequest(format!(
                "quantity {} is out of range: order 1 to 1000000 items",
                input.quantity
            )));
        }
        if kind == OrderKind::Entry {
            if input.quantity < i64::from(tier.entry_quantity) {
                return Err(Error::BadRequest(format!(
                    "an entry order (首批) for {} is at least {} items, not {}",
                    tier.name_zh, tier.entry_quantity, input.quantity
                )));
            }
            let open = store::list(conn, store::Listing::PlacedBy(agent), None, 0, 100)?
                .into_iter()
                .any(|o| {
                    o.kind == "entry" && !book::state_of(&o.state).is_ok_and(|s| s.is_closed())
                });
            if open {
                return Err(Error::Conflict(
                    "an entry order is already open: pay or cancel it first".into(),
                ));
            }
        }
        let q = u32::try_from(input.quantity).unwrap_or(u32::MAX);
        let goods = goods_amount(q, tier.unit_price);
        let product = product_id(conn, &input.sku)?;
        let priced = Priced {
            tier_rank: tier.rank.0,
            quantity: q,
            unit_price: tier.unit_price,
            goods,
            upgrade_allowance: None,
        };
        place(conn, &buyer, kind, &policy, priced, product, actor)
    })
}

/// What an order is for and at what price, as placed.
#[derive(Debug, Clone, Copy)]
pub struct Priced {
    pub tier_rank: u8,
    pub quantity: u32,
    pub unit_price: rust_decimal::Decimal,
    /// quantity × unit price.
    pub goods: rust_decimal::Decimal,
    /// An upgrade's price-difference credit HQ bears (DOMAIN §5).
    pub upgrade_allowance: Option<rust_decimal::Decimal>,
}

/// Inserts an order with its seller and chain fixed now.
pub fn place(
    conn: &mut DbConnection,
    buyer: &AgentRow,
    kind: OrderKind,
    policy: &Policy,
    priced: Priced,
    product: i64,
    actor: Actor,
) -> Result<OrderRow> {
    let Priced {
        tier_rank,
        quantity,
        unit_price,
        goods,
        upgrade_allowance,
    } = priced;
    let seller = if kind == OrderKind::Upgrade {
        let graph = super::agents::graph_above(conn, buyer.id)?;
        crate::domain::network::placement::supplier_at(
            &graph.seen_by(crate::store::network::agent_id(buyer.id)),
            crate::store::network::agent_id(buyer.id),
            book::tier(i32::from(tier_rank)),
        )
        .map_err(|e| Error::Internal(e.to_string()))?
    } else {
        supplier_party(buyer.supplier_id)
    };
    let chain = chain_from(conn, seller, policy)?;
    let (seller_kind, seller_id) = party_columns(seller);
    let at = now();
    let row = store::insert(
        conn,
        &NewOrder {
            kind: book::kind_str(kind).into(),
            buyer_id: buyer.id,
            product_id: product,
            tier_rank: i32::from(tier_rank),
            seller_kind: seller_kind.into(),
            seller_id,
            supplier_chain: book::chain_text(&chain)?,
            quantity: i64::from(quantity),
            unit_price_cents: cents(unit_price)?,
            goods_amount_cents: cents(goods)?,
            policy_version: i64::from(policy.version()),
            receive_days: i32::try_from(policy.receive_days()).unwrap_or(i32::MAX),
            state: "submitted".into(),
            created_at: at,
            upgrade_allowance_cents: upgrade_allowance.map(cents).transpose()?,
        },
    )?;
    store::add_events(conn, &[(row.id, None, "submitted", actor.user(), None)], at)?;
    tracing::info!(
        order = row.id,
        buyer = buyer.id,
        kind = row.kind,
        quantity,
        "order submitted"
    );
    Ok(row)
}

/// Checks the action against the order's state (the domain's reason when it does not apply)
/// and moves it conditionally; a concurrent change in between is reported as such.
pub fn apply(
    conn: &mut DbConnection,
    row: &OrderRow,
    action: OrderAction,
    actor: Actor,
    note: Option<&str>,
) -> Result<&'static str> {
    let from = book::state_of(&row.state)?;
    let to = transition(from, action).map_err(refused)?;
    if !store::transition(conn, row.id, &[from.as_str()], to.as_str())? {
        return Err(changed_meanwhile(conn, row.id)?);
    }
    store::add_events(
        conn,
        &[(row.id, Some(from.as_str()), to.as_str(), actor.user(), note)],
        now(),
    )?;
    Ok(to.as_str())
}

/// The order moved under us: say what it is now.
pub fn changed_meanwhile(conn: &mut DbConnection, id: i64) -> Result<Error> {
    let now_state = store::get(conn, id)?.state;
    Ok(Error::Conflict(format!(
        "order {id} changed meanwhile: it is {now_state} now; nothing was done"
    )))
}

fn seller_may(actor: Actor, row: &OrderRow, what: &str) -> Result<()> {
    actor.require_party(book::seller(row)?, HQ_ANSWER, what)
}

/// The seller accepts: it holds the stock and will ship itself.
pub fn accept(conn: &mut DbConnection, id: i64, actor: Actor) -> Result<OrderRow> {
    conn.transaction(|conn| {
        let row = store::get(conn, id)?;
        seller_may(actor, &row, "accept this order")?;
        transition(book::state_of(&row.state)?, OrderAction::Accept).map_err(refused)?;
        let seller = book::seller(&row)?;
        if !stock::holds(conn, party_columns(seller), row.product_id, row.quantity)? {
            return Err(Error::Conflict(format!(
                "{} does not hold {} items of this product: forward the order to the supplier \
                 above instead",
                book::who(seller),
                row.quantity
            )));
        }
        apply(conn, &row, OrderAction::Accept, actor, None)?;
        set_shipper(conn, id, seller)?;
        store::get(conn, id)
    })
}

fn set_shipper(conn: &mut DbConnection, id: i64, shipper: Party) -> Result<()> {
    use crate::store::schema::restock_orders as o;
    use diesel::prelude::*;
    let (kind, sid) = party_columns(shipper);
    diesel::update(o::table.filter(o::id.eq(id)))
        .set((o::shipper_kind.eq(Some(kind)), o::shipper_id.eq(sid)))
        .execute(conn)?;
    Ok(())
}

/// The seller refuses the order.
pub fn reject(conn: &mut DbConnection, id: i64, actor: Actor, reason: &str) -> Result<OrderRow> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::BadRequest(
            "reason: say why, in 1 to 500 characters".into(),
        ));
    }
    conn.transaction(|conn| {
        let row = store::get(conn, id)?;
        seller_may(actor, &row, "reject this order")?;
        apply(conn, &row, OrderAction::Reject, actor, Some(reason))?;
        store::get(conn, id)
    })
}

/// The seller, out of stock, forwards the order up the chain fixed on it: whoever first holds the
/// stock ships to the buyer, every agent in between earns its margin (差价).
pub fn forward(conn: &mut DbConnection, id: i64, actor: Actor) -> Result<OrderRow> {
    conn.transaction(|conn| {
        let row = store::get(conn, id)?;
        seller_may(actor, &row, "forward this order")?;
        transition(book::state_of(&row.state)?, OrderAction::Forward).map_err(refused)?;
        let order = restock_order(&row)?;
        let links = chain_links(&row)?;
        if order.seller == Party::Hq {
            return Err(Error::Conflict(
                "HQ is the top of the chain: an order placed with HQ cannot be forwarded".into(),
            ));
        }
        let mut has = |p: Party| stock::holds(conn, party_columns(p), row.product_id, row.quantity);
        // Decide stock for every party first: the plan's closure cannot return errors.
        let mut stocked = Vec::new();
        for p in links
            .iter()
            .map(|l| Party::Agent(l.agent))
            .chain([Party::Hq])
        {
            stocked.push((p, has(p)?));
        }
        let plan = plan_forwarding(order.buyer, order.unit_price, order.quantity, &links, |p| {
            stocked.iter().any(|(q, s)| *q == p && *s)
        })
        .map_err(refused)?;
        if !plan.is_forwarded() {
            return Err(Error::Conflict(
                "the seller holds the stock: accept the order instead of forwarding it".into(),
            ));
        }
        let legs: Vec<LegRow> = plan
            .legs
            .iter()
            .enumerate()
            .map(|(i, leg)| {
                let (seller_kind, seller_id) = party_columns(leg.seller);
                let margin = plan.margins.iter().find(|m| m.agent == leg.buyer && i > 0);
                Ok(LegRow {
                    order_id: id,
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    buyer_id: agent_key(leg.buyer),
                    seller_kind: seller_kind.into(),
                    seller_id,
                    unit_price_cents: cents(leg.unit_price)?,
                    goods_amount_cents: cents(leg.goods_amount)?,
                    margin_cents: margin.map(|m| cents(m.amount)).transpose()?,
                })
            })
            .collect::<Result<_>>()?;
        apply(
            conn,
            &row,
            OrderAction::Forward,
            actor,
            Some(&format!("ships: {}", book::who(plan.shipper))),
        )?;
        store::insert_legs(conn, &legs)?;
        set_shipper(conn, id, plan.shipper)?;
        store::get(conn, id)
    })
}

/// The buyer (or HQ) cancels before shipping starts. A paid restock is refunded in full to the
/// buyer's wallet; a paid entry or upgrade order changed the agent and is refunded after receipt
/// instead.
pub fn cancel(conn: &mut DbConnection, id: i64, actor: Actor, reason: &str) -> Result<OrderRow> {
    conn.transaction(|conn| {
        let row = store::get(conn, id)?;
        let buyer = Party::Agent(crate::store::network::agent_id(row.buyer_id));
        if actor.require_party(buyer, &[], "cancel").is_err() {
            actor.require_hq(HQ_MONEY, "cancel another agent's order")?;
        }
        if row.state == "paid" {
            if row.kind != "restock" {
                return Err(Error::Conflict(format!(
                    "this {} order is paid and has changed the agent: ship it, and refund after \
                     receipt if needed",
                    row.kind
                )));
            }
            return super::refunds::cancel_paid(conn, &row, actor, reason);
        }
        apply(conn, &row, OrderAction::Cancel, actor, Some(reason))?;
        store::get(conn, id)
    })
}

/// HQ opens or closes an after-sale case (维权): completion waits while one is open.
pub fn set_case(conn: &mut DbConnection, id: i64, open: bool, actor: Actor) -> Result<OrderRow> {
    actor.require_hq(HQ_MONEY, "open or close an after-sale case")?;
    conn.transaction(|conn| {
        let row = store::get(conn, id)?;
        store::set_open_case(conn, id, open)?;
        let note = if open {
            "after-sale case opened"
        } else {
            "after-sale case closed"
        };
        store::add_events(
            conn,
            &[(id, Some(&row.state), &row.state, actor.user(), Some(note))],
            now(),
        )?;
        store::get(conn, id)
    })
}
