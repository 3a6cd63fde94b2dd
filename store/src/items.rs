//! One item as HQ sees it: the item, its batch and product, its custody history.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{batches, custody_events, items, products, sightings};
use crate::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
use crate::error::Result;
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable)]
pub struct ItemRow {
    pub serial: String,
    pub batch_id: String,
    pub item_index: i64,
    pub case_code: Option<String>,
    pub status: ItemStatus,
    pub custodian_kind: CustodianKind,
    pub custodian_id: Option<i64>,
    pub released_at: Option<NaiveDateTime>,
    pub verify_count: i32,
    pub mismatch_count: i32,
    pub first_verified_at: Option<NaiveDateTime>,
    pub first_verified_place: Option<String>,
    pub batch_status: ItemStatus,
    pub production_date: String,
    pub sku: String,
    pub product_name: String,
    pub product_name_en: Option<String>,
}

pub fn find(conn: &mut DbConnection, serial: &str) -> Result<Option<ItemRow>> {
    Ok(items::table
        .inner_join(batches::table.inner_join(products::table))
        .filter(items::serial.eq(serial))
        .select((
            items::serial,
            items::batch_id,
            items::item_index,
            items::case_code,
            items::status,
            items::custodian_kind,
            items::custodian_id,
            items::released_at,
            items::verify_count,
            items::mismatch_count,
            items::first_verified_at,
            items::first_verified_place,
            batches::status,
            batches::production_date,
            products::sku,
            products::name,
            products::name_en,
        ))
        .first(conn)
        .optional()?)
}

/// One step of an item's custody history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = custody_events)]
pub struct CustodyEvent {
    /// The custody event's row; `None` for the import, which is recorded once on the item's batch
    /// (`batches.imported_at`, `imported_by`) rather than per item.
    #[diesel(select_expression = custody_events::id.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<custody_events::id>)]
    pub id: Option<i64>,
    pub serial: String,
    pub kind: CustodyEventKind,
    pub from_kind: Option<CustodianKind>,
    pub from_id: Option<i64>,
    pub to_kind: Option<CustodianKind>,
    pub to_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub note: Option<String>,
    pub at: NaiveDateTime,
}

impl CustodyEvent {
    /// The first step of every imported item: its batch's import put it in HQ's custody.
    pub fn import(serial: String, at: NaiveDateTime, by: Option<i64>) -> CustodyEvent {
        CustodyEvent {
            id: None,
            serial,
            kind: CustodyEventKind::Import,
            from_kind: None,
            from_id: None,
            to_kind: Some(CustodianKind::Hq),
            to_id: None,
            actor_user_id: by,
            note: None,
            at,
        }
    }
}

/// When and by whom the batches of `serials` were imported: (serial, imported_at, imported_by),
/// for the serials in the registry, in serial order (within a batch, the items' index order).
pub fn imports_of(
    conn: &mut DbConnection,
    serials: &[String],
) -> Result<Vec<(String, NaiveDateTime, Option<i64>)>> {
    Ok(items::table
        .inner_join(batches::table)
        .filter(items::serial.eq_any(serials))
        .order(items::serial)
        .select((items::serial, batches::imported_at, batches::imported_by))
        .load(conn)?)
}

/// Oldest first: the import of the item's batch, then every custody event of the item.
pub fn custody_events(conn: &mut DbConnection, serial: &str) -> Result<Vec<CustodyEvent>> {
    let mut history: Vec<CustodyEvent> = imports_of(conn, &[serial.to_string()])?
        .into_iter()
        .map(|(serial, at, by)| CustodyEvent::import(serial, at, by))
        .collect();
    history.extend(
        custody_events::table
            .filter(custody_events::serial.eq(serial))
            .order(custody_events::id)
            .select(CustodyEvent::as_select())
            .load(conn)?,
    );
    Ok(history)
}

/// How many sightings (verification attempts of any result) name the serial.
pub fn sighting_count(conn: &mut DbConnection, serial: &str) -> Result<i64> {
    Ok(sightings::table
        .filter(sightings::serial.eq(serial))
        .count()
        .get_result(conn)?)
}

/// Counts rows of the registry tables, for tests and the demo: (batches, cases, items, events).
pub fn registry_counts(conn: &mut DbConnection) -> Result<(i64, i64, i64, i64)> {
    Ok((
        batches::table.count().get_result(conn)?,
        super::schema::cases::table.count().get_result(conn)?,
        items::table.count().get_result(conn)?,
        custody_events::table.count().get_result(conn)?,
    ))
}

/// How many items a custodian holds (`kind`, `id`: its columns, `Custodian::columns`).
pub fn count_held_by(conn: &mut DbConnection, kind: CustodianKind, id: Option<i64>) -> Result<i64> {
    Ok(items::table
        .filter(items::custodian_kind.eq(Stored(kind)))
        .filter(items::custodian_id.eq(id))
        .count()
        .get_result(conn)?)
}
