//! Custody facts → EPCIS 2.0 events (docs/epcis.md § Events). Pure: the use case loads the facts
//! and resolves identifiers; this decides which EPCIS event each fact is and fills it in.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::ids::{Ids, PartyRef};
use crate::custody::{Custodian, CustodianKind, CustodyEventKind, CustodyEventKind as Kind};

/// When something happened (with the local offset where it happened, when known) and when the
/// server recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub event: DateTime<FixedOffset>,
    pub recorded: DateTime<Utc>,
}

/// A holder as the custody columns name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Hq,
    Agent(i64),
    /// On a shipment against this order.
    Transit(Option<i64>),
    Sold,
    Unknown,
}

impl Holder {
    pub fn from_columns(kind: Option<CustodianKind>, id: Option<i64>) -> Holder {
        match kind.and_then(|kind| Custodian::from_columns(kind, id)) {
            Some(Custodian::Hq) => Holder::Hq,
            Some(Custodian::Agent(id)) => Holder::Agent(id),
            Some(Custodian::Transit(order)) => Holder::Transit(order),
            Some(Custodian::Sold) => Holder::Sold,
            None => Holder::Unknown,
        }
    }

    fn party(self) -> Option<PartyRef> {
        match self {
            Holder::Hq => Some(PartyRef::Hq),
            Holder::Agent(id) => Some(PartyRef::Agent(id)),
            _ => None,
        }
    }
}

/// The order a shipment moves against, with its two ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderParties {
    pub id: i64,
    pub shipper: Option<PartyRef>,
    pub buyer: PartyRef,
}

/// One custody event of the registry (`custody_events.kind`) for a group of items.
#[derive(Debug, Clone, PartialEq)]
pub struct CustodyFact<'a> {
    pub kind: CustodyEventKind,
    pub from: Holder,
    pub to: Holder,
    pub order: Option<OrderParties>,
    /// The handheld that scanned it, if a scan did.
    pub device: Option<&'a str>,
    /// The items' identifiers (see [`Ids::item`]).
    pub epcs: Vec<String>,
    pub when: When,
}

/// One accepted warehouse scan that custody events do not record.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanFact {
    /// An item packed into a case.
    Pack { case: String, item: String },
    /// Items taken out of a case (all that were in it, for a case scan).
    Unpack { case: String, items: Vec<String> },
    /// An audit look at an item or a case.
    Inspect { epc: String },
}

/// Aggregation recorded at import: the case codegen put these items into.
#[derive(Debug, Clone, PartialEq)]
pub struct PreAggregation {
    pub case: String,
    pub items: Vec<String>,
    pub when: When,
}

/// The EPCIS event for a custody fact; `None` for a kind that moves no custody (pack, unpack,
/// inspect: their EPCIS events are [`scan_event`]s).
pub fn custody_event(ids: &Ids, fact: &CustodyFact<'_>) -> Option<Value> {
    let mut event = base("ObjectEvent", fact.when);
    let (action, step, disposition) = match fact.kind {
        Kind::Import => ("ADD", "commissioning", Some("active")),
        Kind::Ship => ("OBSERVE", "shipping", Some("in_transit")),
        Kind::Receive => ("OBSERVE", "receiving", Some("active")),
        Kind::Return => ("OBSERVE", "receiving", Some("returned")),
        Kind::Sell | Kind::Release => ("OBSERVE", "retail_selling", Some("retail_sold")),
        Kind::Void => ("DELETE", "decommissioning", Some("inactive")),
        Kind::Recall => ("OBSERVE", "holding", Some("recalled")),
        // Pack, unpack and inspect move no custody: scan events, not custody events.
        Kind::Pack | Kind::Unpack | Kind::Inspect => return None,
    };
    event.insert("epcList".into(), json!(fact.epcs));
    event.insert("action".into(), json!(action));
    event.insert("bizStep".into(), json!(step));
    if let Some(d) = disposition {
        event.insert("disposition".into(), json!(d));
    }
    if let Some(device) = fact.device {
        event.insert("readPoint".into(), json!({ "id": ids.device(device) }));
    }
    if fact.kind == Kind::Import {
        event.insert("bizLocation".into(), json!({ "id": ids.hq_location() }));
    }
    let (source, destination) = ends(fact);
    if let Some(order) = fact.order {
        event.insert(
            "bizTransactionList".into(),
            json!([{ "type": "po", "bizTransaction": ids.order(order.id) }]),
        );
    }
    if let Some(party) = source {
        let id = ids.party(party);
        event.insert(
            "sourceList".into(),
            json!([
                { "type": "owning_party", "source": id },
                { "type": "possessing_party", "source": id },
            ]),
        );
    }
    if let Some(party) = destination {
        let id = ids.party(party);
        event.insert(
            "destinationList".into(),
            json!([
                { "type": "owning_party", "destination": id },
                { "type": "possessing_party", "destination": id },
            ]),
        );
    }
    Some(Value::Object(event))
}

/// Where goods come from and go to. Shipping and receiving name the order's shipper and buyer
/// (the transit custodian is no party); a return goes back from the buyer to whoever took it; a
/// sale leaves its seller. Commissioning, voiding and recalls move nothing between parties.
fn ends(fact: &CustodyFact<'_>) -> (Option<PartyRef>, Option<PartyRef>) {
    match fact.kind {
        Kind::Ship => (
            fact.from.party(),
            fact.order.map(|o| o.buyer).or(fact.to.party()),
        ),
        Kind::Receive => (
            fact.order.and_then(|o| o.shipper).or(fact.from.party()),
            fact.to.party(),
        ),
        Kind::Return => (fact.from.party(), fact.to.party()),
        Kind::Sell | Kind::Release => (fact.from.party(), None),
        _ => (None, None),
    }
}

/// The EPCIS event for an accepted scan that moved no custody.
pub fn scan_event(ids: &Ids, scan: &ScanFact, device: &str, when: When) -> Value {
    let mut event = match scan {
        ScanFact::Pack { case, item } => {
            let mut e = base("AggregationEvent", when);
            e.insert("parentID".into(), json!(case));
            e.insert("childEPCs".into(), json!([item]));
            e.insert("action".into(), json!("ADD"));
            e.insert("bizStep".into(), json!("packing"));
            e.insert("disposition".into(), json!("container_closed"));
            e
        }
        ScanFact::Unpack { case, items } => {
            let mut e = base("AggregationEvent", when);
            e.insert("parentID".into(), json!(case));
            // DELETE without children means "all of them" in EPCIS: only list what we know.
            if !items.is_empty() {
                e.insert("childEPCs".into(), json!(items));
            }
            e.insert("action".into(), json!("DELETE"));
            e.insert("bizStep".into(), json!("unpacking"));
            e.insert("disposition".into(), json!("container_open"));
            e
        }
        ScanFact::Inspect { epc } => {
            let mut e = base("ObjectEvent", when);
            e.insert("epcList".into(), json!([epc]));
            e.insert("action".into(), json!("OBSERVE"));
            e.insert("bizStep".into(), json!("inspecting"));
            e
        }
    };
    event.insert("readPoint".into(), json!({ "id": ids.device(device) }));
    Value::Object(event)
}

/// The packing codegen did: the case as parent, its items as children, at HQ.
pub fn pre_aggregation_event(ids: &Ids, fact: &PreAggregation) -> Value {
    let mut e = base("AggregationEvent", fact.when);
    e.insert("parentID".into(), json!(fact.case));
    e.insert("childEPCs".into(), json!(fact.items));
    e.insert("action".into(), json!("ADD"));
    e.insert("bizStep".into(), json!("packing"));
    e.insert("disposition".into(), json!("container_closed"));
    e.insert("bizLocation".into(), json!({ "id": ids.hq_location() }));
    Value::Object(e)
}

fn base(kind: &str, when: When) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("type".into(), json!(kind));
    e.insert(
        "eventTime".into(),
        json!(
            when.event
                .with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        ),
    );
    e.insert("eventTimeZoneOffset".into(), json!(offset(when.event)));
    e.insert(
        "recordTime".into(),
        json!(when.recorded.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    e
}

/// `+08:00` / `-05:30` / `+00:00`, as EPCIS writes offsets.
fn offset(t: DateTime<FixedOffset>) -> String {
    let secs = t.offset().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let minutes = secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}
