//! The level policy as a form (HQ's `/hq/levels`, issue 18): a document's values as form fields,
//! the fields read back into a document — each problem on its field, in Chinese and English —
//! and the difference between two documents in words.
//!
//! Fields are named by tier key and row, as the form shows them: `lv.city.paths[0].window_days`,
//! `lv.city.paths[0].thresholds.team_sales`, `lv.city.downgrade[1].kind`,
//! `lv.city.protection.days`, `points.per_yuan_sold`. Empty rows are left out of the document;
//! a problem the document's own validation finds (`levels[1].paths[0]…`) is put back on the
//! form's row it came from. Every tier but the lowest (where agents start) has a level in the
//! form; a tier without rules and not changing automatically is left out of the document, which
//! means the same (a level the document does not name is manual).

use super::metrics::Metric;
use super::policy::LevelPolicy;
use super::reason::{Lang, metric_name};
use crate::network::policy::form::approval_words;
pub use crate::network::policy::form::{Change, FieldError, Fields};
use crate::network::{ApprovalMode, Policy};

/// The downgrade kinds the form offers, as the document writes them.
pub const DOWNGRADE_KINDS: [&str; 5] = ["never", "thresholds", "cyclic", "single", "validity"];

fn level(key: &str) -> String {
    format!("lv.{key}")
}

/// The field of row `j` of `part` (`paths`, `downgrade`) of the level of `key`.
pub fn row(key: &str, part: &str, j: usize, name: &str) -> String {
    format!("lv.{key}.{part}[{j}].{name}")
}

/// The tiers the form has a level for: all but the lowest.
pub fn form_tiers(tiers: &Policy) -> impl Iterator<Item = &crate::network::Tier> {
    let lowest = tiers.lowest();
    tiers.tiers().iter().filter(move |t| t.rank != lowest)
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn thresholds_into(f: &mut Fields, prefix: &str, t: Option<&toml::Value>) {
    let table = t.and_then(toml::Value::as_table);
    for m in Metric::ALL {
        let v = table.and_then(|t| t.get(m.key())).map(value_text);
        f.insert(
            format!("{prefix}.thresholds.{}", m.key()),
            v.unwrap_or_default(),
        );
    }
}

/// The form's values for a document (the active one, or a preset). A document that does not
/// read gives the empty form.
pub fn fields(document: &str, tiers: &Policy) -> Fields {
    let doc: toml::Table = toml::from_str(document).unwrap_or_default();
    let text = |v: Option<&toml::Value>| v.map(value_text).unwrap_or_default();
    let mut f = Fields::new();
    f.insert("name".into(), text(doc.get("name")));
    f.insert(
        "on_change".into(),
        doc.get("on_change")
            .map_or_else(|| "keep".to_string(), value_text),
    );
    let points = doc.get("points").and_then(toml::Value::as_table);
    for p in ["per_yuan_sold", "per_bound_customer", "per_sub_agent"] {
        f.insert(format!("points.{p}"), text(points.and_then(|t| t.get(p))));
    }
    let levels: Vec<&toml::Table> = doc
        .get("levels")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_table).collect())
        .unwrap_or_default();
    for t in form_tiers(tiers) {
        let listed = levels
            .iter()
            .find(|l| l.get("tier").and_then(toml::Value::as_str) == Some(&t.key));
        let automatic = listed.is_some_and(|l| {
            l.get("automatic")
                .and_then(toml::Value::as_bool)
                .unwrap_or(true)
        });
        f.insert(
            format!("{}.automatic", level(&t.key)),
            if automatic { "on" } else { "" }.into(),
        );
        let rows = |part: &str| -> Vec<&toml::Table> {
            listed
                .and_then(|l| l.get(part))
                .and_then(toml::Value::as_array)
                .map(|a| a.iter().filter_map(toml::Value::as_table).collect())
                .unwrap_or_default()
        };
        for (j, p) in rows("paths").into_iter().enumerate() {
            let r = |n: &str| row(&t.key, "paths", j, n);
            f.insert(r("window_days"), text(p.get("window_days")));
            f.insert(
                r("match"),
                p.get("match").map_or_else(|| "all".into(), value_text),
            );
            f.insert(
                r("approval"),
                p.get("approval")
                    .map_or_else(|| "automatic".into(), value_text),
            );
            let products: Vec<String> = p
                .get("upgrade_products")
                .and_then(toml::Value::as_array)
                .map(|a| a.iter().map(value_text).collect())
                .unwrap_or_default();
            f.insert(r("upgrade_products"), products.join(", "));
            f.insert(r("level_price"), text(p.get("level_price")));
            thresholds_into(
                &mut f,
                &format!("lv.{}.paths[{j}]", t.key),
                p.get("thresholds"),
            );
        }
        for (j, d) in rows("downgrade").into_iter().enumerate() {
            let r = |n: &str| row(&t.key, "downgrade", j, n);
            f.insert(r("kind"), text(d.get("kind")));
            f.insert(r("days"), text(d.get("days")));
            f.insert(r("to"), text(d.get("to")));
        }
        let protection = listed
            .and_then(|l| l.get("protection"))
            .and_then(toml::Value::as_table);
        let p = format!("{}.protection", level(&t.key));
        f.insert(
            format!("{p}.days"),
            text(protection.and_then(|x| x.get("days"))),
        );
        f.insert(
            format!("{p}.match"),
            protection
                .and_then(|x| x.get("match"))
                .map_or_else(|| "all".into(), value_text),
        );
        thresholds_into(&mut f, &p, protection.and_then(|x| x.get("thresholds")));
    }
    f
}

/// How many rows of `part` the fields hold for the level of `key` (the form shows one more,
/// empty, to add a rule).
pub fn rows_of(fields: &Fields, key: &str, part: &str) -> usize {
    let prefix = format!("lv.{key}.{part}[");
    fields
        .keys()
        .filter_map(|k| {
            k.strip_prefix(&prefix)?
                .split(']')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .map(|j| j + 1)
        .max()
        .unwrap_or(0)
}

struct Reader<'a> {
    fields: &'a Fields,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    fn text(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", |v| v.trim())
    }

    /// A whole number of days, when given.
    fn days(&mut self, field: &str) -> Option<i64> {
        let v = self.text(field).to_string();
        if v.is_empty() {
            return None;
        }
        match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.push(FieldError {
                    field: field.to_string(),
                    zh: format!("“{v}”不是整数天数"),
                    en: format!("“{v}” is not a whole number of days"),
                });
                None
            }
        }
    }

    /// The thresholds typed under `prefix`, as the document writes them (decimal strings).
    fn thresholds(&self, prefix: &str) -> toml::Table {
        let mut t = toml::Table::new();
        for m in Metric::ALL {
            let v = self.text(&format!("{prefix}.thresholds.{}", m.key()));
            if !v.is_empty() {
                t.insert(m.key().into(), toml::Value::String(v.to_string()));
            }
        }
        t
    }
}

/// Reads the form into a level policy document of version `version`, validated against the
/// tiers. Every problem comes back at once, on its field, in words.
pub fn read(
    fields: &Fields,
    tiers: &Policy,
    version: u32,
) -> Result<(LevelPolicy, String), Vec<FieldError>> {
    let mut r = Reader {
        fields,
        errors: Vec::new(),
    };
    let mut doc = toml::Table::new();
    doc.insert("version".into(), toml::Value::Integer(i64::from(version)));
    doc.insert("name".into(), toml::Value::String(r.text("name").into()));
    doc.insert(
        "on_change".into(),
        toml::Value::String(r.text("on_change").into()),
    );
    let mut points = toml::Table::new();
    for p in ["per_yuan_sold", "per_bound_customer", "per_sub_agent"] {
        let v = r.text(&format!("points.{p}"));
        if !v.is_empty() {
            points.insert(p.into(), toml::Value::String(v.into()));
        }
    }
    if !points.is_empty() {
        doc.insert("points".into(), toml::Value::Table(points));
    }
    // Where each part of the document came from in the form, to put its problems back there.
    let mut origin: Vec<(String, String)> = Vec::new();
    let mut levels = Vec::new();
    for t in form_tiers(tiers) {
        let i = levels.len();
        let mut lv = toml::Table::new();
        lv.insert("tier".into(), toml::Value::String(t.key.clone()));
        let automatic = r.text(&format!("{}.automatic", level(&t.key))) == "on";
        lv.insert("automatic".into(), toml::Value::Boolean(automatic));
        let mut paths = Vec::new();
        for j in 0..rows_of(fields, &t.key, "paths") {
            let prefix = format!("lv.{}.paths[{j}]", t.key);
            let f = |n: &str| format!("{prefix}.{n}");
            let window = r.days(&f("window_days"));
            let thresholds = r.thresholds(&prefix);
            let products: Vec<toml::Value> = r
                .text(&f("upgrade_products"))
                .split([',', '，', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect();
            let price = r.text(&f("level_price")).to_string();
            let approval = r.text(&f("approval")).to_string();
            let approval = if approval.is_empty() {
                "automatic".to_string()
            } else {
                approval
            };
            let empty = window.is_none()
                && r.text(&f("window_days")).is_empty()
                && thresholds.is_empty()
                && products.is_empty()
                && price.is_empty()
                && approval == "automatic";
            if empty {
                continue;
            }
            origin.push((
                format!("levels[{i}].paths[{}]", paths.len()),
                prefix.clone(),
            ));
            let mut p = toml::Table::new();
            if let Some(w) = window {
                p.insert("window_days".into(), toml::Value::Integer(w));
            }
            let join = r.text(&f("match"));
            p.insert(
                "match".into(),
                toml::Value::String(if join.is_empty() { "all" } else { join }.into()),
            );
            p.insert("approval".into(), toml::Value::String(approval));
            if !thresholds.is_empty() {
                p.insert("thresholds".into(), toml::Value::Table(thresholds));
            }
            if !products.is_empty() {
                p.insert("upgrade_products".into(), toml::Value::Array(products));
            }
            if !price.is_empty() {
                p.insert("level_price".into(), toml::Value::String(price));
            }
            paths.push(toml::Value::Table(p));
        }
        let mut downgrades = Vec::new();
        for j in 0..rows_of(fields, &t.key, "downgrade") {
            let prefix = format!("lv.{}.downgrade[{j}]", t.key);
            let f = |n: &str| format!("{prefix}.{n}");
            let kind = r.text(&f("kind")).to_string();
            if kind.is_empty() {
                continue;
            }
            origin.push((
                format!("levels[{i}].downgrade[{}]", downgrades.len()),
                prefix.clone(),
            ));
            let mut d = toml::Table::new();
            d.insert("kind".into(), toml::Value::String(kind));
            if let Some(days) = r.days(&f("days")) {
                d.insert("days".into(), toml::Value::Integer(days));
            }
            let to = r.text(&f("to"));
            if !to.is_empty() {
                d.insert("to".into(), toml::Value::String(to.into()));
            }
            downgrades.push(toml::Value::Table(d));
        }
        let prot = format!("{}.protection", level(&t.key));
        let prot_thresholds = r.thresholds(&prot);
        let prot_days = r.days(&format!("{prot}.days"));
        let mut protection = None;
        if prot_days.is_some() || !prot_thresholds.is_empty() {
            let mut p = toml::Table::new();
            match prot_days {
                Some(d) => {
                    p.insert("days".into(), toml::Value::Integer(d));
                }
                None => r.errors.push(FieldError {
                    field: format!("{prot}.days"),
                    zh: "保级需要天数".into(),
                    en: "protection needs its days".into(),
                }),
            }
            let join = r.text(&format!("{prot}.match"));
            p.insert(
                "match".into(),
                toml::Value::String(if join.is_empty() { "all" } else { join }.into()),
            );
            if !prot_thresholds.is_empty() {
                p.insert("thresholds".into(), toml::Value::Table(prot_thresholds));
            }
            protection = Some(p);
        }
        if !automatic && paths.is_empty() && downgrades.is_empty() && protection.is_none() {
            continue;
        }
        origin.push((format!("levels[{i}].protection"), prot));
        origin.push((format!("levels[{i}]"), level(&t.key)));
        if !paths.is_empty() {
            lv.insert("paths".into(), toml::Value::Array(paths));
        }
        if !downgrades.is_empty() {
            lv.insert("downgrade".into(), toml::Value::Array(downgrades));
        }
        if let Some(p) = protection {
            lv.insert("protection".into(), toml::Value::Table(p));
        }
        levels.push(toml::Value::Table(lv));
    }
    if !levels.is_empty() {
        doc.insert("levels".into(), toml::Value::Array(levels));
    }
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let document = toml::to_string(&doc).unwrap_or_default();
    LevelPolicy::parse(&document, tiers)
        .map(|p| (p, document))
        .map_err(|e| {
            e.0.into_iter()
                .map(|e| FieldError {
                    field: form_field(&origin, &e.field),
                    zh: zh_message(&e.message),
                    en: e.message,
                })
                .collect()
        })
}

/// The form's name of a document field: its longest known origin, the rest kept.
fn form_field(origin: &[(String, String)], field: &str) -> String {
    origin
        .iter()
        .filter(|(doc, _)| {
            field == doc
                || field
                    .strip_prefix(doc.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .max_by_key(|(doc, _)| doc.len())
        .map_or_else(
            || field.to_string(),
            |(doc, form)| format!("{form}{}", &field[doc.len()..]),
        )
}

/// The document with its top-level `version` line set to `version` (comments kept): the raw box
/// starts from the active document or a preset numbered as the next version.
pub fn renumbered(document: &str, version: u32) -> String {
    let mut done = false;
    let mut out: Vec<String> = document
        .lines()
        .map(|line| {
            let is_version = line.trim_start().starts_with("version")
                && line
                    .split('=')
                    .next()
                    .is_some_and(|k| k.trim() == "version");
            if !done && is_version {
                done = true;
                format!("version = {version}")
            } else {
                line.to_string()
            }
        })
        .collect();
    if !done {
        out.insert(0, format!("version = {version}"));
    }
    out.join("\n") + "\n"
}

/// A document's own problems (an expert's raw document) as problems in words.
pub fn document_errors(errors: Vec<crate::network::PolicyError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| FieldError {
            zh: zh_message(&e.message),
            en: e.message,
            field: e.field,
        })
        .collect()
}

/// The document's own messages in Chinese, where they are the common ones.
fn zh_message(en: &str) -> String {
    let known = [
        ("must not be negative", "不能为负数"),
        ("must be a whole number", "须为整数"),
        ("at most 2 decimal places", "最多两位小数"),
        ("must be > 0", "须大于 0"),
        ("must not be empty", "不能为空"),
        ("must be between 1 and 3650 days", "须为 1 到 3650 天"),
        ("must be a decimal string", "不是数字"),
        ("needs days", "需要填写天数"),
        ("takes no days", "不需要天数"),
        (
            "give at least one of thresholds",
            "请至少填写一个门槛、升级商品或等级价格(只有需要审核的路径可以都不填:0门槛)",
        ),
        (
            "a points threshold needs a [points] section",
            "等级值门槛需要先填写等级值规则",
        ),
        (
            "a downgrade checks the level's own conditions",
            "降级按本等级的条件考核:请至少给本等级一条有条件的升级路径",
        ),
        (
            "protection needs a downgrade rule",
            "保级需要本等级有降级规则",
        ),
        (
            "a level that never changes automatically",
            "不自动升降的等级不能有升级路径、降级或保级规则",
        ),
        ("does not rank below this level", "须为低于本等级的级别"),
        (
            "a thresholds downgrade goes to the level the agent still meets",
            "门槛考核降为仍符合的等级:请选择“降为符合门槛的等级”或不选",
        ),
        (
            "\"never\" cannot be combined",
            "“不降级”不能与其他降级规则同时使用",
        ),
        ("must be \"relevel\" or \"keep\"", "请选择规则变更时的做法"),
    ];
    known
        .iter()
        .find(|(k, _)| en.contains(k))
        .map_or_else(|| format!("不符合规则:{en}"), |(_, zh)| (*zh).to_string())
}

/// What a field is, in words: "市代 · 升级路径 1 · 团队业绩门槛".
pub fn label(tiers: &Policy, field: &str, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let w = |z: &str, e: &str| if zh { z.to_string() } else { e.to_string() };
    let Some(rest) = field.strip_prefix("lv.") else {
        return match field {
            "name" => w("版本名称", "version name"),
            "on_change" => w("规则变更时", "on a rule change"),
            "points.per_yuan_sold" => w("等级值 · 每元业绩", "level points · per yuan sold"),
            "points.per_bound_customer" => {
                w("等级值 · 每个绑定客户", "level points · per bound customer")
            }
            "points.per_sub_agent" => w("等级值 · 每个下级代理", "level points · per sub-agent"),
            "version" => w("版本号", "version"),
            other => other.to_string(),
        };
    };
    let (key, rest) = rest.split_once('.').unwrap_or((rest, ""));
    let tier = tiers.tier_by_key(key).map_or_else(
        || key.to_string(),
        |t| {
            if zh {
                t.name_zh.clone()
            } else {
                t.name_en.clone()
            }
        },
    );
    let mut parts = vec![tier];
    let mut rest = rest;
    for (part, z, e) in [
        ("paths[", "升级路径", "way up"),
        ("downgrade[", "降级规则", "downgrade rule"),
    ] {
        if let Some(r) = rest.strip_prefix(part) {
            let (j, after) = r.split_once(']').unwrap_or((r, ""));
            let n = j.parse::<usize>().map_or(0, |j| j + 1);
            parts.push(if zh {
                format!("{z} {n}")
            } else {
                format!("{e} {n}")
            });
            rest = after.trim_start_matches('.');
        }
    }
    if let Some(r) = rest.strip_prefix("protection") {
        parts.push(w("保级", "protection"));
        rest = r.trim_start_matches('.');
    }
    let what = if let Some(m) = rest.strip_prefix("thresholds.") {
        Metric::from_key(m).map_or_else(
            || m.to_string(),
            |m| {
                if zh {
                    format!("{}门槛", metric_name(m, lang))
                } else {
                    format!("{} target", metric_name(m, lang))
                }
            },
        )
    } else {
        match rest {
            "" => String::new(),
            "automatic" => w("自动升降", "changes automatically"),
            "window_days" => w("考核天数", "window (days)"),
            "match" => w("条件关系", "conditions"),
            "approval" => w("审核", "approval"),
            "upgrade_products" => w("升级商品", "upgrade products"),
            "level_price" => w("等级价格", "level price"),
            "kind" => w("方式", "kind"),
            "days" => w("天数", "days"),
            "to" => w("降至", "down to"),
            other => other.to_string(),
        }
    };
    if !what.is_empty() {
        parts.push(what);
    }
    parts.join(" · ")
}

/// What activating a policy does to agents already placed (`on_change`), in words.
pub fn on_change_words(value: &str, lang: Lang) -> &'static str {
    match (value, lang) {
        ("relevel", Lang::Zh) => "按新规则重新评定所有代理",
        ("relevel", Lang::En) => "re-level every agent by the new rules",
        (_, Lang::Zh) => "保持现有等级,记录配额",
        (_, Lang::En) => "keep levels, with quotas",
    }
}

/// A select's value in words.
pub fn choice_words(tiers: &Policy, field: &str, value: &str, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let w = |z: &str, e: &str| if zh { z.to_string() } else { e.to_string() };
    if field.ends_with(".approval") && !value.is_empty() {
        return ApprovalMode::parse(value)
            .map_or_else(|| value.to_string(), |m| approval_words(m, lang).into());
    }
    if field.ends_with(".match") {
        return match value {
            "any" => w("满足任一", "any of"),
            _ => w("同时满足", "all of"),
        };
    }
    if field == "on_change" {
        return on_change_words(value, lang).to_string();
    }
    if field.ends_with(".automatic") {
        return if value == "on" {
            w("是", "yes")
        } else {
            w("否", "no")
        };
    }
    if field.ends_with(".kind") {
        return match value {
            "never" => w("不降级", "never"),
            "thresholds" => w("每天按门槛考核", "daily threshold check"),
            "cyclic" => w("周期循环考核", "every period"),
            "single" => w("获得等级后单次考核", "once, days after reaching it"),
            "validity" => w("等级有效期", "validity period"),
            "" => w("(无)", "(none)"),
            other => other.to_string(),
        };
    }
    if field.ends_with(".to") {
        return match value {
            // Not written: the kind's default (the level still met for a threshold check,
            // else one level down).
            "" => w("按方式默认", "the kind's default"),
            "below" => w("降一级", "one level down"),
            "relevel" => w("降为符合门槛的等级", "the level still met"),
            key => tiers.tier_by_key(key).map_or_else(
                || key.to_string(),
                |t| {
                    if zh {
                        t.name_zh.clone()
                    } else {
                        t.name_en.clone()
                    }
                },
            ),
        };
    }
    if value.is_empty() {
        return w("(无)", "(none)");
    }
    value.to_string()
}

/// The form's order: the policy's own fields, then each level by rank — whether it changes
/// automatically, its ways up, its downgrade rules, its protection — row by row.
fn order_key(tiers: &Policy, field: &str) -> (u8, u8, u8, usize, String) {
    let Some(rest) = field.strip_prefix("lv.") else {
        return (0, 0, 0, 0, field.to_string());
    };
    let (key, rest) = rest.split_once('.').unwrap_or((rest, ""));
    let rank = tiers.tier_by_key(key).map_or(u8::MAX, |t| t.rank.0);
    let row = |r: &str| {
        r.split_once(']')
            .and_then(|(j, _)| j.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let (part, j) = if let Some(r) = rest.strip_prefix("paths[") {
        (1, row(r))
    } else if let Some(r) = rest.strip_prefix("downgrade[") {
        (2, row(r))
    } else if rest.starts_with("protection") {
        (3, 0)
    } else {
        (0, 0)
    };
    (1, rank, part, j, field.to_string())
}

/// Every value that differs between two documents, in words ("市代 · 升级路径 1 · 考核天数:
/// 30 → 60").
pub fn diff(old: &str, new: &str, tiers: &Policy) -> Vec<Change> {
    let (a, b) = (fields(old, tiers), fields(new, tiers));
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort_by_key(|n| order_key(tiers, n));
    names.dedup();
    let empty = String::new();
    names
        .into_iter()
        .filter_map(|n| {
            let (x, y) = (a.get(n).unwrap_or(&empty), b.get(n).unwrap_or(&empty));
            // A row one side lacks reads as empty there; a default that reads the same in
            // words (an absent `match` is "all of") is no change.
            let same = |lang| choice_words(tiers, n, x, lang) == choice_words(tiers, n, y, lang);
            (x != y && !same(Lang::En)).then(|| {
                let line = |lang| {
                    format!(
                        "{}: {} → {}",
                        label(tiers, n, lang),
                        choice_words(tiers, n, x, lang),
                        choice_words(tiers, n, y, lang)
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

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
