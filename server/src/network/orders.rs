//! Placing and answering restock orders (DOMAIN §4): submit, accept, reject, forward
//! (一键提交上级代发, up the chain fixed on the order until someone holds the stock), cancel, and
//! opening or closing an after-sale case. Payment, shipping and refunds have their own modules.

use rust_decimal::Decimal;

use super::book::{self, restock_order};
use super::{Actor, HQ_MONEY, policy, refused};
use crate::domain::Role;
use crate::domain::network::order::{OrderAction, OrderKind, OrderState, transition};
use crate::domain::network::{
    AgentId, CartLine, Party, Policy, SupplierLink, TierRank, goods_amount, plan_cart,
};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::agents::{self as agents_store, AgentRow};
use crate::store::network::orders::{
    self as store, FullOrder, LegRow, LineLegRow, NewLine, NewOrder, OrderRow,
};
use crate::store::network::stock;
use crate::store::network::{agent_key, cents, custodian_columns, party_columns, supplier_party};
use crate::store::products;
use crate::store::typed::Stored;
use crate::store::users::now;

/// HQ roles that answer orders placed with HQ.
pub const HQ_ANSWER: &[Role] = &[Role::HqAdmin];

/// One line of an order as an agent asks for it: a product and how many items.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineInput {
    pub sku: String,
    pub quantity: i64,
}

/// An order as an agent asks for it: a cart of one line per product.
#[derive(Debug, Clone)]
pub struct OrderInput {
    pub lines: Vec<LineInput>,
}

impl OrderInput {
    /// A cart of one product (the request shape before carts).
    pub fn single(sku: &str, quantity: i64) -> OrderInput {
        OrderInput {
            lines: vec![LineInput {
                sku: sku.into(),
                quantity,
            }],
        }
    }
}

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;

/// The product an order is for, by SKU.
pub fn product_id(conn: &mut DbConnection, sku: &str) -> Result<i64> {
    products::find_by_sku(conn, sku.trim())?
        .map(|p| p.id)
        .ok_or_else(|| Error::BadRequest(format!("product SKU {sku:?} is not in the registry")))
}

/// What an agent of `rank` pays for `sku` under `policy`: its price list's price, else refused
/// in both languages (DOMAIN §10: a product without a price for a tier is not sold at it).
pub fn price_for(policy: &Policy, rank: TierRank, sku: &str) -> Result<Decimal> {
    policy.price(rank, sku).ok_or_else(|| {
        let (zh, en) = policy.tier(rank).map_or(("?".into(), "?".into()), |t| {
            (t.name_zh.clone(), t.name_en.clone())
        });
        Error::NotPriced {
            sku: sku.to_string(),
            tier_zh: zh,
            tier_en: en,
        }
    })
}

/// The supplier chain from `seller` up: each agent with its tier as it stands now.
pub fn chain_from(conn: &mut DbConnection, seller: Party) -> Result<Vec<(AgentId, TierRank)>> {
    let mut links: Vec<(AgentId, TierRank)> = Vec::new();
    let mut at = seller;
    while let Party::Agent(a) = at {
        if links.iter().any(|l| l.0 == a) || links.len() > 64 {
            return Err(Error::Internal(format!("supplier chain above {a} loops")));
        }
        let row = agents_store::get(conn, agent_key(a))?;
        links.push((a, book::tier(row.tier_rank)));
        at = supplier_party(row.supplier_id);
    }
    Ok(links)
}

/// The chain's prices for one product: each agent's own price for it. An agent without a price
/// for the product cannot buy it, so it cannot forward it: it is given the price it would sell
/// at, which the forwarding rule refuses (it must buy cheaper than it sells).
fn chain_prices(
    policy: &Policy,
    chain: &[(AgentId, TierRank)],
    sku: &str,
    buyer_price: Decimal,
) -> Vec<SupplierLink> {
    let mut below = buyer_price;
    chain
        .iter()
        .map(|&(agent, rank)| {
            let unit_price = policy.price(rank, sku).unwrap_or(below);
            below = unit_price;
            SupplierLink { agent, unit_price }
        })
        .collect()
}

/// Submits an order by the acting agent: its entry order (首批) while pending, a restock once
/// active. Each line priced at its tier's price for the product, placed with its supplier, under
/// the active policy.
pub fn submit(conn: &mut DbConnection, actor: Actor, input: &OrderInput) -> Result<OrderRow> {
    let Actor::Agent { agent, .. } = actor else {
        return Err(Error::Forbidden(
            "only an agent places restock orders".into(),
        ));
    };
    if input.lines.is_empty() || input.lines.len() > MAX_LINES {
        return Err(Error::BadRequest(format!(
            "lines: an order has 1 to {MAX_LINES} lines, not {}",
            input.lines.len()
        )));
    }
    for (i, l) in input.lines.iter().enumerate() {
        if l.quantity < 1 || l.quantity > 1_000_000 {
            return Err(Error::BadRequest(format!(
                "lines[{i}].quantity: {} is out of range: order 1 to 1000000 items",
                l.quantity
            )));
        }
        if input.lines[..i]
            .iter()
            .any(|o| o.sku.trim() == l.sku.trim())
        {
            return Err(Error::BadRequest(format!(
                "lines[{i}].sku: product {:?} is on the order twice: put it on one line",
                l.sku.trim()
            )));
        }
    }
    crate::store::in_transaction(conn, |conn| {
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
        let mut lines = Vec::with_capacity(input.lines.len());
        for l in &input.lines {
            let sku = l.sku.trim();
            let product = product_id(conn, sku)?;
            let unit_price = price_for(&policy, tier.rank, sku)?;
            lines.push(PricedLine {
                product,
                sku: sku.to_string(),
                quantity: u32::try_from(l.quantity).unwrap_or(u32::MAX),
                unit_price,
                upgrade_allowance: None,
            });
        }
        if kind == OrderKind::Entry {
            let items: u64 = lines.iter().map(|l| u64::from(l.quantity)).sum();
            let goods: Decimal = lines
                .iter()
                .map(|l| goods_amount(l.quantity, l.unit_price))
                .sum();
            if !tier.entry.reached_by(items, goods) {
                return Err(Error::BadRequest(format!(
                    "an entry order (首批) for {} is at least {}, not {items} items worth {goods}",
                    tier.name_zh, tier.entry
                )));
            }
            let open: Vec<OrderState> = OrderState::ALL
                .into_iter()
                .filter(|s| !s.is_closed())
                .collect();
            if store::has_open(conn, agent, OrderKind::Entry, &open)? {
                return Err(Error::refuse(
                    "entry_order_open",
                    "an entry order is already open: pay or cancel it first",
                ));
            }
        }
        place(conn, &buyer, kind, &policy, tier.rank, lines, actor)
    })
}

/// One line of an order to place, priced.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub product: i64,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Decimal,
    /// An upgrade's price-difference credit HQ bears (DOMAIN §5).
    pub upgrade_allowance: Option<Decimal>,
}

/// Inserts an order with its seller, and each line's chain prices, fixed now.
pub fn place(
    conn: &mut DbConnection,
    buyer: &AgentRow,
    kind: OrderKind,
    policy: &Policy,
    tier_rank: TierRank,
    lines: Vec<PricedLine>,
    actor: Actor,
) -> Result<OrderRow> {
    let seller = if kind == OrderKind::Upgrade {
        let graph = super::agents::graph_above(conn, buyer.id)?;
        crate::domain::network::placement::supplier_at(
            &graph.seen_by(crate::store::network::agent_id(buyer.id)),
            crate::store::network::agent_id(buyer.id),
            tier_rank,
        )
        .map_err(|e| Error::Internal(e.to_string()))?
    } else {
        supplier_party(buyer.supplier_id)
    };
    let chain = chain_from(conn, seller)?;
    let (seller_kind, seller_id) = party_columns(seller);
    let mut new_lines = Vec::with_capacity(lines.len());
    let (mut items, mut goods, mut allowance) = (0i64, 0i64, None::<i64>);
    for (i, l) in lines.iter().enumerate() {
        let line_goods = cents(goods_amount(l.quantity, l.unit_price))?;
        let line_allowance = l.upgrade_allowance.map(cents).transpose()?;
        items += i64::from(l.quantity);
        goods += line_goods;
        if let Some(a) = line_allowance {
            allowance = Some(allowance.unwrap_or(0) + a);
        }
        new_lines.push(NewLine {
            position: i32::try_from(i).unwrap_or(i32::MAX),
            product_id: l.product,
            quantity: i64::from(l.quantity),
            unit_price_cents: cents(l.unit_price)?,
            goods_amount_cents: line_goods,
            upgrade_allowance_cents: line_allowance,
            supplier_chain: book::chain_text(&chain_prices(policy, &chain, &l.sku, l.unit_price))?,
        });
    }
    let at = now();
    let (row, _) = store::insert(
        conn,
        &NewOrder {
            kind: Stored(kind),
            buyer_id: buyer.id,
            tier_rank: i32::from(tier_rank.0),
            seller_kind: Stored(seller_kind),
            seller_id,
            quantity: items,
            goods_amount_cents: goods,
            policy_version: i64::from(policy.version()),
            receive_days: i32::try_from(policy.receive_days()).unwrap_or(i32::MAX),
            state: Stored(OrderState::Submitted),
            created_at: at,
            upgrade_allowance_cents: allowance,
        },
        &new_lines,
    )?;
    store::add_events(
        conn,
        &[(row.id, None, OrderState::Submitted, actor.user(), None)],
        at,
    )?;
    tracing::info!(
        order = row.id,
        buyer = buyer.id,
        kind = row.kind.as_str(),
        lines = new_lines.len(),
        items,
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
) -> Result<OrderState> {
    let from = row.state;
    let to = transition(from, action).map_err(refused)?;
    if !store::transition(conn, row.id, &[from], to)? {
        return Err(changed_meanwhile(conn, row.id)?);
    }
    store::add_events(conn, &[(row.id, Some(from), to, actor.user(), note)], now())?;
    Ok(to)
}

/// The order moved under us: say what it is now.
pub fn changed_meanwhile(conn: &mut DbConnection, id: i64) -> Result<Error> {
    let now_state = store::get(conn, id)?.state;
    Ok(Error::refuse(
        "changed_meanwhile",
        format!("order {id} changed meanwhile: it is {now_state} now; nothing was done"),
    ))
}

fn seller_may(actor: Actor, row: &OrderRow, what: &str) -> Result<()> {
    actor.require_party(book::seller(row)?, HQ_ANSWER, what)
}

/// The products of the order's lines that `holder` does not hold enough of (all checked, none
/// counted further than the line needs).
fn missing_stock(conn: &mut DbConnection, holder: Party, o: &FullOrder) -> Result<Vec<i64>> {
    let mut missing = Vec::new();
    for l in &o.lines {
        if !stock::holds(conn, custodian_columns(holder), l.product_id, l.quantity)? {
            missing.push(l.product_id);
        }
    }
    Ok(missing)
}

/// The seller accepts: it holds the stock of every line and will ship itself.
pub fn accept(conn: &mut DbConnection, id: i64, actor: Actor) -> Result<OrderRow> {
    crate::store::in_transaction(conn, |conn| {
        let o = store::get_full(conn, id)?;
        seller_may(actor, &o.row, "accept this order")?;
        transition(o.row.state, OrderAction::Accept).map_err(refused)?;
        let seller = book::seller(&o.row)?;
        let missing = missing_stock(conn, seller, &o)?;
        if !missing.is_empty() {
            let skus = products::skus(conn, &missing)?;
            return Err(Error::refuse(
                "out_of_stock",
                format!(
                    "{} does not hold enough of {}: forward the order to the supplier above instead",
                    book::who(seller),
                    skus.join(", ")
                ),
            ));
        }
        apply(conn, &o.row, OrderAction::Accept, actor, None)?;
        store::set_shipper(conn, id, party_columns(seller))?;
        Ok(store::get(conn, id)?)
    })
}

/// The seller refuses the order.
pub fn reject(conn: &mut DbConnection, id: i64, actor: Actor, reason: &str) -> Result<OrderRow> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::BadRequest(
            "reason: say why, in 1 to 500 characters".into(),
        ));
    }
    crate::store::in_transaction(conn, |conn| {
        let row = store::get(conn, id)?;
        seller_may(actor, &row, "reject this order")?;
        apply(conn, &row, OrderAction::Reject, actor, Some(reason))?;
        Ok(store::get(conn, id)?)
    })
}

/// The seller, out of stock, forwards the order up the chain fixed on it, as a whole: whoever
/// first holds the stock of every line ships the whole order to the buyer; every agent in
/// between earns its margin (差价) on each line.
pub fn forward(conn: &mut DbConnection, id: i64, actor: Actor) -> Result<OrderRow> {
    crate::store::in_transaction(conn, |conn| {
        let o = store::get_full(conn, id)?;
        let row = &o.row;
        seller_may(actor, row, "forward this order")?;
        transition(row.state, OrderAction::Forward).map_err(refused)?;
        let order = restock_order(&o)?;
        if order.seller == Party::Hq {
            return Err(Error::refuse(
                "hq_cannot_forward",
                "HQ is the top of the chain: an order placed with HQ cannot be forwarded",
            ));
        }
        // Decide stock for every party first: the plan's closure cannot return errors.
        let parties: Vec<Party> = order
            .supplier_chain
            .iter()
            .map(|a| Party::Agent(*a))
            .chain([Party::Hq])
            .collect();
        let mut stocked = Vec::new();
        for p in parties {
            stocked.push((p, missing_stock(conn, p, &o)?.is_empty()));
        }
        let cart: Vec<CartLine<'_>> = order
            .lines
            .iter()
            .map(|l| CartLine {
                quantity: l.quantity,
                buyer_price: l.unit_price,
                chain: &l.chain,
            })
            .collect();
        let plans = plan_cart(order.buyer, &cart, |p| {
            stocked.iter().any(|(q, s)| *q == p && *s)
        })
        .map_err(refused)?;
        let plan = &plans[0];
        if !plan.is_forwarded() {
            return Err(Error::refuse(
                "seller_holds_stock",
                "the seller holds the stock: accept the order instead of forwarding it",
            ));
        }
        let mut legs = Vec::with_capacity(plan.legs.len());
        let mut line_legs = Vec::with_capacity(plan.legs.len() * plans.len());
        for (i, leg) in plan.legs.iter().enumerate() {
            let (seller_kind, seller_id) = party_columns(leg.seller);
            let position = i32::try_from(i).unwrap_or(i32::MAX);
            let (mut goods, mut margin) = (0i64, None::<i64>);
            for (line, p) in o.lines.iter().zip(&plans) {
                let l = &p.legs[i];
                let m = p
                    .margins
                    .iter()
                    .find(|m| m.agent == leg.buyer && i > 0)
                    .map(|m| cents(m.amount))
                    .transpose()?;
                let g = cents(l.goods_amount)?;
                goods += g;
                if let Some(m) = m {
                    margin = Some(margin.unwrap_or(0) + m);
                }
                line_legs.push(LineLegRow {
                    line_id: line.id,
                    position,
                    unit_price_cents: cents(l.unit_price)?,
                    goods_amount_cents: g,
                    margin_cents: m,
                });
            }
            legs.push(LegRow {
                order_id: id,
                position,
                buyer_id: agent_key(leg.buyer),
                seller_kind,
                seller_id,
                goods_amount_cents: goods,
                margin_cents: margin,
            });
        }
        apply(
            conn,
            row,
            OrderAction::Forward,
            actor,
            Some(&format!("ships: {}", book::who(plan.shipper))),
        )?;
        store::insert_legs(conn, &legs, &line_legs)?;
        store::set_shipper(conn, id, party_columns(plan.shipper))?;
        Ok(store::get(conn, id)?)
    })
}

/// The buyer (or HQ) cancels before shipping starts. A paid restock is refunded in full to the
/// buyer's wallet; a paid entry or upgrade order changed the agent and is refunded after receipt
/// instead.
pub fn cancel(conn: &mut DbConnection, id: i64, actor: Actor, reason: &str) -> Result<OrderRow> {
    crate::store::in_transaction(conn, |conn| {
        let row = store::get(conn, id)?;
        let buyer = Party::Agent(crate::store::network::agent_id(row.buyer_id));
        if actor.require_party(buyer, &[], "cancel").is_err() {
            actor.require_hq(HQ_MONEY, "cancel another agent's order")?;
        }
        if row.state == OrderState::Paid {
            if row.kind != OrderKind::Restock {
                return Err(Error::refuse(
                    "paid_order_changed_agent",
                    format!(
                        "this {} order is paid and has changed the agent: ship it, and refund after \
                     receipt if needed",
                        row.kind
                    ),
                ));
            }
            return super::refunds::cancel_paid(conn, id, actor, reason);
        }
        apply(conn, &row, OrderAction::Cancel, actor, Some(reason))?;
        Ok(store::get(conn, id)?)
    })
}

/// HQ opens or closes an after-sale case (维权): completion waits while one is open.
pub fn set_case(conn: &mut DbConnection, id: i64, open: bool, actor: Actor) -> Result<OrderRow> {
    actor.require_hq(HQ_MONEY, "open or close an after-sale case")?;
    crate::store::in_transaction(conn, |conn| {
        let row = store::get(conn, id)?;
        store::set_open_case(conn, id, open)?;
        let note = if open {
            "after-sale case opened"
        } else {
            "after-sale case closed"
        };
        store::add_events(
            conn,
            &[(id, Some(row.state), row.state, actor.user(), Some(note))],
            now(),
        )?;
        Ok(store::get(conn, id)?)
    })
}
