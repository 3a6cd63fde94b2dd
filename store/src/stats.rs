//! Counts and recent sightings for the HQ console: plain read-only queries.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{batches, items, products, sightings};
use crate::error::Result;

/// The console's headline numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub products: i64,
    pub batches: i64,
    pub items: i64,
    /// Items that have left HQ custody at least once (`released_at` set).
    pub items_released: i64,
    /// Right-code verifications, first or repeat.
    pub verifications: i64,
    /// Sightings of codes that are not the brand's (`not_genuine`).
    pub counterfeit: i64,
    /// Wrong security codes entered for real serials.
    pub mismatches: i64,
}

fn sightings_with(conn: &mut DbConnection, results: &[&str]) -> Result<i64> {
    Ok(sightings::table
        .filter(sightings::result.eq_any(results))
        .select(count_star())
        .first(conn)?)
}

pub fn counts(conn: &mut DbConnection) -> Result<Counts> {
    Ok(Counts {
        products: products::table.select(count_star()).first(conn)?,
        batches: batches::table.select(count_star()).first(conn)?,
        items: items::table.select(count_star()).first(conn)?,
        items_released: items::table
            .filter(items::released_at.is_not_null())
            .select(count_star())
            .first(conn)?,
        verifications: sightings_with(conn, &["genuine_first", "genuine_repeat"])?,
        counterfeit: sightings_with(conn, &["not_genuine"])?,
        mismatches: sightings_with(conn, &["mismatch"])?,
    })
}

/// One sighting as the console lists it.
#[derive(Debug, Clone, Queryable)]
pub struct SightingRow {
    pub id: i64,
    pub serial: String,
    pub result: String,
    pub client_addr: Option<String>,
    pub place: Option<String>,
    pub at: NaiveDateTime,
}

/// The `limit` newest sightings, newest first.
pub fn recent_sightings(conn: &mut DbConnection, limit: i64) -> Result<Vec<SightingRow>> {
    Ok(sightings::table
        .order((sightings::at.desc(), sightings::id.desc()))
        .limit(limit)
        .select((
            sightings::id,
            sightings::serial,
            sightings::result,
            sightings::client_addr,
            sightings::place,
            sightings::at,
        ))
        .load(conn)?)
}
