//! A shipment's track (物流轨迹, issue 20): the events the shipper types and the ones the courier
//! adapter fetches, and which shipments the fetch job should ask about next.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::OrderState;
use crate::domain::network::tracking::{TrackingEvent, TrackingSource, TrackingStatus};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{order_waybills, restock_orders, tracking_events};
use crate::typed::Stored;

/// One event of a track, as stored.
#[derive(Debug, Clone, Queryable)]
pub struct TrackingRow {
    pub id: i64,
    pub order_id: i64,
    pub at: NaiveDateTime,
    pub status: TrackingStatus,
    pub place: Option<String>,
    pub detail: String,
    pub source: TrackingSource,
    pub external_id: Option<String>,
    pub recorded_by: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

/// An event fetched from a courier, with the courier's own id of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub external_id: String,
    pub event: TrackingEvent,
}

/// A shipment the fetch job asks the courier about.
#[derive(Debug, Clone, Queryable)]
pub struct OpenShipment {
    pub order_id: i64,
    pub carrier: String,
    pub waybill: String,
    pub recorded_at: NaiveDateTime,
}

/// Adds an event the shipper typed (checked by the domain's `check_typed` before).
pub fn add_typed(
    conn: &mut DbConnection,
    order: i64,
    event: &TrackingEvent,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<i64> {
    let id = diesel::insert_into(tracking_events::table)
        .values((
            tracking_events::order_id.eq(order),
            tracking_events::at.eq(event.at),
            tracking_events::status.eq(Stored(event.status)),
            tracking_events::place.eq(event.place.as_deref()),
            tracking_events::detail.eq(&event.detail),
            tracking_events::source.eq(Stored(TrackingSource::Manual)),
            tracking_events::recorded_by.eq(by),
            tracking_events::recorded_at.eq(at),
        ))
        .returning(tracking_events::id)
        .get_result(conn)?;
    Ok(id)
}

/// Adds the fetched events the track does not have yet (by the courier's id of each: a fetch
/// repeated, also by two instances at once, adds nothing) and notes when the courier was asked.
/// Answers how many were new.
pub fn merge_fetched(
    conn: &mut DbConnection,
    order: i64,
    events: &[Fetched],
    at: NaiveDateTime,
) -> Result<usize> {
    let mut added = 0;
    for f in events {
        let insert = diesel::insert_into(tracking_events::table)
            .values((
                tracking_events::order_id.eq(order),
                tracking_events::at.eq(f.event.at),
                tracking_events::status.eq(Stored(f.event.status)),
                tracking_events::place.eq(f.event.place.as_deref()),
                tracking_events::detail.eq(&f.event.detail),
                tracking_events::source.eq(Stored(TrackingSource::Courier)),
                tracking_events::external_id.eq(Some(&f.external_id)),
                tracking_events::recorded_at.eq(at),
            ))
            .on_conflict((tracking_events::order_id, tracking_events::external_id))
            .do_nothing();
        added += per_backend!(conn, |c| insert.execute(c))?;
    }
    diesel::update(order_waybills::table.find(order))
        .set(order_waybills::tracked_at.eq(Some(at)))
        .execute(conn)?;
    Ok(added)
}

/// The track of `order`, oldest first (events of one time in the order they were stored).
pub fn events_of(conn: &mut DbConnection, order: i64) -> Result<Vec<TrackingRow>> {
    Ok(tracking_events::table
        .filter(tracking_events::order_id.eq(order))
        .order((tracking_events::at.asc(), tracking_events::id.asc()))
        .load(conn)?)
}

/// Up to `limit` shipments on their way (the order shipped, a waybill recorded, not delivered
/// yet by the track) whose courier was not asked since `asked_before`; the longest unasked first.
pub fn open_shipments(
    conn: &mut DbConnection,
    asked_before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OpenShipment>> {
    let delivered = tracking_events::table
        .filter(tracking_events::order_id.eq(order_waybills::order_id))
        .filter(tracking_events::status.eq(Stored(TrackingStatus::Delivered)));
    Ok(order_waybills::table
        .inner_join(restock_orders::table)
        .filter(restock_orders::state.eq(Stored(OrderState::Shipped)))
        .filter(
            order_waybills::tracked_at
                .is_null()
                .or(order_waybills::tracked_at.lt(asked_before)),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(delivered)))
        // Never asked first: NULLs sort first on SQLite but last on PostgreSQL, so say it.
        .order((
            order_waybills::tracked_at.is_not_null().asc(),
            order_waybills::tracked_at.asc(),
            order_waybills::order_id.asc(),
        ))
        .select((
            order_waybills::order_id,
            order_waybills::carrier,
            order_waybills::waybill,
            order_waybills::recorded_at,
        ))
        .limit(limit)
        .load(conn)?)
}
