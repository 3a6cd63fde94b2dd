//! Applying one scan event: at most once per (device, seq), all of its changes or none, and an
//! answer for the device. Runs inside the caller's transaction (one per batch of scans, see
//! [`ScanBatch`]), so the scan's record and its custody changes commit together and the ack goes
//! out after the commit.

use std::collections::{HashMap, HashSet};

use chainmark_wire::{AckResult, OrderProgress, RejectReason, ScanEvent, ScanKind};
use codegen::payload::{self, CaseId, Payload};
use codegen::serial::Serial;

use crate::domain::custody::{self, Change, Context, Scanned};
use crate::domain::diversion::RegionCode;
use crate::error::Result;
use crate::ingest::directory::DeviceEntry;
use crate::keys::KeyRing;
use crate::store::custody::{self as custody_store, CaseKey, Deferred, LoadedItem, ScanOrigin};
use crate::store::{DbConnection, devices};

/// What applying a scan answers: the verdict and, for a scan against an order, the order's
/// progress after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub result: AckResult,
    pub order: Option<OrderProgress>,
}

impl Applied {
    fn rejected(reason: RejectReason) -> Applied {
        Applied {
            result: AckResult::Rejected { reason },
            order: None,
        }
    }
}

/// What an accepted scan did: items that changed custodian, and the order's progress if it
/// was against one.
pub struct Moved {
    pub items: usize,
    pub order: Option<OrderProgress>,
}

/// What the scans applied in one transaction share, so that each does not ask the database
/// again: which of them were recorded before (one query for the batch), each scanning device's
/// regions (one read per device), and the scans' records, written together when the batch
/// ends. On PostgreSQL each of those was a round trip per scan (BENCHMARKS.md, issue 22).
///
/// On PostgreSQL a batch is also applied set-wise: every item its scans name is read in one
/// query at the start ([`BatchItems`]), the scans that only move custody decide against those
/// states (kept current as the batch moves items), and the custody moves with their events are
/// written together ([`Deferred`]) when the batch ends, or before anything reads custody from
/// the database (a case, a pack, a ship or receive scan, a diversion check). The moves stay
/// conditional on the custodian and the status read, so a change made meanwhile by anyone else
/// fails the batch, which is then applied one scan at a time. SQLite runs each scan's prepared statements: there a statement
/// costs no round trip.
pub struct ScanBatch<'a> {
    /// PostgreSQL: moves and events wait in `deferred`, items are read from `items`.
    set_wise: bool,
    deferred: Deferred,
    items: BatchItems,
    recorded: HashSet<(String, i64)>,
    /// (device, seq) applied in this batch: a message sent twice in one batch is a duplicate.
    applied: HashSet<(&'a str, i64)>,
    regions: HashMap<String, Vec<RegionCode>>,
    records: Vec<devices::ScanRecord<'a>>,
}

impl<'a> ScanBatch<'a> {
    /// Starts the batch of `events`, reading once which of them were recorded before (and, on
    /// PostgreSQL, every item they name).
    pub fn start<'e>(
        conn: &mut DbConnection,
        events: impl IntoIterator<Item = (&'e DeviceEntry, &'e ScanEvent)>,
    ) -> Result<ScanBatch<'a>> {
        let set_wise = matches!(conn, DbConnection::Postgres(_));
        let events: Vec<_> = events.into_iter().collect();
        let keys: Vec<(&str, i64)> = events
            .iter()
            .filter_map(|(device, event)| {
                Some((device.id.as_str(), i64::try_from(event.seq).ok()?))
            })
            .collect();
        let items = if set_wise {
            BatchItems::load(conn, events.iter().map(|(_, e)| e.code.as_str()))?
        } else {
            BatchItems::default()
        };
        Ok(ScanBatch {
            set_wise,
            deferred: Deferred::default(),
            items,
            recorded: devices::recorded_scans(conn, &keys)?,
            applied: HashSet::new(),
            regions: HashMap::new(),
            records: Vec::new(),
        })
    }

    /// Writes the custody moves and events waiting and the records of every scan applied; the
    /// batch's transaction then commits.
    pub fn finish(mut self, conn: &mut DbConnection) -> Result<()> {
        self.deferred.flush(conn)?;
        Ok(devices::record_scans(conn, &self.records)?)
    }

    fn seen(&self, device: &str, seq: i64) -> bool {
        self.applied.contains(&(device, seq)) || self.recorded.contains(&(device.to_owned(), seq))
    }

    fn regions(
        &mut self,
        conn: &mut DbConnection,
        device: &DeviceEntry,
    ) -> Result<Vec<RegionCode>> {
        if let Some(here) = self.regions.get(&device.id) {
            return Ok(here.clone());
        }
        let here = crate::diversion::scan::scanner_regions(conn, device)?;
        self.regions.insert(device.id.clone(), here.clone());
        Ok(here)
    }

    /// What `code` names, from the batch's items when it names one of them and the scan only
    /// moves custody (the database otherwise, after the moves waiting are written). A move is
    /// written only if the item still has the custodian and the status it was decided on, so
    /// what another writer changed meanwhile cannot slip through; a pack, an unpack, a ship or a
    /// receive decides on more than that (its case, its order) and reads the database.
    fn resolve(
        &mut self,
        conn: &mut DbConnection,
        keys: &KeyRing,
        kind: ScanKind,
        code: &str,
    ) -> Result<Result<Scanned, RejectReason>> {
        let moves_only = matches!(kind, ScanKind::Sell | ScanKind::Return | ScanKind::Inspect);
        if self.set_wise && moves_only {
            if let Ok(parsed) = payload::parse(code) {
                if let Some(serial) = parsed.serial() {
                    if let Some(known) = self.items.get(serial.as_str()) {
                        return Ok(item_answer(keys, known, serial, &parsed));
                    }
                }
            }
        }
        self.deferred.flush(conn)?;
        resolve(conn, keys, code)
    }
}

/// The items a batch's scans name, as the batch last left them: read together when it starts,
/// then kept current with each change it decides, or forgotten when a change is not one to
/// follow here (a case packed or opened, an order shipped or received), so that the next scan
/// of it reads the database again.
#[derive(Default)]
struct BatchItems {
    /// `None`: no such item (an unknown serial).
    known: HashMap<String, Option<LoadedItem>>,
}

impl BatchItems {
    fn load<'c>(conn: &mut DbConnection, codes: impl Iterator<Item = &'c str>) -> Result<Self> {
        let serials: Vec<String> = codes
            .filter_map(|code| Some(payload::parse(code).ok()?.serial()?.as_str().to_owned()))
            .collect();
        let wanted: Vec<&str> = serials.iter().map(String::as_str).collect();
        let mut found = custody_store::load_items(conn, &wanted)?;
        let mut known = HashMap::with_capacity(serials.len());
        for serial in serials {
            // A serial scanned twice: its item was taken out of `found` the first time.
            let item = found.remove(&serial);
            known.entry(serial).or_insert(item);
        }
        Ok(BatchItems { known })
    }

    fn get(&self, serial: &str) -> Option<&Option<LoadedItem>> {
        self.known.get(serial)
    }

    /// Follows what `changes` did to the items.
    fn after(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Custody { serial, to } => {
                    if let Some(Some(item)) = self.known.get_mut(serial) {
                        item.state.custodian = *to;
                    }
                }
                Change::CaseOf { serial, .. } => {
                    self.known.remove(serial);
                }
                Change::OpenCase { .. } | Change::SealCase { .. } => self.known.clear(),
            }
        }
    }

    fn forget(&mut self) {
        self.known.clear();
    }
}

/// Applies `event` from `device` (already authenticated) in `batch`, whose records are written
/// when it finishes.
pub fn apply_event<'a>(
    conn: &mut DbConnection,
    keys: &KeyRing,
    batch: &mut ScanBatch<'a>,
    device: &'a DeviceEntry,
    event: &'a ScanEvent,
) -> Result<Applied> {
    // The database keys scans by a signed 64-bit seq; a larger one would collide, not apply.
    let Ok(seq) = i64::try_from(event.seq) else {
        return Ok(Applied::rejected(RejectReason::Malformed));
    };
    if batch.seen(&device.id, seq) {
        return Ok(Applied::rejected(RejectReason::Duplicate));
    }
    let (applied, moved) = match decide_and_apply(conn, keys, batch, device, event, seq)? {
        Ok(moved) => (
            Applied {
                result: AckResult::Accepted,
                order: moved.order,
            },
            moved.items,
        ),
        Err(reason) => (Applied::rejected(reason), 0),
    };
    let result = applied.result;
    let here = batch.regions(conn, device)?;
    if !here.is_empty() {
        // The diversion check reads the item's custodian, and its evidence quotes the item's
        // custody history.
        batch.deferred.flush(conn)?;
    }
    crate::diversion::check_scan(conn, keys, device, event, &here)?;
    let result_name = match result {
        AckResult::Accepted => "accepted",
        AckResult::Rejected { reason } => reason.as_str(),
    };
    batch.applied.insert((&device.id, seq));
    batch.records.push(devices::ScanRecord {
        device_id: &device.id,
        seq,
        kind: event.kind,
        code: &event.code,
        context: event.context.as_deref(),
        scanned_at: &event.scanned_at,
        result: result_name,
        items_moved: i32::try_from(moved).unwrap_or(i32::MAX),
    });
    Ok(applied)
}

/// `Ok(Ok(what moved))`, `Ok(Err(reason))` for a scan the rules refuse (nothing changed), or
/// `Err` for a storage failure (the caller rolls the event back and sends no answer).
fn decide_and_apply(
    conn: &mut DbConnection,
    keys: &KeyRing,
    batch: &mut ScanBatch<'_>,
    device: &DeviceEntry,
    event: &ScanEvent,
    seq: i64,
) -> Result<Result<Moved, RejectReason>> {
    let scanned = match batch.resolve(conn, keys, event.kind, &event.code)? {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
    // Shipping and receiving go through the order rules, which read items and read and tag
    // custody events: what waits is written first, what they change is written at once, and
    // the batch's items are read again after them.
    let by_order_rules = matches!(event.kind, ScanKind::Ship | ScanKind::Receive);
    if by_order_rules {
        batch.deferred.flush(conn)?;
        batch.items.forget();
    }
    let context = match resolve_context(conn, event)? {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    if event.kind == ScanKind::Ship {
        return crate::ingest::ship::ship(conn, device, &scanned, event, seq);
    }
    let changes = match custody::decide(event.kind, device.owner, &scanned, &context) {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let seen = match &scanned {
        Scanned::Item(item) => std::slice::from_ref(item),
        Scanned::Case { items, .. } => items.as_slice(),
    };
    let origin = ScanOrigin {
        kind: event.kind.into(),
        device: Some((&device.id, seq)),
        actor: None,
        note: None,
    };
    let later = (batch.set_wise && !by_order_rules).then_some(&mut batch.deferred);
    let items = custody_store::apply_with(conn, &changes, seen, &origin, later)?;
    batch.items.after(&changes);
    if event.kind == ScanKind::Receive {
        crate::ingest::ship::complete_receipt(conn, event.context.as_deref())?;
    }
    Ok(Ok(Moved { items, order: None }))
}

/// What the scanned string names: an item (its anti-counterfeit tag checked when the string is a
/// verification URL) or a case. Anything else is `unknown_code`.
pub fn resolve(
    conn: &mut DbConnection,
    keys: &KeyRing,
    code: &str,
) -> Result<Result<Scanned, RejectReason>> {
    let Ok(parsed) = payload::parse(code) else {
        return Ok(Err(RejectReason::UnknownCode));
    };
    if let Some(serial) = parsed.serial() {
        let item = custody_store::load_item(conn, serial.as_str())?;
        return Ok(item_answer(keys, &item, serial, &parsed));
    }
    let key = match parsed.case() {
        Some(CaseId::Code(c)) => CaseKey::Code(c.as_str()),
        Some(CaseId::Sscc(s)) => CaseKey::Sscc(s.as_str()),
        None => return Ok(Err(RejectReason::UnknownCode)),
    };
    Ok(custody_store::load_case(conn, key)?.ok_or(RejectReason::UnknownCode))
}

/// An item scanned as `parsed`: unknown if there is no such item, forged if its
/// anti-counterfeit tag is not the one the item's batch key gives.
fn item_answer(
    keys: &KeyRing,
    item: &Option<LoadedItem>,
    serial: &Serial,
    parsed: &Payload,
) -> Result<Scanned, RejectReason> {
    let Some(item) = item else {
        return Err(RejectReason::UnknownCode);
    };
    if let Payload::VerifyUrl { tag, .. } = parsed {
        if !tag_is_ours(keys, &item.key_id, serial, tag.as_str()) {
            return Err(RejectReason::ForgedTag);
        }
    }
    Ok(Scanned::Item(item.state.clone()))
}

fn tag_is_ours(keys: &KeyRing, key_id: &str, serial: &Serial, tag: &str) -> bool {
    keys.batch_key(key_id, &serial.batch_id())
        .is_some_and(|k| k.verify_tag(serial, tag))
}

fn resolve_context(
    conn: &mut DbConnection,
    event: &ScanEvent,
) -> Result<Result<Context, RejectReason>> {
    let context = event
        .context
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match event.kind {
        ScanKind::Pack => {
            let Some(raw) = context else {
                return Ok(Err(RejectReason::UnknownCode));
            };
            // The case may be given as scanned (a case URL or SSCC) or as its bare code.
            let code = match payload::parse(raw).ok().as_ref().and_then(Payload::case) {
                Some(CaseId::Code(c)) => c.as_str().to_owned(),
                Some(CaseId::Sscc(s)) => {
                    match custody_store::load_case(conn, CaseKey::Sscc(s.as_str()))? {
                        Some(Scanned::Case { code, .. }) => code,
                        _ => return Ok(Err(RejectReason::UnknownCode)),
                    }
                }
                None => return Ok(Err(RejectReason::UnknownCode)),
            };
            if !custody_store::case_exists(conn, &code)? {
                return Ok(Err(RejectReason::UnknownCode));
            }
            Ok(Ok(Context::PackInto { case: code }))
        }
        ScanKind::Receive => crate::ingest::ship::receive_context(conn, context),
        _ => Ok(Ok(Context::None)),
    }
}
