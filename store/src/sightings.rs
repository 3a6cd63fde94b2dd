//! Verification sightings, for auditors: who tried which code, when, with what result.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::sightings;
use crate::error::Result;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sightings)]
pub struct SightingRow {
    pub id: i64,
    pub serial: String,
    pub known_item: bool,
    pub result: String,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub place: Option<String>,
    pub at: NaiveDateTime,
}

/// Filters; every one is optional except the limit.
#[derive(Debug, Clone, Default)]
pub struct SightingFilter {
    pub serial: Option<String>,
    /// Exact result, or a prefix ending in `:` (e.g. `not_released:`).
    pub result: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub limit: i64,
}

/// Newest first.
pub fn list(conn: &mut DbConnection, f: &SightingFilter) -> Result<Vec<SightingRow>> {
    let mut q = sightings::table.into_boxed();
    if let Some(serial) = &f.serial {
        q = q.filter(sightings::serial.eq(serial.clone()));
    }
    if let Some(result) = &f.result {
        q = match result.strip_suffix(':') {
            // The prefix is a fixed result family from the caller's own vocabulary; LIKE
            // wildcards in it are escaped so a filter never matches more than it says.
            Some(prefix) => q.filter(
                sightings::result
                    .like(format!("{}:%", escape_like(prefix)))
                    .escape('\\'),
            ),
            None => q.filter(sightings::result.eq(result.clone())),
        };
    }
    if let Some(since) = f.since {
        q = q.filter(sightings::at.ge(since));
    }
    Ok(q.order((sightings::at.desc(), sightings::id.desc()))
        .limit(f.limit)
        .select(SightingRow::as_select())
        .load(conn)?)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
