//! The audit views' queries, run at view time (never on the verification path): daily counts for
//! the dashboard, the region-to-region flow matrix, agents' diversion counts, and an item's trace.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};

use super::DbConnection;
use super::schema::{cases, custody_events, device_scans, diversion_alerts, items, sightings};
use crate::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
use crate::domain::diversion::PlaceSource;
use crate::domain::diversion::alert::AlertStatus;
use crate::error::Result;
use crate::typed::Stored;
use chainmark_wire::ScanKind;

#[derive(Debug, Clone, QueryableByName)]
pub struct DayCount {
    #[diesel(sql_type = Text)]
    pub day: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// One daily series: `select` is the FROM/WHERE part with one `?` for the start time; `at` the
/// timestamp column; `weight` what to sum (`1` to count rows).
fn daily(
    conn: &mut DbConnection,
    at: &str,
    weight: &str,
    from_where: &str,
    since: NaiveDateTime,
) -> Result<Vec<DayCount>> {
    Ok(match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT date({at}) AS day, CAST(SUM({weight}) AS BIGINT) AS n {from_where} AND {at} >= ? GROUP BY day ORDER BY day"
        ))
        .bind::<Timestamp, _>(since)
        .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(format!(
            "SELECT to_char({at}, 'YYYY-MM-DD') AS day, CAST(SUM({weight}) AS BIGINT) AS n {from_where} AND {at} >= $1 GROUP BY day ORDER BY day"
        ))
        .bind::<Timestamp, _>(since)
        .load(c)?,
    })
}

/// The dashboard's daily series since `since`.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub issued: Vec<DayCount>,
    pub shipped: Vec<DayCount>,
    pub verified: Vec<DayCount>,
    pub counterfeit: Vec<DayCount>,
    pub alerts: Vec<DayCount>,
}

pub fn series(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Series> {
    Ok(Series {
        issued: daily(
            conn,
            "imported_at",
            "item_count",
            "FROM batches WHERE 1 = 1",
            since,
        )?,
        shipped: daily(
            conn,
            "at",
            "1",
            &format!(
                "FROM custody_events WHERE kind = '{}'",
                CustodyEventKind::Ship.as_str()
            ),
            since,
        )?,
        verified: daily(
            conn,
            "at",
            "1",
            "FROM sightings WHERE result IN ('genuine_first', 'genuine_repeat')",
            since,
        )?,
        counterfeit: daily(
            conn,
            "at",
            "1",
            "FROM sightings WHERE result = 'not_genuine'",
            since,
        )?,
        alerts: daily(
            conn,
            "created_at",
            "1",
            "FROM diversion_alerts WHERE 1 = 1",
            since,
        )?,
    })
}

/// The dashboard's totals.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub issued: i64,
    pub shipped: i64,
    pub verified: i64,
    pub counterfeit: i64,
    pub open_alerts: i64,
}

pub fn totals(conn: &mut DbConnection) -> Result<Totals> {
    Ok(Totals {
        issued: items::table.count().get_result(conn)?,
        shipped: items::table
            .filter(items::custodian_kind.ne(Stored(CustodianKind::Hq)))
            .count()
            .get_result(conn)?,
        verified: sightings::table
            .filter(sightings::result.eq_any(["genuine_first", "genuine_repeat"]))
            .count()
            .get_result(conn)?,
        counterfeit: sightings::table
            .filter(sightings::result.eq("not_genuine"))
            .count()
            .get_result(conn)?,
        open_alerts: diversion_alerts::table
            .filter(diversion_alerts::status.eq(Stored(AlertStatus::Open)))
            .count()
            .get_result(conn)?,
    })
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Flow {
    #[diesel(sql_type = Text)]
    pub expected: String,
    #[diesel(sql_type = Text)]
    pub observed: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Located, non-bot verifications by expected province → observed province, plus scan alerts,
/// on the days from `since`'s on. Read from `diversion_flow_days`, the daily rollup that triggers
/// keep in the same transaction as each sighting and scan alert (migration
/// `2026-11-27-000001_diversion_indexes`): a scan of every sighting took seconds at 10,000,000.
pub fn flows(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Vec<Flow>> {
    const SQL: &str = "SELECT expected, observed, CAST(SUM(n) AS BIGINT) AS n \
        FROM diversion_flow_days WHERE day >= {p} \
        GROUP BY expected, observed ORDER BY expected, observed";
    let day = since.date();
    Ok(match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(SQL.replace("{p}", "?"))
            .bind::<Text, _>(day.format("%Y-%m-%d").to_string())
            .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(SQL.replace("{p}", "$1"))
            .bind::<Date, _>(day)
            .load(c)?,
    })
}

#[derive(Debug, Clone, QueryableByName)]
pub struct AgentDay {
    #[diesel(sql_type = BigInt)]
    pub agent_id: i64,
    #[diesel(sql_type = Text)]
    pub day: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Diversion alerts per agent per day since `since`.
pub fn agent_days(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Vec<AgentDay>> {
    const WHERE: &str = "FROM diversion_alerts WHERE kind = 'diversion' AND agent_id IS NOT NULL AND created_at >= ";
    Ok(match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT agent_id, date(created_at) AS day, COUNT(*) AS n {WHERE} ? GROUP BY agent_id, day ORDER BY agent_id, day"))
            .bind::<Timestamp, _>(since)
            .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(format!(
            "SELECT agent_id, to_char(created_at, 'YYYY-MM-DD') AS day, COUNT(*) AS n {WHERE} $1 GROUP BY agent_id, day ORDER BY agent_id, day"))
            .bind::<Timestamp, _>(since)
            .load(c)?,
    })
}

type MoveRow = (
    NaiveDateTime,
    String,
    CustodyEventKind,
    Option<CustodianKind>,
    Option<i64>,
    Option<CustodianKind>,
    Option<i64>,
    Option<String>,
);
type SeenRow = (
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<PlaceSource>,
    bool,
);

/// One line of a trace's timeline.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    pub at: NaiveDateTime,
    /// `custody`, `scan` or `verification`.
    pub source: &'static str,
    pub serial: String,
    /// The custody move or scan kind, or the verification's result.
    pub what: String,
    /// The same facts as one line of stored values, for machines (the API's `detail`).
    pub detail: String,
    pub region: Option<String>,
    /// A custody move's parties (custodian kind and id) and device; a scan's device.
    pub from: Option<(CustodianKind, Option<i64>)>,
    pub to: Option<(CustodianKind, Option<i64>)>,
    pub device: Option<String>,
    /// A verification's client address, where its place came from, and whether a bot asked.
    pub client: Option<String>,
    pub place_source: Option<String>,
    pub bot: bool,
    /// A scan's result (`accepted` or the refusal's reason).
    pub result: Option<String>,
}

/// The serials a code stands for: itself when it is an item, the items of a case when it is a
/// case code. `None` when it is neither.
pub fn trace_serials(conn: &mut DbConnection, code: &str) -> Result<Option<(bool, Vec<String>)>> {
    let item: Option<String> = items::table
        .find(code)
        .select(items::serial)
        .first(conn)
        .optional()?;
    if let Some(s) = item {
        return Ok(Some((false, vec![s])));
    }
    let case: Option<String> = cases::table
        .filter(cases::code.eq(code).or(cases::sscc.eq(code)))
        .select(cases::code)
        .first(conn)
        .optional()?;
    let Some(case) = case else {
        return Ok(None);
    };
    let serials = items::table
        .filter(items::case_code.eq(&case))
        .order(items::serial)
        .select(items::serial)
        .load(conn)?;
    Ok(Some((true, serials)))
}

/// Every custody move, scan and verification of the serials (and scans of `code` itself), oldest
/// first, at most `limit`.
pub fn timeline(
    conn: &mut DbConnection,
    code: &str,
    serials: &[String],
    limit: i64,
) -> Result<Vec<TraceEvent>> {
    let mut out = Vec::new();
    for chunk in serials.chunks(500) {
        let moves: Vec<MoveRow> = custody_events::table
            .filter(custody_events::serial.eq_any(chunk))
            .order(custody_events::id)
            .limit(limit)
            .select((
                custody_events::at,
                custody_events::serial,
                custody_events::kind,
                custody_events::from_kind,
                custody_events::from_id,
                custody_events::to_kind,
                custody_events::to_id,
                custody_events::device_id,
            ))
            .load(conn)?;
        // Each item's history starts with its batch's import, recorded once on the batch.
        let imports =
            super::items::imports_of(conn, chunk)?
                .into_iter()
                .map(|(serial, at, _)| -> MoveRow {
                    let to = Some(CustodianKind::Hq);
                    (
                        at,
                        serial,
                        CustodyEventKind::Import,
                        None,
                        None,
                        to,
                        None,
                        None,
                    )
                });
        for (at, serial, kind, fk, fi, tk, ti, dev) in imports.chain(moves) {
            let party = |k: Option<CustodianKind>, i: Option<i64>| match (k, i) {
                (Some(k), Some(i)) => format!("{}:{i}", k.as_str()),
                (Some(k), None) => k.as_str().to_string(),
                _ => "-".into(),
            };
            let device = dev.as_ref().map(|d| format!(" · {d}")).unwrap_or_default();
            out.push(TraceEvent {
                at,
                source: "custody",
                serial,
                what: kind.as_str().to_string(),
                detail: format!("{} → {}{device}", party(fk, fi), party(tk, ti)),
                region: None,
                from: fk.map(|k| (k, fi)),
                to: tk.map(|k| (k, ti)),
                device: dev,
                client: None,
                place_source: None,
                bot: false,
                result: None,
            });
        }
        let seen: Vec<SeenRow> = sightings::table
            .filter(sightings::serial.eq_any(chunk))
            .order(sightings::id)
            .limit(limit)
            .select((
                sightings::at,
                sightings::serial,
                sightings::result,
                sightings::client_addr,
                sightings::region_code,
                sightings::place_source,
                sightings::bot,
            ))
            .load(conn)?;
        for (at, serial, result, client, region, source, bot) in seen {
            let mut detail = client.clone().unwrap_or_default();
            if let Some(s) = source {
                detail.push_str(&format!(" · {}", s.as_str()));
            }
            if bot {
                detail.push_str(" · bot");
            }
            out.push(TraceEvent {
                at,
                source: "verification",
                serial,
                what: result,
                detail,
                region,
                from: None,
                to: None,
                device: None,
                client,
                place_source: source.map(|s| s.as_str().to_string()),
                bot,
                result: None,
            });
        }
    }
    let mut codes: Vec<String> = serials.to_vec();
    codes.push(code.to_string());
    let scans: Vec<(NaiveDateTime, String, ScanKind, String, String)> = device_scans::table
        .filter(device_scans::code.eq_any(&codes))
        .filter(device_scans::items_moved.eq(0))
        .order(device_scans::received_at)
        .limit(limit)
        .select((
            device_scans::received_at,
            device_scans::code,
            device_scans::kind,
            device_scans::device_id,
            device_scans::result,
        ))
        .load(conn)?;
    for (at, scanned, kind, device, result) in scans {
        out.push(TraceEvent {
            at,
            source: "scan",
            serial: scanned,
            what: kind.as_str().to_string(),
            detail: format!("{device} · {result}"),
            region: None,
            from: None,
            to: None,
            device: Some(device),
            client: None,
            place_source: None,
            bot: false,
            result: Some(result),
        });
    }
    out.sort_by_key(|e| e.at);
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(out)
}

/// Current holder and batch of one item, for the trace's header.
#[derive(Debug, Clone, Queryable)]
pub struct ItemHead {
    pub serial: String,
    pub batch_id: String,
    pub case_code: Option<String>,
    pub status: ItemStatus,
    pub custodian_kind: CustodianKind,
    pub custodian_id: Option<i64>,
    pub verify_count: i32,
}

pub fn item_head(conn: &mut DbConnection, serial: &str) -> Result<Option<ItemHead>> {
    Ok(items::table
        .find(serial)
        .select((
            items::serial,
            items::batch_id,
            items::case_code,
            items::status,
            items::custodian_kind,
            items::custodian_id,
            items::verify_count,
        ))
        .first(conn)
        .optional()?)
}
