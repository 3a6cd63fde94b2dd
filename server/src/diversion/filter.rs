//! The alert list's filters, checked once for the JSON API and the HQ console: every bad field is
//! a 400 naming it, never an empty list.

use chrono::NaiveDate;

use super::regions;
use crate::domain::diversion::alert::AlertStatus;
use crate::domain::diversion::{AlertKind, Level};
use crate::error::{Error, Result};
use crate::store::diversion_alerts::AlertFilter;

/// Largest page.
pub const MAX_LIMIT: i64 = 1000;

/// The filters as given (query strings), before checking.
#[derive(Debug, Default, Clone)]
pub struct FilterInput {
    /// `open`, `confirmed` or `dismissed`.
    pub status: Option<String>,
    /// `diversion`, `cloning` or `overuse`.
    pub kind: Option<String>,
    pub agent_id: Option<i64>,
    pub serial: Option<String>,
    /// Observed region: a GB/T 2260 code; a province or city matches everything inside it.
    pub region: Option<String>,
    /// Raised in the last N days (1–366).
    pub days: Option<u32>,
    /// Raised on or after this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// How many, newest first: 1–1000, default 100.
    pub limit: Option<i64>,
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Checks the filters into a store filter.
pub fn alert_filter(q: &FilterInput) -> Result<AlertFilter> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "limit {limit} is out of range: give 1 to {MAX_LIMIT}"
        )));
    }
    let status = text(&q.status)
        .map(|s| {
            AlertStatus::parse(&s).ok_or_else(|| {
                Error::BadRequest(format!("status {s:?}: use open, confirmed or dismissed"))
            })
        })
        .transpose()?;
    let kind = text(&q.kind)
        .map(|k| {
            AlertKind::parse(&k).ok_or_else(|| {
                Error::BadRequest(format!("kind {k:?}: use diversion, cloning or overuse"))
            })
        })
        .transpose()?;
    let region_prefix = match text(&q.region) {
        None => None,
        Some(r) => {
            let code = regions().known(&r).ok_or_else(|| {
                Error::BadRequest(format!("region {r:?} is not a GB/T 2260 code"))
            })?;
            let s = code.to_string();
            Some(match code.level() {
                Level::Province => s[..2].to_string(),
                Level::City => s[..4].to_string(),
                Level::District => s,
            })
        }
    };
    let serial = text(&q.serial).map(|s| s.to_ascii_uppercase());
    if serial.as_ref().is_some_and(|s| s.len() > 64) {
        return Err(Error::BadRequest("serial is too long".into()));
    }
    if q.agent_id.is_some_and(|a| a <= 0) {
        return Err(Error::BadRequest(
            "agent id must be a positive number".into(),
        ));
    }
    let by_days = q.days.map(super::views::since).transpose()?;
    let by_date = match text(&q.from) {
        None => None,
        Some(d) => Some(
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| Error::BadRequest(format!("date {d:?} is not YYYY-MM-DD")))?
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        ),
    };
    Ok(AlertFilter {
        status,
        kind,
        agent_id: q.agent_id,
        serial,
        region_prefix,
        // Both given: the later bound.
        since: by_days.max(by_date),
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(q: FilterInput) -> String {
        match alert_filter(&q) {
            Err(Error::BadRequest(m)) => m,
            other => panic!("{q:?} → {other:?}"),
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let s = |v: &str| Some(v.to_string());
        assert!(
            bad(FilterInput {
                status: s("closed"),
                ..FilterInput::default()
            })
            .contains("status")
        );
        assert!(
            bad(FilterInput {
                kind: s("smuggled"),
                ..FilterInput::default()
            })
            .contains("kind")
        );
        assert!(
            bad(FilterInput {
                region: s("999999"),
                ..FilterInput::default()
            })
            .contains("region")
        );
        assert!(
            bad(FilterInput {
                from: s("25/11/2026"),
                ..FilterInput::default()
            })
            .contains("date")
        );
        assert!(
            bad(FilterInput {
                days: Some(0),
                ..FilterInput::default()
            })
            .contains("days")
        );
        assert!(
            bad(FilterInput {
                limit: Some(0),
                ..FilterInput::default()
            })
            .contains("limit")
        );
        assert!(
            bad(FilterInput {
                agent_id: Some(-1),
                ..FilterInput::default()
            })
            .contains("agent")
        );
    }

    #[test]
    fn good_fields_become_a_filter() {
        let f = alert_filter(&FilterInput {
            status: Some(" open ".into()),
            region: Some("440000".into()),
            from: Some("2026-11-01".into()),
            serial: Some("abc".into()),
            ..FilterInput::default()
        })
        .expect("filter");
        assert_eq!(f.status, Some(AlertStatus::Open));
        assert_eq!(f.region_prefix.as_deref(), Some("44"));
        assert_eq!(f.serial.as_deref(), Some("ABC"));
        assert_eq!(
            f.since.map(|d| d.to_string()).as_deref(),
            Some("2026-11-01 00:00:00")
        );
        assert_eq!(f.limit, 100);
        // Empty fields (a form's blanks) mean no filter.
        let f = alert_filter(&FilterInput {
            status: Some(String::new()),
            kind: Some(" ".into()),
            ..FilterInput::default()
        })
        .expect("filter");
        assert!(f.status.is_none() && f.kind.is_none());
    }
}
