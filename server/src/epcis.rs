//! GS1 EPCIS 2.0 export (docs/epcis.md): the custody history of a batch or of a time window as
//! one `EPCISDocument`, streamed. Facts are read page by page (`store::epcis`), mapped by the
//! pure `domain::epcis`, and each event is written as soon as it is complete, so memory stays
//! bounded by a page whatever the size of the batch.
//!
//! The document lists, in this order: the batches' commissioning (an import is recorded once on
//! its batch), the custody events (shipping, receiving, returns, sales, voids, recalls), the cases
//! codegen packed at import, then the accepted pack, unpack and inspect scans of the warehouse
//! handhelds.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::domain::custody::{CustodianKind, CustodyEventKind};
use crate::domain::epcis::event::{custody_event, pre_aggregation_event};
use crate::domain::epcis::{
    CustodyFact, Holder, Ids, OrderParties, PartyRef, PreAggregation, When, document,
};
use crate::domain::network::PartyKind;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::epcis::{self as store, CustodyRow};

mod scans;

pub use crate::store::epcis::Filter;

/// Rows read per query.
pub const PAGE: i64 = 2_000;
/// Items in one EPCIS event at most; a bigger custody move is split into several events.
pub const EPCS_PER_EVENT: usize = 1_000;

/// What the caller asked for, as given (query string or command line).
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub batch: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

/// Checks the request: a batch, or a window `from < to` of RFC 3339 timestamps; not both.
pub fn parse_request(req: &Request<'_>) -> Result<Filter> {
    let batch = req.batch.map(str::trim).filter(|b| !b.is_empty());
    match (batch, req.from, req.to) {
        (Some(b), None, None) => Ok(Filter::Batch(b.to_uppercase())),
        (None, Some(from), Some(to)) => {
            let from = timestamp("from", from)?;
            let to = timestamp("to", to)?;
            if from >= to {
                return Err(Error::BadRequest(format!(
                    "from ({}) must be before to ({})",
                    from.and_utc().to_rfc3339(),
                    to.and_utc().to_rfc3339()
                )));
            }
            Ok(Filter::Window { from, to })
        }
        (Some(_), _, _) => Err(Error::BadRequest(
            "give either batch or from and to, not both".into(),
        )),
        _ => Err(Error::BadRequest(
            "give batch=ID, or both from and to (RFC 3339, e.g. 2026-11-01T00:00:00+08:00)".into(),
        )),
    }
}

fn timestamp(name: &str, raw: &str) -> Result<NaiveDateTime> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.naive_utc())
        .map_err(|e| {
            Error::BadRequest(format!(
                "{name} is not an RFC 3339 timestamp like 2026-11-01T00:00:00+08:00 ({e}): {raw:?}"
            ))
        })
}

/// Refuses an export of a batch the registry does not have (before anything is written).
pub fn check(conn: &mut DbConnection, filter: &Filter) -> Result<()> {
    match filter {
        Filter::Batch(id) if !store::batch_exists(conn, id)? => Err(Error::not_found("batch")),
        _ => Ok(()),
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
}

/// Writes the EPCIS document for `filter` to `out`; `progress` gets the events written so far
/// after each page. Call [`check`] first: an unknown batch here is just an empty document.
pub fn export(
    conn: &mut DbConnection,
    ids: &Ids,
    filter: &Filter,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary> {
    let mut sink = Sink {
        out,
        events: 0,
        progress,
    };
    sink.raw(&document::open(Utc::now()))?;
    commissioning_section(conn, ids, filter, &mut sink)?;
    custody_section(conn, ids, filter, &mut sink)?;
    import_section(conn, ids, filter, &mut sink)?;
    scans::scan_section(conn, ids, filter, &mut sink)?;
    sink.raw(document::CLOSE)?;
    sink.out.flush().map_err(write_error)?;
    (sink.progress)(sink.events);
    Ok(Summary {
        events: sink.events,
    })
}

pub(crate) struct Sink<'a> {
    out: &'a mut dyn Write,
    pub(crate) events: u64,
    pub(crate) progress: &'a mut dyn FnMut(u64),
}

impl Sink<'_> {
    fn raw(&mut self, text: &str) -> Result<()> {
        self.out.write_all(text.as_bytes()).map_err(write_error)
    }

    /// Writes one event; `source` names the record it comes from (for its `eventID`).
    pub(crate) fn event(&mut self, event: Value, source: &str) -> Result<()> {
        if self.events > 0 {
            self.raw(",\n")?;
        }
        let event = document::with_event_id(event, source);
        serde_json::to_writer(&mut *self.out, &event)
            .map_err(|e| Error::Internal(format!("writing the EPCIS export: {e}")))?;
        self.events += 1;
        Ok(())
    }
}

fn write_error(e: std::io::Error) -> Error {
    Error::Unavailable(format!("writing the EPCIS export: {e}"))
}

fn utc(at: NaiveDateTime) -> When {
    let recorded = at.and_utc();
    When {
        event: recorded.fixed_offset(),
        recorded,
    }
}

/// Rows that make one event: the same move at the same moment by the same scan.
fn same_group(a: &CustodyRow, b: &CustodyRow) -> bool {
    (
        &a.kind,
        &a.from_kind,
        a.from_id,
        &a.to_kind,
        a.to_id,
        &a.note,
        a.at,
        &a.device_id,
    ) == (
        &b.kind,
        &b.from_kind,
        b.from_id,
        &b.to_kind,
        b.to_id,
        &b.note,
        b.at,
        &b.device_id,
    )
}

/// One commissioning ObjectEvent per [`EPCS_PER_EVENT`] items of each batch, in index order:
/// the import is recorded once on the batch (`batches.imported_at`), not per item. The batches
/// are the one named, or those imported in the window, as for [`import_section`].
fn commissioning_section(
    conn: &mut DbConnection,
    ids: &Ids,
    filter: &Filter,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let per_event = EPCS_PER_EVENT as i64;
    for batch in store::batches(conn, filter)? {
        let mut from = 0;
        loop {
            let serials = store::serials(conn, &batch.id, from, from + per_event)?;
            if serials.is_empty() {
                break;
            }
            let fact = CustodyFact {
                kind: CustodyEventKind::Import,
                from: Holder::Unknown,
                to: Holder::Hq,
                order: None,
                device: None,
                epcs: serials
                    .iter()
                    .map(|(_, serial)| ids.item(batch.gtin.as_deref(), serial))
                    .collect(),
                when: utc(batch.imported_at),
            };
            if let Some(event) = custody_event(ids, &fact) {
                sink.event(event, &format!("commissioning:{}:{from}", batch.id))?;
            }
            from += per_event;
            (sink.progress)(sink.events);
        }
    }
    Ok(())
}

fn custody_section(
    conn: &mut DbConnection,
    ids: &Ids,
    filter: &Filter,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut orders = HashMap::new();
    let mut group: Vec<CustodyRow> = Vec::new();
    let mut after = 0;
    loop {
        let page = store::custody_page(conn, filter, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        load_orders(conn, &page, &mut orders)?;
        for row in page {
            let joins = group.first().is_some_and(|g| same_group(g, &row));
            if !joins || group.len() >= EPCS_PER_EVENT {
                emit_custody(ids, &group, &orders, sink)?;
                group.clear();
            }
            group.push(row);
        }
        (sink.progress)(sink.events);
    }
    emit_custody(ids, &group, &orders, sink)
}

/// The order a custody event moved against: the transit custodian's id, or the order named in
/// the note (`order 12`, `refund of order 12`).
fn order_of(row: &CustodyRow) -> Option<i64> {
    match (row.from_kind, row.to_kind) {
        (_, Some(CustodianKind::Transit)) if row.to_id.is_some() => row.to_id,
        (Some(CustodianKind::Transit), _) if row.from_id.is_some() => row.from_id,
        _ => row
            .note
            .as_deref()
            .and_then(|n| n.split_once("order "))
            .and_then(|(_, id)| id.trim().parse().ok()),
    }
}

fn load_orders(
    conn: &mut DbConnection,
    page: &[CustodyRow],
    orders: &mut HashMap<i64, Option<OrderParties>>,
) -> Result<()> {
    let mut wanted: Vec<i64> = page
        .iter()
        .filter_map(order_of)
        .filter(|id| !orders.contains_key(id))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    for id in &wanted {
        orders.insert(*id, None);
    }
    for (id, buyer, shipper_kind, shipper_id) in store::order_parties(conn, &wanted)? {
        let shipper = match (shipper_kind, shipper_id) {
            (Some(PartyKind::Hq), _) => Some(PartyRef::Hq),
            (Some(PartyKind::Agent), Some(a)) => Some(PartyRef::Agent(a)),
            _ => None,
        };
        orders.insert(
            id,
            Some(OrderParties {
                id,
                shipper,
                buyer: PartyRef::Agent(buyer),
            }),
        );
    }
    Ok(())
}

fn emit_custody(
    ids: &Ids,
    group: &[CustodyRow],
    orders: &HashMap<i64, Option<OrderParties>>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let Some(first) = group.first() else {
        return Ok(());
    };
    let order = order_of(first).map(|id| {
        orders.get(&id).copied().flatten().unwrap_or(OrderParties {
            id,
            shipper: None,
            buyer: PartyRef::Hq,
        })
    });
    let fact = CustodyFact {
        kind: first.kind,
        from: Holder::from_columns(first.from_kind, first.from_id),
        to: Holder::from_columns(first.to_kind, first.to_id),
        order,
        device: first.device_id.as_deref(),
        epcs: group
            .iter()
            .map(|r| ids.item(r.gtin.as_deref(), &r.serial))
            .collect(),
        when: utc(first.at),
    };
    match custody_event(ids, &fact) {
        Some(event) => sink.event(event, &format!("custody:{}", first.id)),
        None => {
            tracing::warn!(
                kind = first.kind.as_str(),
                "custody event kind without an EPCIS mapping: left out"
            );
            Ok(())
        }
    }
}

/// One AggregationEvent per case codegen filled (cases hold items in index order).
fn import_section(
    conn: &mut DbConnection,
    ids: &Ids,
    filter: &Filter,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for batch in store::batches(conn, filter)? {
        let size = i64::from(batch.case_size.max(1));
        let mut next = 0;
        loop {
            let cases = store::cases_page(conn, &batch.id, next, PAGE / size.min(PAGE) + 1)?;
            let (Some(first), Some(last)) = (cases.first(), cases.last()) else {
                break;
            };
            next = last.1 + 1;
            let serials = store::serials(conn, &batch.id, first.1 * size, next * size)?;
            let mut members = serials.into_iter().peekable();
            for (code, index, sscc) in &cases {
                let mut items = Vec::new();
                while let Some((_, serial)) = members.next_if(|(i, _)| i / size == *index) {
                    items.push(ids.item(batch.gtin.as_deref(), &serial));
                }
                if items.is_empty() {
                    continue;
                }
                let fact = PreAggregation {
                    case: ids.case(sscc.as_deref(), code),
                    items,
                    when: utc(batch.imported_at),
                };
                sink.event(
                    pre_aggregation_event(ids, &fact),
                    &format!("import:{}:{code}", batch.id),
                )?;
            }
            (sink.progress)(sink.events);
        }
    }
    Ok(())
}
