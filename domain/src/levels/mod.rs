//! The general level engine of seeds 000–003 (DOMAIN §9) as pure rules: a level policy (which
//! tiers an agent reaches by thresholds over an assessment window, by points, by buying an upgrade
//! product or paying a level price; when it loses them again; what protects it), the metrics the
//! rules read, and the decision for one agent on one day, with the reasons in plain words.
//!
//! Levels are the tiers of the network policy (`domain::network::Policy`): a level change moves an
//! agent to another tier exactly as a seed-004 upgrade does. No database here: the store computes
//! the [`Metrics`] of each window, [`decide`] turns them into a [`Decision`]. Paths that need
//! approval are taken by application ([`application`], [`eligibility`]), not by the
//! assessment.

pub mod activity;
pub mod application;
pub mod decision;
mod document;
pub mod downgrade;
pub mod eligibility;
pub mod form;
pub mod metrics;
mod parse;
pub mod policy;
pub mod presets;
pub mod quota;
pub mod reason;
pub mod team;

#[cfg(test)]
mod props;
#[cfg(test)]
mod seeds;

pub use activity::ActivityKind;
pub use decision::{AgentLevel, Cause, ChangeKind, Decision, decide, relevel};
pub use downgrade::{Downgrade, DowngradeKind, DowngradeTarget, Protection};
pub use metrics::{Metric, Metrics, MetricsByWindow, PointsRule, Quota, Window, over_windows};
pub use policy::{
    Condition, ConditionSet, Level, LevelPolicy, LevelPolicyErrors, Match, OnChange, UpgradePath,
};
pub use quota::keep_level_quota;
pub use reason::{Lang, Reason};
pub use team::TeamSums;
