//! Who earns what on an order, fixed once when it is paid (DOMAIN §5): the payee and the shipper,
//! each forwarding agent's margin (差价), the same-tier rebate (同级推荐奖) and the cross-tier award
//! (跨级推荐奖), each computed once, rounded once to the cent, and stored. Postings, completion and
//! refunds only ever read these stored amounts — never today's tiers, uplines or rates.

use rust_decimal::Decimal;

use super::forwarding::ForwardPlan;
use super::order::{OrderKind, RestockOrder};
#[cfg(test)]
use super::order::{OrderLine, ProductId};
use super::policy::Policy;
use super::{AgentId, OrderId, Party, TierRank, round_cents};

/// How the buyer paid (`restock_orders.paid_via`; the API's `via`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum PaidVia {
    /// An offline transfer the payee confirmed: into HQ's bank when HQ is the payee; otherwise
    /// straight to the agent payee, outside the ledger.
    Offline,
    /// Drawn from the buyer's available wallet.
    Wallet,
}

impl PaidVia {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<PaidVia> {
        s.parse().ok()
    }
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

/// The money of one line of a paid order, as stored on it: every amount computed for this line
/// alone and rounded once, so refunds of the line reverse exactly these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedLine {
    pub quantity: u32,
    /// quantity × unit price: the buyer's payment for the line plus HQ's upgrade allowance on it.
    pub goods_amount: Decimal,
    /// An upgrade's price-difference credit on the line that HQ bears; zero otherwise.
    pub upgrade_allowance: Decimal,
    /// The shipper's part of the line: goods amount − the line's margins.
    pub shipper_amount: Decimal,
    /// 差价 of each agent that forwarded, on this line, nearest the buyer first.
    pub margins: Vec<Earning>,
    /// The line's part of the same-tier rebate (to [`BookedOrder::rebate_agent`]).
    pub rebate: Decimal,
    /// The line's part of the cross-tier award (to [`BookedOrder::award_agent`]).
    pub award: Decimal,
}

impl BookedLine {
    /// What the buyer pays for the line.
    pub fn buyer_pays(&self) -> Decimal {
        self.goods_amount - self.upgrade_allowance
    }
}

/// The money of a paid order, as stored on it: who is paid, and per line how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedOrder {
    pub order: OrderId,
    pub policy_version: u32,
    pub buyer: AgentId,
    pub payee: Party,
    pub shipper: Party,
    /// In the order's line order.
    pub lines: Vec<BookedLine>,
    /// Who earns the same-tier rebate, when someone does.
    pub rebate_agent: Option<AgentId>,
    /// Who earns the cross-tier award, when someone does.
    pub award_agent: Option<AgentId>,
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
    #[error("the forwarding plan is for another buyer, seller or cart")]
    PlanMismatch,
    #[error("margins of {margins} exceed the goods amount {goods}")]
    MarginsExceedGoods { margins: Decimal, goods: Decimal },
    #[error("an upgrade allowance of {allowance} is outside 0 to the goods amount {goods}")]
    AllowanceOutOfRange { allowance: Decimal, goods: Decimal },
    #[error("an order needs at least one line")]
    NoLines,
}

/// Splits a fixed `amount` over lines in proportion to their `weights`, each part rounded once;
/// the last line takes what is left, so the parts add up to exactly `amount`.
pub fn split(amount: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let total: Decimal = weights.iter().copied().sum();
    let mut out = Vec::with_capacity(weights.len());
    let mut left = amount;
    for (i, w) in weights.iter().enumerate() {
        let part = if i + 1 == weights.len() {
            left
        } else if total.is_zero() {
            Decimal::ZERO
        } else {
            round_cents(amount * *w / total)
        };
        left -= part;
        out.push(part);
    }
    out
}

impl BookedOrder {
    /// Fixes the order's money at payment, line by line. `plans` holds one forwarding plan per
    /// line when the order was forwarded; `referrer` is the buyer's referrer with its tier at
    /// this moment.
    pub fn at_payment(
        policy: &Policy,
        order: &RestockOrder,
        plans: Option<&[ForwardPlan]>,
        referrer: Option<Referrer>,
        paid_via: PaidVia,
    ) -> Result<BookedOrder, BookingError> {
        if policy.version() != order.policy_version {
            return Err(BookingError::PolicyVersion {
                order: order.policy_version,
                given: policy.version(),
            });
        }
        if order.lines.is_empty() {
            return Err(BookingError::NoLines);
        }
        let tier = policy.tier(order.tier).ok_or(BookingError::UnknownTier)?;
        let shipper = match plans {
            None => order.seller,
            Some(plans) => {
                if plans.len() != order.lines.len() {
                    return Err(BookingError::PlanMismatch);
                }
                for plan in plans {
                    let first = plan.legs.first().ok_or(BookingError::PlanMismatch)?;
                    if first.buyer != order.buyer
                        || first.seller != order.seller
                        || plan.shipper != plans[0].shipper
                    {
                        return Err(BookingError::PlanMismatch);
                    }
                }
                plans[0].shipper
            }
        };
        // 同级推荐奖: only when the referrer has the order's tier right now; otherwise it stays
        // with HQ (nobody else receives it).
        let rebate_to = referrer
            .filter(|r| r.tier == order.tier)
            .zip(tier.same_tier_rate);
        // 跨级推荐奖: once, on the entry order that activates an agent above its referrer; a fixed
        // amount, split over the lines by what the buyer pays for each, so a refund of part of a
        // line claws back that line's part in proportion.
        let award = referrer
            .filter(|r| order.kind == OrderKind::Entry && order.tier.is_above(r.tier))
            .and_then(|r| Some((r.agent, round_cents(policy.award(r.tier, order.tier)?))));
        let paid: Vec<Decimal> = order
            .lines
            .iter()
            .map(|l| l.goods_amount - l.upgrade_allowance)
            .collect();
        let award_parts = split(award.map_or(Decimal::ZERO, |a| a.1), &paid);
        let mut lines = Vec::with_capacity(order.lines.len());
        for (i, line) in order.lines.iter().enumerate() {
            if line.upgrade_allowance < Decimal::ZERO || line.upgrade_allowance > line.goods_amount
            {
                return Err(BookingError::AllowanceOutOfRange {
                    allowance: line.upgrade_allowance,
                    goods: line.goods_amount,
                });
            }
            let margins: Vec<Earning> = plans
                .map(|p| &p[i].margins[..])
                .unwrap_or_default()
                .iter()
                .map(|m| Earning {
                    agent: m.agent,
                    amount: m.amount,
                })
                .collect();
            let margin_total: Decimal = margins.iter().map(|m| m.amount).sum();
            if margin_total > line.goods_amount {
                return Err(BookingError::MarginsExceedGoods {
                    margins: margin_total,
                    goods: line.goods_amount,
                });
            }
            lines.push(BookedLine {
                quantity: line.quantity,
                goods_amount: line.goods_amount,
                upgrade_allowance: line.upgrade_allowance,
                shipper_amount: line.goods_amount - margin_total,
                margins,
                // On what the buyer pays: HQ's upgrade allowance earns nobody a rebate. Rounded
                // once per line.
                rebate: rebate_to.map_or(Decimal::ZERO, |(_, rate)| round_cents(rate * paid[i])),
                award: award_parts[i],
            });
        }
        let rebate_agent = rebate_to
            .map(|(r, _)| r.agent)
            .filter(|_| lines.iter().any(|l| !l.rebate.is_zero()));
        Ok(BookedOrder {
            order: order.id,
            policy_version: order.policy_version,
            buyer: order.buyer,
            payee: order.seller,
            shipper,
            lines,
            rebate_agent,
            award_agent: award.map(|a| a.0),
            paid_via,
            return_days: policy.return_days(),
        })
    }

    /// Items of all lines.
    pub fn quantity(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }

    /// Goods of all lines.
    pub fn goods_amount(&self) -> Decimal {
        self.lines.iter().map(|l| l.goods_amount).sum()
    }

    /// HQ's upgrade allowance over all lines.
    pub fn upgrade_allowance(&self) -> Decimal {
        self.lines.iter().map(|l| l.upgrade_allowance).sum()
    }

    /// The shipper's part over all lines.
    pub fn shipper_amount(&self) -> Decimal {
        self.lines.iter().map(|l| l.shipper_amount).sum()
    }

    /// What the buyer pays: the goods less HQ's upgrade allowance.
    pub fn buyer_pays(&self) -> Decimal {
        self.goods_amount() - self.upgrade_allowance()
    }

    /// Each forwarding agent's margin over all lines (the sum of its per-line margins), nearest
    /// the buyer first.
    pub fn margins(&self) -> Vec<Earning> {
        let mut out: Vec<Earning> = Vec::new();
        for m in self.lines.iter().flat_map(|l| &l.margins) {
            match out.iter_mut().find(|e| e.agent == m.agent) {
                Some(e) => e.amount += m.amount,
                None => out.push(*m),
            }
        }
        out
    }

    /// The same-tier rebate over all lines.
    pub fn rebate(&self) -> Option<Earning> {
        let amount: Decimal = self.lines.iter().map(|l| l.rebate).sum();
        self.rebate_agent
            .map(|agent| Earning { agent, amount })
            .filter(|e| !e.amount.is_zero())
    }

    /// The cross-tier award over all lines.
    pub fn award(&self) -> Option<Earning> {
        let amount: Decimal = self.lines.iter().map(|l| l.award).sum();
        self.award_agent.map(|agent| Earning { agent, amount })
    }

    /// Whether the buyer's money passed through the brand's books (wallet, or HQ's bank).
    pub fn through_platform(&self) -> bool {
        self.paid_via == PaidVia::Wallet || self.payee == Party::Hq
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn payment_ways_keep_their_stored_names() {
        use super::PaidVia;
        crate::pin_stored_names(
            &[(PaidVia::Offline, "offline"), (PaidVia::Wallet, "wallet")],
            PaidVia::as_str,
            PaidVia::parse,
        );
    }

    use super::*;
    use crate::network::dec;

    fn order(kind: OrderKind, tier: u8, qty: u32, price: &str) -> RestockOrder {
        RestockOrder::new(
            OrderId(1),
            kind,
            AgentId(2),
            TierRank(tier),
            Party::Hq,
            vec![],
            vec![OrderLine::new(ProductId(1), qty, dec(price))],
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
        assert_eq!(b.goods_amount(), dec("9000.00"));
        assert_eq!(
            b.rebate(),
            Some(Earning {
                agent: AgentId(1),
                amount: dec("810.00")
            })
        );
        assert_eq!(b.award(), None, "same tier: a rebate, no award");
    }

    #[test]
    fn district_refers_city_award_150_once_on_entry() {
        let p = Policy::seed_004().expect("preset");
        let entry = order(OrderKind::Entry, 3, 72, "31.00");
        let b =
            BookedOrder::at_payment(&p, &entry, None, referrer(4), PaidVia::Offline).expect("ok");
        assert_eq!(
            b.award(),
            Some(Earning {
                agent: AgentId(1),
                amount: dec("150.00")
            })
        );
        assert_eq!(b.rebate(), None, "different tiers: no rebate");
        let restock = order(OrderKind::Restock, 3, 72, "31.00");
        let b =
            BookedOrder::at_payment(&p, &restock, None, referrer(4), PaidVia::Offline).expect("ok");
        assert_eq!(b.award(), None, "an award is paid at activation only");
    }

    #[test]
    fn rebates_round_once_half_away_from_zero() {
        let p = Policy::seed_004().expect("preset");
        // 7% of 1 × 38.00 = 2.66; 7% of 3 × 38.50 is 8.085 → 8.09 (a brand price with cents).
        let o = order(OrderKind::Restock, 4, 1, "38.00");
        let b = BookedOrder::at_payment(&p, &o, None, referrer(4), PaidVia::Wallet).expect("ok");
        assert_eq!(b.rebate().map(|e| e.amount), Some(dec("2.66")));
        let o = order(OrderKind::Restock, 4, 3, "38.50");
        let b = BookedOrder::at_payment(&p, &o, None, referrer(4), PaidVia::Wallet).expect("ok");
        assert_eq!(b.rebate().map(|e| e.amount), Some(dec("8.09")));
    }

    /// Three lines, each rounded once: 7% of 3 × 38.50 (8.085 → 8.09), of 1 × 38.00 (2.66) and
    /// of 5 × 44.30 (15.505 → 15.51) is 26.26, a cent more than 7% of the total (26.25).
    /// The 150.00 award of a cart splits 70.00 / 30.00 / 50.00 by what each line costs.
    #[test]
    fn rebates_and_awards_per_line() {
        let p = Policy::seed_004().expect("preset");
        let mut o = order(OrderKind::Restock, 4, 3, "38.50");
        o.lines.push(OrderLine::new(ProductId(2), 1, dec("38.00")));
        o.lines.push(OrderLine::new(ProductId(3), 5, dec("44.30")));
        let b = BookedOrder::at_payment(&p, &o, None, referrer(4), PaidVia::Wallet).expect("ok");
        let rebates: Vec<_> = b.lines.iter().map(|l| l.rebate).collect();
        assert_eq!(rebates, [dec("8.09"), dec("2.66"), dec("15.51")]);
        assert_eq!(b.rebate().map(|e| e.amount), Some(dec("26.26")));
        assert_eq!(
            split(dec("150.00"), &[dec("70"), dec("30"), dec("50")]),
            [dec("70.00"), dec("30.00"), dec("50.00")]
        );
        assert_eq!(
            split(dec("0.10"), &[dec("1"), dec("1"), dec("1")]),
            [dec("0.03"), dec("0.03"), dec("0.04")]
        );
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
