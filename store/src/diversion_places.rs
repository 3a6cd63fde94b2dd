//! Diversion's reads of where things are supposed to be: the agent that last received an item,
//! the regions an agent is authorised for, HQ warehouses' regions, and an item's previous located
//! verification. Each is one indexed lookup (verification runs them on the writer).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{agent_regions, agents, custody_events, devices, sightings, warehouse_regions};
use crate::domain::custody::CustodianKind;
use crate::domain::diversion::PlaceSource;
use crate::error::Result;
use crate::typed::Stored;

/// The agent that last took custody of the item (DOMAIN §8: its expected region is theirs).
pub fn last_receiver(conn: &mut DbConnection, serial: &str) -> Result<Option<i64>> {
    let query = custody_events::table
        .filter(custody_events::serial.eq(serial))
        .filter(custody_events::to_kind.eq(Stored(CustodianKind::Agent)))
        .order(custody_events::id.desc())
        .select(custody_events::to_id)
        .limit(1);
    let found: Vec<Option<i64>> = per_backend!(conn, |c| query.load(c))?;
    Ok(found.into_iter().next().flatten())
}

/// The codes an agent is authorised for: its `agent_regions`, or else its `region` column.
pub fn agent_regions(conn: &mut DbConnection, agent: i64) -> Result<Vec<String>> {
    let query = agent_regions::table
        .filter(agent_regions::agent_id.eq(agent))
        .order(agent_regions::region_code)
        .select(agent_regions::region_code);
    let listed: Vec<String> = per_backend!(conn, |c| query.load(c))?;
    if !listed.is_empty() {
        return Ok(listed);
    }
    let query = agents::table.find(agent).select(agents::region);
    let column: Vec<String> = per_backend!(conn, |c| query.load(c))?;
    Ok(column)
}

/// Replaces an agent's authorised regions (codes already checked by the caller).
pub fn set_agent_regions(conn: &mut DbConnection, agent: i64, codes: &[String]) -> Result<()> {
    conn.transaction(|conn| {
        diesel::delete(agent_regions::table.filter(agent_regions::agent_id.eq(agent)))
            .execute(conn)?;
        for code in codes {
            diesel::insert_into(agent_regions::table)
                .values((
                    agent_regions::agent_id.eq(agent),
                    agent_regions::region_code.eq(code),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The region of the HQ warehouse a device belongs to, if HQ recorded one.
pub fn device_warehouse_region(conn: &mut DbConnection, device: &str) -> Result<Option<String>> {
    // Runs for every device scan: on the concrete connection, where diesel caches the prepared
    // statements, and without `.first()`'s bound LIMIT, which makes SQLite prepare again.
    let query = devices::table
        .filter(devices::id.eq(device))
        .select(devices::warehouse);
    let Some(warehouse) = per_backend!(conn, |c| query.load::<String>(c))?.pop() else {
        return Ok(None);
    };
    let query = warehouse_regions::table
        .filter(warehouse_regions::warehouse.eq(&warehouse))
        .select(warehouse_regions::region_code);
    Ok(per_backend!(conn, |c| query.load::<String>(c))?.pop())
}

pub fn set_warehouse_region(conn: &mut DbConnection, warehouse: &str, code: &str) -> Result<()> {
    conn.transaction(|conn| {
        diesel::delete(warehouse_regions::table.find(warehouse)).execute(conn)?;
        diesel::insert_into(warehouse_regions::table)
            .values((
                warehouse_regions::warehouse.eq(warehouse),
                warehouse_regions::region_code.eq(code),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The newest genuine, located, non-bot verification of a serial.
#[derive(Debug, Clone, Queryable)]
pub struct LocatedSighting {
    pub id: i64,
    pub region_code: Option<String>,
    pub place_source: Option<PlaceSource>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub at: NaiveDateTime,
}

pub fn previous_located(conn: &mut DbConnection, serial: &str) -> Result<Option<LocatedSighting>> {
    let query = sightings::table
        .filter(sightings::serial.eq(serial))
        .filter(sightings::result.eq_any(["genuine_first", "genuine_repeat"]))
        .filter(sightings::region_code.is_not_null())
        .filter(sightings::bot.eq(false))
        .order(sightings::id.desc())
        .select((
            sightings::id,
            sightings::region_code,
            sightings::place_source,
            sightings::latitude,
            sightings::longitude,
            sightings::at,
        ))
        .limit(1);
    let found: Vec<LocatedSighting> = per_backend!(conn, |c| query.load(c))?;
    Ok(found.into_iter().next())
}
