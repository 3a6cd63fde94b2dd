//! Batches in the registry, and the changes HQ makes to a batch or a serial range of it: void
//! (作废), recall (召回) and release for sale. Each change writes one custody event per item it
//! touched and one audit-log row, in one transaction.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConnection;
use super::audit;
use super::schema::{batches, custody_events, items, products};
use super::users::now;
use crate::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
use crate::error::{Error, Result};
use crate::schema::sql_types::{CustodianKindText, CustodyEventKindText};
use crate::typed::Stored;

/// A batch with its product's SKU and name.
#[derive(Debug, Clone, Queryable)]
pub struct BatchRow {
    pub id: String,
    pub key_id: String,
    pub sku: String,
    pub product_name: String,
    pub item_count: i64,
    pub case_count: i64,
    pub case_size: i32,
    pub production_date: String,
    pub created_at: NaiveDateTime,
    pub imported_at: NaiveDateTime,
    pub import_sha256: String,
    pub status: ItemStatus,
}

macro_rules! batch_columns {
    () => {
        (
            batches::id,
            batches::key_id,
            products::sku,
            products::name,
            batches::item_count,
            batches::case_count,
            batches::case_size,
            batches::production_date,
            batches::created_at,
            batches::imported_at,
            batches::import_sha256,
            batches::status,
        )
    };
}

/// Newest first.
pub fn list(conn: &mut DbConnection, limit: i64) -> Result<Vec<BatchRow>> {
    Ok(batches::table
        .inner_join(products::table)
        .order((batches::imported_at.desc(), batches::id))
        .limit(limit)
        .select(batch_columns!())
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<BatchRow>> {
    Ok(batches::table
        .inner_join(products::table)
        .filter(batches::id.eq(id))
        .select(batch_columns!())
        .first(conn)
        .optional()?)
}

/// How many items of the batch are in each (status, custodian) pair.
pub fn item_counts(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Vec<(ItemStatus, CustodianKind, i64)>> {
    Ok(items::table
        .filter(items::batch_id.eq(id))
        .group_by((items::status, items::custodian_kind))
        .select((items::status, items::custodian_kind, count_star()))
        .load(conn)?)
}

/// Items `from..=to` (0-based indices) of a batch.
#[derive(Debug, Clone)]
pub struct IndexRange {
    pub batch_id: String,
    pub from: i64,
    pub to: i64,
    /// The whole batch was asked for: the batch's own status changes too.
    pub whole: bool,
}

/// What a change did: items changed, and items of the range it left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub changed: i64,
    pub unchanged: i64,
}

/// Void or recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Void,
    Recall,
}

impl StatusChange {
    pub fn status(self) -> ItemStatus {
        match self {
            StatusChange::Void => ItemStatus::Voided,
            StatusChange::Recall => ItemStatus::Recalled,
        }
    }
    pub fn event(self) -> CustodyEventKind {
        match self {
            StatusChange::Void => CustodyEventKind::Void,
            StatusChange::Recall => CustodyEventKind::Recall,
        }
    }
}

/// Items of `$range` that are still active and whose custodian is one of `$custodians`.
macro_rules! eligible {
    ($range:expr, $custodians:expr) => {
        items::table
            .filter(items::batch_id.eq(&$range.batch_id))
            .filter(items::item_index.between($range.from, $range.to))
            .filter(items::status.eq(Stored(ItemStatus::Active)))
            .filter(items::custodian_kind.eq_any($custodians.map(Stored)))
    };
}

const ANY_CUSTODIAN: [CustodianKind; 4] = [
    CustodianKind::Hq,
    CustodianKind::Agent,
    CustodianKind::Transit,
    CustodianKind::Sold,
];

/// Voids or recalls the active items of `range`; items already voided or recalled are left
/// alone and counted as unchanged. Custody does not move: the event records where each item was.
pub fn change_status(
    conn: &mut DbConnection,
    range: &IndexRange,
    change: StatusChange,
    reason: &str,
    actor: Option<i64>,
) -> Result<Changed> {
    conn.transaction(|conn| {
        let at = now();
        if range.whole {
            let status: ItemStatus = batches::table
                .find(&range.batch_id)
                .select(batches::status)
                .first(conn)?;
            if status != ItemStatus::Active {
                return Err(Error::conflict(
                    "batch_already_ended",
                    format!("batch {} is already {}", range.batch_id, status.as_str()),
                ));
            }
            diesel::update(batches::table.find(&range.batch_id))
                .set(batches::status.eq(Stored(change.status())))
                .execute(conn)?;
        }
        let events = eligible!(range, ANY_CUSTODIAN).select((
            items::serial,
            Stored(change.event()).into_sql::<CustodyEventKindText>(),
            items::custodian_kind.nullable(),
            items::custodian_id,
            items::custodian_kind.nullable(),
            items::custodian_id,
            actor.into_sql::<Nullable<BigInt>>(),
            Some(reason).into_sql::<Nullable<Text>>(),
            at.into_sql::<Timestamp>(),
        ));
        diesel::insert_into(custody_events::table)
            .values(events)
            .into_columns(EVENT_COLUMNS)
            .execute(conn)?;
        let changed = diesel::update(eligible!(range, ANY_CUSTODIAN))
            .set(items::status.eq(Stored(change.status())))
            .execute(conn)? as i64;
        let total = range.to - range.from + 1;
        if changed == 0 {
            return Err(Error::conflict(
                "range_already_ended",
                format!(
                    "nothing to {}: all {total} items in the range are already voided or recalled",
                    change.event().as_str()
                ),
            ));
        }
        let outcome = Changed {
            changed,
            unchanged: total - changed,
        };
        audit::record(
            conn,
            actor,
            &format!("batch.{}", change.event().as_str()),
            &range.batch_id,
            &serde_json::json!({
                "reason": reason,
                "from_index": range.from,
                "to_index": range.to,
                "whole_batch": range.whole,
                "changed": outcome.changed,
                "unchanged": outcome.unchanged,
            }),
        )?;
        Ok(outcome)
    })
}

/// Releases items `range` for sale: HQ custody → `sold`, `released_at` set, a `release` event
/// each. All or nothing: one item that is not active in HQ custody refuses the whole range, so a
/// typo in a range never half-releases it.
pub fn release(conn: &mut DbConnection, range: &IndexRange, actor: Option<i64>) -> Result<Changed> {
    conn.transaction(|conn| {
        let at = now();
        let blocker: Option<(String, ItemStatus, CustodianKind)> = items::table
            .filter(items::batch_id.eq(&range.batch_id))
            .filter(items::item_index.between(range.from, range.to))
            .filter(
                items::status
                    .ne(Stored(ItemStatus::Active))
                    .or(items::custodian_kind.ne(Stored(CustodianKind::Hq))),
            )
            .order(items::item_index)
            .select((items::serial, items::status, items::custodian_kind))
            .first(conn)
            .optional()?;
        if let Some((serial, status, custodian)) = blocker {
            let why = if status != ItemStatus::Active {
                status.as_str().to_string()
            } else {
                format!("no longer in HQ custody ({})", custodian.as_str())
            };
            return Err(Error::conflict(
                "range_not_releasable",
                format!("cannot release the range: item {serial} is {why}; nothing was released"),
            ));
        }
        let events = eligible!(range, [CustodianKind::Hq]).select((
            items::serial,
            Stored(CustodyEventKind::Release).into_sql::<CustodyEventKindText>(),
            items::custodian_kind.nullable(),
            items::custodian_id,
            Some(Stored(CustodianKind::Sold)).into_sql::<Nullable<CustodianKindText>>(),
            None::<i64>.into_sql::<Nullable<BigInt>>(),
            actor.into_sql::<Nullable<BigInt>>(),
            None::<&str>.into_sql::<Nullable<Text>>(),
            at.into_sql::<Timestamp>(),
        ));
        diesel::insert_into(custody_events::table)
            .values(events)
            .into_columns(EVENT_COLUMNS)
            .execute(conn)?;
        let changed = diesel::update(eligible!(range, [CustodianKind::Hq]))
            .set((
                items::custodian_kind.eq(Stored(CustodianKind::Sold)),
                items::custodian_id.eq(None::<i64>),
                items::released_at.eq(Some(at)),
            ))
            .execute(conn)? as i64;
        let outcome = Changed {
            changed,
            unchanged: range.to - range.from + 1 - changed,
        };
        audit::record(
            conn,
            actor,
            "batch.release",
            &range.batch_id,
            &serde_json::json!({
                "from_index": range.from,
                "to_index": range.to,
                "released": changed,
            }),
        )?;
        Ok(outcome)
    })
}

/// The columns every custody-event `INSERT … SELECT` fills, in the select's order.
type EventColumns = (
    custody_events::serial,
    custody_events::kind,
    custody_events::from_kind,
    custody_events::from_id,
    custody_events::to_kind,
    custody_events::to_id,
    custody_events::actor_user_id,
    custody_events::note,
    custody_events::at,
);

const EVENT_COLUMNS: EventColumns = (
    custody_events::serial,
    custody_events::kind,
    custody_events::from_kind,
    custody_events::from_id,
    custody_events::to_kind,
    custody_events::to_id,
    custody_events::actor_user_id,
    custody_events::note,
    custody_events::at,
);
