//! Diversion alerts (串货预警): raised once per dedupe key, listed with filters, decided once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::diversion_alerts;
use super::users::now;
use crate::domain::diversion::PlaceSource;
use crate::domain::diversion::alert::{AlertAction, AlertKind, AlertStatus, Channel};
use crate::error::Result;
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = diversion_alerts)]
pub struct AlertRow {
    pub id: i64,
    pub kind: AlertKind,
    pub serial: String,
    pub dedupe_key: String,
    pub channel: Channel,
    pub expected_region: Option<String>,
    pub observed_region: Option<String>,
    pub place_source: PlaceSource,
    pub agent_id: Option<i64>,
    pub risk: i32,
    pub evidence: String,
    pub status: AlertStatus,
    pub note: Option<String>,
    pub action: Option<AlertAction>,
    pub penalty_cents: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A new alert.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub serial: String,
    pub dedupe_key: String,
    pub channel: Channel,
    pub expected_region: Option<String>,
    pub observed_region: Option<String>,
    pub place_source: PlaceSource,
    pub agent_id: Option<i64>,
    pub risk: i32,
    pub evidence: serde_json::Value,
}

/// Inserts the alert unless its key was raised before; the new id, or `None`.
pub fn raise(conn: &mut DbConnection, a: &NewAlert) -> Result<Option<i64>> {
    let insert = diesel::insert_into(diversion_alerts::table)
        .values((
            diversion_alerts::kind.eq(Stored(a.kind)),
            diversion_alerts::serial.eq(&a.serial),
            diversion_alerts::dedupe_key.eq(&a.dedupe_key),
            diversion_alerts::channel.eq(Stored(a.channel)),
            diversion_alerts::expected_region.eq(&a.expected_region),
            diversion_alerts::observed_region.eq(&a.observed_region),
            diversion_alerts::place_source.eq(Stored(a.place_source)),
            diversion_alerts::agent_id.eq(a.agent_id),
            diversion_alerts::risk.eq(a.risk),
            diversion_alerts::evidence.eq(a.evidence.to_string()),
            diversion_alerts::status.eq(Stored(AlertStatus::Open)),
            diversion_alerts::created_at.eq(now()),
        ))
        .on_conflict(diversion_alerts::dedupe_key)
        .do_nothing()
        .returning(diversion_alerts::id);
    let ids: Vec<i64> = per_backend!(conn, |c| insert.get_results(c))?;
    Ok(ids.into_iter().next())
}

/// Whether any alert names the serial already.
pub fn any_for(conn: &mut DbConnection, serial: &str) -> Result<bool> {
    let query = diversion_alerts::table
        .filter(diversion_alerts::serial.eq(serial))
        .select(diversion_alerts::id)
        .limit(1);
    let found: Vec<i64> = per_backend!(conn, |c| query.load(c))?;
    Ok(!found.is_empty())
}

/// Filters; all optional but the limit.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    pub kind: Option<AlertKind>,
    pub agent_id: Option<i64>,
    pub serial: Option<String>,
    /// Observed region starting with this prefix (a province's two digits, a city's four).
    pub region_prefix: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub limit: i64,
}

/// Newest first.
pub fn list(conn: &mut DbConnection, f: &AlertFilter) -> Result<Vec<AlertRow>> {
    let mut q = diversion_alerts::table.into_boxed();
    if let Some(s) = f.status {
        q = q.filter(diversion_alerts::status.eq(Stored(s)));
    }
    if let Some(k) = f.kind {
        q = q.filter(diversion_alerts::kind.eq(Stored(k)));
    }
    if let Some(a) = f.agent_id {
        q = q.filter(diversion_alerts::agent_id.eq(a));
    }
    if let Some(s) = &f.serial {
        q = q.filter(diversion_alerts::serial.eq(s.clone()));
    }
    if let Some(p) = &f.region_prefix {
        // Digits only (checked by the caller): no LIKE wildcards can get in.
        q = q.filter(diversion_alerts::observed_region.like(format!("{p}%")));
    }
    if let Some(t) = f.since {
        q = q.filter(diversion_alerts::created_at.ge(t));
    }
    Ok(q.order(diversion_alerts::id.desc())
        .limit(f.limit)
        .select(AlertRow::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<Option<AlertRow>> {
    Ok(diversion_alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

/// What an auditor decided.
#[derive(Debug, Clone)]
pub struct Decided<'a> {
    pub status: AlertStatus,
    pub note: &'a str,
    pub action: Option<AlertAction>,
    pub penalty_cents: Option<i64>,
    pub by: i64,
}

/// Records the decision if the alert is still open; false when someone decided it first.
pub fn decide(conn: &mut DbConnection, id: i64, d: &Decided<'_>) -> Result<bool> {
    let n = diesel::update(
        diversion_alerts::table
            .filter(diversion_alerts::id.eq(id))
            .filter(diversion_alerts::status.eq(Stored(AlertStatus::Open))),
    )
    .set((
        diversion_alerts::status.eq(Stored(d.status)),
        diversion_alerts::note.eq(d.note),
        diversion_alerts::action.eq(d.action.map(Stored)),
        diversion_alerts::penalty_cents.eq(d.penalty_cents),
        diversion_alerts::decided_by.eq(d.by),
        diversion_alerts::decided_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
