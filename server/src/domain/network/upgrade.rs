//! Upgrades (seed 004, DOMAIN §5): an agent moves up one tier when enough of the agents it referred
//! were activated at the target tier, and it pays the top-up (补齐差额) = target entry quantity ×
//! target price − the entry amount it paid for its current tier, never below 0, as a restock order
//! at the target price. The upgrade takes effect when that order is paid.

use rust_decimal::Decimal;

use super::policy::Policy;
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
}

/// The top-up order that completes an upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopUp {
    pub target: TierRank,
    /// Items still missing to the target's entry quantity (never below 0).
    pub quantity: u32,
    /// The target tier's price.
    pub unit_price: Decimal,
    /// What the agent pays: target entry amount − entry amount already paid, never below 0.
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

/// The top-up into `target` for an agent of tier `current` that paid `entry_paid` for it.
///
/// With seed 004, a 区代 (paid 20 × 38.00 = 760.00) upgrading to 市代 tops up 72 × 31.00 − 760.00 =
/// 1472.00 for the 52 items it still lacks: its 20 earlier items are re-priced at 31.00.
pub fn top_up(
    policy: &Policy,
    current: TierRank,
    target: TierRank,
    entry_paid: Decimal,
) -> Result<TopUp, UpgradeError> {
    let from = policy
        .tier(current)
        .ok_or(UpgradeError::UnknownTier(current))?;
    let to = policy
        .tier(target)
        .ok_or(UpgradeError::UnknownTier(target))?;
    let full = goods_amount(to.entry_quantity, to.unit_price);
    Ok(TopUp {
        target,
        quantity: to.entry_quantity.saturating_sub(from.entry_quantity),
        unit_price: to.unit_price,
        amount: (full - entry_paid).max(Decimal::ZERO),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::dec;

    fn seed() -> Policy {
        Policy::seed_004().expect("preset")
    }

    #[test]
    fn a_district_agent_with_three_referred_city_agents_tops_up_1472() {
        let p = seed();
        let referred = [TierRank(3), TierRank(4), TierRank(3), TierRank(3)];
        let target = upgrade_target(&p, TierRank(4), &referred).expect("eligible");
        assert_eq!(target, TierRank(3));
        let t = top_up(&p, TierRank(4), target, dec("760.00")).expect("tiers exist");
        assert_eq!(t.amount, dec("1472.00"), "72 × 31.00 − 20 × 38.00");
        assert_eq!((t.quantity, t.unit_price), (52, dec("31.00")));
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

    #[test]
    fn top_up_never_below_zero() {
        let p = seed();
        let t = top_up(&p, TierRank(4), TierRank(3), dec("5000.00")).expect("tiers");
        assert_eq!(t.amount, Decimal::ZERO);
        let t = top_up(&p, TierRank(2), TierRank(1), dec("9000.00")).expect("tiers");
        assert_eq!(t.amount, dec("34200.00"), "2160 × 20.00 − 360 × 25.00");
    }
}
