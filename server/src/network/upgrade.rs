//! Upgrades (seed 004, DOMAIN §5): an agent whose referred agents activated at the tier above
//! reach that tier's count may place the top-up order (补齐差额) at the target price; paying it
//! moves the agent up (see `payment`), and its supplier and its downline's are recomputed then.
//! An agent whose entry and earlier top-ups already bought the target tier's entry quantity has
//! nothing to top up (q = 0): nothing to ship or pay, so it is upgraded at once, without an order.

use rust_decimal::Decimal;

use super::book::{self, tier};
use super::{Actor, orders, policy};
use crate::domain::network::order::{OrderKind, OrderState};
use crate::domain::network::{EntryBasis, Policy, UpgradeError, top_up, upgrade_target};
use crate::error::{Error, Result};
use crate::store::network::agents::{self as agents_store, AgentRow};
use crate::store::network::money;
use crate::store::network::orders::{self as orders_store, OrderRow};
use crate::store::{DbConnection, audit, products};

/// How far an agent is from its next tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The tier above, if the policy has an upgrade into it.
    pub target: Option<String>,
    /// Referred agents activated at the target tier.
    pub have: u32,
    pub need: u32,
    /// What the top-up order would cost now, and for how many items.
    pub top_up: Option<(u32, Decimal)>,
    pub eligible: bool,
}

/// What the agent's entry order and top-ups bought. Counted since DOMAIN §5's top-up rule; for an
/// agent activated before (or imported) its tier's entry quantity is assumed, which is what the
/// earlier rule assumed too.
pub fn basis(policy: &Policy, row: &AgentRow) -> Result<EntryBasis> {
    let items = match row.entry_items {
        Some(n) => book::quantity(n)?,
        None => {
            let t = policy.tier(tier(row.tier_rank)).ok_or_else(|| {
                Error::Internal(format!("agent {} has a tier outside the policy", row.id))
            })?;
            // By amount, items do not count (what was paid does); by quantity, the tier's.
            t.entry_quantity().unwrap_or(0)
        }
    };
    Ok(EntryBasis {
        items,
        paid: money(row.entry_paid_cents),
    })
}

/// The acting agent's upgrade progress.
pub fn progress(conn: &mut DbConnection, agent: i64) -> Result<Progress> {
    let row = agents_store::get(conn, agent)?;
    let (_, policy) = policy::active(conn)?;
    let referred: Vec<_> = agents_store::referred_activation_tiers(conn, agent)?
        .into_iter()
        .map(tier)
        .collect();
    let current = tier(row.tier_rank);
    let above = current
        .0
        .checked_sub(1)
        .and_then(|r| policy.tier(crate::domain::network::TierRank(r)));
    let Some(above) = above else {
        return Ok(Progress {
            target: None,
            have: 0,
            need: 0,
            top_up: None,
            eligible: false,
        });
    };
    let have = referred.iter().filter(|t| **t == above.rank).count() as u32;
    let need = above.upgrade_count.unwrap_or(0);
    let eligible = upgrade_target(&policy, current, &referred).is_ok();
    // What the top-up costs depends on the product (授权价格): shown for the first product of
    // the registry that the target tier has a price for.
    let sku = products::list(conn)?
        .into_iter()
        .map(|p| p.sku)
        .find(|sku| policy.price(above.rank, sku).is_some());
    let t = match sku {
        Some(sku) => Some(
            top_up(&policy, above.rank, basis(&policy, &row)?, &sku)
                .map_err(|e| Error::Internal(e.to_string()))?,
        ),
        None => None,
    };
    Ok(Progress {
        target: above.upgrade_count.map(|_| above.key.clone()),
        have,
        need,
        top_up: above.upgrade_count.and(t).map(|t| (t.quantity, t.amount)),
        eligible,
    })
}

/// What asking for an upgrade did.
#[derive(Debug, Clone)]
pub enum Requested {
    /// The top-up order was placed; paying it completes the upgrade.
    Order(Box<OrderRow>),
    /// There was nothing to top up (its entry and earlier top-ups bought the target tier's entry
    /// quantity): the agent is upgraded now, as it stands after.
    Upgraded(AgentRow),
}

/// The acting agent asks to move up a tier: places its top-up order for product `sku`, or, with
/// nothing to top up, is upgraded at once.
pub fn request(conn: &mut DbConnection, actor: Actor, sku: &str) -> Result<Requested> {
    let Actor::Agent { agent, .. } = actor else {
        return Err(Error::Forbidden("only an agent upgrades itself".into()));
    };
    crate::store::in_transaction(conn, |conn| {
        let row = agents_store::get(conn, agent)?;
        if !row.is_active() {
            return Err(Error::refuse(
                "agent_not_active",
                format!(
                    "agent {agent} is {}: only an active agent upgrades",
                    row.status
                ),
            ));
        }
        let (policy_row, policy) = policy::active(conn)?;
        let referred: Vec<_> = agents_store::referred_activation_tiers(conn, agent)?
            .into_iter()
            .map(tier)
            .collect();
        let target = upgrade_target(&policy, tier(row.tier_rank), &referred).map_err(
            |e: UpgradeError| Error::refuse("no_upgrade_yet", format!("no upgrade yet: {e}")),
        )?;
        let open = [
            OrderState::Submitted,
            OrderState::Accepted,
            OrderState::Forwarded,
        ];
        if orders_store::has_open(conn, agent, OrderKind::Upgrade, &open)? {
            return Err(Error::refuse(
                "upgrade_order_open",
                "an upgrade order is already open: pay or cancel it first",
            ));
        }
        // The product is checked even when nothing is ordered, so a bad request is refused alike.
        let sku = sku.trim();
        let product = orders::product_id(conn, sku)?;
        orders::price_for(&policy, target, sku)?;
        let t = top_up(&policy, target, basis(&policy, &row)?, sku)
            .map_err(|e| Error::Internal(e.to_string()))?;
        if t.quantity == 0 {
            // Nothing to ship, nothing to pay (goods 0.00; an unused credit is not paid out):
            // the agent qualifies as it stands. A zero-item order could only be "confirmed" with
            // nothing to confirm, so the upgrade takes effect now.
            let takes = Takes {
                paid_cents: 0,
                items: 0,
                policy_version: policy_row.version,
                order: None,
                by: actor.user(),
            };
            take_effect(conn, &row, target.0, takes, &policy)?;
            return Ok(Requested::Upgraded(agents_store::get(conn, agent)?));
        }
        let line = orders::PricedLine {
            product,
            sku: sku.to_string(),
            quantity: t.quantity,
            unit_price: t.unit_price,
            upgrade_allowance: Some(t.allowance),
        };
        let order = orders::place(
            conn,
            &row,
            OrderKind::Upgrade,
            &policy,
            target,
            vec![line],
            actor,
        )?;
        tracing::info!(agent, order = order.id, target = %book::tier(i32::from(target.0)), "upgrade requested");
        Ok(Requested::Order(Box::new(order)))
    })
}

/// What an upgrade adds to the agent's entry: what it paid now (HQ's allowance excluded) and
/// how many items it bought, under which policy, through which order (none for a zero top-up),
/// and who did it.
#[derive(Debug, Clone, Copy)]
pub struct Takes {
    pub paid_cents: i64,
    pub items: i64,
    pub policy_version: i64,
    pub order: Option<i64>,
    pub by: Option<i64>,
}

/// The upgrade takes effect: `agent` moves to tier rank `to`; what it has paid and bought to
/// enter grows by `takes` (the next upgrade's top-up starts from these, DOMAIN §5); its supplier
/// and its downline's are recomputed; the audit log says so. Refused if its tier changed
/// meanwhile (a concurrent upgrade moved it already).
pub fn take_effect(
    conn: &mut DbConnection,
    agent: &AgentRow,
    to: u8,
    takes: Takes,
    policy: &Policy,
) -> Result<()> {
    let to = i32::from(to);
    if to >= agent.tier_rank {
        return Err(Error::refuse(
            "already_at_tier",
            format!(
                "agent {} is already at tier rank {}",
                agent.id, agent.tier_rank
            ),
        ));
    }
    let before = basis(policy, agent)?;
    if !agents_store::upgrade_tier(
        conn,
        agent.id,
        agent.tier_rank,
        to,
        agent.entry_paid_cents + takes.paid_cents,
        takes.policy_version,
    )? {
        return Err(Error::refuse(
            "changed_meanwhile",
            format!("agent {}: its tier changed meanwhile; look again", agent.id),
        ));
    }
    agents_store::set_entry_items(conn, agent.id, i64::from(before.items) + takes.items)?;
    let moved = super::agents::recompute_below(conn, agent.id, false)?;
    audit::record(
        conn,
        takes.by,
        "agent.upgrade",
        &format!("agent:{}", agent.id),
        &serde_json::json!({
            "from": agent.tier_rank,
            "to": to,
            "order_id": takes.order,
            "top_up_items": takes.items,
            "paid": money(takes.paid_cents).to_string(),
            "suppliers_changed": moved,
        }),
    )?;
    tracing::info!(agent = agent.id, tier_rank = to, order = ?takes.order, "agent upgraded");
    Ok(())
}
