//! The level policy (DOMAIN §9): for each tier of the network policy, how an agent reaches it
//! (upgrade paths), loses it ([`Downgrade`]) and keeps it ([`Protection`], 保级), plus the points
//! rule (等级值) and what a policy change does to agents already placed (re-level or 配额).
//!
//! A TOML document (see `docs/levels.md`), validated against the active tier policy; every problem
//! is reported at once, each naming its field (`levels[1].paths[0].window_days: …`).

use rust_decimal::Decimal;

use super::downgrade::{Downgrade, Protection};
use super::metrics::{Metric, PointsRule, Window};
use crate::network::TierRank;
use crate::network::policy::{ApprovalMode, Policy, PolicyError};

/// "All of" or "any of" the chosen conditions (同时满足 / 满足任一).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    All,
    Any,
}

/// One condition of a path or of a protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `metric` ≥ `target` over the window.
    AtLeast { metric: Metric, target: Decimal },
    /// 购买指定商品: bought any one of these SKUs in the window.
    BoughtProduct { skus: Vec<String> },
    /// 直接支付升级: paid the level price (at least `price`) for this level in the window.
    PaidLevelPrice { price: Decimal },
}

/// Conditions joined by all/any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionSet {
    pub join: Match,
    pub conditions: Vec<Condition>,
}

/// One way into a level: conditions over an assessment window (考核周期), and who approves.
/// Only `ApprovalMode::Automatic` paths are taken by the assessment itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradePath {
    pub window: Window,
    pub set: ConditionSet,
    pub approval: ApprovalMode,
}

/// A level (等级): one tier of the network policy with its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub rank: TierRank,
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// `false`: 等级不会自动升降级 — never entered or left by the assessment on its own rules
    /// (another level's downgrade may still name it).
    pub automatic: bool,
    pub paths: Vec<UpgradePath>,
    pub downgrades: Vec<Downgrade>,
    pub protection: Option<Protection>,
}

/// What activating a new level policy does to agents already placed (seed 001 调整升降级规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// 按新规则更新: every agent is re-levelled by the new rules.
    Relevel,
    /// 保持当前等级不变: levels stay; quotas (配额) make each agent fit its level under the new rules.
    Keep,
}

/// A validated level policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelPolicy {
    pub version: u32,
    pub name: String,
    pub on_change: OnChange,
    pub points: PointsRule,
    /// One per tier of the network policy, top (rank 1) first.
    pub levels: Vec<Level>,
}

/// Every problem found in a level policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid level policy: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct LevelPolicyErrors(pub Vec<PolicyError>);

impl LevelPolicyErrors {
    /// True when some error is about exactly this field.
    pub fn names(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

impl LevelPolicy {
    /// Reads and validates a level policy against the tiers of `tiers`.
    /// Reads and validates a level policy against the tiers of `tiers`; every problem is
    /// reported, each naming its field.
    pub fn parse(text: &str, tiers: &Policy) -> Result<LevelPolicy, LevelPolicyErrors> {
        super::parse::parse(text, tiers)
    }

    pub fn level(&self, rank: TierRank) -> Option<&Level> {
        self.levels.iter().find(|l| l.rank == rank)
    }

    /// The lowest tier: where an agent that meets no level's rules belongs.
    pub fn lowest(&self) -> TierRank {
        self.levels.last().map_or(TierRank(1), |l| l.rank)
    }

    /// Every window a decision may read: path windows, downgrade periods, protection windows.
    pub fn windows(&self) -> Vec<Window> {
        let mut w: Vec<Window> = Vec::new();
        for l in &self.levels {
            w.extend(l.paths.iter().map(|p| p.window));
            w.extend(
                l.downgrades
                    .iter()
                    .filter_map(|d| d.kind.days())
                    .map(Window::days),
            );
            w.extend(l.protection.iter().map(|p| Window::days(p.days)));
        }
        w.sort();
        w.dedup();
        w
    }

    /// The designated upgrade products of every path (their purchases are measured).
    pub fn upgrade_products(&self) -> Vec<String> {
        let mut skus: Vec<String> = self
            .levels
            .iter()
            .flat_map(|l| &l.paths)
            .flat_map(|p| &p.set.conditions)
            .filter_map(|c| match c {
                Condition::BoughtProduct { skus } => Some(skus.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        skus.sort();
        skus.dedup();
        skus
    }
}
