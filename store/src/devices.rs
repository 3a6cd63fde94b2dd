//! Devices and the scans they sent: registration, status, and the at-most-once record of every
//! (device, seq).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{device_scans, devices};
use super::users::now;
use crate::domain::network::PartyKind;
use crate::error::{Error, Result};
use crate::typed::Stored;
use chainmark_wire::ScanKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct DeviceRow {
    pub id: String,
    pub warehouse: String,
    pub owner_kind: PartyKind,
    pub owner_id: Option<i64>,
    pub secret_generation: i32,
    pub revoked: bool,
    pub online: bool,
    pub last_seen_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
}

pub struct NewDevice<'a> {
    pub id: &'a str,
    pub warehouse: &'a str,
    pub owner_kind: PartyKind,
    pub owner_id: Option<i64>,
    pub created_by: Option<i64>,
}

pub fn insert(conn: &mut DbConnection, new: &NewDevice<'_>) -> Result<DeviceRow> {
    if find(conn, new.id)?.is_some() {
        return Err(Error::conflict(
            "device_registered",
            format!(
                "device {} is already registered (revoke it or re-key it instead)",
                new.id
            ),
        ));
    }
    diesel::insert_into(devices::table)
        .values((
            devices::id.eq(new.id),
            devices::warehouse.eq(new.warehouse),
            devices::owner_kind.eq(Stored(new.owner_kind)),
            devices::owner_id.eq(new.owner_id),
            devices::created_at.eq(now()),
            devices::created_by.eq(new.created_by),
        ))
        .execute(conn)?;
    find(conn, new.id)?.ok_or(Error::NotFound { what: "device" })
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<DeviceRow>> {
    Ok(devices::table
        .filter(devices::id.eq(id))
        .select(DeviceRow::as_select())
        .load(conn)?
        .pop())
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<DeviceRow>> {
    Ok(devices::table
        .order(devices::id)
        .select(DeviceRow::as_select())
        .load(conn)?)
}

pub fn set_revoked(conn: &mut DbConnection, id: &str, revoked: bool) -> Result<DeviceRow> {
    let n = diesel::update(devices::table.filter(devices::id.eq(id)))
        .set(devices::revoked.eq(revoked))
        .execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound { what: "device" });
    }
    find(conn, id)?.ok_or(Error::NotFound { what: "device" })
}

/// A new secret: the old one stops working at once.
pub fn rekey(conn: &mut DbConnection, id: &str) -> Result<DeviceRow> {
    let n = diesel::update(devices::table.filter(devices::id.eq(id)))
        .set(devices::secret_generation.eq(devices::secret_generation + 1))
        .execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound { what: "device" });
    }
    find(conn, id)?.ok_or(Error::NotFound { what: "device" })
}

/// Online/offline from the device's retained state topic.
pub fn set_online(conn: &mut DbConnection, id: &str, online: bool) -> Result<()> {
    diesel::update(devices::table.filter(devices::id.eq(id)))
        .set((devices::online.eq(online), devices::last_seen_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

/// The first answer given to (device, seq), if the event was seen before.
pub fn scan_result(conn: &mut DbConnection, device: &str, seq: i64) -> Result<Option<String>> {
    // On the concrete connection: diesel caches prepared statements there, not on the
    // MultiConnection, and this runs for every scan.
    let query = device_scans::table
        .filter(device_scans::device_id.eq(device))
        .filter(device_scans::seq.eq(seq))
        .select(device_scans::result);
    Ok(per_backend!(conn, |c| query.load::<String>(c))?.pop())
}

pub struct ScanRecord<'a> {
    pub device_id: &'a str,
    pub seq: i64,
    pub kind: ScanKind,
    pub code: &'a str,
    pub context: Option<&'a str>,
    pub scanned_at: &'a str,
    pub result: &'a str,
    pub items_moved: i32,
}

pub fn record_scan(conn: &mut DbConnection, r: &ScanRecord<'_>) -> Result<()> {
    let insert = diesel::insert_into(device_scans::table).values((
        device_scans::device_id.eq(r.device_id),
        device_scans::seq.eq(r.seq),
        device_scans::kind.eq(Stored(r.kind)),
        device_scans::code.eq(r.code),
        device_scans::context.eq(r.context),
        device_scans::scanned_at.eq(r.scanned_at),
        device_scans::received_at.eq(now()),
        device_scans::result.eq(r.result),
        device_scans::items_moved.eq(r.items_moved),
    ));
    per_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

/// Scans per device since `since`: (device, accepted, rejected).
pub fn scan_counts_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<Vec<(String, String, i64)>> {
    use diesel::dsl::count_star;
    Ok(device_scans::table
        .filter(device_scans::received_at.ge(since))
        .group_by((device_scans::device_id, device_scans::result))
        .select((device_scans::device_id, device_scans::result, count_star()))
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = device_scans)]
pub struct ScanRow {
    pub device_id: String,
    pub seq: i64,
    pub kind: ScanKind,
    pub code: String,
    pub context: Option<String>,
    pub scanned_at: String,
    pub received_at: NaiveDateTime,
    pub result: String,
    pub items_moved: i32,
}

/// The newest scans, newest first.
pub fn recent_scans(conn: &mut DbConnection, limit: i64) -> Result<Vec<ScanRow>> {
    Ok(device_scans::table
        .order(device_scans::received_at.desc())
        .then_order_by(device_scans::seq.desc())
        .limit(limit)
        .select(ScanRow::as_select())
        .load(conn)?)
}

/// How many scans were recorded (tests and the benchmark count what was applied).
pub fn count_scans(conn: &mut DbConnection, result: Option<&str>) -> Result<i64> {
    let mut q = device_scans::table.into_boxed();
    if let Some(r) = result {
        q = q.filter(device_scans::result.eq(r));
    }
    Ok(q.count().get_result(conn)?)
}
