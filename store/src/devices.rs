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
    record_scans(conn, std::slice::from_ref(r))
}

/// Which of `keys` (device, seq) were recorded before. On PostgreSQL one query per few hundred
/// scans, where [`scan_result`] is a round trip per scan; on SQLite, where a statement costs no
/// round trip, [`scan_result`]'s prepared statement for each (a statement whose text changes
/// with the batch's size would be parsed anew every batch).
pub fn recorded_scans(
    conn: &mut DbConnection,
    keys: &[(&str, i64)],
) -> Result<std::collections::HashSet<(String, i64)>> {
    let mut found = std::collections::HashSet::new();
    let c = match conn {
        DbConnection::Postgres(c) if keys.len() > 1 => c,
        _ => {
            for &(device, seq) in keys {
                if scan_result(conn, device, seq)?.is_some() {
                    found.insert((device.to_owned(), seq));
                }
            }
            return Ok(found);
        }
    };
    // The pairs as two arrays, each looked up by the (device_id, seq) key. `LATERAL … LIMIT 1`
    // keeps that a lookup per pair whatever the statistics say: a plain join (or `device_id =
    // ANY(…) AND seq = ANY(…)`) was planned as a scan of the whole table while autovacuum had
    // not yet analysed a young, growing `device_scans`, 9–24 ms a batch in the benchmark.
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        device_id: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
    }
    use diesel::pg::sql_types::Array;
    use diesel::sql_types::{BigInt, Text};
    let rows: Vec<Key> = diesel::sql_query(
        "SELECT k.device_id, k.seq FROM unnest($1::text[], $2::bigint[]) AS k(device_id, seq) \
         CROSS JOIN LATERAL (SELECT 1 FROM device_scans s \
         WHERE s.device_id = k.device_id AND s.seq = k.seq LIMIT 1) AS found",
    )
    .bind::<Array<Text>, _>(keys.iter().map(|k| k.0).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(keys.iter().map(|k| k.1).collect::<Vec<_>>())
    .load(c)?;
    found.extend(rows.into_iter().map(|k| (k.device_id, k.seq)));
    Ok(found)
}

/// [`record_scan`] for many scans: multi-row `INSERT`s on PostgreSQL; on SQLite (and for one
/// scan) a single-row `INSERT` each, which stays prepared (see [`recorded_scans`]).
pub fn record_scans<'a>(conn: &mut DbConnection, records: &'a [ScanRecord<'a>]) -> Result<()> {
    let at = now();
    let row = |r: &'a ScanRecord<'a>| {
        (
            device_scans::device_id.eq(r.device_id),
            device_scans::seq.eq(r.seq),
            device_scans::kind.eq(Stored(r.kind)),
            device_scans::code.eq(r.code),
            device_scans::context.eq(r.context),
            device_scans::scanned_at.eq(r.scanned_at),
            device_scans::received_at.eq(at),
            device_scans::result.eq(r.result),
            device_scans::items_moved.eq(r.items_moved),
        )
    };
    if matches!(conn, DbConnection::Sqlite(_)) || records.len() == 1 {
        for record in records {
            let insert = diesel::insert_into(device_scans::table).values(row(record));
            per_backend!(conn, |c| insert.execute(c))?;
        }
        return Ok(());
    }
    // 9 columns a row: 400 rows stay far below SQLite's limit of bound values.
    for chunk in records.chunks(400) {
        let insert = diesel::insert_into(device_scans::table)
            .values(chunk.iter().map(row).collect::<Vec<_>>());
        per_backend!(conn, |c| insert.execute(c))?;
    }
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
