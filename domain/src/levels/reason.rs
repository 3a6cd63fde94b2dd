//! Why a level changed, in the plain words the agent sees, in Chinese and English:
//! "upgraded to 市代: team sales 52,300.00 ≥ 50,000.00 in the last 30 days".

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::downgrade::DowngradeKind;
use super::metrics::{Metric, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A threshold compared: `actual` (quota included) against `target`.
    Threshold {
        metric: Metric,
        actual: Decimal,
        target: Decimal,
        window_days: Option<u32>,
    },
    /// A designated upgrade product bought (`bought`) or not.
    Product {
        skus: Vec<String>,
        bought: Option<String>,
        window_days: Option<u32>,
    },
    /// The level price paid (`paid`) against the price.
    LevelPrice {
        paid: Decimal,
        price: Decimal,
        window_days: Option<u32>,
    },
    /// A downgrade check fell due for the level held.
    Due {
        rule: String,
        days: Option<u32>,
        level_zh: String,
        level_en: String,
    },
    /// A new level policy re-levelled the agent.
    PolicyChange { version: u32 },
    /// An application for the level (等级申请) approved on `on`: by HQ, after the agent's
    /// supplier when `supplier_first` (two-stage approval).
    Approved { supplier_first: bool, on: NaiveDate },
}

impl Reason {
    pub fn window_of(w: Window) -> Option<u32> {
        w.0
    }

    pub fn due(kind: DowngradeKind, level_zh: &str, level_en: &str) -> Reason {
        let rule = match kind {
            DowngradeKind::Never => "never",
            DowngradeKind::Thresholds => "thresholds",
            DowngradeKind::Cyclic { .. } => "cyclic",
            DowngradeKind::Single { .. } => "single",
            DowngradeKind::Validity { .. } => "validity",
        };
        Reason::Due {
            rule: rule.into(),
            days: kind.days(),
            level_zh: level_zh.into(),
            level_en: level_en.into(),
        }
    }

    /// Several reasons in one line, as the agent reads them.
    pub fn render_all(reasons: &[Reason], lang: Lang) -> String {
        let sep = if lang == Lang::Zh { ";" } else { "; " };
        let parts: Vec<String> = reasons.iter().map(|r| r.render(lang)).collect();
        parts.join(sep)
    }

    /// The reason as the agent reads it.
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                Reason::Threshold {
                    metric,
                    actual,
                    target,
                    window_days,
                },
                Lang::En,
            ) => format!(
                "{} {} {} {}{}",
                metric_en(*metric),
                number(*actual, *metric),
                if actual >= target { "≥" } else { "<" },
                number(*target, *metric),
                window_en(*window_days)
            ),
            (
                Reason::Threshold {
                    metric,
                    actual,
                    target,
                    window_days,
                },
                Lang::Zh,
            ) => format!(
                "{}{} {} {} {}",
                window_zh(*window_days),
                metric_zh(*metric),
                number(*actual, *metric),
                if actual >= target { "≥" } else { "<" },
                number(*target, *metric)
            ),
            (
                Reason::Product {
                    skus,
                    bought,
                    window_days,
                },
                Lang::En,
            ) => match bought {
                Some(s) => format!("bought upgrade product {s}{}", window_en(*window_days)),
                None => format!(
                    "did not buy an upgrade product ({}){}",
                    skus.join(", "),
                    window_en(*window_days)
                ),
            },
            (
                Reason::Product {
                    skus,
                    bought,
                    window_days,
                },
                Lang::Zh,
            ) => match bought {
                Some(s) => format!("{}购买了升级商品 {s}", window_zh(*window_days)),
                None => format!(
                    "{}未购买升级商品({})",
                    window_zh(*window_days),
                    skus.join("、")
                ),
            },
            (
                Reason::LevelPrice {
                    paid,
                    price,
                    window_days,
                },
                Lang::En,
            ) => format!(
                "level price paid {} {} {}{}",
                money(*paid),
                if paid >= price { "≥" } else { "<" },
                money(*price),
                window_en(*window_days)
            ),
            (
                Reason::LevelPrice {
                    paid,
                    price,
                    window_days,
                },
                Lang::Zh,
            ) => format!(
                "{}已付等级价 {} {} {}",
                window_zh(*window_days),
                money(*paid),
                if paid >= price { "≥" } else { "<" },
                money(*price)
            ),
            (
                Reason::Due {
                    rule,
                    days,
                    level_en,
                    ..
                },
                Lang::En,
            ) => {
                let d = days.unwrap_or(0);
                match rule.as_str() {
                    "single" => format!("single assessment {d} days after reaching {level_en}"),
                    "cyclic" => format!("{d}-day cyclic assessment of {level_en}"),
                    "validity" => format!("the {d}-day validity of {level_en} ended"),
                    _ => format!("no longer meets the thresholds of {level_en}"),
                }
            }
            (
                Reason::Due {
                    rule,
                    days,
                    level_zh,
                    ..
                },
                Lang::Zh,
            ) => {
                let d = days.unwrap_or(0);
                match rule.as_str() {
                    "single" => format!("获得{level_zh}{d}天后单次考核"),
                    "cyclic" => format!("{level_zh}每{d}天周期考核"),
                    "validity" => format!("{level_zh}{d}天有效期已满"),
                    _ => format!("不再满足{level_zh}等级门槛"),
                }
            }
            (Reason::PolicyChange { version }, Lang::En) => {
                format!("level policy version {version} re-levelled existing agents")
            }
            (Reason::PolicyChange { version }, Lang::Zh) => {
                format!("等级规则第{version}版按新规则重新定级")
            }
            (Reason::Approved { supplier_first, on }, Lang::En) => format!(
                "application approved by {} on {on}",
                if *supplier_first {
                    "the supplier and HQ"
                } else {
                    "HQ"
                }
            ),
            (Reason::Approved { supplier_first, on }, Lang::Zh) => format!(
                "申请于{on}经{}审核通过",
                if *supplier_first {
                    "上级和总部"
                } else {
                    "总部"
                }
            ),
        }
    }
}

/// A metric's name in words ("团队业绩", "team sales").
pub fn metric_name(m: Metric, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => metric_zh(m),
        Lang::En => metric_en(m),
    }
}

fn metric_en(m: Metric) -> &'static str {
    match m {
        Metric::InvitedAgents => "invited agents",
        Metric::BoundCustomers => "bound customers",
        Metric::PersonalSales => "personal sales",
        Metric::TeamSales => "team sales",
        Metric::AmountPaid => "amount paid",
        Metric::Orders => "orders",
        Metric::Recharge => "recharge",
        Metric::Points => "level points",
    }
}

fn metric_zh(m: Metric) -> &'static str {
    match m {
        Metric::InvitedAgents => "邀请代理数",
        Metric::BoundCustomers => "绑定客户数",
        Metric::PersonalSales => "个人业绩",
        Metric::TeamSales => "团队业绩",
        Metric::AmountPaid => "实收金额",
        Metric::Orders => "支付单数",
        Metric::Recharge => "充值金额",
        Metric::Points => "等级值",
    }
}

fn window_en(w: Option<u32>) -> String {
    match w {
        Some(1) => " today".into(),
        Some(d) => format!(" in the last {d} days"),
        None => String::new(),
    }
}

fn window_zh(w: Option<u32>) -> String {
    match w {
        Some(d) => format!("近{d}天"),
        None => "累计".into(),
    }
}

fn number(v: Decimal, m: Metric) -> String {
    if m.is_money() {
        money(v)
    } else {
        grouped(&v.normalize().to_string())
    }
}

/// Yuan with two decimals and thousands separators: 52,300.00.
pub fn money(v: Decimal) -> String {
    grouped(&format!("{:.2}", v))
}

/// Thousands separators on the integer part of a decimal text.
fn grouped(text: &str) -> String {
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_reads_as_written() {
        let r = Reason::Threshold {
            metric: Metric::TeamSales,
            actual: Decimal::new(5_230_000, 2),
            target: Decimal::new(5_000_000, 2),
            window_days: Some(30),
        };
        assert_eq!(
            r.render(Lang::En),
            "team sales 52,300.00 ≥ 50,000.00 in the last 30 days"
        );
        assert_eq!(r.render(Lang::Zh), "近30天团队业绩 52,300.00 ≥ 50,000.00");
        let r = Reason::Threshold {
            metric: Metric::Orders,
            actual: Decimal::from(1234),
            target: Decimal::from(16),
            window_days: None,
        };
        assert_eq!(r.render(Lang::En), "orders 1,234 ≥ 16");
    }
}
