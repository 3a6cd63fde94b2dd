//! Custody by scans, the storage half: load what a scan names in the shape the rules want
//! (`domain::custody`), and apply the changes they decided, each custody move with its event.

use diesel::prelude::*;

use super::DbConnection;
use super::fixed::{Bind, Fixed, FixedSql};
use super::schema::{batches, cases, custody_events, items};
use super::users::now;
use crate::domain::custody::{
    Change, Custodian, CustodianKind, CustodyEventKind, ItemState, ItemStatus, Scanned,
};
use crate::error::{Error, Result};
use crate::typed::Stored;

/// Moves one item from the custodian the rules saw to the next; a sale also releases it, if
/// nothing released it before. Runs once per scanned item, so it stays prepared.
struct MoveItem;

impl FixedSql for MoveItem {
    const SQL: &'static str = "UPDATE items SET custodian_kind = ?, custodian_id = ?, \
        released_at = coalesce(released_at, ?) \
        WHERE serial = ? AND custodian_kind = ? AND custodian_id IS NOT DISTINCT FROM ?";
}

/// Puts an item into a case, or takes it out (a null case).
struct PutInCase;

impl FixedSql for PutInCase {
    const SQL: &'static str = "UPDATE items SET case_code = ? WHERE serial = ?";
}

/// Marks a case opened (it no longer stands for its items) or sealed again.
struct MarkCase;

impl FixedSql for MarkCase {
    const SQL: &'static str = "UPDATE cases SET opened = ? WHERE code = ?";
}

type ItemColumns = (
    items::serial,
    items::status,
    items::custodian_kind,
    items::custodian_id,
    items::case_code,
    diesel::dsl::Nullable<cases::opened>,
);

fn item_columns() -> ItemColumns {
    (
        items::serial,
        items::status,
        items::custodian_kind,
        items::custodian_id,
        items::case_code,
        cases::opened.nullable(),
    )
}

type ItemTuple = (
    String,
    ItemStatus,
    CustodianKind,
    Option<i64>,
    Option<String>,
    Option<bool>,
);

fn item_state((serial, status, kind, id, case, opened): ItemTuple) -> Result<ItemState> {
    let custodian = Custodian::from_columns(kind, id).ok_or_else(|| {
        Error::Internal(format!(
            "item {serial} has an unknown custodian {kind:?}/{id:?}"
        ))
    })?;
    Ok(ItemState {
        active: status == ItemStatus::Active,
        custodian,
        sealed_case: case.filter(|_| opened == Some(false)),
        serial,
    })
}

/// An item with the master key id of its batch (to check an anti-counterfeit tag).
pub struct LoadedItem {
    pub state: ItemState,
    pub batch_id: String,
    pub key_id: String,
}

pub fn load_item(conn: &mut DbConnection, serial: &str) -> Result<Option<LoadedItem>> {
    // Every scan loads its item: on the concrete connection, where the statement is cached.
    let query = items::table
        .inner_join(batches::table)
        .left_join(cases::table)
        .filter(items::serial.eq(serial))
        .select((item_columns(), items::batch_id, batches::key_id));
    let row = per_backend!(conn, |c| query.load::<(ItemTuple, String, String)>(c))?.pop();
    row.map(|(tuple, batch_id, key_id)| {
        Ok(LoadedItem {
            state: item_state(tuple)?,
            batch_id,
            key_id,
        })
    })
    .transpose()
}

/// How a case was named on its label.
pub enum CaseKey<'a> {
    Code(&'a str),
    Sscc(&'a str),
}

/// A case with its items while it is sealed.
pub fn load_case(conn: &mut DbConnection, key: CaseKey<'_>) -> Result<Option<Scanned>> {
    let found = match key {
        CaseKey::Code(code) => cases::table
            .filter(cases::code.eq(code))
            .select((cases::code, cases::opened))
            .load::<(String, bool)>(conn)?,
        CaseKey::Sscc(sscc) => cases::table
            .filter(cases::sscc.eq(sscc))
            .select((cases::code, cases::opened))
            .load::<(String, bool)>(conn)?,
    }
    .pop();
    let Some((code, opened)) = found else {
        return Ok(None);
    };
    let items = if opened {
        Vec::new()
    } else {
        items::table
            .left_join(cases::table)
            .filter(items::case_code.eq(&code))
            .order(items::serial)
            .select(item_columns())
            .load::<ItemTuple>(conn)?
            .into_iter()
            .map(item_state)
            .collect::<Result<Vec<_>>>()?
    };
    Ok(Some(Scanned::Case {
        code,
        opened,
        items,
    }))
}

/// Whether a case code exists (the target of a pack).
pub fn case_exists(conn: &mut DbConnection, code: &str) -> Result<bool> {
    Ok(!cases::table
        .filter(cases::code.eq(code))
        .select(cases::code)
        .load::<String>(conn)?
        .is_empty())
}

/// Who made a change: a device and its event, or a person on a page (a retail sale on the
/// agent's phone), with a note the item's history shows.
pub struct ScanOrigin<'a> {
    pub kind: CustodyEventKind,
    /// The handheld and its event's sequence number.
    pub device: Option<(&'a str, i64)>,
    pub actor: Option<i64>,
    pub note: Option<&'a str>,
}

/// A custody event decided but not yet written: a batch of scans on PostgreSQL writes the events
/// of its custody moves together ([`write_events`]), one statement instead of one per move.
#[derive(Debug, Clone)]
pub struct NewEvent {
    serial: String,
    kind: CustodyEventKind,
    from: (CustodianKind, Option<i64>),
    to: (CustodianKind, Option<i64>),
    at: chrono::NaiveDateTime,
    device: Option<(String, i64)>,
    actor: Option<i64>,
    note: Option<String>,
}

/// Applies `changes` (already decided); returns how many items changed custodian. Custody moves
/// are conditional on the custodian the rules saw, so a concurrent change turns into a conflict
/// (the caller's transaction rolls back) instead of a lost update.
pub fn apply(
    conn: &mut DbConnection,
    changes: &[Change],
    seen: &[ItemState],
    origin: &ScanOrigin<'_>,
) -> Result<usize> {
    apply_with(conn, changes, seen, origin, None)
}

/// [`apply`], with the custody events put in `later` instead of written, when given: the caller
/// writes them with [`write_events`] in the same transaction, before anything reads them.
pub fn apply_with(
    conn: &mut DbConnection,
    changes: &[Change],
    seen: &[ItemState],
    origin: &ScanOrigin<'_>,
    mut later: Option<&mut Vec<NewEvent>>,
) -> Result<usize> {
    let at = now();
    let mut moved = 0;
    for change in changes {
        match change {
            Change::Custody { serial, to } => {
                let from = seen
                    .iter()
                    .find(|i| &i.serial == serial)
                    .map(|i| i.custodian)
                    .ok_or_else(|| Error::Internal(format!("no loaded state for {serial}")))?;
                let event = move_item(conn, serial, from, *to, origin, at)?;
                match later.as_deref_mut() {
                    Some(later) => later.push(event),
                    None => write_events(conn, std::slice::from_ref(&event))?,
                }
                moved += 1;
            }
            Change::CaseOf { serial, case } => {
                let update = Fixed::<PutInCase>::new(vec![
                    Bind::OptText(case.as_deref()),
                    Bind::Text(serial),
                ]);
                per_backend!(conn, |c| update.execute(c))?;
            }
            Change::OpenCase { code } | Change::SealCase { code } => {
                let opened = matches!(change, Change::OpenCase { .. });
                let update = Fixed::<MarkCase>::new(vec![Bind::Bool(opened), Bind::Text(code)]);
                per_backend!(conn, |c| update.execute(c))?;
            }
        }
    }
    Ok(moved)
}

/// Moves the item if it still has the custodian the rules saw; returns the move's event.
fn move_item(
    conn: &mut DbConnection,
    serial: &str,
    from: Custodian,
    to: Custodian,
    origin: &ScanOrigin<'_>,
    at: chrono::NaiveDateTime,
) -> Result<NewEvent> {
    let (from_kind, from_id) = from.columns();
    let (to_kind, to_id) = to.columns();
    let released = (to == Custodian::Sold).then_some(at);
    let update = Fixed::<MoveItem>::new(vec![
        Bind::Text(to_kind.as_str()),
        Bind::OptBigInt(to_id),
        Bind::OptTimestamp(released),
        Bind::Text(serial),
        Bind::Text(from_kind.as_str()),
        Bind::OptBigInt(from_id),
    ]);
    // On the concrete connection: diesel caches statements only there.
    let n = per_backend!(conn, |c| update.execute(c))?;
    if n != 1 {
        return Err(Error::conflict(
            "custody_changed_meanwhile",
            format!("item {serial} changed custodian while the scan was applied"),
        ));
    }
    Ok(NewEvent {
        serial: serial.to_owned(),
        kind: origin.kind,
        from: (from_kind, from_id),
        to: (to_kind, to_id),
        at,
        device: origin.device.map(|(d, s)| (d.to_owned(), s)),
        actor: origin.actor,
        note: origin.note.map(str::to_owned),
    })
}

/// Writes custody events, in their order: one prepared `INSERT` for a single event, multi-row
/// `INSERT`s for more on PostgreSQL (on SQLite a statement costs no round trip, and a text that
/// changes with the count would be parsed anew each time).
pub fn write_events(conn: &mut DbConnection, events: &[NewEvent]) -> Result<()> {
    let row = |e: &NewEvent| {
        (
            custody_events::serial.eq(e.serial.clone()),
            custody_events::kind.eq(Stored(e.kind)),
            custody_events::from_kind.eq(Some(Stored(e.from.0))),
            custody_events::from_id.eq(e.from.1),
            custody_events::to_kind.eq(Some(Stored(e.to.0))),
            custody_events::to_id.eq(e.to.1),
            custody_events::at.eq(e.at),
            custody_events::device_id.eq(e.device.as_ref().map(|(d, _)| d.clone())),
            custody_events::device_seq.eq(e.device.as_ref().map(|(_, s)| *s)),
            custody_events::actor_user_id.eq(e.actor),
            custody_events::note.eq(e.note.clone()),
        )
    };
    if matches!(conn, DbConnection::Sqlite(_)) || events.len() == 1 {
        for event in events {
            let insert = diesel::insert_into(custody_events::table).values(row(event));
            per_backend!(conn, |c| insert.execute(c))?;
        }
        return Ok(());
    }
    // 11 columns a row.
    for chunk in events.chunks(400) {
        let insert = diesel::insert_into(custody_events::table)
            .values(chunk.iter().map(row).collect::<Vec<_>>());
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

/// Names the device and its event on the ship events of `order` just written for `serials`
/// (the order rules record the user; a ship scan's events are the device's).
pub fn tag_ship_events(
    conn: &mut DbConnection,
    serials: &[String],
    order: i64,
    device: &str,
    seq: i64,
) -> Result<()> {
    diesel::update(
        custody_events::table
            .filter(custody_events::serial.eq_any(serials))
            .filter(custody_events::kind.eq(Stored(CustodyEventKind::Ship)))
            .filter(custody_events::note.eq(format!("order {order}")))
            .filter(custody_events::device_id.is_null()),
    )
    .set((
        custody_events::device_id.eq(device),
        custody_events::device_seq.eq(seq),
    ))
    .execute(conn)?;
    Ok(())
}
