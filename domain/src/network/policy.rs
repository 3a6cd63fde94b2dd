//! The tier policy (DOMAIN §2): a versioned document, not code. A brand can change names, prices,
//! thresholds, rates (同级推荐奖), the cross-tier award matrix (跨级推荐奖) and the receive and
//! return windows; orders and postings keep the version they were made under.
//!
//! The document is TOML (see `presets/seed-004.toml`). [`Policy::parse`] reads and validates it and
//! reports every problem at once, each naming the field it is about (`tiers[2].unit_price: …`).

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::TierRank;

/// The `seed-004` preset, exactly DOMAIN §2.
pub const SEED_004: &str = include_str!("presets/seed-004.toml");

/// How an application for a tier is approved (DOMAIN §3; seed 000 方式四 is the two-stage one).
/// Written in the policy document and stored on each application (`approval_mode`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum ApprovalMode {
    Automatic,
    Hq,
    /// The would-be supplier first, then HQ.
    SupplierThenHq,
}

impl ApprovalMode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Every mode, in the order a form offers them.
    pub const ALL: [ApprovalMode; 3] = [
        ApprovalMode::Automatic,
        ApprovalMode::Hq,
        ApprovalMode::SupplierThenHq,
    ];

    pub fn parse(s: &str) -> Option<ApprovalMode> {
        s.parse().ok()
    }
}

/// 首批: what an entry order must reach, as the brand chooses — a number of items (seed 004 counts
/// boxes of its one product) or an amount of goods (a brand with a range of products).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// At least this many items, of any products.
    Quantity(u32),
    /// Goods worth at least this much at the tier's prices.
    Amount(Decimal),
}

impl Entry {
    /// Whether an entry order of `items` items worth `goods` reaches the threshold.
    pub fn reached_by(self, items: u64, goods: Decimal) -> bool {
        match self {
            Entry::Quantity(q) => items >= u64::from(q),
            Entry::Amount(a) => goods >= a,
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Quantity(q) => write!(f, "{q} items"),
            Entry::Amount(a) => write!(f, "{a}"),
        }
    }
}

/// One tier of the network (总代, 省代, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    pub rank: TierRank,
    /// Stable machine key (`national`, `district`): used by the award matrix and URLs.
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// 首批: what the entry order must reach.
    pub entry: Entry,
    /// The tier's price per item of any product the price list (`[prices]`) has no price of its
    /// own for; `None`: only listed products can be ordered at this tier.
    pub unit_price: Option<Decimal>,
    /// 升级条件: referred agents activated at this tier needed to upgrade *into* it from below.
    pub upgrade_count: Option<u32>,
    /// 同级推荐奖 as a fraction (0.09 for 9%).
    pub same_tier_rate: Option<Decimal>,
    pub approval: ApprovalMode,
}

impl Tier {
    /// The entry threshold as a number of items, when the brand counts items.
    pub fn entry_quantity(&self) -> Option<u32> {
        match self.entry {
            Entry::Quantity(q) => Some(q),
            Entry::Amount(_) => None,
        }
    }
}

/// A validated policy version.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: u32,
    name: String,
    /// Sorted by rank, ranks 1..=n.
    tiers: Vec<Tier>,
    /// (referrer, referred) → award.
    awards: BTreeMap<(TierRank, TierRank), Decimal>,
    /// 授权价格: SKU → tier → price, for products priced apart from their tier's `unit_price`
    /// (a listed product is sold only at the tiers its row names).
    prices: BTreeMap<String, BTreeMap<TierRank, Decimal>>,
    receive_days: u32,
    return_days: u32,
    items_per_case: u32,
}

/// One problem in a policy document, naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Path of the field, e.g. `tiers[2].unit_price` or `awards.district.city`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// True when some error is about exactly this field.
    pub fn names(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: i64,
    name: String,
    #[serde(default)]
    windows: RawWindows,
    #[serde(default)]
    units: RawUnits,
    #[serde(default)]
    tiers: Vec<RawTier>,
    #[serde(default)]
    awards: BTreeMap<String, BTreeMap<String, String>>,
    /// `[prices."SKU"] tier_key = "price"`.
    #[serde(default)]
    prices: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct RawWindows {
    receive_days: i64,
    return_days: i64,
}

impl Default for RawWindows {
    fn default() -> Self {
        RawWindows {
            receive_days: 10,
            return_days: 7,
        }
    }
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct RawUnits {
    items_per_case: i64,
}

impl Default for RawUnits {
    fn default() -> Self {
        RawUnits { items_per_case: 72 }
    }
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    rank: i64,
    key: String,
    name_zh: String,
    name_en: String,
    entry_quantity: Option<i64>,
    entry_amount: Option<String>,
    unit_price: Option<String>,
    upgrade_count: Option<i64>,
    same_tier_rate: Option<String>,
    approval: String,
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

    /// A whole number in `min..=max`, else an error naming the field.
    fn count(&mut self, field: &str, value: i64, min: i64, max: i64) -> u32 {
        if value < min || value > max {
            self.add(
                field,
                format!("must be between {min} and {max}, found {value}"),
            );
        }
        u32::try_from(value.clamp(min, max)).unwrap_or(0)
    }

    /// A positive amount in cents, else an error naming the field.
    fn money(&mut self, field: &str, text: &str) -> Decimal {
        match text.parse::<Decimal>() {
            Err(_) => self.add(field, format!("not a decimal amount: {text:?}")),
            Ok(d) if d <= Decimal::ZERO => self.add(field, "must be > 0"),
            Ok(d) if d.normalize().scale() > 2 => self.add(field, "at most 2 decimal places"),
            Ok(d) => return d,
        }
        Decimal::ONE
    }
}

impl Policy {
    /// Reads and validates a policy document; every problem is reported, each naming its field.
    pub fn parse(text: &str) -> Result<Policy, PolicyErrors> {
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| PolicyErrors(vec![syntax(text, &e)]))?;
        let mut r = Report::default();
        let version = r.count("version", raw.version, 1, i64::from(u32::MAX));
        if raw.name.trim().is_empty() {
            r.add("name", "must not be empty");
        }
        let receive_days = r.count("windows.receive_days", raw.windows.receive_days, 1, 365);
        let return_days = r.count("windows.return_days", raw.windows.return_days, 0, 365);
        let items_per_case = r.count("units.items_per_case", raw.units.items_per_case, 1, 100_000);
        let tiers = validate_tiers(&mut r, &raw.tiers);
        let awards = validate_awards(&mut r, &raw.awards, &tiers);
        let prices = validate_prices(&mut r, &raw.prices, &tiers);
        for (i, t) in raw.tiers.iter().enumerate() {
            let listed = raw.prices.values().any(|row| row.contains_key(&t.key));
            if t.unit_price.is_none() && !listed {
                r.add(
                    format!("tiers[{i}].unit_price"),
                    "the tier has no price: give unit_price or a price under [prices]",
                );
            }
        }
        if !r.0.is_empty() {
            return Err(PolicyErrors(r.0));
        }
        Ok(Policy {
            version,
            name: raw.name,
            tiers,
            awards,
            prices,
            receive_days,
            return_days,
            items_per_case,
        })
    }

    /// The shipped `seed-004` preset.
    pub fn seed_004() -> Result<Policy, PolicyErrors> {
        Policy::parse(SEED_004)
    }

    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// All tiers, top (rank 1) first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }
    pub fn tier(&self, rank: TierRank) -> Option<&Tier> {
        self.tiers.get(usize::from(rank.0).checked_sub(1)?)
    }
    pub fn tier_by_key(&self, key: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.key == key)
    }
    /// The lowest tier (特约 in seed 004).
    pub fn lowest(&self) -> TierRank {
        TierRank(u8::try_from(self.tiers.len()).unwrap_or(u8::MAX))
    }
    /// 授权价格: what an agent of tier `rank` pays per item of product `sku`. A product in the
    /// price list is sold at the tiers its row names, at those prices, and at no other; any other
    /// product at the tier's own `unit_price`. `None`: it cannot be ordered at that tier.
    pub fn price(&self, rank: TierRank, sku: &str) -> Option<Decimal> {
        match self.prices.get(sku) {
            Some(row) => row.get(&rank).copied(),
            None => self.tier(rank)?.unit_price,
        }
    }
    /// The price list's own price of `sku` at `rank`, without falling back to the tier's.
    pub fn listed_price(&self, rank: TierRank, sku: &str) -> Option<Decimal> {
        self.prices.get(sku)?.get(&rank).copied()
    }
    /// The SKUs the price list names, in order.
    pub fn listed_skus(&self) -> impl Iterator<Item = &str> {
        self.prices.keys().map(String::as_str)
    }
    /// 跨级推荐奖 for a referrer of tier `referrer` whose referred agent activates at `referred`.
    pub fn award(&self, referrer: TierRank, referred: TierRank) -> Option<Decimal> {
        self.awards.get(&(referrer, referred)).copied()
    }
    /// The tiers an agent of tier `referrer` may invite (issue 17): the tiers below its own, its
    /// own when the policy pays a same-tier referral rebate for it, and a higher one only when
    /// the policy has a cross-tier award for that referral (DOMAIN §5: a 区代 may refer a 总代).
    pub fn recruits(&self, referrer: TierRank) -> Vec<&Tier> {
        self.tiers
            .iter()
            .filter(|t| {
                t.rank.0 > referrer.0
                    || (t.rank == referrer && t.same_tier_rate.is_some())
                    || (t.rank.0 < referrer.0 && self.award(referrer, t.rank).is_some())
            })
            .collect()
    }

    /// Days after shipping until an order counts as received.
    pub fn receive_days(&self) -> u32 {
        self.receive_days
    }
    /// Days after receipt until an order completes (维权期).
    pub fn return_days(&self) -> u32 {
        self.return_days
    }
    pub fn items_per_case(&self) -> u32 {
        self.items_per_case
    }

    /// This policy written back as a document (TOML) that [`Policy::parse`] reads to an equal
    /// policy: how a policy edited as values (the HQ form) becomes a version to store.
    pub fn to_document(&self) -> String {
        let key = |rank: TierRank| self.tier(rank).map_or_else(String::new, |t| t.key.clone());
        let mut awards: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for ((referrer, referred), amount) in &self.awards {
            awards
                .entry(key(*referrer))
                .or_default()
                .insert(key(*referred), amount.to_string());
        }
        let prices = self
            .prices
            .iter()
            .map(|(sku, row)| {
                let row = row.iter().map(|(r, p)| (key(*r), p.to_string())).collect();
                (sku.clone(), row)
            })
            .collect();
        let raw = RawPolicy {
            version: i64::from(self.version),
            name: self.name.clone(),
            windows: RawWindows {
                receive_days: i64::from(self.receive_days),
                return_days: i64::from(self.return_days),
            },
            units: RawUnits {
                items_per_case: i64::from(self.items_per_case),
            },
            tiers: self
                .tiers
                .iter()
                .map(|t| RawTier {
                    rank: i64::from(t.rank.0),
                    key: t.key.clone(),
                    name_zh: t.name_zh.clone(),
                    name_en: t.name_en.clone(),
                    entry_quantity: t.entry_quantity().map(i64::from),
                    entry_amount: match t.entry {
                        Entry::Amount(a) => Some(a.to_string()),
                        Entry::Quantity(_) => None,
                    },
                    unit_price: t.unit_price.map(|p| p.to_string()),
                    upgrade_count: t.upgrade_count.map(i64::from),
                    same_tier_rate: t.same_tier_rate.map(|r| r.to_string()),
                    approval: t.approval.as_str().to_string(),
                })
                .collect(),
            awards,
            prices,
        };
        // Plain strings, numbers and tables: serializing them cannot fail.
        toml::to_string(&raw).unwrap_or_default()
    }
}

/// A document that does not even read: name the line (and its key) the reader stopped at.
fn syntax(text: &str, e: &toml::de::Error) -> PolicyError {
    let Some(span) = e.span() else {
        return PolicyError {
            field: "(document)".into(),
            message: e.message().to_string(),
        };
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
    let key = line.split('=').next().unwrap_or("").trim();
    PolicyError {
        field: format!("line {line_no} ({key})"),
        message: e.message().to_string(),
    }
}

fn validate_tiers(r: &mut Report, raw: &[RawTier]) -> Vec<Tier> {
    if raw.is_empty() {
        r.add("tiers", "at least one tier is needed");
        return Vec::new();
    }
    let n = raw.len() as i64;
    let mut tiers: Vec<Tier> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let f = |name: &str| format!("tiers[{i}].{name}");
        let rank = r.count(&f("rank"), t.rank, 1, n.min(255));
        if raw[..i].iter().any(|o| o.rank == t.rank) {
            r.add(
                f("rank"),
                format!("rank {} appears twice; ranks run 1..={n}", t.rank),
            );
        }
        if t.key.is_empty() || !t.key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            r.add(f("key"), "must be lowercase ascii letters or '_'");
        }
        if raw[..i].iter().any(|o| o.key == t.key) {
            r.add(f("key"), format!("duplicate key {:?}", t.key));
        }
        for (name, v) in [("name_zh", &t.name_zh), ("name_en", &t.name_en)] {
            if v.trim().is_empty() {
                r.add(f(name), "must not be empty");
            }
        }
        let entry = match (t.entry_quantity, &t.entry_amount) {
            (Some(q), None) => Entry::Quantity(r.count(&f("entry_quantity"), q, 1, 1_000_000)),
            (None, Some(a)) => Entry::Amount(r.money(&f("entry_amount"), a)),
            (Some(_), Some(_)) => {
                r.add(
                    f("entry_amount"),
                    "give entry_quantity or entry_amount, not both",
                );
                Entry::Quantity(1)
            }
            (None, None) => {
                r.add(
                    f("entry_quantity"),
                    "missing: give entry_quantity (items) or entry_amount (goods)",
                );
                Entry::Quantity(1)
            }
        };
        let unit_price = t
            .unit_price
            .as_deref()
            .map(|p| r.money(&f("unit_price"), p));
        let upgrade_count = t
            .upgrade_count
            .map(|c| r.count(&f("upgrade_count"), c, 1, 10_000));
        if upgrade_count.is_some() && t.rank == n {
            r.add(
                f("upgrade_count"),
                "the lowest tier has no tier below to upgrade from",
            );
        }
        let same_tier_rate = t
            .same_tier_rate
            .as_deref()
            .map(|s| match s.parse::<Decimal>() {
                Ok(d) if d >= Decimal::ZERO && d < Decimal::ONE => d,
                Ok(_) => {
                    r.add(
                        f("same_tier_rate"),
                        "must be a fraction in [0, 1), e.g. \"0.09\"",
                    );
                    Decimal::ZERO
                }
                Err(_) => {
                    r.add(f("same_tier_rate"), format!("not a decimal: {s:?}"));
                    Decimal::ZERO
                }
            });
        let approval = ApprovalMode::parse(&t.approval).unwrap_or_else(|| {
            r.add(f("approval"), "must be automatic, hq or supplier_then_hq");
            ApprovalMode::Hq
        });
        tiers.push(Tier {
            rank: TierRank(u8::try_from(rank).unwrap_or(u8::MAX)),
            key: t.key.clone(),
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
            entry,
            unit_price,
            upgrade_count,
            same_tier_rate,
            approval,
        });
    }
    // Prices rise as rank falls: a lower tier always pays more per item.
    let mut order: Vec<usize> = (0..tiers.len()).collect();
    order.sort_by_key(|&i| tiers[i].rank);
    for w in order.windows(2) {
        let (above, below) = (&tiers[w[0]], &tiers[w[1]]);
        if let (Some(a), Some(b)) = (above.unit_price, below.unit_price)
            && above.rank != below.rank
            && b <= a
        {
            r.add(
                format!("tiers[{}].unit_price", w[1]),
                format!(
                    "must be above {a} ({}) because prices rise as rank falls",
                    above.name_zh
                ),
            );
        }
    }
    tiers.sort_by_key(|t| t.rank);
    tiers
}

fn validate_awards(
    r: &mut Report,
    raw: &BTreeMap<String, BTreeMap<String, String>>,
    tiers: &[Tier],
) -> BTreeMap<(TierRank, TierRank), Decimal> {
    let mut awards = BTreeMap::new();
    let find = |key: &str| tiers.iter().find(|t| t.key == key);
    for (referrer_key, row) in raw {
        let Some(referrer) = find(referrer_key) else {
            r.add(format!("awards.{referrer_key}"), "no tier has this key");
            continue;
        };
        for (referred_key, amount) in row {
            let field = format!("awards.{referrer_key}.{referred_key}");
            let Some(referred) = find(referred_key) else {
                r.add(field, "no tier has this key");
                continue;
            };
            let amount = r.money(&field, amount);
            if !referred.rank.is_above(referrer.rank) {
                r.add(
                    field,
                    format!(
                        "referred tier must rank above the referrer ({} does not rank above {})",
                        referred.name_zh, referrer.name_zh
                    ),
                );
                continue;
            }
            awards.insert((referrer.rank, referred.rank), amount);
        }
    }
    awards
}

/// The price list: each SKU's prices by tier key, validated field by field (`prices.HONEY.city`):
/// tiers must exist, prices be money, and a product's prices rise as rank falls, as tier prices do.
fn validate_prices(
    r: &mut Report,
    raw: &BTreeMap<String, BTreeMap<String, String>>,
    tiers: &[Tier],
) -> BTreeMap<String, BTreeMap<TierRank, Decimal>> {
    let mut out = BTreeMap::new();
    for (sku, row) in raw {
        if sku.trim().is_empty() || sku.trim() != sku || sku.chars().count() > 64 {
            r.add(
                format!("prices.{sku:?}"),
                "a SKU of 1 to 64 characters without surrounding spaces",
            );
            continue;
        }
        let mut prices: BTreeMap<TierRank, Decimal> = BTreeMap::new();
        for (key, text) in row {
            let field = format!("prices.{sku}.{key}");
            let Some(tier) = tiers.iter().find(|t| &t.key == key) else {
                r.add(field, "no tier has this key");
                continue;
            };
            prices.insert(tier.rank, r.money(&field, text));
        }
        let ranked: Vec<(TierRank, Decimal)> = prices.iter().map(|(k, v)| (*k, *v)).collect();
        for w in ranked.windows(2) {
            let ((above, a), (below, b)) = (w[0], w[1]);
            if b <= a {
                let key = |rank| tiers.iter().find(|t| t.rank == rank).map_or("", |t| &t.key);
                r.add(
                    format!("prices.{sku}.{}", key(below)),
                    format!(
                        "must be above {a} ({}) because prices rise as rank falls",
                        key(above)
                    ),
                );
            }
        }
        out.insert(sku.clone(), prices);
    }
    out
}

#[path = "policy_form.rs"]
pub mod form;

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
