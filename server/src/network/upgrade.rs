//! Upgrades (seed 004, DOMAIN §5): an agent whose referred agents activated at the tier above
//! reach that tier's count may place the top-up order (补齐差额) at the target price; paying it
//! moves the agent up (see `payment`), and its supplier and its downline's are recomputed then.

use diesel::Connection;
use rust_decimal::Decimal;

use super::book::{self, tier};
use super::{Actor, orders, policy};
use crate::domain::network::order::OrderKind;
use crate::domain::network::{EntryBasis, Policy, UpgradeError, top_up, upgrade_target};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::agents::{self as agents_store, AgentRow};
use crate::store::network::money;
use crate::store::network::orders::{self as orders_store, OrderRow};

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
            policy
                .tier(tier(row.tier_rank))
                .ok_or_else(|| {
                    Error::Internal(format!("agent {} has a tier outside the policy", row.id))
                })?
                .entry_quantity
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
    let t = top_up(&policy, above.rank, basis(&policy, &row)?)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Progress {
        target: above.upgrade_count.map(|_| above.key.clone()),
        have,
        need,
        top_up: above.upgrade_count.map(|_| (t.quantity, t.amount)),
        eligible,
    })
}

/// The acting agent places its top-up order for product `sku`.
pub fn request(conn: &mut DbConnection, actor: Actor, sku: &str) -> Result<OrderRow> {
    let Actor::Agent { agent, .. } = actor else {
        return Err(Error::Forbidden("only an agent upgrades itself".into()));
    };
    conn.transaction(|conn| {
        let row = agents_store::get(conn, agent)?;
        if !row.is_active() {
            return Err(Error::Conflict(format!("agent {agent} is {}: only an active agent upgrades", row.status)));
        }
        let (_, policy) = policy::active(conn)?;
        let referred: Vec<_> = agents_store::referred_activation_tiers(conn, agent)?
            .into_iter()
            .map(tier)
            .collect();
        let target = upgrade_target(&policy, tier(row.tier_rank), &referred)
            .map_err(|e: UpgradeError| Error::Conflict(format!("no upgrade yet: {e}")))?;
        let open = orders_store::list(conn, orders_store::Listing::PlacedBy(agent), None, 0, 100)?
            .into_iter()
            .any(|o| o.kind == "upgrade" && matches!(o.state.as_str(), "submitted" | "accepted" | "forwarded"));
        if open {
            return Err(Error::Conflict("an upgrade order is already open: pay or cancel it first".into()));
        }
        let t = top_up(&policy, target, basis(&policy, &row)?)
            .map_err(|e| Error::Internal(e.to_string()))?;
        if t.quantity == 0 {
            return Err(Error::Conflict(
                "the entry order and top-ups bought the target tier's entry quantity already: \
                 there is nothing to top up"
                    .into(),
            ));
        }
        let product = orders::product_id(conn, sku)?;
        let priced = orders::Priced {
            tier_rank: target.0,
            quantity: t.quantity,
            unit_price: t.unit_price,
            goods: t.goods_amount,
            upgrade_allowance: Some(t.allowance),
        };
        let order =
            orders::place(conn, &row, OrderKind::Upgrade, &policy, priced, product, actor)?;
        tracing::info!(agent, order = order.id, target = %book::tier(i32::from(target.0)), "upgrade requested");
        Ok(order)
    })
}
