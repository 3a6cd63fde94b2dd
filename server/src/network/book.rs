//! Between stored order rows and the domain's order types: the order as placed
//! ([`RestockOrder`]), its forwarding plan ([`ForwardPlan`]) and its money as booked at payment
//! ([`BookedOrder`]). Read back exactly as written: nothing here recomputes an amount.

use crate::domain::network::earnings::{BookedOrder, Earning, PaidVia};
use crate::domain::network::forwarding::{ForwardPlan, Leg, Margin, SupplierLink};
use crate::domain::network::order::{OrderKind, OrderState, RestockOrder};
use crate::domain::network::{AgentId, OrderId, Party, TierRank};
use crate::error::{Error, Result};
use crate::store::network::orders::{LegRow, OrderRow};
use crate::store::network::{agent_id, money, party_of};

pub fn tier(rank: i32) -> TierRank {
    TierRank(u8::try_from(rank).unwrap_or(u8::MAX))
}

pub fn order_id(id: i64) -> OrderId {
    OrderId(id.unsigned_abs())
}

pub fn kind_str(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Entry => "entry",
        OrderKind::Restock => "restock",
        OrderKind::Upgrade => "upgrade",
    }
}

fn kind_of(s: &str) -> Result<OrderKind> {
    match s {
        "entry" => Ok(OrderKind::Entry),
        "restock" => Ok(OrderKind::Restock),
        "upgrade" => Ok(OrderKind::Upgrade),
        other => Err(Error::Internal(format!("unknown order kind {other:?}"))),
    }
}

pub fn state_of(s: &str) -> Result<OrderState> {
    use OrderState::*;
    [
        Submitted,
        Accepted,
        Forwarded,
        Rejected,
        Paid,
        Shipping,
        Shipped,
        Received,
        Completed,
        Cancelled,
        PartiallyRefunded,
        Refunded,
    ]
    .into_iter()
    .find(|st| st.as_str() == s)
    .ok_or_else(|| Error::Internal(format!("unknown order state {s:?}")))
}

pub fn paid_via_str(via: PaidVia) -> &'static str {
    match via {
        PaidVia::Offline => "offline",
        PaidVia::Wallet => "wallet",
    }
}

/// The supplier chain fixed on the order, with each agent's price then.
pub fn chain_links(row: &OrderRow) -> Result<Vec<SupplierLink>> {
    if row.supplier_chain.is_empty() {
        return Ok(Vec::new());
    }
    row.supplier_chain
        .split(',')
        .map(|part| {
            let (agent, cents) = part
                .split_once('@')
                .and_then(|(a, c)| Some((a.parse::<i64>().ok()?, c.parse::<i64>().ok()?)))
                .ok_or_else(|| {
                    Error::Internal(format!("order {} has a bad supplier chain", row.id))
                })?;
            Ok(SupplierLink {
                agent: agent_id(agent),
                unit_price: money(cents),
            })
        })
        .collect()
}

/// The chain as stored.
pub fn chain_text(links: &[SupplierLink]) -> Result<String> {
    let parts = links
        .iter()
        .map(|l| {
            Ok(format!(
                "{}@{}",
                l.agent,
                crate::store::network::cents(l.unit_price)?
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(parts.join(","))
}

pub fn seller(row: &OrderRow) -> Result<Party> {
    party_of(&row.seller_kind, row.seller_id)
}

/// Who ships: fixed when the order is accepted or forwarded.
pub fn shipper(row: &OrderRow) -> Result<Option<Party>> {
    row.shipper_kind
        .as_deref()
        .map(|k| party_of(k, row.shipper_id))
        .transpose()
}

pub fn restock_order(row: &OrderRow) -> Result<RestockOrder> {
    Ok(RestockOrder {
        id: order_id(row.id),
        kind: kind_of(&row.kind)?,
        buyer: agent_id(row.buyer_id),
        tier: tier(row.tier_rank),
        seller: seller(row)?,
        supplier_chain: chain_links(row)?.into_iter().map(|l| l.agent).collect(),
        quantity: quantity(row.quantity)?,
        unit_price: money(row.unit_price_cents),
        goods_amount: money(row.goods_amount_cents),
        upgrade_allowance: money(row.upgrade_allowance_cents.unwrap_or(0)),
        policy_version: u32::try_from(row.policy_version)
            .map_err(|_| Error::Internal("policy version out of range".into()))?,
        state: state_of(&row.state)?,
    })
}

pub fn quantity(q: i64) -> Result<u32> {
    u32::try_from(q).map_err(|_| Error::Internal(format!("quantity {q} out of range")))
}

/// The forwarding plan stored with a forwarded order; `None` when it was not forwarded.
pub fn plan(row: &OrderRow, legs: &[LegRow]) -> Result<Option<ForwardPlan>> {
    let legs: Vec<&LegRow> = legs.iter().filter(|l| l.order_id == row.id).collect();
    if legs.len() < 2 {
        return Ok(None);
    }
    let shipper = shipper(row)?
        .ok_or_else(|| Error::Internal(format!("forwarded order {} has no shipper", row.id)))?;
    let q = quantity(row.quantity)?;
    Ok(Some(ForwardPlan {
        legs: legs
            .iter()
            .map(|l| {
                Ok(Leg {
                    buyer: agent_id(l.buyer_id),
                    seller: party_of(&l.seller_kind, l.seller_id)?,
                    quantity: q,
                    unit_price: money(l.unit_price_cents),
                    goods_amount: money(l.goods_amount_cents),
                })
            })
            .collect::<Result<_>>()?,
        shipper,
        margins: legs
            .iter()
            .filter_map(|l| {
                l.margin_cents.map(|m| Margin {
                    agent: agent_id(l.buyer_id),
                    amount: money(m),
                })
            })
            .collect(),
    }))
}

fn earning(agent: Option<i64>, cents: Option<i64>) -> Option<Earning> {
    Some(Earning {
        agent: agent_id(agent?),
        amount: money(cents?),
    })
}

/// The money fixed on a paid order; an error when it was never paid.
pub fn booked(row: &OrderRow, legs: &[LegRow]) -> Result<BookedOrder> {
    let missing = || Error::Internal(format!("order {} has no booking", row.id));
    let paid_via = match row.paid_via.as_deref() {
        Some("offline") => PaidVia::Offline,
        Some("wallet") => PaidVia::Wallet,
        _ => return Err(missing()),
    };
    let margins = legs
        .iter()
        .filter(|l| l.order_id == row.id)
        .filter_map(|l| earning(Some(l.buyer_id), l.margin_cents))
        .collect();
    Ok(BookedOrder {
        order: order_id(row.id),
        policy_version: u32::try_from(row.policy_version).map_err(|_| missing())?,
        buyer: agent_id(row.buyer_id),
        payee: seller(row)?,
        shipper: shipper(row)?.ok_or_else(missing)?,
        quantity: quantity(row.quantity)?,
        goods_amount: money(row.goods_amount_cents),
        upgrade_allowance: money(row.upgrade_allowance_cents.unwrap_or(0)),
        shipper_amount: money(row.shipper_amount_cents.ok_or_else(missing)?),
        margins,
        rebate: earning(row.rebate_agent_id, row.rebate_cents),
        award: earning(row.award_agent_id, row.award_cents),
        paid_via,
        return_days: u32::try_from(row.return_days.ok_or_else(missing)?).map_err(|_| missing())?,
    })
}

/// The agent on the other side, for messages.
pub fn who(p: Party) -> String {
    match p {
        Party::Hq => "HQ".into(),
        Party::Agent(AgentId(a)) => format!("agent {a}"),
    }
}
