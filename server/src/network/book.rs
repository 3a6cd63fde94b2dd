//! Between stored order rows and the domain's order types: the order as placed
//! ([`RestockOrder`]), its forwarding plan ([`ForwardPlan`]) and its money as booked at payment
//! ([`BookedOrder`]). Read back exactly as written: nothing here recomputes an amount.

use crate::domain::network::earnings::{BookedLine, BookedOrder, Earning};
use crate::domain::network::forwarding::{ForwardPlan, Leg, Margin, SupplierLink};
use crate::domain::network::order::{OrderKind, OrderLine, OrderState, ProductId, RestockOrder};
use crate::domain::network::{AgentId, OrderId, Party, TierRank};
use crate::error::{Error, Result};
use crate::store::network::orders::{FullOrder, LineLegRow, LineRow, OrderRow};
use crate::store::network::{agent_id, money, party_of};

pub fn tier(rank: i32) -> TierRank {
    TierRank(u8::try_from(rank).unwrap_or(u8::MAX))
}

pub fn order_id(id: i64) -> OrderId {
    OrderId(id.unsigned_abs())
}

pub fn kind_str(kind: OrderKind) -> &'static str {
    kind.as_str()
}

pub fn state_of(s: &str) -> Result<OrderState> {
    OrderState::parse(s).ok_or_else(|| Error::Internal(format!("unknown order state {s:?}")))
}

/// The supplier chain fixed on a line, with each agent's price for its product then.
pub fn chain_links(line: &LineRow) -> Result<Vec<SupplierLink>> {
    if line.supplier_chain.is_empty() {
        return Ok(Vec::new());
    }
    line.supplier_chain
        .split(',')
        .map(|part| {
            let (agent, cents) = part
                .split_once('@')
                .and_then(|(a, c)| Some((a.parse::<i64>().ok()?, c.parse::<i64>().ok()?)))
                .ok_or_else(|| {
                    Error::Internal(format!("order line {} has a bad supplier chain", line.id))
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
    Ok(party_of(row.seller_kind, row.seller_id)?)
}

/// Who ships: fixed when the order is accepted or forwarded.
pub fn shipper(row: &OrderRow) -> Result<Option<Party>> {
    Ok(row
        .shipper_kind
        .map(|k| party_of(k, row.shipper_id))
        .transpose()?)
}

/// The order as placed, with its lines.
pub fn restock_order(o: &FullOrder) -> Result<RestockOrder> {
    let row = &o.row;
    let lines = o
        .lines
        .iter()
        .map(|l| {
            Ok(OrderLine {
                product: ProductId(l.product_id.unsigned_abs()),
                quantity: quantity(l.quantity)?,
                unit_price: money(l.unit_price_cents),
                goods_amount: money(l.goods_amount_cents),
                upgrade_allowance: money(l.upgrade_allowance_cents.unwrap_or(0)),
                chain: chain_links(l)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RestockOrder {
        id: order_id(row.id),
        kind: row.kind,
        buyer: agent_id(row.buyer_id),
        tier: tier(row.tier_rank),
        seller: seller(row)?,
        supplier_chain: lines
            .first()
            .map(|l| l.chain.iter().map(|c| c.agent).collect())
            .unwrap_or_default(),
        lines,
        policy_version: u32::try_from(row.policy_version)
            .map_err(|_| Error::Internal("policy version out of range".into()))?,
        state: row.state,
    })
}

pub fn quantity(q: i64) -> Result<u32> {
    u32::try_from(q).map_err(|_| Error::Internal(format!("quantity {q} out of range")))
}

/// The forwarding plans stored with a forwarded order, one per line; `None` when it was not
/// forwarded.
pub fn plans(o: &FullOrder) -> Result<Option<Vec<ForwardPlan>>> {
    if o.legs.len() < 2 {
        return Ok(None);
    }
    let shipper = shipper(&o.row)?
        .ok_or_else(|| Error::Internal(format!("forwarded order {} has no shipper", o.row.id)))?;
    o.lines
        .iter()
        .map(|line| {
            let q = quantity(line.quantity)?;
            let mine: Vec<&LineLegRow> = o
                .line_legs
                .iter()
                .filter(|g| g.line_id == line.id)
                .collect();
            if mine.len() != o.legs.len() {
                return Err(Error::Internal(format!(
                    "order {} line {} has {} legs, the order {}",
                    o.row.id,
                    line.id,
                    mine.len(),
                    o.legs.len()
                )));
            }
            let legs = o
                .legs
                .iter()
                .zip(&mine)
                .map(|(g, l)| {
                    Ok(Leg {
                        buyer: agent_id(g.buyer_id),
                        seller: party_of(g.seller_kind, g.seller_id)?,
                        quantity: q,
                        unit_price: money(l.unit_price_cents),
                        goods_amount: money(l.goods_amount_cents),
                    })
                })
                .collect::<Result<_>>()?;
            let margins = o
                .legs
                .iter()
                .zip(&mine)
                .filter_map(|(g, l)| {
                    l.margin_cents.map(|m| Margin {
                        agent: agent_id(g.buyer_id),
                        amount: money(m),
                    })
                })
                .collect();
            Ok(ForwardPlan {
                legs,
                shipper,
                margins,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The money fixed on a paid order, line by line; an error when it was never paid.
pub fn booked(o: &FullOrder) -> Result<BookedOrder> {
    let row = &o.row;
    let missing = || Error::Internal(format!("order {} has no booking", row.id));
    let Some(paid_via) = row.paid_via else {
        return Err(missing());
    };
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let margins = o
                .legs
                .iter()
                .filter_map(|g| {
                    let mine = o
                        .line_legs
                        .iter()
                        .find(|x| x.line_id == l.id && x.position == g.position)?;
                    Some(Earning {
                        agent: agent_id(g.buyer_id),
                        amount: money(mine.margin_cents?),
                    })
                })
                .collect();
            Ok(BookedLine {
                quantity: quantity(l.quantity)?,
                goods_amount: money(l.goods_amount_cents),
                upgrade_allowance: money(l.upgrade_allowance_cents.unwrap_or(0)),
                shipper_amount: money(l.shipper_amount_cents.ok_or_else(missing)?),
                margins,
                rebate: money(l.rebate_cents.unwrap_or(0)),
                award: money(l.award_cents.unwrap_or(0)),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(BookedOrder {
        order: order_id(row.id),
        policy_version: u32::try_from(row.policy_version).map_err(|_| missing())?,
        buyer: agent_id(row.buyer_id),
        payee: seller(row)?,
        shipper: shipper(row)?.ok_or_else(missing)?,
        lines,
        rebate_agent: row.rebate_agent_id.map(agent_id),
        award_agent: row.award_agent_id.map(agent_id),
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
