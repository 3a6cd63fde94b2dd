//! Validating a level policy document (read into [`super::document`]'s raw shapes) against the
//! tier policy, collecting every problem with the field it is about.

use std::collections::BTreeMap;

use super::document::{RawDowngrade, RawLevel, RawPath, RawPoints, RawPolicy, Report};
use super::downgrade::{Downgrade, DowngradeKind, DowngradeTarget, Protection};
use super::metrics::{Metric, PointsRule, Window};
use super::policy::{
    Condition, ConditionSet, Level, LevelPolicy, LevelPolicyErrors, OnChange, UpgradePath,
};
use crate::network::TierRank;
use crate::network::policy::{ApprovalMode, Policy, PolicyError};

pub(super) fn parse(text: &str, tiers: &Policy) -> Result<LevelPolicy, LevelPolicyErrors> {
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
    if downgrades.iter().any(|d| d.kind != DowngradeKind::Never)
        && paths.iter().all(|p| p.set.conditions.is_empty())
    {
        r.add(
            format!("{f}.downgrade"),
            "a downgrade checks the level's own conditions: give the level at least one path \
             with conditions",
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
    // 0门槛升级 (seed 000 方式四): a path that needs approval may have no conditions at all; the
    // approvers are its condition. An automatic one without conditions would lift everyone.
    if conditions.is_empty() && approval == ApprovalMode::Automatic {
        r.add(
            f.to_string(),
            "give at least one of thresholds, upgrade_products, level_price (only a path with \
             approval may have none: 0门槛)",
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
