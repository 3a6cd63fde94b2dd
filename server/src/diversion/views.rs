//! The audit views' data, shared by the HQ console and the JSON API: the dashboard, the flow
//! matrix, agents' diversion counts by week, an item's or case's trace, and their CSV exports.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Utc};

use super::regions;
use crate::domain::diversion::RegionCode;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::diversion_alerts::{self as alerts, AlertFilter, AlertRow};
use crate::store::diversion_views::{
    self as views, DayCount, ItemHead, Series, Totals, TraceEvent,
};

/// Days a view may look back.
pub const MAX_DAYS: u32 = 366;

pub fn since(days: u32) -> Result<NaiveDateTime> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::BadRequest(format!(
            "days {days} is out of range: give 1 to {MAX_DAYS}"
        )));
    }
    let today = Utc::now().date_naive();
    let start = today - Duration::days(i64::from(days) - 1);
    Ok(start.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The days of the window, oldest first, as `YYYY-MM-DD`.
pub fn days_of(days: u32) -> Vec<String> {
    let today = Utc::now().date_naive();
    (0..i64::from(days))
        .rev()
        .map(|d| (today - Duration::days(d)).format("%Y-%m-%d").to_string())
        .collect()
}

/// A daily series with every day of the window filled in.
pub fn fill(days: &[String], counts: &[DayCount]) -> Vec<i64> {
    let by_day: BTreeMap<&str, i64> = counts.iter().map(|c| (c.day.as_str(), c.n)).collect();
    days.iter()
        .map(|d| by_day.get(d.as_str()).copied().unwrap_or(0))
        .collect()
}

pub struct Dashboard {
    pub totals: Totals,
    pub days: Vec<String>,
    pub series: Series,
}

pub fn dashboard(conn: &mut DbConnection, days: u32) -> Result<Dashboard> {
    let start = since(days)?;
    Ok(Dashboard {
        totals: views::totals(conn)?,
        days: days_of(days),
        series: views::series(conn, start)?,
    })
}

/// Expected province → observed province.
pub struct FlowMatrix {
    pub expected: Vec<String>,
    pub observed: Vec<String>,
    pub cells: BTreeMap<(String, String), i64>,
}

pub fn flows(conn: &mut DbConnection, days: u32) -> Result<FlowMatrix> {
    let rows = views::flows(conn, since(days)?)?;
    let expected: BTreeSet<String> = rows.iter().map(|f| f.expected.clone()).collect();
    let observed: BTreeSet<String> = rows.iter().map(|f| f.observed.clone()).collect();
    Ok(FlowMatrix {
        expected: expected.into_iter().collect(),
        observed: observed.into_iter().collect(),
        cells: rows
            .into_iter()
            .map(|f| ((f.expected, f.observed), f.n))
            .collect(),
    })
}

/// A region's name, or the code when it is not in the book.
pub fn region_name(code: &str) -> String {
    RegionCode::parse(code)
        .map(|c| regions().full_name(c))
        .unwrap_or_else(|| code.to_string())
}

/// One agent's diversion alerts by ISO week.
pub struct AgentWeeks {
    pub agent_id: i64,
    pub name: String,
    pub weeks: Vec<i64>,
    pub total: i64,
}

/// `(week labels, one row per agent with alerts)`.
pub fn agent_weeks(conn: &mut DbConnection, days: u32) -> Result<(Vec<String>, Vec<AgentWeeks>)> {
    let rows = views::agent_days(conn, since(days)?)?;
    let week_of = |day: &str| {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| format!("{}-W{:02}", d.iso_week().year(), d.iso_week().week()))
            .unwrap_or_else(|_| day.to_string())
    };
    let labels: Vec<String> = days_of(days)
        .iter()
        .map(|d| week_of(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut by_agent: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows {
        *by_agent
            .entry(r.agent_id)
            .or_default()
            .entry(week_of(&r.day))
            .or_default() += r.n;
    }
    let mut out = Vec::new();
    for (agent, weeks) in by_agent {
        let name = crate::store::network::agents::find(conn, agent)?
            .map_or_else(|| format!("#{agent}"), |a| a.name);
        let series: Vec<i64> = labels
            .iter()
            .map(|w| weeks.get(w).copied().unwrap_or(0))
            .collect();
        out.push(AgentWeeks {
            agent_id: agent,
            name,
            total: series.iter().sum(),
            weeks: series,
        });
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.total));
    Ok((labels, out))
}

/// Everything known of one code.
pub struct Trace {
    pub code: String,
    pub is_case: bool,
    pub items: Vec<ItemHead>,
    pub events: Vec<TraceEvent>,
    pub alerts: Vec<AlertRow>,
}

/// Most events a trace lists.
pub const TRACE_LIMIT: i64 = 2000;

/// The trace of an item serial or a case code (or SSCC); 404 when it is neither.
pub fn trace(conn: &mut DbConnection, raw: &str) -> Result<Trace> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty()
        || code.len() > 64
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::BadRequest(format!(
            "{raw:?} is not a serial or case code"
        )));
    }
    let Some((is_case, serials)) = views::trace_serials(conn, &code)? else {
        return Err(Error::not_found("item or case"));
    };
    let mut items = Vec::new();
    for s in serials.iter().take(200) {
        items.extend(views::item_head(conn, s)?);
    }
    let events = views::timeline(conn, &code, &serials, TRACE_LIMIT)?;
    let mut found = Vec::new();
    for s in serials.iter().take(200) {
        found.extend(alerts::list(
            conn,
            &AlertFilter {
                serial: Some(s.clone()),
                limit: 100,
                ..AlertFilter::default()
            },
        )?);
    }
    Ok(Trace {
        code,
        is_case,
        items,
        events,
        alerts: found,
    })
}

/// One CSV field, quoted when needed; a leading `=+-@` is defused for spreadsheets.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn line(fields: &[String]) -> String {
    let mut l = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    l.push_str("\r\n");
    l
}

pub fn alerts_csv(rows: &[AlertRow]) -> String {
    let mut out = line(
        &[
            "id",
            "created_at",
            "kind",
            "status",
            "serial",
            "channel",
            "expected_region",
            "expected_name",
            "observed_region",
            "observed_name",
            "place_source",
            "agent_id",
            "risk",
            "note",
            "action",
            "penalty_cents",
        ]
        .map(String::from),
    );
    for a in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        out.push_str(&line(&[
            a.id.to_string(),
            a.created_at.to_string(),
            a.kind.as_str().to_string(),
            a.status.as_str().to_string(),
            a.serial.clone(),
            a.channel.as_str().to_string(),
            opt(&a.expected_region),
            a.expected_region
                .as_deref()
                .map(region_name)
                .unwrap_or_default(),
            opt(&a.observed_region),
            a.observed_region
                .as_deref()
                .map(region_name)
                .unwrap_or_default(),
            a.place_source.as_str().to_string(),
            a.agent_id.map(|v| v.to_string()).unwrap_or_default(),
            a.risk.to_string(),
            opt(&a.note),
            a.action.map(|x| x.as_str().to_string()).unwrap_or_default(),
            a.penalty_cents.map(|v| v.to_string()).unwrap_or_default(),
        ]));
    }
    out
}

pub fn trace_csv(t: &Trace) -> String {
    let mut out = line(
        &[
            "at",
            "source",
            "code",
            "what",
            "detail",
            "region",
            "region_name",
        ]
        .map(String::from),
    );
    for e in &t.events {
        out.push_str(&line(&[
            e.at.to_string(),
            e.source.to_string(),
            e.serial.clone(),
            e.what.clone(),
            e.detail.clone(),
            e.region.clone().unwrap_or_default(),
            e.region.as_deref().map(region_name).unwrap_or_default(),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
    }

    #[test]
    fn windows_are_bounded() {
        assert!(since(0).is_err());
        assert!(since(MAX_DAYS + 1).is_err());
        assert_eq!(days_of(7).len(), 7);
        let days = vec!["2026-01-01".to_string(), "2026-01-02".to_string()];
        let counts = vec![DayCount {
            day: "2026-01-02".into(),
            n: 3,
        }];
        assert_eq!(fill(&days, &counts), vec![0, 3]);
    }
}
