//! 配额 (seed 001): when a new level policy keeps every agent's level, each agent gets per-metric
//! adjustments so that its measured values fit its level under the new rules — raised to the
//! level's thresholds if they fall short, lowered just under the thresholds of any level above
//! that they would already reach. Quotas can be positive or negative and are added wherever a
//! threshold is compared.
//!
//! Seed 001's example: a 等级三 agent with 16 orders, new rules 等级三 ≥ 21 orders and 等级四 ≥ 31:
//! it keeps 等级三 with a quota of +5 and needs 10 more orders for 等级四.
//!
//! Only thresholds are adjusted: a bought upgrade product or a paid level price cannot be undone
//! by a quota. The level's first automatic path is the one made to fit.

use rust_decimal::Decimal;

use super::decision::{AgentLevel, check};
use super::metrics::{MetricsByWindow, Quota};
use super::policy::{Condition, LevelPolicy, Match};
use crate::network::policy::ApprovalMode;

/// The quota that keeps `agent` (with its current quota) at its level under `policy`.
pub fn keep_level_quota(
    policy: &LevelPolicy,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
) -> Quota {
    let mut quota = agent.quota.clone();
    let Some(level) = policy.level(agent.rank) else {
        return quota;
    };
    let value = |quota: &Quota, window, metric| {
        metrics.get(window).value(metric, &policy.points)
            + quota.get(&metric).copied().unwrap_or_default()
    };
    // Raise: the level's own first automatic path must be met.
    if let Some(p) = level
        .paths
        .iter()
        .find(|p| p.approval == ApprovalMode::Automatic)
    {
        let (met, _) = check(
            &p.set,
            &level.key,
            p.window,
            metrics,
            &quota,
            &policy.points,
        );
        if !met {
            for c in &p.set.conditions {
                let Condition::AtLeast { metric, target } = c else {
                    continue;
                };
                let have = value(&quota, p.window, *metric);
                if have < *target {
                    *quota.entry(*metric).or_default() += *target - have;
                    if p.set.join == Match::Any {
                        break;
                    }
                }
            }
        }
    }
    // Lower: no automatic path of a level above may be met.
    for above in policy
        .levels
        .iter()
        .filter(|l| l.automatic && l.rank.is_above(agent.rank))
    {
        for p in above
            .paths
            .iter()
            .filter(|p| p.approval == ApprovalMode::Automatic)
        {
            let (met, _) = check(
                &p.set,
                &above.key,
                p.window,
                metrics,
                &quota,
                &policy.points,
            );
            if !met {
                continue;
            }
            for c in &p.set.conditions {
                let Condition::AtLeast { metric, target } = c else {
                    continue;
                };
                let have = value(&quota, p.window, *metric);
                if have >= *target {
                    let cap = *target - metric.unit();
                    *quota.entry(*metric).or_default() += cap.min(have) - have;
                    if p.set.join == Match::All {
                        break;
                    }
                }
            }
        }
    }
    quota.retain(|_, v| *v != Decimal::ZERO);
    quota
}
