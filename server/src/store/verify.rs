//! The registry as verification sees it: one read, then one transaction that counts the
//! verification and records the sighting together.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use super::DbConnection;
use super::fixed::{Bind, Fixed, FixedQuery, FixedSql};
use super::schema::{batches, items, products, sightings};
use super::users::now;
use crate::error::Result;

/// Everything the verification page shows or decides on, in one query.
#[derive(Debug, Clone, Queryable)]
pub struct VerifyView {
    pub serial: String,
    pub batch_id: String,
    pub key_id: String,
    pub item_status: String,
    pub batch_status: String,
    pub custodian_kind: String,
    pub code_hash: String,
    pub verify_count: i32,
    pub first_verified_at: Option<NaiveDateTime>,
    pub first_verified_place: Option<String>,
    pub sku: String,
    pub product_name: String,
    pub product_name_en: Option<String>,
    pub image_url: Option<String>,
    pub production_date: String,
}

pub fn load(conn: &mut DbConnection, serial: &str) -> Result<Option<VerifyView>> {
    Ok(per_backend!(conn, |c| items::table
        .inner_join(batches::table.inner_join(products::table))
        .filter(items::serial.eq(serial))
        .select((
            items::serial,
            items::batch_id,
            batches::key_id,
            items::status,
            batches::status,
            items::custodian_kind,
            items::code_hash,
            items::verify_count,
            items::first_verified_at,
            items::first_verified_place,
            products::sku,
            products::name,
            products::name_en,
            products::image_url,
            batches::production_date,
        ))
        .load::<VerifyView>(c))?
    .pop())
}

/// A verification attempt, genuine or not: evidence for HQ (DOMAIN §7, §8).
#[derive(Debug, Clone, Default)]
pub struct Sighting {
    pub serial: String,
    pub known_item: bool,
    pub result: String,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub place: Option<String>,
    /// GB/T 2260 code of where it was, and which source said so (`crate::diversion`).
    pub region_code: Option<String>,
    pub place_source: Option<String>,
    /// The region of the agent that last received the item, when judged.
    pub expected_region: Option<String>,
    /// An obvious bot: recorded, but not a sighting for diversion.
    pub bot: bool,
}

pub fn record_sighting(conn: &mut DbConnection, s: &Sighting) -> Result<()> {
    let insert = diesel::insert_into(sightings::table).values((
        sightings::serial.eq(&s.serial),
        sightings::known_item.eq(s.known_item),
        sightings::result.eq(&s.result),
        sightings::client_addr.eq(&s.client_addr),
        sightings::user_agent.eq(&s.user_agent),
        sightings::latitude.eq(s.latitude),
        sightings::longitude.eq(s.longitude),
        sightings::place.eq(&s.place),
        sightings::at.eq(now()),
        sightings::region_code.eq(&s.region_code),
        sightings::place_source.eq(&s.place_source),
        sightings::expected_region.eq(&s.expected_region),
        sightings::bot.eq(s.bot),
    ));
    per_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

/// The item's counts after a right code was entered.
#[derive(Debug, Clone)]
pub struct Counted {
    pub verify_count: i32,
    pub first_verified_at: Option<NaiveDateTime>,
    pub first_verified_place: Option<String>,
}

/// Counts a right-code verification and, on the first, notes when and where. The count returned
/// is the one this statement produced, so exactly one caller ever sees 1. One statement, as it
/// runs for every verification; its `CASE`s read the row as it was before the update.
struct CountGenuine;

impl FixedSql for CountGenuine {
    const SQL: &'static str = "UPDATE items SET verify_count = verify_count + 1, \
        first_verified_at = CASE WHEN verify_count = 0 THEN ? ELSE first_verified_at END, \
        first_verified_place = CASE WHEN verify_count = 0 THEN ? ELSE first_verified_place END \
        WHERE serial = ? RETURNING verify_count, first_verified_at, first_verified_place";
}

impl FixedQuery for CountGenuine {
    type Row = (Integer, Nullable<Timestamp>, Nullable<Text>);
}

struct CountMismatch;

impl FixedSql for CountMismatch {
    const SQL: &'static str =
        "UPDATE items SET mismatch_count = mismatch_count + 1 WHERE serial = ?";
}

/// Counts a right-code verification and records its sighting. Runs inside the caller's
/// transaction (`Db::write`), so the count and the sighting commit together.
pub fn count_genuine(conn: &mut DbConnection, sighting: &Sighting) -> Result<Counted> {
    let update = Fixed::<CountGenuine>::new(vec![
        Bind::Timestamp(now()),
        Bind::OptText(sighting.place.as_deref()),
        Bind::Text(&sighting.serial),
    ]);
    let (verify_count, first_verified_at, first_verified_place): (
        i32,
        Option<NaiveDateTime>,
        Option<String>,
    ) = per_backend!(conn, |c| update.get_result(c))?;
    let result = if verify_count == 1 {
        "genuine_first"
    } else {
        "genuine_repeat"
    };
    record_sighting(
        conn,
        &Sighting {
            result: result.into(),
            ..sighting.clone()
        },
    )?;
    Ok(Counted {
        verify_count,
        first_verified_at,
        first_verified_place,
    })
}

/// Counts a wrong security code and records its sighting, inside the caller's transaction.
pub fn count_mismatch(conn: &mut DbConnection, sighting: &Sighting) -> Result<()> {
    let update = Fixed::<CountMismatch>::new(vec![Bind::Text(&sighting.serial)]);
    per_backend!(conn, |c| update.execute(c))?;
    record_sighting(conn, sighting)
}
