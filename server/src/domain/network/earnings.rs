//! Who earns what on an order, fixed once when it is paid (DOMAIN §5): the payee and the shipper,
//! each forwarding agent's margin (差价), the same-tier rebate (同级推荐奖) and the cross-tier award
//! (跨级推荐奖), each computed once, rounded once to the cent, and stored. Postings, completion and
//! refunds only ever read these stored amounts — never today's tiers, uplines or rates.

use rust_decimal::Decimal;

use super::forwarding::ForwardPlan;
use super::order::{OrderKind, RestockOrder};
use super::policy::Policy;
use super::{AgentId, OrderId, Party, TierRank, round_cents};

/// How the buyer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaidVia {
    /// An offline transfer the payee confirmed: into HQ's bank when HQ is the payee; otherwise
    /// straight to the agent payee, outside the ledger.
    Offline,
    /// Drawn from the buyer's available wallet.
    Wallet,
}

/// The buyer's referrer as it stood when the order was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referrer {
    pub agent: AgentId,
    pub tier: TierRank,
}

/// An amount earned by an agent on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earning {
    pub agent: AgentId,
    pub amount: Decimal,
}

/// The money of a paid order, as stored on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedOrder {
    pub order: OrderId,
    pub policy_version: u32,
    pub buyer: AgentId,
    pub payee: Party,
    pub shipper: Party,
    pub quantity: u32,
    /// quantity × unit price: the buyer's payment plus HQ's upgrade allowance.
    pub goods_amount: Decimal,
    /// An upgrade's price-difference credit that HQ bears (DOMAIN §5); zero on other orders.
    pub upgrade_allowance: Decimal,
    /// The shipper's part: goods amount − margins.
    pub shipper_amount: Decimal,
    /// 差价 of each agent that forwarded, nearest the buyer first.
    pub margins: Vec<Earning>,
    pub rebate: Option<Earning>,
    pub award: Option<Earning>,
    pub paid_via: PaidVia,
    /// The return window (维权期) of the order's policy version, in days.
    pub return_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error("the order was placed under policy {order}, not {given}")]
    PolicyVersion { order: u32, given: u32 },
    #[error("the order's tier is not in its policy")]
    UnknownTier,
    #[error("the forwarding plan is for another buyer or seller")]
    PlanMismatch,
    #[error("margins of {margins} exceed the goods amount {goods}")]
    MarginsExceedGoods { margins: Decimal, goods: Decimal },
    #[error("an upgrade allowance of {allowance} is outside 0 to the goods amount {goods}")]
    AllowanceOutOfRange { allowance: Decimal, goods: Decimal },
}

impl BookedOrder {
    /// Fixes the order's money at payment. `plan` is the forwarding plan when the order was
    /// forwarded; `referrer` is the buyer's referrer with its tier at this moment.
    pub fn at_payment(
        policy: &Policy,
        order: &RestockOrder,
        plan: Option<&ForwardPlan>,
        referrer: Option<Referrer>,
        paid_via: PaidVia,
    ) -> Result<BookedOrder, BookingError> {
        if policy.version() != order.policy_version {
            return Err(BookingError::PolicyVersion {
                order: order.policy_version,
                given: policy.version(),
            });
        }
        let tier = policy.tier(order.tier).ok_or(BookingError::UnknownTier)?;
        let (shipper, margins) = match plan {
            None => (order.seller, Vec::new()),
            Some(plan) => {
                let first = plan.legs.first().ok_or(BookingError::PlanMismatch)?;
                if first.buyer != order.buyer || first.seller != order.seller {
                    return Err(BookingError::PlanMismatch);
                }
                let margins = plan
                    .margins
                    .iter()
                    .map(|m| Earning {
                        agent: m.agent,
                        amount: m.amount,
                    })
                    .collect();
                (plan.shipper, margins)
            }
        };
        if order.upgrade_allowance < Decimal::ZERO || order.upgrade_allowance > order.goods_amount {
            return Err(BookingError::AllowanceOutOfRange {
                allowance: order.upgrade_allowance,
                goods: order.goods_amount,
            });
        }
        let margin_total: Decimal = margins.iter().map(|m: &Earning| m.amount).sum();
        if margin_total > order.goods_amount {
            return Err(BookingError::MarginsExceedGoods {
                margins: margin_total,
                goods: order.goods_amount,
            });
        }
        // 同级推荐奖: only when the referrer has the order's tier right now; otherwise it stays
        // with HQ (nobody else receives it).
        let rebate = referrer
            .filter(|r| r.tier == order.tier)
            .zip(tier.same_tier_rate)
            .map(|(r, rate)| Earning {
                agent: r.agent,
                // On what the buyer pays: HQ's upgrade allowance earns nobody a rebate.
                amount: round_cents(rate * (order.goods_amount - order.upgrade_allowance)),
            })
            .filter(|e| !e.amount.is_zero());
        // 跨级推荐奖: once, on the entry order that activates an agent above its referrer.
        let award = referrer
            .filter(|r| order.kind == OrderKind::Entry && order.tier.is_above(r.tier))
            .and_then(|r| {
                policy.award(r.tier, order.tier).map(|amount| Earning {
                    agent: r.agent,
                    amount: round_cents(amount),
                })
            });
        Ok(BookedOrder {
            order: order.id,
            policy_version: order.policy_version,
            buyer: order.buyer,
            payee: order.seller,
            shipper,
            quantity: order.quantity,
            goods_amount: order.goods_amount,
            upgrade_allowance: order.upgrade_allowance,
            shipper_amount: order.goods_amount - margin_total,
            margins,
            rebate,
            award,
            paid_via,
            return_days: policy.return_days(),
        })
    }

    /// What the buyer pays: the goods less HQ's upgrade allowance.
    pub fn buyer_pays(&self) -> Decimal {
        self.goods_amount - self.upgrade_allowance
    }

    /// Whether the buyer's money passed through the brand's books (wallet, or HQ's bank).
    pub fn through_platform(&self) -> bool {
        self.paid_via == PaidVia::Wallet || self.payee == Party::Hq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::dec;

    fn order(kind: OrderKind, tier: u8, qty: u32, price: &str) -> RestockOrder {
        RestockOrder::new(
            OrderId(1),
            kind,
            AgentId(2),
            TierRank(tier),
            Party::Hq,
            vec![],
            qty,
            dec(price),
            1,
        )
    }

    fn referrer(tier: u8) -> Option<Referrer> {
        Some(Referrer {
            agent: AgentId(1),
            tier: TierRank(tier),
        })
    }

    #[test]
    fn provincial_refers_provincial_nine_percent() {
        let p = Policy::seed_004().expect("preset");
        let o = order(OrderKind::Entry, 2, 360, "25.00");
        let b = BookedOrder::at_payment(&p, &o, None, referrer(2), PaidVia::Offline).expect("ok");
        assert_eq!(b.goods_amount, dec("9000.00"));
        assert_eq!(
            b.rebate,
            Some(Earning {
                agent: AgentId(1),
                amount: dec("810.00")
            })
        );
        assert_eq!(b.award, None, "same tier: a rebate, no award");
    }

    #[test]
    fn district_refers_city_award_150_once_on_entry() {
        let p = Policy::seed_004().expect("preset");
        let entry = order(OrderKind::Entry, 3, 72, "31.00");
        let b =
            BookedOrder::at_payment(&p, &entry, None, referrer(4), PaidVia::Offline).expect("ok");
        assert_eq!(
            b.award,
            Some(Earning {
                agent: AgentId(1),
                amount: dec("150.00")
            })
        );
        assert_eq!(b.rebate, None, "different tiers: no rebate");
        let restock = order(OrderKind::Restock, 3, 72, "31.00");
        let b =
            BookedOrder::at_payment(&p, &restock, None, referrer(4), PaidVia::Offline).expect("ok");
        assert_eq!(b.award, None, "an award is paid at activation only");
    }

    #[test]
    fn rebates_round_once_half_away_from_zero() {
        let p = Policy::seed_004().expect("preset");
        // 7% of 1 × 38.00 = 2.66; 7% of 3 × 38.50 is 8.085 → 8.09 (a brand price with cents).
        let o = order(OrderKind::Restock, 4, 1, "38.00");
        let b = BookedOrder::at_payment(&p, &o, None, referrer(4), PaidVia::Wallet).expect("ok");
        assert_eq!(b.rebate.map(|e| e.amount), Some(dec("2.66")));
        let o = order(OrderKind::Restock, 4, 3, "38.50");
        let b = BookedOrder::at_payment(&p, &o, None, referrer(4), PaidVia::Wallet).expect("ok");
        assert_eq!(b.rebate.map(|e| e.amount), Some(dec("8.09")));
    }

    #[test]
    fn the_policy_version_must_be_the_orders() {
        let p = Policy::seed_004().expect("preset");
        let mut o = order(OrderKind::Restock, 4, 1, "38.00");
        o.policy_version = 2;
        assert_eq!(
            BookedOrder::at_payment(&p, &o, None, None, PaidVia::Wallet),
            Err(BookingError::PolicyVersion { order: 2, given: 1 })
        );
    }
}
