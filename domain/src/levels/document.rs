//! A level policy document as written: the raw TOML shapes (serde, unknown keys refused) and the
//! reading of their scalar values (days, amounts, all/any), each problem kept with its field.
//! `parse` turns these into a validated [`super::LevelPolicy`].

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::policy::Match;
use crate::network::policy::PolicyError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) version: i64,
    pub(super) name: String,
    pub(super) on_change: String,
    #[serde(default)]
    pub(super) points: Option<RawPoints>,
    #[serde(default)]
    pub(super) levels: Vec<RawLevel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPoints {
    #[serde(default)]
    pub(super) per_yuan_sold: Option<toml::Value>,
    #[serde(default)]
    pub(super) per_bound_customer: Option<toml::Value>,
    #[serde(default)]
    pub(super) per_sub_agent: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLevel {
    pub(super) tier: String,
    #[serde(default = "yes")]
    pub(super) automatic: bool,
    #[serde(default)]
    pub(super) paths: Vec<RawPath>,
    #[serde(default)]
    pub(super) downgrade: Vec<RawDowngrade>,
    #[serde(default)]
    pub(super) protection: Option<RawProtection>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPath {
    pub(super) window_days: Option<i64>,
    #[serde(rename = "match", default = "all")]
    pub(super) join: String,
    #[serde(default = "automatic")]
    pub(super) approval: String,
    #[serde(default)]
    pub(super) thresholds: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub(super) upgrade_products: Vec<String>,
    pub(super) level_price: Option<toml::Value>,
}

fn all() -> String {
    "all".into()
}
fn automatic() -> String {
    "automatic".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDowngrade {
    pub(super) kind: String,
    pub(super) days: Option<i64>,
    pub(super) to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProtection {
    pub(super) days: i64,
    #[serde(rename = "match", default = "all")]
    pub(super) join: String,
    #[serde(default)]
    pub(super) thresholds: BTreeMap<String, toml::Value>,
}

/// Collects errors while validating.
#[derive(Default)]
pub(super) struct Report(pub(super) Vec<PolicyError>);

impl Report {
    pub(super) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(PolicyError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub(super) fn days(&mut self, field: &str, value: i64) -> u32 {
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
    pub(super) fn amount(&mut self, field: &str, value: &toml::Value, whole: bool) -> Decimal {
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

    pub(super) fn join(&mut self, field: &str, value: &str) -> Match {
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
