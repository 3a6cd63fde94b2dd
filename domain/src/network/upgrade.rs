//! Upgrades (seed 004, DOMAIN §5): an agent moves up one tier when enough of the agents it referred
//! were activated at the target tier, and it pays the top-up (补齐差额) = target entry quantity ×
//! target price − what its entry order and earlier top-ups cost, never below 0. As an order, the
//! top-up is for the items still missing at the target price (goods = quantity × price, so every
//! forwarding leg and margin works as on any order), less a price-difference credit (差价) for
//! the items bought before at a higher price, which HQ bears as its upgrade allowance. The upgrade
//! takes effect when that order is paid.

use rust_decimal::Decimal;

use super::policy::{Entry, Policy};
use super::{TierRank, goods_amount};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    #[error("{0} is not a tier of this policy")]
    UnknownTier(TierRank),
    #[error("the top tier has nowhere to upgrade to")]
    AtTop,
    #[error("the policy offers no upgrade into {0}")]
    NoUpgradeInto(String),
    #[error("{have} of the {need} referred agents activated at {tier} needed")]
    NotEnoughReferrals { tier: String, have: u32, need: u32 },
    #[error("product {sku} has no price at {tier}: it cannot be ordered at that tier")]
    NoPrice { sku: String, tier: String },
}

/// What an agent's entry order and top-ups bought: how many items, and what it paid for them in
/// all (HQ's upgrade allowances excluded: with them, earlier items count at the price they were
/// brought to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryBasis {
    pub items: u32,
    pub paid: Decimal,
}

/// The top-up order that completes an upgrade (DOMAIN §5): the items still missing to the target
/// tier's entry quantity, at the target price, less a price-difference credit that HQ bears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopUp {
    pub target: TierRank,
    /// Items still missing to the target's entry quantity (never below 0).
    pub quantity: u32,
    /// The target tier's price.
    pub unit_price: Decimal,
    /// quantity × unit price, as on every order.
    pub goods_amount: Decimal,
    /// 差价 credit for the items bought before at a higher price: what they cost beyond the target
    /// price (never below 0).
    pub credit: Decimal,
    /// The part of the credit applied: HQ bears it (never more than the goods; the rest of the
    /// credit is not paid out).
    pub allowance: Decimal,
    /// What the agent pays: goods amount − allowance, never below 0.
    pub amount: Decimal,
}

/// The tier `current` may upgrade into, given the tiers at which the agents it referred were
/// activated; errors say what is missing.
pub fn upgrade_target(
    policy: &Policy,
    current: TierRank,
    referred_activated_at: &[TierRank],
) -> Result<TierRank, UpgradeError> {
    policy
        .tier(current)
        .ok_or(UpgradeError::UnknownTier(current))?;
    let target_rank = current
        .0
        .checked_sub(1)
        .filter(|r| *r >= 1)
        .ok_or(UpgradeError::AtTop)?;
    let target = policy
        .tier(TierRank(target_rank))
        .ok_or(UpgradeError::UnknownTier(TierRank(target_rank)))?;
    let need = target
        .upgrade_count
        .ok_or_else(|| UpgradeError::NoUpgradeInto(target.name_zh.clone()))?;
    let have = referred_activated_at
        .iter()
        .filter(|t| **t == target.rank)
        .count();
    let have = u32::try_from(have).unwrap_or(u32::MAX);
    if have < need {
        return Err(UpgradeError::NotEnoughReferrals {
            tier: target.name_zh.clone(),
            have,
            need,
        });
    }
    Ok(target.rank)
}

/// The top-up into `target` for an agent whose entry order and top-ups bought `basis`, in
/// product `sku` (the one the agent tops up with), at the target tier's price of that product.
///
/// The policy's entry threshold decides its size:
/// - by quantity: the items still missing to the target's entry quantity, less a credit for the
///   items bought before, valued at the target price of this product (`paid − items × price`).
///   With seed 004, a 区代 that bought 24 items at 38.00 (912.00) upgrading to 市代 (72 at 31.00)
///   tops up 48 items, goods 1,488.00, less a credit of 912.00 − 24 × 31.00 = 168.00: it pays
///   1,320.00 = 72 × 31.00 − 912.00, and HQ bears 168.00;
/// - by amount: the agent pays what is missing to the target's entry amount (`amount − paid`),
///   as the whole items that cover it; HQ bears the rest of the last item.
pub fn top_up(
    policy: &Policy,
    target: TierRank,
    basis: EntryBasis,
    sku: &str,
) -> Result<TopUp, UpgradeError> {
    let to = policy
        .tier(target)
        .ok_or(UpgradeError::UnknownTier(target))?;
    let price = policy
        .price(target, sku)
        .ok_or_else(|| UpgradeError::NoPrice {
            sku: sku.to_string(),
            tier: to.name_zh.clone(),
        })?;
    let (quantity, goods, credit) = match to.entry {
        Entry::Quantity(entry) => {
            let quantity = entry.saturating_sub(basis.items);
            let credit = (basis.paid - goods_amount(basis.items, price)).max(Decimal::ZERO);
            (quantity, goods_amount(quantity, price), credit)
        }
        Entry::Amount(entry) => {
            let missing = (entry - basis.paid).max(Decimal::ZERO);
            let items = (missing / price).ceil();
            let quantity =
                u32::try_from(items.mantissa() / 10i128.pow(items.scale())).unwrap_or(u32::MAX);
            let goods = goods_amount(quantity, price);
            (quantity, goods, goods - missing)
        }
    };
    let allowance = credit.min(goods);
    Ok(TopUp {
        target,
        quantity,
        unit_price: price,
        goods_amount: goods,
        credit,
        allowance,
        amount: goods - allowance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::dec;

    fn seed() -> Policy {
        Policy::seed_004().expect("preset")
    }

    #[test]
    fn a_district_agent_with_three_referred_city_agents_tops_up_1472() {
        let p = seed();
        let referred = [TierRank(3), TierRank(4), TierRank(3), TierRank(3)];
        let target = upgrade_target(&p, TierRank(4), &referred).expect("eligible");
        assert_eq!(target, TierRank(3));
        let basis = EntryBasis {
            items: 20,
            paid: dec("760.00"),
        };
        let t = top_up(&p, target, basis, "TEA").expect("tiers exist");
        assert_eq!(t.amount, dec("1472.00"), "72 × 31.00 − 20 × 38.00");
        assert_eq!((t.quantity, t.unit_price), (52, dec("31.00")));
        assert_eq!(
            t.goods_amount,
            dec("1612.00"),
            "52 × 31.00, as on any order"
        );
        assert_eq!((t.credit, t.allowance), (dec("140.00"), dec("140.00")));
    }

    #[test]
    fn not_enough_referrals_says_how_many() {
        let p = seed();
        let e = upgrade_target(&p, TierRank(2), &[TierRank(1); 4]).expect_err("needs 5");
        assert_eq!(
            e,
            UpgradeError::NotEnoughReferrals {
                tier: "总代".into(),
                have: 4,
                need: 5
            }
        );
        assert_eq!(
            upgrade_target(&p, TierRank(1), &[]),
            Err(UpgradeError::AtTop)
        );
        assert_eq!(
            upgrade_target(&p, TierRank(9), &[]),
            Err(UpgradeError::UnknownTier(TierRank(9)))
        );
        // Referred agents at other tiers do not count.
        assert!(upgrade_target(&p, TierRank(5), &[TierRank(3); 3]).is_err());
        assert_eq!(
            upgrade_target(&p, TierRank(5), &[TierRank(4); 3]),
            Ok(TierRank(4))
        );
    }

    /// DOMAIN §5's example: 24 items at 38.00 to 市代.
    #[test]
    fn the_domain_example_quantities_credit_and_payment_agree() {
        let p = seed();
        let basis = EntryBasis {
            items: 24,
            paid: dec("912.00"),
        };
        let t = top_up(&p, TierRank(3), basis, "TEA").expect("tiers");
        assert_eq!(t.quantity, 48);
        assert_eq!(t.goods_amount, dec("1488.00"));
        assert_eq!(t.goods_amount, Decimal::from(t.quantity) * t.unit_price);
        assert_eq!((t.credit, t.allowance), (dec("168.00"), dec("168.00")));
        assert_eq!(t.amount, dec("1320.00"));
    }

    /// A brand with an entry amount (市代 enters with 2,000.00 of goods) and its own honey
    /// price at 市代 (41.00): a 区代 that paid 912.00 still owes 1,088.00, bought as 27 honey
    /// (1,107.00); HQ bears the 19.00 beyond what is missing.
    #[test]
    fn an_entry_amount_tops_up_the_missing_money_in_the_chosen_product() {
        let doc = crate::network::policy::SEED_004
            .replace("entry_quantity = 72", "entry_amount = \"2000.00\"")
            + "\n[prices.HONEY]\ncity = \"41.00\"\ndistrict = \"49.00\"\n";
        let p = Policy::parse(&doc).expect("valid");
        let basis = EntryBasis {
            items: 24,
            paid: dec("912.00"),
        };
        let t = top_up(&p, TierRank(3), basis, "HONEY").expect("priced");
        assert_eq!(
            (t.quantity, t.unit_price, t.goods_amount),
            (27, dec("41.00"), dec("1107.00"))
        );
        assert_eq!((t.allowance, t.amount), (dec("19.00"), dec("1088.00")));
        let t = top_up(&p, TierRank(3), basis, "TEA").expect("the tier's own price");
        assert_eq!(
            (t.quantity, t.amount),
            (36, dec("1088.00")),
            "36 × 31.00 = 1116.00 − 28.00"
        );
        assert_eq!(
            p.price(TierRank(1), "HONEY"),
            None,
            "listed: sold at its listed tiers only"
        );
    }

    #[test]
    fn top_up_never_below_zero() {
        let p = seed();
        // 60 items at 38.00: 12 missing (372.00), credit 420.00 covers them; 48.00 is not paid out.
        let basis = EntryBasis {
            items: 60,
            paid: dec("2280.00"),
        };
        let t = top_up(&p, TierRank(3), basis, "TEA").expect("tiers");
        assert_eq!((t.quantity, t.goods_amount), (12, dec("372.00")));
        assert_eq!(
            (t.credit, t.allowance, t.amount),
            (dec("420.00"), dec("372.00"), Decimal::ZERO)
        );
        let basis = EntryBasis {
            items: 360,
            paid: dec("9000.00"),
        };
        let t = top_up(&p, TierRank(1), basis, "TEA").expect("tiers");
        assert_eq!(t.amount, dec("34200.00"), "2160 × 20.00 − 360 × 25.00");
        // Bought at a price below the target's (an older policy): no credit, and no surcharge.
        let basis = EntryBasis {
            items: 20,
            paid: dec("400.00"),
        };
        let t = top_up(&p, TierRank(3), basis, "TEA").expect("tiers");
        assert_eq!((t.credit, t.amount), (Decimal::ZERO, dec("1612.00")));
    }
}
