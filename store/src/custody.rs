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
/// nothing released it before. Runs once per scanned item, so it stays prepared. Every move the
/// rules decide is of an active item, and the item must still be active: a recall or void that
/// committed after the rules read it is a conflict, not a move of a recalled item.
struct MoveItem;

impl FixedSql for MoveItem {
    const SQL: &'static str = "UPDATE items SET custodian_kind = ?, custodian_id = ?, \
        released_at = coalesce(released_at, ?) \
        WHERE serial = ? AND custodian_kind = ? AND custodian_id IS NOT DISTINCT FROM ? \
        AND status = 'active'";
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

/// [`load_item`] for every serial of `serials` at once, one query (`serial = ANY($1)` on
/// PostgreSQL): a batch of scans reads its items together. Serials with no item are left out.
pub fn load_items(
    conn: &mut DbConnection,
    serials: &[&str],
) -> Result<std::collections::HashMap<String, LoadedItem>> {
    let query = items::table
        .inner_join(batches::table)
        .left_join(cases::table)
        .filter(items::serial.eq_any(serials))
        .select((item_columns(), items::batch_id, batches::key_id));
    per_backend!(conn, |c| query.load::<(ItemTuple, String, String)>(c))?
        .into_iter()
        .map(|(tuple, batch_id, key_id)| {
            let state = item_state(tuple)?;
            Ok((
                state.serial.clone(),
                LoadedItem {
                    state,
                    batch_id,
                    key_id,
                },
            ))
        })
        .collect()
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

/// A custody event: a move decided, with who made it.
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

/// Custody moves decided but not yet written, each with its event. A batch of scans on
/// PostgreSQL moves its items and writes their events together ([`Deferred::flush`]): two
/// statements for the batch instead of two round trips per move (BENCHMARKS.md, issue 22).
/// Whoever holds one flushes it before anything reads custody (an item's custodian, its
/// history) from the database, and before the transaction commits.
#[derive(Debug, Default)]
pub struct Deferred {
    /// In the order decided; each is also the move it records.
    moves: Vec<NewEvent>,
    /// The serials with a move waiting: an item moves at most once in a flush, so each
    /// conditional update can be checked (a second move of one item flushes the first).
    moving: std::collections::HashSet<String>,
}

impl Deferred {
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    /// Moves every item waiting, if it still has the custodian its move was decided from, and
    /// writes the events; an item whose custodian changed meanwhile is a conflict (the caller's
    /// transaction rolls back, nothing is lost).
    pub fn flush(&mut self, conn: &mut DbConnection) -> Result<()> {
        if self.moves.is_empty() {
            return Ok(());
        }
        move_items(conn, &self.moves)?;
        write_events(conn, &self.moves)?;
        self.moves.clear();
        self.moving.clear();
        Ok(())
    }

    fn push(&mut self, conn: &mut DbConnection, event: NewEvent) -> Result<()> {
        if self.moving.contains(&event.serial) {
            self.flush(conn)?;
        }
        self.moving.insert(event.serial.clone());
        self.moves.push(event);
        Ok(())
    }
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

/// [`apply`], with the custody moves and their events put in `later` instead of written, when
/// given: the caller flushes it in the same transaction, before anything reads custody.
pub fn apply_with(
    conn: &mut DbConnection,
    changes: &[Change],
    seen: &[ItemState],
    origin: &ScanOrigin<'_>,
    mut later: Option<&mut Deferred>,
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
                let event = new_event(serial, from, *to, origin, at);
                match later.as_deref_mut() {
                    Some(later) => later.push(conn, event)?,
                    None => {
                        move_item(conn, &event)?;
                        write_events(conn, std::slice::from_ref(&event))?;
                    }
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

/// The event of moving `serial` from `from` to `to`.
fn new_event(
    serial: &str,
    from: Custodian,
    to: Custodian,
    origin: &ScanOrigin<'_>,
    at: chrono::NaiveDateTime,
) -> NewEvent {
    NewEvent {
        serial: serial.to_owned(),
        kind: origin.kind,
        from: from.columns(),
        to: to.columns(),
        at,
        device: origin.device.map(|(d, s)| (d.to_owned(), s)),
        actor: origin.actor,
        note: origin.note.map(str::to_owned),
    }
}

/// When a move releases its item: a sale does, if nothing released it before.
fn released(event: &NewEvent) -> Option<chrono::NaiveDateTime> {
    (event.to.0 == CustodianKind::Sold).then_some(event.at)
}

fn changed_meanwhile(serial: &str) -> Error {
    Error::conflict(
        "custody_changed_meanwhile",
        format!(
            "item {serial} changed while the scan was applied (another custodian, or recalled \
             or voided)"
        ),
    )
}

/// Makes the move of `event` if the item still has the custodian the rules saw and is active.
fn move_item(conn: &mut DbConnection, event: &NewEvent) -> Result<()> {
    let update = Fixed::<MoveItem>::new(vec![
        Bind::Text(event.to.0.as_str()),
        Bind::OptBigInt(event.to.1),
        Bind::OptTimestamp(released(event)),
        Bind::Text(&event.serial),
        Bind::Text(event.from.0.as_str()),
        Bind::OptBigInt(event.from.1),
    ]);
    // On the concrete connection: diesel caches statements only there.
    let n = per_backend!(conn, |c| update.execute(c))?;
    if n != 1 {
        return Err(changed_meanwhile(&event.serial));
    }
    Ok(())
}

/// PostgreSQL: [`MoveItem`] for many items, one statement. The moves come in as arrays
/// (`unnest`), each conditional on its custodian and the item being active, as before; sorted by
/// serial, so the rows of one flush are locked in one order. (A batch flushes more than once, and
/// other writes lock rows in scan order: two writers can still deadlock, which PostgreSQL breaks
/// by failing one, whose batch then runs one scan at a time.)
const MOVE_ITEMS: &str = "UPDATE items SET custodian_kind = m.to_kind, custodian_id = m.to_id, \
    released_at = coalesce(items.released_at, m.released) \
    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], \
    $6::timestamp[]) AS m(serial, from_kind, from_id, to_kind, to_id, released) \
    WHERE items.serial = m.serial AND items.custodian_kind = m.from_kind \
    AND items.custodian_id IS NOT DISTINCT FROM m.from_id AND items.status = 'active' \
    RETURNING items.serial";

/// Makes the moves of `events` (of different items); any item whose custodian is no longer the
/// one its move was decided from, or that is no longer active, is a conflict. One statement on PostgreSQL; on SQLite, where a
/// statement costs no round trip, [`MoveItem`]'s prepared statement for each.
fn move_items(conn: &mut DbConnection, events: &[NewEvent]) -> Result<()> {
    let c = match conn {
        DbConnection::Postgres(c) if events.len() > 1 => c,
        _ => return events.iter().try_for_each(|e| move_item(conn, e)),
    };
    use diesel::pg::sql_types::Array;
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Moved {
        #[diesel(sql_type = Text)]
        serial: String,
    }
    let mut sorted: Vec<&NewEvent> = events.iter().collect();
    sorted.sort_by(|a, b| a.serial.cmp(&b.serial));
    let kinds = |f: fn(&NewEvent) -> CustodianKind| -> Vec<&'static str> {
        sorted.iter().map(|e| f(e).as_str()).collect()
    };
    let ids = |f: fn(&NewEvent) -> Option<i64>| -> Vec<Option<i64>> {
        sorted.iter().map(|e| f(e)).collect()
    };
    let moved: Vec<Moved> = diesel::sql_query(MOVE_ITEMS)
        .bind::<Array<Text>, _>(sorted.iter().map(|e| e.serial.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(kinds(|e| e.from.0))
        .bind::<Array<Nullable<BigInt>>, _>(ids(|e| e.from.1))
        .bind::<Array<Text>, _>(kinds(|e| e.to.0))
        .bind::<Array<Nullable<BigInt>>, _>(ids(|e| e.to.1))
        .bind::<Array<Nullable<Timestamp>>, _>(
            sorted.iter().map(|e| released(e)).collect::<Vec<_>>(),
        )
        .load(c)?;
    if moved.len() != events.len() {
        let done: std::collections::HashSet<&str> =
            moved.iter().map(|m| m.serial.as_str()).collect();
        let stale = sorted
            .iter()
            .find(|e| !done.contains(e.serial.as_str()))
            .map_or("?", |e| e.serial.as_str());
        return Err(changed_meanwhile(stale));
    }
    Ok(())
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
