//! The level policy (DOMAIN §9): for each tier of the network policy, how an agent reaches it
//! (upgrade paths), loses it ([`Downgrade`]) and keeps it ([`Protection`], 保级), plus the points
//! rule (等级值) and what a policy change does to agents already placed (re-level or 配额).
//!
//! A TOML document (see `docs/levels.md`), validated against the active tier policy; every problem
//! is reported at once, each naming its field (`levels[1].paths[0].window_days: …`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::downgrade::{Downgrade, DowngradeKind, DowngradeTarget, Protection};
use super::metrics::{Metric, PointsRule, Window};
use crate::domain::network::TierRank;
use crate::domain::network::policy::{ApprovalMode, Policy, PolicyError};

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: i64,
    name: String,
    on_change: String,
    #[serde(default)]
    points: Option<RawPoints>,
    #[serde(default)]
    levels: Vec<RawLevel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoints {
    #[serde(default)]
    per_yuan_sold: Option<toml::Value>,
    #[serde(default)]
    per_bound_customer: Option<toml::Value>,
    #[serde(default)]
    per_sub_agent: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    tier: String,
    #[serde(default = "yes")]
    automatic: bool,
    #[serde(default)]
    paths: Vec<RawPath>,
    #[serde(default)]
    downgrade: Vec<RawDowngrade>,
    #[serde(default)]
    protection: Option<RawProtection>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPath {
    window_days: Option<i64>,
    #[serde(rename = "match", default = "all")]
    join: String,
    #[serde(default = "automatic")]
    approval: String,
    #[serde(default)]
    thresholds: BTreeMap<String, toml::Value>,
    #[serde(default)]
    upgrade_products: Vec<String>,
    level_price: Option<toml::Value>,
}

fn all() -> String {
    "all".into()
}
fn automatic() -> String {
    "automatic".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDowngrade {
    kind: String,
    days: Option<i64>,
    to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtection {
    days: i64,
    #[serde(rename = "match", default = "all")]
    join: String,
    #[serde(default)]
    thresholds: BTreeMap<String, toml::Value>,
}

/// Collects errors while validating.
#[derive(Default)]
struct Report(Vec<PolicyError>);

impl Report {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(PolicyError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn days(&mut self, field: &str, value: i64) -> u32 {
        if !(1..=3650).contains(&value) {
            self.add(
                field,
                format!("must be between 1 and 3650 days, found {value}"),
            );
        }
        u32::try_from(value.clamp(1, 3650)).unwrap_or(1)
    }

    /// A non-negative decimal given as a string ("2000.00") or an integer; money at most 2
    /// decimal places, counts whole.
    fn amount(&mut self, field: &str, value: &toml::Value, whole: bool) -> Decimal {
        let parsed = match value {
            toml::Value::String(s) => s.trim().parse::<Decimal>().ok(),
            toml::Value::Integer(i) => Some(Decimal::from(*i)),
            _ => None,
        };
        match parsed {
            None => self.add(
                field,
                "must be a decimal string (\"2000.00\") or an integer",
            ),
            Some(d) if d < Decimal::ZERO => self.add(field, "must not be negative"),
            Some(d) if whole && !d.fract().is_zero() => self.add(field, "must be a whole number"),
            Some(d) if d.normalize().scale() > 2 => self.add(field, "at most 2 decimal places"),
            Some(d) => return d,
        }
        Decimal::ZERO
    }

    fn join(&mut self, field: &str, value: &str) -> Match {
        match value {
            "all" => Match::All,
            "any" => Match::Any,
            _ => {
                self.add(field, "must be \"all\" or \"any\"");
                Match::All
            }
        }
    }
}

impl LevelPolicy {
    /// Reads and validates a level policy against the tiers of `tiers`.
    pub fn parse(text: &str, tiers: &Policy) -> Result<LevelPolicy, LevelPolicyErrors> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            LevelPolicyErrors(vec![PolicyError {
                field: "(document)".into(),
                message: e.to_string().trim().to_string(),
            }])
        })?;
        let mut r = Report::default();
        if !(1..=i64::from(u32::MAX)).contains(&raw.version) {
            r.add(
                "version",
                format!("must be at least 1, found {}", raw.version),
            );
        }
        if raw.name.trim().is_empty() {
            r.add("name", "must not be empty");
        }
        let on_change = match raw.on_change.as_str() {
            "relevel" => OnChange::Relevel,
            "keep" => OnChange::Keep,
            _ => {
                r.add("on_change", "must be \"relevel\" or \"keep\"");
                OnChange::Keep
            }
        };
        let points = raw.points.as_ref().map(|p| points_rule(&mut r, p));
        let mut levels: Vec<Level> = tiers
            .tiers()
            .iter()
            .map(|t| Level {
                rank: t.rank,
                key: t.key.clone(),
                name_zh: t.name_zh.clone(),
                name_en: t.name_en.clone(),
                automatic: false,
                paths: Vec::new(),
                downgrades: Vec::new(),
                protection: None,
            })
            .collect();
        let lowest = tiers.lowest();
        for (i, raw_level) in raw.levels.iter().enumerate() {
            let f = format!("levels[{i}]");
            let Some(tier) = tiers.tier_by_key(&raw_level.tier) else {
                let keys: Vec<&str> = tiers.tiers().iter().map(|t| t.key.as_str()).collect();
                r.add(
                    format!("{f}.tier"),
                    format!(
                        "no tier {:?}; the tiers are {}",
                        raw_level.tier,
                        keys.join(", ")
                    ),
                );
                continue;
            };
            if raw.levels[..i].iter().any(|o| o.tier == raw_level.tier) {
                r.add(
                    format!("{f}.tier"),
                    format!("tier {:?} appears twice", raw_level.tier),
                );
            }
            let level = level(
                &mut r,
                &f,
                raw_level,
                tier.rank,
                lowest,
                tiers,
                points.is_some(),
            );
            if let Some(slot) = levels.iter_mut().find(|l| l.rank == tier.rank) {
                *slot = level_from(slot, level);
            }
        }
        if !r.0.is_empty() {
            return Err(LevelPolicyErrors(r.0));
        }
        Ok(LevelPolicy {
            version: u32::try_from(raw.version).unwrap_or(1),
            name: raw.name,
            on_change,
            points: points.unwrap_or_default(),
            levels,
        })
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

fn level_from(slot: &Level, parsed: Level) -> Level {
    Level {
        name_zh: slot.name_zh.clone(),
        name_en: slot.name_en.clone(),
        ..parsed
    }
}

fn points_rule(r: &mut Report, p: &RawPoints) -> PointsRule {
    let mut get = |name: &str, v: &Option<toml::Value>| {
        v.as_ref()
            .map(|v| r.amount(&format!("points.{name}"), v, false))
            .unwrap_or_default()
    };
    let rule = PointsRule {
        per_yuan_sold: get("per_yuan_sold", &p.per_yuan_sold),
        per_bound_customer: get("per_bound_customer", &p.per_bound_customer),
        per_sub_agent: get("per_sub_agent", &p.per_sub_agent),
    };
    if rule == PointsRule::default() {
        r.add(
            "points",
            "give at least one of per_yuan_sold, per_bound_customer, per_sub_agent",
        );
    }
    rule
}

#[allow(clippy::too_many_arguments)]
fn level(
    r: &mut Report,
    f: &str,
    raw: &RawLevel,
    rank: TierRank,
    lowest: TierRank,
    tiers: &Policy,
    has_points: bool,
) -> Level {
    if !raw.automatic
        && (!raw.paths.is_empty() || !raw.downgrade.is_empty() || raw.protection.is_some())
    {
        r.add(
            format!("{f}.automatic"),
            "a level that never changes automatically takes no paths, downgrade or protection",
        );
    }
    if rank == lowest && !raw.paths.is_empty() {
        r.add(
            format!("{f}.paths"),
            "the lowest tier is where agents start: it has no upgrade paths",
        );
    }
    let paths: Vec<UpgradePath> = raw
        .paths
        .iter()
        .enumerate()
        .map(|(j, p)| path(r, &format!("{f}.paths[{j}]"), p, has_points))
        .collect();
    let downgrades: Vec<Downgrade> = raw
        .downgrade
        .iter()
        .enumerate()
        .map(|(j, d)| downgrade(r, &format!("{f}.downgrade[{j}]"), d, rank, tiers))
        .collect();
    let never = downgrades.iter().any(|d| d.kind == DowngradeKind::Never);
    if never && downgrades.len() > 1 {
        r.add(
            format!("{f}.downgrade"),
            "\"never\" cannot be combined with other downgrade rules",
        );
    }
    if downgrades.iter().any(|d| d.kind != DowngradeKind::Never) && paths.is_empty() {
        r.add(
            format!("{f}.downgrade"),
            "a downgrade checks the level's own conditions: give the level at least one path",
        );
    }
    let protection = raw.protection.as_ref().map(|p| {
        let field = format!("{f}.protection");
        if downgrades.iter().all(|d| d.kind == DowngradeKind::Never) {
            r.add(
                field.clone(),
                "protection needs a downgrade rule to protect from",
            );
        }
        let days = r.days(&format!("{field}.days"), p.days);
        let join = r.join(&format!("{field}.match"), &p.join);
        let conditions = thresholds(r, &field, &p.thresholds, has_points);
        if conditions.is_empty() {
            r.add(format!("{field}.thresholds"), "give at least one threshold");
        }
        Protection {
            days,
            set: ConditionSet { join, conditions },
        }
    });
    Level {
        rank,
        key: raw.tier.clone(),
        name_zh: String::new(),
        name_en: String::new(),
        automatic: raw.automatic,
        paths,
        downgrades,
        protection,
    }
}

fn path(r: &mut Report, f: &str, raw: &RawPath, has_points: bool) -> UpgradePath {
    let window = Window(
        raw.window_days
            .map(|d| r.days(&format!("{f}.window_days"), d)),
    );
    let join = r.join(&format!("{f}.match"), &raw.join);
    let approval = match raw.approval.as_str() {
        "automatic" => ApprovalMode::Automatic,
        "hq" => ApprovalMode::Hq,
        "supplier_then_hq" => ApprovalMode::SupplierThenHq,
        _ => {
            r.add(
                format!("{f}.approval"),
                "must be automatic, hq or supplier_then_hq",
            );
            ApprovalMode::Automatic
        }
    };
    let mut conditions = thresholds(r, f, &raw.thresholds, has_points);
    if !raw.upgrade_products.is_empty() {
        if raw.upgrade_products.iter().any(|s| s.trim().is_empty()) {
            r.add(format!("{f}.upgrade_products"), "a SKU must not be empty");
        }
        conditions.push(Condition::BoughtProduct {
            skus: raw.upgrade_products.clone(),
        });
    }
    if let Some(price) = &raw.level_price {
        let price = r.amount(&format!("{f}.level_price"), price, false);
        if price.is_zero() {
            r.add(format!("{f}.level_price"), "must be > 0");
        }
        conditions.push(Condition::PaidLevelPrice { price });
    }
    if conditions.is_empty() {
        r.add(
            f.to_string(),
            "give at least one of thresholds, upgrade_products, level_price",
        );
    }
    UpgradePath {
        window,
        set: ConditionSet { join, conditions },
        approval,
    }
}

fn thresholds(
    r: &mut Report,
    f: &str,
    raw: &BTreeMap<String, toml::Value>,
    has_points: bool,
) -> Vec<Condition> {
    let mut out = Vec::new();
    for (key, value) in raw {
        let field = format!("{f}.thresholds.{key}");
        let Some(metric) = Metric::from_key(key) else {
            let keys: Vec<&str> = Metric::ALL.iter().map(|m| m.key()).collect();
            r.add(
                field,
                format!("unknown metric; use one of {}", keys.join(", ")),
            );
            continue;
        };
        if metric == Metric::Points && !has_points {
            r.add(field.clone(), "a points threshold needs a [points] section");
        }
        let whole = !metric.is_money() && metric != Metric::Points;
        let target = r.amount(&field, value, whole);
        out.push(Condition::AtLeast { metric, target });
    }
    out
}

fn downgrade(
    r: &mut Report,
    f: &str,
    raw: &RawDowngrade,
    rank: TierRank,
    tiers: &Policy,
) -> Downgrade {
    let days = raw.days.map(|d| r.days(&format!("{f}.days"), d));
    let kind = match (raw.kind.as_str(), days) {
        ("never", None) => DowngradeKind::Never,
        ("thresholds", None) => DowngradeKind::Thresholds,
        ("cyclic", Some(d)) => DowngradeKind::Cyclic { days: d },
        ("single", Some(d)) => DowngradeKind::Single { days: d },
        ("validity", Some(d)) => DowngradeKind::Validity { days: d },
        ("never" | "thresholds", Some(_)) => {
            r.add(
                format!("{f}.days"),
                format!("a {:?} downgrade takes no days", raw.kind),
            );
            DowngradeKind::Never
        }
        ("cyclic" | "single" | "validity", None) => {
            r.add(
                format!("{f}.days"),
                format!("a {:?} downgrade needs days", raw.kind),
            );
            DowngradeKind::Never
        }
        _ => {
            r.add(
                format!("{f}.kind"),
                "must be never, thresholds, cyclic, single or validity",
            );
            DowngradeKind::Never
        }
    };
    let to = match raw.to.as_deref() {
        None if kind == DowngradeKind::Thresholds => DowngradeTarget::Relevel,
        None => DowngradeTarget::Below,
        Some("below") => DowngradeTarget::Below,
        Some("relevel") => DowngradeTarget::Relevel,
        Some(key) => match tiers.tier_by_key(key) {
            Some(t) if rank.is_above(t.rank) => DowngradeTarget::Level(t.rank),
            Some(_) => {
                r.add(
                    format!("{f}.to"),
                    format!("{key:?} does not rank below this level"),
                );
                DowngradeTarget::Below
            }
            None => {
                r.add(
                    format!("{f}.to"),
                    format!("must be below, relevel or a tier key; no tier {key:?}"),
                );
                DowngradeTarget::Below
            }
        },
    };
    if kind == DowngradeKind::Thresholds && to != DowngradeTarget::Relevel {
        r.add(
            format!("{f}.to"),
            "a thresholds downgrade goes to the level the agent still meets: use relevel or omit",
        );
    }
    Downgrade { kind, to }
}
