//! The tier policy as a form (HQ's `/hq/policy`, issue 18): the values of a [`Policy`] as form
//! fields, the fields read back into a policy — each problem named by its field and said in
//! Chinese and English — and the difference between two versions in words.
//!
//! A field is named by the path the document gives it (`tiers[2].unit_price`,
//! `awards.district.city`, `prices.HONEY.city`), so a problem the document's own validation finds
//! lands on the same field as one the form finds. The form edits the values of the tiers a policy
//! has; adding or removing a tier, or changing a key, is an edit of the document itself.
//!
//! The same-tier rate is typed as a percentage (`9` for 9%), the way people say it; the document
//! keeps the fraction (`0.09`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{ApprovalMode, Entry, Policy, TierRank};
use crate::levels::Lang;

/// Form values by field name.
pub type Fields = BTreeMap<String, String>;

/// One problem with what was typed, on the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub zh: String,
    pub en: String,
}

impl FieldError {
    fn new(field: &str, zh: impl Into<String>, en: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn say(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// One changed value, in words ("市代 · 单价: 31.00 → 29.00").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub zh: String,
    pub en: String,
}

impl Change {
    pub fn say(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

fn tier_field(i: usize, name: &str) -> String {
    format!("tiers[{i}].{name}")
}

/// The price-list field of `sku` at the tier keyed `key`.
pub fn price_field(sku: &str, key: &str) -> String {
    format!("prices.{sku}.{key}")
}

/// The award field of a referrer tier and a referred tier.
pub fn award_field(referrer: &str, referred: &str) -> String {
    format!("awards.{referrer}.{referred}")
}

/// A rate fraction as the percentage typed in the form (0.09 → "9", 0.085 → "8.5").
fn percent(rate: Decimal) -> String {
    (rate * Decimal::ONE_HUNDRED).normalize().to_string()
}

/// The form's values for `policy`; `skus` are the products the price table shows (those of the
/// registry); every product the price list names is shown as well.
pub fn fields(policy: &Policy, skus: &[String]) -> Fields {
    let mut f = Fields::new();
    f.insert("name".into(), policy.name().to_string());
    for (i, t) in policy.tiers().iter().enumerate() {
        f.insert(tier_field(i, "name_zh"), t.name_zh.clone());
        f.insert(tier_field(i, "name_en"), t.name_en.clone());
        match t.entry {
            Entry::Quantity(q) => f.insert(tier_field(i, "entry_quantity"), q.to_string()),
            Entry::Amount(a) => f.insert(tier_field(i, "entry_amount"), a.to_string()),
        };
        let opt = |v: Option<String>| v.unwrap_or_default();
        f.insert(
            tier_field(i, "unit_price"),
            opt(t.unit_price.map(|p| p.to_string())),
        );
        f.insert(
            tier_field(i, "upgrade_count"),
            opt(t.upgrade_count.map(|c| c.to_string())),
        );
        f.insert(
            tier_field(i, "same_tier_rate"),
            opt(t.same_tier_rate.map(percent)),
        );
        f.insert(tier_field(i, "approval"), t.approval.as_str().to_string());
        for referred in policy.tiers().iter().filter(|o| o.rank.is_above(t.rank)) {
            f.insert(
                award_field(&t.key, &referred.key),
                opt(policy.award(t.rank, referred.rank).map(|a| a.to_string())),
            );
        }
    }
    f.insert(
        "windows.receive_days".into(),
        policy.receive_days().to_string(),
    );
    f.insert(
        "windows.return_days".into(),
        policy.return_days().to_string(),
    );
    f.insert(
        "units.items_per_case".into(),
        policy.items_per_case().to_string(),
    );
    for sku in table_skus(policy, skus) {
        for t in policy.tiers() {
            let listed = policy.listed_price(t.rank, &sku).map(|p| p.to_string());
            f.insert(price_field(&sku, &t.key), listed.unwrap_or_default());
        }
    }
    f
}

/// The rows of the price table: the registry's products, then any other product the list names.
pub fn table_skus(policy: &Policy, skus: &[String]) -> Vec<String> {
    let mut out: Vec<String> = skus.to_vec();
    for s in policy.listed_skus() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// Reads values typed in a form.
struct Reader<'a> {
    fields: &'a Fields,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    fn text(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", |v| v.trim())
    }

    fn fail(&mut self, field: &str, zh: impl Into<String>, en: impl Into<String>) {
        self.errors.push(FieldError::new(field, zh, en));
    }

    fn required(&mut self, field: &str) -> String {
        let v = self.text(field).to_string();
        if v.is_empty() {
            self.fail(field, "必填", "required");
        }
        v
    }

    /// A whole number in `min..=max`; `None` when empty and `optional`.
    fn whole(&mut self, field: &str, min: u32, max: u32, optional: bool) -> Option<u32> {
        let v = self.text(field).to_string();
        if v.is_empty() {
            if !optional {
                self.fail(field, "必填", "required");
            }
            return None;
        }
        match v.parse::<i64>() {
            Ok(n) if n >= i64::from(min) && n <= i64::from(max) => u32::try_from(n).ok(),
            Ok(_) => {
                self.fail(
                    field,
                    format!("须为 {min} 到 {max} 之间的整数"),
                    format!("must be a whole number from {min} to {max}"),
                );
                None
            }
            Err(_) => {
                self.fail(
                    field,
                    format!("“{v}”不是整数"),
                    format!("“{v}” is not a whole number"),
                );
                None
            }
        }
    }

    /// An amount of money above zero with at most two decimals, written with two; `None` when
    /// empty.
    fn money(&mut self, field: &str) -> Option<Decimal> {
        let v = self.text(field).to_string();
        if v.is_empty() {
            return None;
        }
        match v.parse::<Decimal>() {
            Err(_) => self.fail(
                field,
                format!("“{v}”不是金额(例如 29.00)"),
                format!("“{v}” is not an amount (e.g. 29.00)"),
            ),
            Ok(d) if d <= Decimal::ZERO => {
                self.fail(field, "须大于 0", "must be more than 0");
            }
            Ok(d) if d.normalize().scale() > 2 => {
                self.fail(field, "最多两位小数", "at most two decimals");
            }
            Ok(mut d) => {
                d.rescale(2);
                return Some(d);
            }
        }
        None
    }

    /// A percentage 0 ≤ p < 100 as a fraction; `None` when empty.
    fn rate(&mut self, field: &str) -> Option<Decimal> {
        let v = self.text(field).trim_end_matches('%').trim().to_string();
        if v.is_empty() {
            return None;
        }
        match v.parse::<Decimal>() {
            Ok(p) if p >= Decimal::ZERO && p < Decimal::ONE_HUNDRED => {
                Some((p / Decimal::ONE_HUNDRED).normalize())
            }
            Ok(_) => {
                self.fail(
                    field,
                    "须在 0% 到 100% 之间(不含 100%)",
                    "must be from 0% up to, not including, 100%",
                );
                None
            }
            Err(_) => {
                self.fail(
                    field,
                    format!("“{v}”不是百分比(例如 9 表示 9%)"),
                    format!("“{v}” is not a percentage (e.g. 9 for 9%)"),
                );
                None
            }
        }
    }
}

/// Reads the form into a policy of version `version`, starting from `base` (whose tiers, keys and
/// entry kinds the form keeps). Every problem comes back at once, on its field, in words; the
/// policy is also checked by [`Policy::parse`] of its document, so the form can refuse nothing
/// the document would accept and accept nothing it would refuse.
pub fn read(
    fields: &Fields,
    base: &Policy,
    skus: &[String],
    version: u32,
) -> Result<(Policy, String), Vec<FieldError>> {
    let mut r = Reader {
        fields,
        errors: Vec::new(),
    };
    let name = r.required("name");
    let lowest = base.lowest();
    let mut tiers = Vec::new();
    for (i, t) in base.tiers().iter().enumerate() {
        let f = |n: &str| tier_field(i, n);
        let name_zh = r.required(&f("name_zh"));
        let name_en = r.required(&f("name_en"));
        let entry = match t.entry {
            Entry::Quantity(_) => Entry::Quantity(
                r.whole(&f("entry_quantity"), 1, 1_000_000, false)
                    .unwrap_or(1),
            ),
            Entry::Amount(_) => {
                let field = f("entry_amount");
                let a = r.money(&field);
                if a.is_none() && r.text(&field).is_empty() {
                    r.fail(&field, "必填", "required");
                }
                Entry::Amount(a.unwrap_or(Decimal::ONE))
            }
        };
        let unit_price = r.money(&f("unit_price"));
        let upgrade_count = if t.rank == lowest {
            None
        } else {
            r.whole(&f("upgrade_count"), 1, 10_000, true)
        };
        let same_tier_rate = r.rate(&f("same_tier_rate"));
        let approval_key = r.text(&f("approval")).to_string();
        let approval = ApprovalMode::parse(&approval_key).unwrap_or_else(|| {
            r.fail(
                &f("approval"),
                "请选择审核方式",
                "choose how applications are approved",
            );
            t.approval
        });
        tiers.push(super::Tier {
            rank: t.rank,
            key: t.key.clone(),
            name_zh,
            name_en,
            entry,
            unit_price,
            upgrade_count,
            same_tier_rate,
            approval,
        });
    }
    // Prices rise as rank falls (DOMAIN §2): said here in words on the lower tier's field.
    for i in 1..tiers.len() {
        if let (Some(a), Some(b)) = (tiers[i - 1].unit_price, tiers[i].unit_price)
            && b <= a
        {
            let above = &tiers[i - 1];
            r.fail(
                &tier_field(i, "unit_price"),
                format!("须高于{}的 {a}:级别越低,价格越高", above.name_zh),
                format!(
                    "must be above {a} ({}): a lower tier pays more",
                    above.name_en
                ),
            );
        }
    }
    let receive_days = r.whole("windows.receive_days", 1, 365, false).unwrap_or(10);
    let return_days = r.whole("windows.return_days", 0, 365, false).unwrap_or(7);
    let items_per_case = r
        .whole("units.items_per_case", 1, 100_000, false)
        .unwrap_or(72);
    let mut awards = BTreeMap::new();
    for referrer in &tiers {
        for referred in tiers.iter().filter(|o| o.rank.is_above(referrer.rank)) {
            if let Some(a) = r.money(&award_field(&referrer.key, &referred.key)) {
                awards.insert((referrer.rank, referred.rank), a);
            }
        }
    }
    let mut prices: BTreeMap<String, BTreeMap<TierRank, Decimal>> = BTreeMap::new();
    for sku in table_skus(base, skus) {
        let mut row: BTreeMap<TierRank, Decimal> = BTreeMap::new();
        let mut last: Option<(Decimal, &super::Tier)> = None;
        for t in &tiers {
            let field = price_field(&sku, &t.key);
            let Some(p) = r.money(&field) else { continue };
            if let Some((a, above)) = last
                && p <= a
            {
                r.fail(
                    &field,
                    format!("须高于{}的 {a}:级别越低,价格越高", above.name_zh),
                    format!(
                        "must be above {a} ({}): a lower tier pays more",
                        above.name_en
                    ),
                );
            }
            last = Some((p, t));
            row.insert(t.rank, p);
        }
        if !row.is_empty() {
            prices.insert(sku, row);
        }
    }
    for (i, t) in tiers.iter().enumerate() {
        // A price typed but refused is already said on its field.
        let typed = !r.text(&tier_field(i, "unit_price")).is_empty();
        if !typed && t.unit_price.is_none() && !prices.values().any(|row| row.contains_key(&t.rank))
        {
            r.fail(
                &tier_field(i, "unit_price"),
                "该级别没有价格:请填写单价,或在价格表里为它填写商品价格",
                "the tier has no price: give a unit price, or prices in the price table",
            );
        }
    }
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let policy = Policy {
        version,
        name,
        tiers,
        awards,
        prices,
        receive_days,
        return_days,
        items_per_case,
    };
    let document = policy.to_document();
    // The document's own rules have the last word; what they refuse is shown on its field.
    Policy::parse(&document)
        .map(|p| (p, document))
        .map_err(|e| {
            e.0.into_iter()
                .map(|e| {
                    FieldError::new(
                        &e.field,
                        format!("不符合规则:{}", e.message),
                        e.message.clone(),
                    )
                })
                .collect()
        })
}

/// What a field is, in words: "市代 · 单价", "区代推荐市代的奖励", "商品 HONEY · 市代价".
pub fn label(policy: &Policy, field: &str, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let tier_name = |key: &str| {
        policy.tier_by_key(key).map_or_else(
            || key.to_string(),
            |t| {
                if zh {
                    t.name_zh.clone()
                } else {
                    t.name_en.clone()
                }
            },
        )
    };
    if let Some(rest) = field.strip_prefix("tiers[") {
        let (i, name) = rest.split_once("].").unwrap_or((rest, ""));
        let tier = i
            .parse::<usize>()
            .ok()
            .and_then(|i| policy.tiers().get(i))
            .map_or_else(
                || i.to_string(),
                |t| {
                    if zh {
                        t.name_zh.clone()
                    } else {
                        t.name_en.clone()
                    }
                },
            );
        let what = match (name, zh) {
            ("name_zh", true) => "中文名称",
            ("name_zh", false) => "Chinese name",
            ("name_en", true) => "英文名称",
            ("name_en", false) => "English name",
            ("entry_quantity", true) => "首批数量(盒)",
            ("entry_quantity", false) => "entry order (items)",
            ("entry_amount", true) => "首批金额",
            ("entry_amount", false) => "entry order (amount)",
            ("unit_price", true) => "单价",
            ("unit_price", false) => "unit price",
            ("upgrade_count", true) => "升级所需推荐数",
            ("upgrade_count", false) => "referrals to upgrade",
            ("same_tier_rate", true) => "同级推荐奖",
            ("same_tier_rate", false) => "same-tier rebate",
            ("approval", true) => "审核方式",
            ("approval", false) => "approval",
            (other, _) => other,
        };
        return format!("{tier} · {what}");
    }
    if let Some(rest) = field.strip_prefix("awards.") {
        let (referrer, referred) = rest.split_once('.').unwrap_or((rest, ""));
        return if zh {
            format!("{}推荐{}的奖励", tier_name(referrer), tier_name(referred))
        } else {
            format!(
                "award to a {} referring a {}",
                tier_name(referrer),
                tier_name(referred)
            )
        };
    }
    if let Some(rest) = field.strip_prefix("prices.") {
        // SKUs may hold dots; tier keys never do.
        let (sku, key) = rest.rsplit_once('.').unwrap_or((rest, ""));
        return if zh {
            format!("商品 {sku} · {}价", tier_name(key))
        } else {
            format!("product {sku} · {} price", tier_name(key))
        };
    }
    match (field, zh) {
        ("name", true) => "版本名称".into(),
        ("name", false) => "version name".into(),
        ("windows.receive_days", true) => "自动收货天数".into(),
        ("windows.receive_days", false) => "days until auto-receive".into(),
        ("windows.return_days", true) => "维权期天数".into(),
        ("windows.return_days", false) => "return window (days)".into(),
        ("units.items_per_case", true) => "每件盒数".into(),
        ("units.items_per_case", false) => "items per case".into(),
        (other, _) => other.to_string(),
    }
}

/// An approval mode in words.
pub fn approval_words(mode: ApprovalMode, lang: Lang) -> &'static str {
    match (mode, lang) {
        (ApprovalMode::Automatic, Lang::Zh) => "自动通过",
        (ApprovalMode::Automatic, Lang::En) => "automatic",
        (ApprovalMode::Hq, Lang::Zh) => "总部审核",
        (ApprovalMode::Hq, Lang::En) => "HQ approves",
        (ApprovalMode::SupplierThenHq, Lang::Zh) => "上级审核后总部审核",
        (ApprovalMode::SupplierThenHq, Lang::En) => "supplier, then HQ",
    }
}

/// A field's value in words: a rate with its %, an approval mode in words, empty as "—".
fn shown(field: &str, value: &str, lang: Lang) -> String {
    if value.is_empty() {
        return match lang {
            Lang::Zh => "(无)".into(),
            Lang::En => "(none)".into(),
        };
    }
    if field.ends_with(".same_tier_rate") {
        return format!("{value}%");
    }
    if field.ends_with(".approval") {
        return ApprovalMode::parse(value).map_or_else(
            || value.to_string(),
            |m| approval_words(m, lang).to_string(),
        );
    }
    value.to_string()
}

/// Every value that differs between `old` and `new`, in the order of the form, in words
/// ("市代 · 单价: 31.00 → 29.00"). Fields one version has and the other lacks count as empty
/// there. `skus` as for [`fields`].
pub fn diff(old: &Policy, new: &Policy, skus: &[String]) -> Vec<Change> {
    let mut all = table_skus(old, skus);
    for s in new.listed_skus() {
        if !all.iter().any(|o| o == s) {
            all.push(s.to_string());
        }
    }
    let (a, b) = (fields(old, &all), fields(new, &all));
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort_by_key(|n| order_key(n));
    names.dedup();
    let empty = String::new();
    names
        .into_iter()
        .filter_map(|n| {
            let (x, y) = (a.get(n).unwrap_or(&empty), b.get(n).unwrap_or(&empty));
            (x != y).then(|| {
                let line = |lang| {
                    format!(
                        "{}: {} → {}",
                        label(new, n, lang),
                        shown(n, x, lang),
                        shown(n, y, lang)
                    )
                };
                Change {
                    field: n.clone(),
                    zh: line(Lang::Zh),
                    en: line(Lang::En),
                }
            })
        })
        .collect()
}

/// The form's order: the version name, the tiers, the windows, the awards, the prices.
fn order_key(field: &str) -> (u8, String) {
    let group = match field.split(['.', '[']).next().unwrap_or("") {
        "name" => 0,
        "tiers" => 1,
        "windows" | "units" => 2,
        "awards" => 3,
        _ => 4,
    };
    (group, field.to_string())
}

/// Items ordered at one tier of one product (the last days' orders, from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedItems {
    pub rank: TierRank,
    pub sku: String,
    pub items: i64,
}

/// What the ordered items of one tier cost under the old and the new prices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierEffect {
    pub rank: TierRank,
    pub items: i64,
    pub old_goods: Decimal,
    pub new_goods: Decimal,
    /// Items the new policy no longer prices at this tier (they could not be ordered again).
    pub unpriced_items: i64,
}

/// The same orders priced under `old` and under `new`, per tier of the buyer: what agents would
/// have paid their suppliers. Items the old policy did not price either are left out.
pub fn price_effect(old: &Policy, new: &Policy, ordered: &[OrderedItems]) -> Vec<TierEffect> {
    let mut out: Vec<TierEffect> = new
        .tiers()
        .iter()
        .map(|t| TierEffect {
            rank: t.rank,
            items: 0,
            old_goods: Decimal::ZERO,
            new_goods: Decimal::ZERO,
            unpriced_items: 0,
        })
        .collect();
    for o in ordered {
        let (Some(e), Some(before)) = (
            out.iter_mut().find(|e| e.rank == o.rank),
            old.price(o.rank, &o.sku),
        ) else {
            continue;
        };
        let n = Decimal::from(o.items);
        e.items += o.items;
        e.old_goods += before * n;
        match new.price(o.rank, &o.sku) {
            Some(after) => e.new_goods += after * n,
            None => e.unpriced_items += o.items,
        }
    }
    out
}

#[cfg(test)]
#[path = "policy_form_tests.rs"]
mod tests;
