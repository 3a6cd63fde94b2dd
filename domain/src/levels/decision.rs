//! The decision for one agent on one assessment day: a pure function of (level policy, the
//! agent's level and when it reached it, its quota, its metrics per window, today). The highest
//! level whose conditions are met wins; otherwise the first due downgrade rule that fails moves
//! it down, unless protection (保级) holds. At most one change per agent and day.

use chrono::NaiveDate;

use super::downgrade::DowngradeTarget;
use super::metrics::{MetricsByWindow, PointsRule, Quota, Window};
use super::policy::{Condition, ConditionSet, Level, LevelPolicy, Match, UpgradePath};
use super::reason::{Lang, Reason};
use crate::network::TierRank;
use crate::network::policy::ApprovalMode;

/// An agent's level as the assessment sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLevel {
    pub rank: TierRank,
    /// The day it reached this level (periods and single assessments count from it).
    pub reached_on: NaiveDate,
    /// 配额 from a kept-level policy change.
    pub quota: Quota,
    /// The last assessment day that recorded a decision for it: an agent is decided at most
    /// once per day, so a second run of the same day changes nothing.
    pub last_decided_on: Option<NaiveDate>,
}

impl AgentLevel {
    /// Applies a decision taken on `today`.
    pub fn apply(&mut self, d: &Decision, today: NaiveDate) {
        if d.to != self.rank {
            self.rank = d.to;
            self.reached_on = today;
        }
        self.last_decided_on = Some(today);
    }
}

/// What a level change did (`level_changes.kind`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum ChangeKind {
    Upgrade,
    Downgrade,
    /// A due downgrade skipped by protection (保级): the level stays.
    Protected,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        s.parse().ok()
    }
}

/// Why a level changed (`level_changes.cause`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Cause {
    /// The daily assessment.
    Assessment,
    /// A new level policy re-levelled the agent.
    PolicyChange,
    /// An application approved by HQ.
    Application,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Cause> {
        s.parse().ok()
    }
}

/// What the assessment does to one agent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: ChangeKind,
    pub from: TierRank,
    pub to: TierRank,
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// One line the agent reads: "upgraded to 市代: team sales 52,300.00 ≥ 50,000.00 in the last
    /// 30 days".
    pub fn summary(&self, policy: &LevelPolicy, lang: Lang) -> String {
        let name = |r: TierRank| {
            policy.level(r).map_or_else(
                || r.to_string(),
                |l| match lang {
                    Lang::Zh => l.name_zh.clone(),
                    Lang::En => l.name_en.clone(),
                },
            )
        };
        let head = match (self.kind, lang) {
            (ChangeKind::Upgrade, Lang::En) => format!("upgraded to {}", name(self.to)),
            (ChangeKind::Upgrade, Lang::Zh) => format!("升级为{}", name(self.to)),
            (ChangeKind::Downgrade, Lang::En) => format!("downgraded to {}", name(self.to)),
            (ChangeKind::Downgrade, Lang::Zh) => format!("降级为{}", name(self.to)),
            (ChangeKind::Protected, Lang::En) => format!("kept {} (protection)", name(self.from)),
            (ChangeKind::Protected, Lang::Zh) => format!("保级{}", name(self.from)),
        };
        let sep = if lang == Lang::Zh { ":" } else { ": " };
        let join = if lang == Lang::Zh { ";" } else { "; " };
        let reasons: Vec<String> = self.reasons.iter().map(|r| r.render(lang)).collect();
        format!("{head}{sep}{}", reasons.join(join))
    }
}

/// Checks a condition set over one window; returns whether it is met and the reasons: the
/// conditions that carried it when met, the ones that failed when not.
pub fn check(
    set: &ConditionSet,
    level_key: &str,
    window: Window,
    metrics: &MetricsByWindow,
    quota: &Quota,
    points: &PointsRule,
) -> (bool, Vec<Reason>) {
    let m = metrics.get(window);
    let days = Reason::window_of(window);
    let results: Vec<(bool, Reason)> = set
        .conditions
        .iter()
        .map(|c| match c {
            Condition::AtLeast { metric, target } => {
                let actual =
                    m.value(*metric, points) + quota.get(metric).copied().unwrap_or_default();
                (
                    actual >= *target,
                    Reason::Threshold {
                        metric: *metric,
                        actual,
                        target: *target,
                        window_days: days,
                    },
                )
            }
            Condition::BoughtProduct { skus } => {
                let bought = skus.iter().find(|s| m.products.contains(*s)).cloned();
                (
                    bought.is_some(),
                    Reason::Product {
                        skus: skus.clone(),
                        bought,
                        window_days: days,
                    },
                )
            }
            Condition::PaidLevelPrice { price } => {
                let paid = m.level_payments.get(level_key).copied().unwrap_or_default();
                (
                    paid >= *price,
                    Reason::LevelPrice {
                        paid,
                        price: *price,
                        window_days: days,
                    },
                )
            }
        })
        .collect();
    let met = match set.join {
        Match::All => results.iter().all(|(ok, _)| *ok),
        Match::Any => results.iter().any(|(ok, _)| *ok),
    };
    let reasons = results
        .into_iter()
        .filter(|(ok, _)| *ok == met || (!met && set.join == Match::Any))
        .map(|(_, r)| r)
        .collect();
    (met, reasons)
}

/// Whether some path of `level` is met; `over` replaces the paths' own windows (a period
/// check). Only automatic paths count when `automatic_only`. A path without conditions (an
/// application's 0门槛) states nothing to keep, so it never holds a level against a downgrade.
fn level_met(
    policy: &LevelPolicy,
    level: &Level,
    over: Option<Window>,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
    automatic_only: bool,
) -> (bool, Vec<Reason>) {
    let mut first_failure = None;
    let paths = level
        .paths
        .iter()
        .filter(|p: &&UpgradePath| !automatic_only || p.approval == ApprovalMode::Automatic)
        .filter(|p| !p.set.conditions.is_empty());
    for p in paths {
        let w = over.unwrap_or(p.window);
        let (ok, reasons) = check(&p.set, &level.key, w, metrics, &agent.quota, &policy.points);
        if ok {
            return (true, reasons);
        }
        first_failure.get_or_insert(reasons);
    }
    (false, first_failure.unwrap_or_default())
}

/// The highest level at or below `below_or_at` that changes automatically and has an automatic
/// path met over its own window, with that path's reasons.
fn highest_met(
    policy: &LevelPolicy,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
    below_or_at: TierRank,
) -> Option<(TierRank, Vec<Reason>)> {
    policy
        .levels
        .iter()
        .filter(|l| l.automatic && l.rank >= below_or_at)
        .find_map(|l| {
            let (ok, reasons) = level_met(policy, l, None, agent, metrics, true);
            ok.then_some((l.rank, reasons))
        })
}

/// The assessment of one agent on `today`; `None` when nothing changes.
pub fn decide(
    policy: &LevelPolicy,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
    today: NaiveDate,
) -> Option<Decision> {
    let current = policy.level(agent.rank)?;
    if agent.last_decided_on.is_some_and(|d| d >= today) {
        return None;
    }
    if let Some((to, reasons)) =
        highest_met(policy, agent, metrics, TierRank(1)).filter(|(to, _)| to.is_above(agent.rank))
    {
        return Some(Decision {
            kind: ChangeKind::Upgrade,
            from: agent.rank,
            to,
            reasons,
        });
    }
    if !current.automatic {
        return None;
    }
    for rule in &current.downgrades {
        let Some(over) = rule.kind.due(agent.reached_on, today) else {
            continue;
        };
        let (met, failed) = level_met(policy, current, over, agent, metrics, false);
        if met {
            continue;
        }
        let to = target(policy, current, rule.to, agent, metrics);
        if to == agent.rank || to.is_above(agent.rank) {
            continue;
        }
        let mut reasons = vec![Reason::due(rule.kind, &current.name_zh, &current.name_en)];
        if let Some(p) = &current.protection {
            let w = Window::days(p.days);
            let (held, why) = check(
                &p.set,
                &current.key,
                w,
                metrics,
                &agent.quota,
                &policy.points,
            );
            if held {
                reasons.extend(why);
                return Some(Decision {
                    kind: ChangeKind::Protected,
                    from: agent.rank,
                    to: agent.rank,
                    reasons,
                });
            }
        }
        reasons.extend(failed);
        return Some(Decision {
            kind: ChangeKind::Downgrade,
            from: agent.rank,
            to,
            reasons,
        });
    }
    None
}

/// Where a failed check of `current` sends the agent.
fn target(
    policy: &LevelPolicy,
    current: &Level,
    to: DowngradeTarget,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
) -> TierRank {
    let below = policy
        .levels
        .iter()
        .filter(|l| current.rank.is_above(l.rank));
    match to {
        DowngradeTarget::Level(rank) => rank,
        DowngradeTarget::Below => below
            .clone()
            .find(|l| l.automatic)
            .map_or(policy.lowest(), |l| l.rank),
        DowngradeTarget::Relevel => {
            let first_below = TierRank(current.rank.0.saturating_add(1));
            highest_met(policy, agent, metrics, first_below).map_or(policy.lowest(), |(r, _)| r)
        }
    }
}

/// A policy change that re-levels (按新规则更新): the agent moves to the highest level it meets
/// under the new rules (else the lowest tier); agents on a level that never changes
/// automatically stay. `None` when the level stays.
pub fn relevel(
    policy: &LevelPolicy,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
) -> Option<Decision> {
    let current = policy.level(agent.rank)?;
    if !current.automatic && agent.rank != policy.lowest() {
        return None;
    }
    let (to, mut reasons) =
        highest_met(policy, agent, metrics, TierRank(1)).unwrap_or((policy.lowest(), Vec::new()));
    if to == agent.rank {
        return None;
    }
    reasons.insert(
        0,
        Reason::PolicyChange {
            version: policy.version,
        },
    );
    Some(Decision {
        kind: if to.is_above(agent.rank) {
            ChangeKind::Upgrade
        } else {
            ChangeKind::Downgrade
        },
        from: agent.rank,
        to,
        reasons,
    })
}

#[cfg(test)]
mod stored_names {
    use super::{Cause, ChangeKind};

    #[test]
    fn level_changes_keep_their_stored_names() {
        crate::pin_stored_names(
            &[
                (ChangeKind::Upgrade, "upgrade"),
                (ChangeKind::Downgrade, "downgrade"),
                (ChangeKind::Protected, "protected"),
            ],
            ChangeKind::as_str,
            ChangeKind::parse,
        );
        crate::pin_stored_names(
            &[
                (Cause::Assessment, "assessment"),
                (Cause::PolicyChange, "policy_change"),
                (Cause::Application, "application"),
            ],
            Cause::as_str,
            Cause::parse,
        );
    }
}
