//! Applying one scan event: at most once per (device, seq), all of its changes or none, and an
//! answer for the device. Runs inside the caller's transaction (one per batch of scans, see
//! [`ScanBatch`]), so the scan's record and its custody changes commit together and the ack goes
//! out after the commit.

use std::collections::{HashMap, HashSet};

use chainmark_wire::{AckResult, OrderProgress, RejectReason, ScanEvent, ScanKind};
use codegen::payload::{self, CaseId, Payload};
use codegen::serial::Serial;

use crate::domain::custody::{self, Context, Scanned};
use crate::domain::diversion::RegionCode;
use crate::error::Result;
use crate::ingest::directory::DeviceEntry;
use crate::keys::KeyRing;
use crate::store::custody::{self as custody_store, CaseKey, ScanOrigin};
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
pub struct ScanBatch<'a> {
    /// PostgreSQL: custody events wait in `events` and are written together (SQLite writes each
    /// at once: there a statement costs no round trip).
    defer_events: bool,
    events: Vec<custody_store::NewEvent>,
    recorded: HashSet<(String, i64)>,
    /// (device, seq) applied in this batch: a message sent twice in one batch is a duplicate.
    applied: HashSet<(&'a str, i64)>,
    regions: HashMap<String, Vec<RegionCode>>,
    records: Vec<devices::ScanRecord<'a>>,
}

impl<'a> ScanBatch<'a> {
    /// Starts the batch of `events`, reading once which of them were recorded before.
    pub fn start<'e>(
        conn: &mut DbConnection,
        events: impl IntoIterator<Item = (&'e DeviceEntry, &'e ScanEvent)>,
    ) -> Result<ScanBatch<'a>> {
        let keys: Vec<(&str, i64)> = events
            .into_iter()
            .filter_map(|(device, event)| {
                Some((device.id.as_str(), i64::try_from(event.seq).ok()?))
            })
            .collect();
        Ok(ScanBatch {
            defer_events: matches!(conn, DbConnection::Postgres(_)),
            events: Vec::new(),
            recorded: devices::recorded_scans(conn, &keys)?,
            applied: HashSet::new(),
            regions: HashMap::new(),
            records: Vec::new(),
        })
    }

    /// Writes the custody events and the records of every scan applied; the batch's
    /// transaction then commits.
    pub fn finish(mut self, conn: &mut DbConnection) -> Result<()> {
        self.write_events(conn)?;
        Ok(devices::record_scans(conn, &self.records)?)
    }

    /// Writes the custody events waiting, before anything that reads custody history runs.
    fn write_events(&mut self, conn: &mut DbConnection) -> Result<()> {
        if !self.events.is_empty() {
            custody_store::write_events(conn, &self.events)?;
            self.events.clear();
        }
        Ok(())
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
    // Shipping and receiving go through the order rules, which read and tag custody events:
    // the events waiting are written first, and theirs are written at once.
    let later = if batch.defer_events && !matches!(event.kind, ScanKind::Ship | ScanKind::Receive) {
        Some(&mut batch.events)
    } else {
        batch.write_events(conn)?;
        None
    };
    let (applied, moved) = match decide_and_apply(conn, keys, device, event, seq, later)? {
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
        // The diversion check's evidence quotes the item's custody history.
        batch.write_events(conn)?;
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
    device: &DeviceEntry,
    event: &ScanEvent,
    seq: i64,
    later: Option<&mut Vec<custody_store::NewEvent>>,
) -> Result<Result<Moved, RejectReason>> {
    let scanned = match resolve(conn, keys, &event.code)? {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
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
    let items = custody_store::apply_with(conn, &changes, seen, &origin, later)?;
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
        let Some(item) = custody_store::load_item(conn, serial.as_str())? else {
            return Ok(Err(RejectReason::UnknownCode));
        };
        if let Payload::VerifyUrl { tag, .. } = &parsed {
            if !tag_is_ours(keys, &item.key_id, serial, tag.as_str()) {
                return Ok(Err(RejectReason::ForgedTag));
            }
        }
        return Ok(Ok(Scanned::Item(item.state)));
    }
    let key = match parsed.case() {
        Some(CaseId::Code(c)) => CaseKey::Code(c.as_str()),
        Some(CaseId::Sscc(s)) => CaseKey::Sscc(s.as_str()),
        None => return Ok(Err(RejectReason::UnknownCode)),
    };
    Ok(custody_store::load_case(conn, key)?.ok_or(RejectReason::UnknownCode))
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
