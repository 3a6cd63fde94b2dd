//! The registry as verification sees it: one read, then one transaction that counts the
//! verification and records the sighting together.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use super::DbConnection;
use super::fixed::{Bind, Fixed, FixedQuery, FixedSql};
use super::schema::{batches, items, products, sightings};
use super::users::now;
use crate::domain::custody::{CustodianKind, ItemStatus};
use crate::domain::diversion::PlaceSource;
use crate::error::{Error, Result};
use crate::typed::Stored;

/// Everything the verification page shows or decides on, in one query.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = items)]
pub struct VerifyView {
    pub serial: String,
    pub batch_id: String,
    #[diesel(select_expression = batches::key_id)]
    pub key_id: String,
    #[diesel(column_name = status)]
    pub item_status: ItemStatus,
    #[diesel(select_expression = batches::status)]
    pub batch_status: ItemStatus,
    pub custodian_kind: CustodianKind,
    pub code_hash: String,
    pub verify_count: i32,
    pub first_verified_at: Option<NaiveDateTime>,
    pub first_verified_place: Option<String>,
    #[diesel(select_expression = products::sku)]
    pub sku: String,
    #[diesel(select_expression = products::name)]
    pub product_name: String,
    #[diesel(select_expression = products::name_en)]
    pub product_name_en: Option<String>,
    #[diesel(select_expression = products::image_url)]
    pub image_url: Option<String>,
    #[diesel(select_expression = batches::production_date)]
    pub production_date: String,
}

pub fn load(conn: &mut DbConnection, serial: &str) -> Result<Option<VerifyView>> {
    Ok(per_backend!(conn, |c| items::table
        .inner_join(batches::table.inner_join(products::table))
        .filter(items::serial.eq(serial))
        .select(VerifyView::as_select())
        .load::<VerifyView>(c))?
    .pop())
}

/// The views of several items at once (a verification batch on PostgreSQL reads every item it
/// decides in one query: `serial = ANY($1)`), in no particular order; absent serials are absent.
pub fn load_many(conn: &mut DbConnection, serials: &[&str]) -> Result<Vec<VerifyView>> {
    Ok(per_backend!(conn, |c| items::table
        .inner_join(batches::table.inner_join(products::table))
        .filter(items::serial.eq_any(serials))
        .select(VerifyView::as_select())
        .load::<VerifyView>(c))?)
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
    pub place_source: Option<PlaceSource>,
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
        sightings::place_source.eq(s.place_source.map(Stored)),
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

/// PostgreSQL: the count and the sighting in one statement (a data-modifying `WITH`), so a
/// verification is one round trip to the database instead of two, and atomic without a
/// transaction of its own (BENCHMARKS.md, issue 22). SQLite has no `UPDATE` inside `WITH`; there
/// the two statements run on the single writer, which costs no round trip.
struct CountGenuineSeen;

impl FixedSql for CountGenuineSeen {
    const SQL: &'static str = "WITH counted AS (UPDATE items SET verify_count = verify_count + 1, \
        first_verified_at = CASE WHEN verify_count = 0 THEN ? ELSE first_verified_at END, \
        first_verified_place = CASE WHEN verify_count = 0 THEN ? ELSE first_verified_place END \
        WHERE serial = ? RETURNING verify_count, first_verified_at, first_verified_place), \
        seen AS (INSERT INTO sightings (serial, known_item, result, client_addr, user_agent, \
        latitude, longitude, place, at, region_code, place_source, expected_region, bot) \
        SELECT ?, ?, CASE WHEN verify_count = 1 THEN 'genuine_first' ELSE 'genuine_repeat' END, \
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM counted) \
        SELECT verify_count, first_verified_at, first_verified_place FROM counted";
}

impl FixedQuery for CountGenuineSeen {
    type Row = (Integer, Nullable<Timestamp>, Nullable<Text>);
}

/// PostgreSQL: the mismatch count and the sighting in one statement (see [`CountGenuineSeen`]).
/// The sighting is written whether or not the item row exists, as on SQLite.
struct CountMismatchSeen;

impl FixedSql for CountMismatchSeen {
    const SQL: &'static str = "WITH counted AS (UPDATE items SET mismatch_count = \
        mismatch_count + 1 WHERE serial = ?) \
        INSERT INTO sightings (serial, known_item, result, client_addr, user_agent, latitude, \
        longitude, place, at, region_code, place_source, expected_region, bot) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
}

/// The binds of a sighting's columns after `serial, known_item` (and `result`, when given), in
/// the order of the statements above.
fn sighting_binds<'a>(
    s: &'a Sighting,
    result: Option<&'a str>,
    at: NaiveDateTime,
) -> Vec<Bind<'a>> {
    let mut binds = vec![Bind::Text(&s.serial), Bind::Bool(s.known_item)];
    if let Some(result) = result {
        binds.push(Bind::Text(result));
    }
    binds.extend([
        Bind::OptText(s.client_addr.as_deref()),
        Bind::OptText(s.user_agent.as_deref()),
        Bind::OptDouble(s.latitude),
        Bind::OptDouble(s.longitude),
        Bind::OptText(s.place.as_deref()),
        Bind::Timestamp(at),
        Bind::OptText(s.region_code.as_deref()),
        Bind::OptText(s.place_source.map(PlaceSource::as_str)),
        Bind::OptText(s.expected_region.as_deref()),
        Bind::Bool(s.bot),
    ]);
    binds
}

/// Counts a right-code verification and records its sighting, atomically: inside the caller's
/// transaction on SQLite (the group commit's savepoint), as one statement on PostgreSQL.
pub fn count_genuine(conn: &mut DbConnection, sighting: &Sighting) -> Result<Counted> {
    let at = now();
    let (verify_count, first_verified_at, first_verified_place): (
        i32,
        Option<NaiveDateTime>,
        Option<String>,
    ) = match conn {
        DbConnection::Postgres(c) => {
            let mut binds = vec![
                Bind::Timestamp(at),
                Bind::OptText(sighting.place.as_deref()),
                Bind::Text(&sighting.serial),
            ];
            binds.extend(sighting_binds(sighting, None, at));
            Fixed::<CountGenuineSeen>::new(binds).get_result(c)?
        }
        DbConnection::Sqlite(c) => {
            let counted: (i32, Option<NaiveDateTime>, Option<String>) =
                Fixed::<CountGenuine>::new(vec![
                    Bind::Timestamp(at),
                    Bind::OptText(sighting.place.as_deref()),
                    Bind::Text(&sighting.serial),
                ])
                .get_result(c)?;
            let result = if counted.0 == 1 {
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
            counted
        }
    };
    Ok(Counted {
        verify_count,
        first_verified_at,
        first_verified_place,
    })
}

/// PostgreSQL: [`CountGenuineSeen`] for a whole batch of different items, one statement: the
/// sightings come in as arrays (`unnest`), every item is counted by one `UPDATE … FROM`, and
/// every sighting written by one `INSERT … SELECT`. Sorted by serial, so two batches running at
/// once lock their common items in the same order.
const COUNT_GENUINE_MANY: &str = "WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], \
    $3::text[], $4::float8[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::text[], \
    $10::bool[]) AS t(serial, client_addr, user_agent, latitude, longitude, place, region_code, \
    place_source, expected_region, bot)), \
    counted AS (UPDATE items SET verify_count = items.verify_count + 1, \
    first_verified_at = CASE WHEN items.verify_count = 0 THEN $11 ELSE items.first_verified_at END, \
    first_verified_place = CASE WHEN items.verify_count = 0 THEN input.place \
    ELSE items.first_verified_place END \
    FROM input WHERE items.serial = input.serial \
    RETURNING items.serial, items.verify_count, items.first_verified_at, \
    items.first_verified_place), \
    seen AS (INSERT INTO sightings (serial, known_item, result, client_addr, user_agent, \
    latitude, longitude, place, at, region_code, place_source, expected_region, bot) \
    SELECT input.serial, true, CASE WHEN counted.verify_count = 1 THEN 'genuine_first' \
    ELSE 'genuine_repeat' END, input.client_addr, input.user_agent, input.latitude, \
    input.longitude, input.place, $11, input.region_code, input.place_source, \
    input.expected_region, input.bot FROM input JOIN counted ON counted.serial = input.serial) \
    SELECT serial, verify_count, first_verified_at, first_verified_place FROM counted";

#[derive(QueryableByName)]
struct CountedRow {
    #[diesel(sql_type = Text)]
    serial: String,
    #[diesel(sql_type = Integer)]
    verify_count: i32,
    #[diesel(sql_type = Nullable<Timestamp>)]
    first_verified_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    first_verified_place: Option<String>,
}

/// [`count_genuine`] for several right-code verifications of *different* items, each counted and
/// its sighting recorded; the counts come back in the order of `sightings`. An item that is not
/// there is an error (the caller read every one in the same transaction). On PostgreSQL one
/// statement for all; on SQLite, where a statement costs no round trip, one after another.
pub fn count_genuine_many(
    conn: &mut DbConnection,
    sightings: &[&Sighting],
) -> Result<Vec<Counted>> {
    let DbConnection::Postgres(c) = conn else {
        return sightings.iter().map(|s| count_genuine(conn, s)).collect();
    };
    use diesel::pg::sql_types::Array;
    use diesel::sql_types::{Bool, Double};
    let mut sorted: Vec<&Sighting> = sightings.to_vec();
    sorted.sort_by(|a, b| a.serial.cmp(&b.serial));
    let text = |f: fn(&Sighting) -> Option<&str>| -> Vec<Option<String>> {
        sorted.iter().map(|s| f(s).map(str::to_owned)).collect()
    };
    let rows: Vec<CountedRow> = diesel::sql_query(COUNT_GENUINE_MANY)
        .bind::<Array<Text>, _>(sorted.iter().map(|s| s.serial.clone()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(text(|s| s.client_addr.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(text(|s| s.user_agent.as_deref()))
        .bind::<Array<Nullable<Double>>, _>(sorted.iter().map(|s| s.latitude).collect::<Vec<_>>())
        .bind::<Array<Nullable<Double>>, _>(sorted.iter().map(|s| s.longitude).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(text(|s| s.place.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(text(|s| s.region_code.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(text(|s| s.place_source.map(PlaceSource::as_str)))
        .bind::<Array<Nullable<Text>>, _>(text(|s| s.expected_region.as_deref()))
        .bind::<Array<Bool>, _>(sorted.iter().map(|s| s.bot).collect::<Vec<_>>())
        .bind::<Timestamp, _>(now())
        .load(c)?;
    let mut by_serial: std::collections::HashMap<String, Counted> = rows
        .into_iter()
        .map(|r| {
            (
                r.serial,
                Counted {
                    verify_count: r.verify_count,
                    first_verified_at: r.first_verified_at,
                    first_verified_place: r.first_verified_place,
                },
            )
        })
        .collect();
    sightings
        .iter()
        .map(|s| {
            by_serial
                .remove(&s.serial)
                .ok_or_else(|| Error::Internal(format!("item {} was not counted", s.serial)))
        })
        .collect()
}

/// Counts a wrong security code and records its sighting, atomically (see [`count_genuine`]).
pub fn count_mismatch(conn: &mut DbConnection, sighting: &Sighting) -> Result<()> {
    match conn {
        DbConnection::Postgres(c) => {
            let mut binds = vec![Bind::Text(&sighting.serial)];
            binds.extend(sighting_binds(sighting, Some(&sighting.result), now()));
            Fixed::<CountMismatchSeen>::new(binds).execute(c)?;
            Ok(())
        }
        DbConnection::Sqlite(c) => {
            Fixed::<CountMismatch>::new(vec![Bind::Text(&sighting.serial)]).execute(c)?;
            record_sighting(conn, sighting)
        }
    }
}

/// Runs `f` so that its writes commit together or not at all. Inside [`Db::write`] every job is
/// atomic already; work run by [`Db::write_per_statement`] calls this around the steps that write
/// more than one statement: a transaction on PostgreSQL, nothing more on SQLite (where that
/// work runs in the group commit's savepoint anyway).
///
/// [`Db::write`]: crate::Db::write
/// [`Db::write_per_statement`]: crate::Db::write_per_statement
pub fn atomically<T, E: From<Error>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        DbConnection::Postgres(_) => crate::conn::in_transaction(conn, f),
        DbConnection::Sqlite(_) => f(conn),
    }
}
