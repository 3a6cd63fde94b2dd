//! Reads for the EPCIS export (`crate::epcis`): custody events, cases and accepted warehouse
//! scans, page by page, each selected by batch or by time window.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::custody::{CustodianKind, CustodyEventKind};
use crate::domain::network::PartyKind;

use super::DbConnection;
use super::schema::{
    batches, cases, custody_events, device_scans, items, products, restock_orders,
};
use crate::error::Result;
use crate::typed::Stored;
use chainmark_wire::ScanKind;

/// Which part of the registry an export covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Batch(String),
    /// `[from, to)` in UTC.
    Window {
        from: NaiveDateTime,
        to: NaiveDateTime,
    },
}

pub fn batch_exists(conn: &mut DbConnection, id: &str) -> Result<bool> {
    let n: i64 = batches::table
        .filter(batches::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// One custody event with its item's product GTIN.
#[derive(Debug, Clone, Queryable)]
pub struct CustodyRow {
    pub id: i64,
    pub serial: String,
    pub kind: CustodyEventKind,
    pub from_kind: Option<CustodianKind>,
    pub from_id: Option<i64>,
    pub to_kind: Option<CustodianKind>,
    pub to_id: Option<i64>,
    pub note: Option<String>,
    pub at: NaiveDateTime,
    pub device_id: Option<String>,
    pub gtin: Option<String>,
}

/// Up to `limit` custody events after id `after`, in id order.
pub fn custody_page(
    conn: &mut DbConnection,
    filter: &Filter,
    after: i64,
    limit: i64,
) -> Result<Vec<CustodyRow>> {
    let mut query = custody_events::table
        .inner_join(items::table.on(items::serial.eq(custody_events::serial)))
        .inner_join(batches::table.on(batches::id.eq(items::batch_id)))
        .inner_join(products::table.on(products::id.eq(batches::product_id)))
        .filter(custody_events::id.gt(after))
        .select((
            custody_events::id,
            custody_events::serial,
            custody_events::kind,
            custody_events::from_kind,
            custody_events::from_id,
            custody_events::to_kind,
            custody_events::to_id,
            custody_events::note,
            custody_events::at,
            custody_events::device_id,
            products::gtin,
        ))
        .order(custody_events::id)
        .limit(limit)
        .into_boxed();
    query = match filter {
        Filter::Batch(id) => query.filter(items::batch_id.eq(id.clone())),
        Filter::Window { from, to } => query
            .filter(custody_events::at.ge(*from))
            .filter(custody_events::at.lt(*to)),
    };
    Ok(query.load(conn)?)
}

/// An order's two ends: (id, buyer agent, shipper kind, shipper id).
pub type OrderEnds = (i64, i64, Option<PartyKind>, Option<i64>);

pub fn order_parties(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<OrderEnds>> {
    Ok(restock_orders::table
        .filter(restock_orders::id.eq_any(ids))
        .select((
            restock_orders::id,
            restock_orders::buyer_id,
            restock_orders::shipper_kind,
            restock_orders::shipper_id,
        ))
        .load(conn)?)
}

/// A batch as the import's aggregation needs it.
#[derive(Debug, Clone, Queryable)]
pub struct BatchRow {
    pub id: String,
    pub imported_at: NaiveDateTime,
    pub case_size: i32,
    pub gtin: Option<String>,
}

/// The batches an export covers: the one named, or those imported in the window.
pub fn batches(conn: &mut DbConnection, filter: &Filter) -> Result<Vec<BatchRow>> {
    let query = batches::table
        .inner_join(products::table)
        .select((
            batches::id,
            batches::imported_at,
            batches::case_size,
            products::gtin,
        ))
        .order(batches::imported_at)
        .then_order_by(batches::id)
        .into_boxed();
    Ok(match filter {
        Filter::Batch(id) => query.filter(batches::id.eq(id.clone())).load(conn)?,
        Filter::Window { from, to } => query
            .filter(batches::imported_at.ge(*from))
            .filter(batches::imported_at.lt(*to))
            .load(conn)?,
    })
}

/// Up to `limit` cases of a batch from index `from`: (code, index, SSCC).
pub fn cases_page(
    conn: &mut DbConnection,
    batch: &str,
    from: i64,
    limit: i64,
) -> Result<Vec<(String, i64, Option<String>)>> {
    Ok(cases::table
        .filter(cases::batch_id.eq(batch))
        .filter(cases::case_index.ge(from))
        .order(cases::case_index)
        .limit(limit)
        .select((cases::code, cases::case_index, cases::sscc))
        .load(conn)?)
}

/// The serials of a batch with item index in `[from, to)`, in index order.
pub fn serials(
    conn: &mut DbConnection,
    batch: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(items::table
        .filter(items::batch_id.eq(batch))
        .filter(items::item_index.ge(from))
        .filter(items::item_index.lt(to))
        .order(items::item_index)
        .select((items::item_index, items::serial))
        .load(conn)?)
}

/// An accepted pack, unpack or inspect scan.
#[derive(Debug, Clone, Queryable)]
pub struct ScanRow {
    pub device_id: String,
    pub seq: i64,
    pub kind: ScanKind,
    pub code: String,
    pub context: Option<String>,
    pub scanned_at: String,
    pub received_at: NaiveDateTime,
}

/// Kinds of scans that change no custody and so are exported from the scan log.
pub const SCAN_KINDS: [ScanKind; 3] = [ScanKind::Pack, ScanKind::Unpack, ScanKind::Inspect];

/// Up to `limit` accepted scans of [`SCAN_KINDS`] from `offset`, by arrival. A window selects
/// by arrival time; a batch cannot be selected in SQL (a scan names a code), the caller filters.
pub fn scans_page(
    conn: &mut DbConnection,
    window: Option<(NaiveDateTime, NaiveDateTime)>,
    offset: i64,
    limit: i64,
) -> Result<Vec<ScanRow>> {
    let mut query = device_scans::table
        .filter(device_scans::result.eq("accepted"))
        .filter(device_scans::kind.eq_any(SCAN_KINDS.map(Stored)))
        .order((
            device_scans::received_at,
            device_scans::device_id,
            device_scans::seq,
        ))
        .offset(offset)
        .limit(limit)
        .select((
            device_scans::device_id,
            device_scans::seq,
            device_scans::kind,
            device_scans::code,
            device_scans::context,
            device_scans::scanned_at,
            device_scans::received_at,
        ))
        .into_boxed();
    if let Some((from, to)) = window {
        query = query
            .filter(device_scans::received_at.ge(from))
            .filter(device_scans::received_at.lt(to));
    }
    Ok(query.load(conn)?)
}

/// A case by code or SSCC: (code, SSCC, batch).
pub fn case(
    conn: &mut DbConnection,
    code: Option<&str>,
    sscc: Option<&str>,
) -> Result<Option<(String, Option<String>, String)>> {
    let query = cases::table
        .select((cases::code, cases::sscc, cases::batch_id))
        .into_boxed();
    let query = match (code, sscc) {
        (Some(code), _) => query.filter(cases::code.eq(code.to_string())),
        (None, Some(sscc)) => query.filter(cases::sscc.eq(sscc.to_string())),
        (None, None) => return Ok(None),
    };
    Ok(query.load(conn)?.pop())
}

/// The items that name `case` as theirs now.
pub fn case_members(conn: &mut DbConnection, case: &str) -> Result<Vec<String>> {
    Ok(items::table
        .filter(items::case_code.eq(case))
        .order(items::item_index)
        .select(items::serial)
        .load(conn)?)
}

/// A batch's product GTIN: `None` for an unknown batch, `Some(None)` without a GTIN.
pub fn batch_gtin(conn: &mut DbConnection, batch: &str) -> Result<Option<Option<String>>> {
    Ok(batches::table
        .inner_join(products::table)
        .filter(batches::id.eq(batch))
        .select(products::gtin)
        .load(conn)?
        .pop())
}

/// The context (case) of the last accepted pack scan naming `serial` before `before`: the case
/// an item was in when a later scan took it out.
pub fn last_pack_context(
    conn: &mut DbConnection,
    serial: &str,
    before: NaiveDateTime,
) -> Result<Option<String>> {
    Ok(device_scans::table
        .filter(device_scans::result.eq("accepted"))
        .filter(device_scans::kind.eq(Stored(ScanKind::Pack)))
        .filter(device_scans::code.like(format!("%{serial}%")))
        .filter(device_scans::received_at.le(before))
        .order(device_scans::received_at.desc())
        .select(device_scans::context)
        .limit(1)
        .load::<Option<String>>(conn)?
        .pop()
        .flatten())
}

/// The case an item was put into at import (codegen fills cases in index order), by index.
pub fn case_at(
    conn: &mut DbConnection,
    batch: &str,
    index: i64,
) -> Result<Option<(String, Option<String>)>> {
    Ok(cases::table
        .filter(cases::batch_id.eq(batch))
        .filter(cases::case_index.eq(index))
        .select((cases::code, cases::sscc))
        .load(conn)?
        .pop())
}

/// An item's batch and index.
pub fn item_place(conn: &mut DbConnection, serial: &str) -> Result<Option<(String, i64, i32)>> {
    Ok(items::table
        .inner_join(batches::table)
        .filter(items::serial.eq(serial))
        .select((items::batch_id, items::item_index, batches::case_size))
        .load(conn)?
        .pop())
}
