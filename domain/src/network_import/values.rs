//! One cell's text as a value: phones, dates, amounts, tiers, regions, words for wallets,
//! statuses and kinds of activity in either language.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::TierInfo;
use super::problems::ProblemKind;
use crate::diversion::region::RegionBook;
use crate::levels::ActivityKind;

/// A phone as the agent will sign in with it (see [`crate::phone::normalise`]), without the
/// leading `+`.
pub fn normalise_phone(raw: &str) -> Option<String> {
    crate::phone::normalise(raw).map(|p| p.trim_start_matches('+').to_string())
}

pub fn phone(raw: &str) -> Result<String, ProblemKind> {
    if raw.trim().is_empty() {
        return Err(ProblemKind::Required);
    }
    normalise_phone(raw).ok_or(ProblemKind::BadPhone)
}

pub fn text(raw: &str, max: usize) -> Result<String, ProblemKind> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ProblemKind::Required);
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ProblemKind::TooLong(max));
    }
    Ok(v.to_string())
}

pub fn id_number(raw: &str) -> Result<String, ProblemKind> {
    let id = raw.trim().to_ascii_uppercase();
    if id.is_empty() {
        return Err(ProblemKind::Required);
    }
    if !(6..=32).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ProblemKind::BadIdNumber);
    }
    Ok(id)
}

/// A tier by its key or its name in either language.
pub fn tier(raw: &str, tiers: &[TierInfo]) -> Result<TierInfo, ProblemKind> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ProblemKind::Required);
    }
    let lower = v.to_lowercase();
    tiers
        .iter()
        .find(|t| t.key == lower || t.name_zh == v || t.name_en.to_lowercase() == lower)
        .cloned()
        .ok_or_else(|| ProblemKind::UnknownTier {
            given: v.to_string(),
            known: tiers
                .iter()
                .map(|t| format!("{} ({})", t.name_zh, t.key))
                .collect(),
        })
}

/// GB/T 2260 codes separated by `;`, `,`, `、`, `/`, their full-width forms or spaces; at least one, each in the book.
pub fn regions(raw: &str, book: &RegionBook) -> Result<Vec<String>, ProblemKind> {
    let mut out = Vec::new();
    for part in raw
        .split(|c: char| {
            matches!(c, ';' | ',' | '、' | '/' | '\u{ff1b}' | '\u{ff0c}') || c.is_whitespace()
        })
        .filter(|p| !p.is_empty())
    {
        let code = book
            .known(part)
            .ok_or_else(|| ProblemKind::BadRegion(part.to_string()))?;
        let code = code.to_string();
        if !out.contains(&code) {
            out.push(code);
        }
    }
    if out.is_empty() {
        return Err(ProblemKind::Required);
    }
    out.sort();
    Ok(out)
}

/// `2026-03-01`, `2026/3/1`, `2026.3.1` or `20260301`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, ProblemKind> {
    let v = raw.trim();
    let bad = || ProblemKind::BadDate(v.to_string());
    if v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(v, "%Y%m%d").map_err(|_| bad());
    }
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let n = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
    let year = i32::try_from(n(parts[0])?).map_err(|_| bad())?;
    if !(1900..=9999).contains(&year) {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, n(parts[1])?, n(parts[2])?).ok_or_else(bad)
}

/// An amount in yuan with at most two decimals (thousands separators allowed), as cents.
pub fn parse_cents(raw: &str) -> Result<i64, ProblemKind> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ProblemKind::Required);
    }
    let cleaned: String = v
        .trim_start_matches(['¥', '¥'])
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let d: Decimal = cleaned
        .trim()
        .parse()
        .map_err(|_| ProblemKind::BadAmount(v.to_string()))?;
    if d.normalize().scale() > 2 {
        return Err(ProblemKind::TooManyDecimals(v.to_string()));
    }
    (d * Decimal::ONE_HUNDRED)
        .to_i64()
        .filter(|c| c.unsigned_abs() < 1_000_000_000_000_000)
        .ok_or_else(|| ProblemKind::BadAmount(v.to_string()))
}

pub fn parse_quantity(raw: &str) -> Result<i64, ProblemKind> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ProblemKind::Required);
    }
    v.parse::<i64>()
        .ok()
        .filter(|q| (1..=100_000_000).contains(q))
        .ok_or_else(|| ProblemKind::BadQuantity(v.to_string()))
}

/// `true` for active (also when blank), `false` for suspended.
pub fn status(raw: &str) -> Result<bool, ProblemKind> {
    match raw.trim().to_lowercase().as_str() {
        "" | "active" | "正常" | "启用" => Ok(true),
        "suspended" | "暂停" | "停用" => Ok(false),
        other => Err(ProblemKind::BadStatus(other.to_string())),
    }
}

/// `false` for available, `true` for frozen.
pub fn wallet(raw: &str) -> Result<bool, ProblemKind> {
    match raw.trim().to_lowercase().as_str() {
        "" => Err(ProblemKind::Required),
        "available" | "可提现" | "可用" => Ok(false),
        "frozen" | "冻结" => Ok(true),
        other => Err(ProblemKind::BadWallet(other.to_string())),
    }
}

/// HQ named as a supplier.
pub fn is_hq(raw: &str) -> bool {
    matches!(raw.trim().to_lowercase().as_str(), "hq" | "总部" | "公司")
}

/// What a row of historical activity records (the level engine's `level_activity` kinds), by
/// its stored name or its Chinese word.
pub fn activity_kind(raw: &str) -> Result<ActivityKind, ProblemKind> {
    match raw.trim().to_lowercase().as_str() {
        "" => Err(ProblemKind::Required),
        "customer_bound" | "绑定客户" => Ok(ActivityKind::CustomerBound),
        "recharge" | "充值" => Ok(ActivityKind::Recharge),
        "level_payment" | "等级付费" => Ok(ActivityKind::LevelPayment),
        other => Err(ProblemKind::BadKind(other.to_string())),
    }
}
