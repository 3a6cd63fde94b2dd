//! Forwarding (一键提交上级代发, DOMAIN §4): a supplier without enough stock passes the order up its
//! own supplier chain, as linked orders for the same quantity each at the forwarding agent's own
//! price, until someone holds the stock (HQ at the latest); that one drop-ships to the original
//! buyer. Each agent that forwarded nets quantity × (the price it was bought from at − its own
//! price): its margin (差价).

use rust_decimal::Decimal;

use super::{AgentId, Party, goods_amount};

/// One agent above the buyer, with its own tier price as fixed on the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupplierLink {
    pub agent: AgentId,
    pub unit_price: Decimal,
}

/// One order of the forwarded chain: `buyer` buys from `seller`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    pub buyer: AgentId,
    pub seller: Party,
    pub quantity: u32,
    /// The buyer's own tier price.
    pub unit_price: Decimal,
    pub goods_amount: Decimal,
}

/// 差价 earned by an agent that forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Margin {
    pub agent: AgentId,
    pub amount: Decimal,
}

/// Who ships, the linked orders, and the margins of everyone in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPlan {
    /// The original order first, then one linked order per forward.
    pub legs: Vec<Leg>,
    /// Whoever holds the stock and drop-ships to the original buyer.
    pub shipper: Party,
    /// One per agent that forwarded, nearest the buyer first.
    pub margins: Vec<Margin>,
}

impl ForwardPlan {
    /// The shipper's part of the buyer's money: its own order's goods amount.
    pub fn shipper_amount(&self) -> Decimal {
        self.legs.last().map_or(Decimal::ZERO, |l| l.goods_amount)
    }

    pub fn is_forwarded(&self) -> bool {
        self.legs.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("nothing to order")]
    NoQuantity,
    #[error("agent {agent} buys at {price}, not below the {buyer_price} it sells at")]
    PriceNotBelow {
        agent: AgentId,
        price: Decimal,
        buyer_price: Decimal,
    },
    #[error("no one up the chain, HQ included, holds {0} items")]
    OutOfStock(u32),
    #[error("the order's lines climb different supplier chains")]
    LinesDisagree,
    #[error("an order needs at least one line")]
    NoLines,
}

/// One line of a cart to forward: its quantity, the buyer's price, and the chain's prices for
/// its product (the same agents, nearest first, for every line).
#[derive(Debug, Clone, Copy)]
pub struct CartLine<'a> {
    pub quantity: u32,
    pub buyer_price: Decimal,
    pub chain: &'a [SupplierLink],
}

/// Plans a cart forwarded as a whole: the first party up the chain that holds *every* line
/// (`has_stock`) ships them all, so all lines have the same legs and shipper; each line's margins
/// are its quantity × its own price differences, rounded once per line. One plan per line.
pub fn plan_cart(
    buyer: AgentId,
    lines: &[CartLine<'_>],
    has_stock: impl Fn(Party) -> bool,
) -> Result<Vec<ForwardPlan>, ForwardError> {
    let first = lines.first().ok_or(ForwardError::NoLines)?;
    let agents = |chain: &[SupplierLink]| chain.iter().map(|l| l.agent).collect::<Vec<_>>();
    if lines.iter().any(|l| agents(l.chain) != agents(first.chain)) {
        return Err(ForwardError::LinesDisagree);
    }
    let plans = lines
        .iter()
        .map(|l| plan_forwarding(buyer, l.buyer_price, l.quantity, l.chain, &has_stock))
        .collect::<Result<Vec<_>, _>>()?;
    if plans.iter().any(|p| p.shipper != plans[0].shipper) {
        return Err(ForwardError::LinesDisagree);
    }
    Ok(plans)
}

/// Plans an order of `quantity` by `buyer` at `buyer_price`, whose suppliers are `chain` (nearest
/// first, agents only; HQ is implicitly above the last). `has_stock` tells who can ship it all.
pub fn plan_forwarding(
    buyer: AgentId,
    buyer_price: Decimal,
    quantity: u32,
    chain: &[SupplierLink],
    has_stock: impl Fn(Party) -> bool,
) -> Result<ForwardPlan, ForwardError> {
    if quantity == 0 {
        return Err(ForwardError::NoQuantity);
    }
    let mut legs = Vec::new();
    let mut margins = Vec::new();
    let (mut from, mut price) = (buyer, buyer_price);
    for link in chain {
        legs.push(leg(from, Party::Agent(link.agent), quantity, price));
        if has_stock(Party::Agent(link.agent)) {
            return Ok(ForwardPlan {
                legs,
                shipper: Party::Agent(link.agent),
                margins,
            });
        }
        if link.unit_price >= price {
            return Err(ForwardError::PriceNotBelow {
                agent: link.agent,
                price: link.unit_price,
                buyer_price: price,
            });
        }
        margins.push(Margin {
            agent: link.agent,
            amount: goods_amount(quantity, price - link.unit_price),
        });
        (from, price) = (link.agent, link.unit_price);
    }
    legs.push(leg(from, Party::Hq, quantity, price));
    if !has_stock(Party::Hq) {
        return Err(ForwardError::OutOfStock(quantity));
    }
    Ok(ForwardPlan {
        legs,
        shipper: Party::Hq,
        margins,
    })
}

fn leg(buyer: AgentId, seller: Party, quantity: u32, unit_price: Decimal) -> Leg {
    Leg {
        buyer,
        seller,
        quantity,
        unit_price,
        goods_amount: goods_amount(quantity, unit_price),
    }
}

impl crate::Refusal for ForwardError {
    fn code(&self) -> &'static str {
        match self {
            ForwardError::NoQuantity => "order_no_quantity",
            ForwardError::PriceNotBelow { .. } => "order_price_not_below",
            ForwardError::OutOfStock(_) => "out_of_stock",
            ForwardError::LinesDisagree => "order_lines_disagree",
            ForwardError::NoLines => "order_no_lines",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::dec;
    use proptest::prelude::*;

    /// 区代 1 ← 市代 2 ← 省代 3 ← 总代 4 (seed-004 prices).
    fn chain() -> Vec<SupplierLink> {
        [(2, "31.00"), (3, "25.00"), (4, "20.00")]
            .map(|(a, p)| SupplierLink {
                agent: AgentId(a),
                unit_price: dec(p),
            })
            .to_vec()
    }

    #[test]
    fn a_supplier_with_stock_ships_itself() {
        let plan = plan_forwarding(AgentId(1), dec("38.00"), 20, &chain(), |_| true).expect("plan");
        assert_eq!(plan.shipper, Party::Agent(AgentId(2)));
        assert!(!plan.is_forwarded() && plan.margins.is_empty());
        assert_eq!(plan.shipper_amount(), dec("760.00"));
    }

    #[test]
    fn forwarded_twice_to_the_national_agent() {
        // 市代 2 and 省代 3 are out of stock; 总代 4 holds it and drop-ships to the 区代.
        let plan = plan_forwarding(AgentId(1), dec("38.00"), 20, &chain(), |p| {
            p == Party::Agent(AgentId(4))
        })
        .expect("plan");
        assert_eq!(plan.shipper, Party::Agent(AgentId(4)));
        let amounts: Vec<_> = plan.legs.iter().map(|l| l.goods_amount).collect();
        assert_eq!(amounts, [dec("760.00"), dec("620.00"), dec("500.00")]);
        assert_eq!(
            plan.margins,
            [
                Margin {
                    agent: AgentId(2),
                    amount: dec("140.00")
                },
                Margin {
                    agent: AgentId(3),
                    amount: dec("120.00")
                },
            ]
        );
    }

    #[test]
    fn up_to_hq_when_nobody_has_stock() {
        let plan = plan_forwarding(AgentId(1), dec("38.00"), 20, &chain(), |p| p == Party::Hq)
            .expect("plan");
        assert_eq!(plan.shipper, Party::Hq);
        assert_eq!(plan.margins.len(), 3);
        assert_eq!(plan.margins[2].amount, dec("100.00"), "20 × (25 − 20)");
        let none = plan_forwarding(AgentId(1), dec("38.00"), 20, &chain(), |_| false);
        assert_eq!(none, Err(ForwardError::OutOfStock(20)));
        assert_eq!(
            plan_forwarding(AgentId(1), dec("38.00"), 0, &chain(), |_| true),
            Err(ForwardError::NoQuantity)
        );
    }

    #[test]
    fn a_cart_is_forwarded_as_a_whole_with_margins_per_line() {
        // Tea at the seed prices, honey with a list of its own: 区代 45.00, 市代 36.50, 省代
        // 30.00, 总代 24.00. 市代 2 and 省代 3 hold none of the cart; 总代 4 holds it all.
        let tea = chain();
        let honey = [(2, "36.50"), (3, "30.00"), (4, "24.00")].map(|(a, p)| SupplierLink {
            agent: AgentId(a),
            unit_price: dec(p),
        });
        let lines = [
            CartLine {
                quantity: 20,
                buyer_price: dec("38.00"),
                chain: &tea,
            },
            CartLine {
                quantity: 7,
                buyer_price: dec("45.00"),
                chain: &honey,
            },
        ];
        let plans = plan_cart(AgentId(1), &lines, |p| p == Party::Agent(AgentId(4))).expect("plan");
        assert!(plans.iter().all(|p| p.shipper == Party::Agent(AgentId(4))));
        let honey_margins: Vec<_> = plans[1].margins.iter().map(|m| m.amount).collect();
        assert_eq!(
            honey_margins,
            [dec("59.50"), dec("45.50")],
            "7 × 8.50, 7 × 6.50"
        );
        assert_eq!(
            plans[1].shipper_amount(),
            dec("210.00"),
            "7 × 30.00: what 省代 3 pays 总代 4"
        );
        let other = [SupplierLink {
            agent: AgentId(9),
            unit_price: dec("1.00"),
        }];
        let bad = [
            lines[0],
            CartLine {
                chain: &other,
                ..lines[1]
            },
        ];
        assert_eq!(
            plan_cart(AgentId(1), &bad, |_| true),
            Err(ForwardError::LinesDisagree)
        );
        assert_eq!(
            plan_cart(AgentId(1), &[], |_| true),
            Err(ForwardError::NoLines)
        );
    }

    proptest! {
        /// The buyer's money splits exactly into the shipper's order and the margins.
        #[test]
        fn money_splits_exactly(q in 1u32..5000, stock_at in 0usize..4, cents in 1i64..500) {
            let extra = Decimal::new(cents, 2);
            let plan = plan_forwarding(AgentId(1), dec("38.00") + extra, q, &chain(), |p| match p {
                Party::Hq => true,
                Party::Agent(a) => a.0 as usize == stock_at + 2,
            }).expect("plan");
            let margins: Decimal = plan.margins.iter().map(|m| m.amount).sum();
            prop_assert_eq!(plan.legs[0].goods_amount, plan.shipper_amount() + margins);
            prop_assert!(plan.margins.iter().all(|m| m.amount > Decimal::ZERO));
        }
    }
}
