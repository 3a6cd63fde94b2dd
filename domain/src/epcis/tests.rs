//! The mapping's rules, without a database.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::document::{self, with_event_id};
use super::event::{custody_event, pre_aggregation_event, scan_event};
use super::*;
use crate::custody::CustodyEventKind;

fn when() -> When {
    let event = DateTime::parse_from_rfc3339("2026-11-24T09:00:00+08:00").expect("time");
    When {
        event,
        recorded: event.with_timezone(&Utc),
    }
}

fn fact<'a>(
    kind: &'a str,
    from: Holder,
    to: Holder,
    order: Option<OrderParties>,
) -> CustodyFact<'a> {
    CustodyFact {
        kind: CustodyEventKind::parse(kind).expect("a custody event kind"),
        from,
        to,
        order,
        device: None,
        epcs: vec!["https://id.gs1.org/01/06901234567892/21/A".into()],
        when: when(),
    }
}

#[test]
fn commissioning_adds_the_items_at_hq() {
    let ids = Ids::new("https://b.example");
    let e =
        custody_event(&ids, &fact("import", Holder::Unknown, Holder::Hq, None)).expect("mapped");
    assert_eq!(e["type"], "ObjectEvent");
    assert_eq!(e["action"], "ADD");
    assert_eq!(e["bizStep"], "commissioning");
    assert_eq!(e["disposition"], "active");
    assert_eq!(e["eventTime"], "2026-11-24T01:00:00.000Z");
    assert_eq!(e["eventTimeZoneOffset"], "+08:00");
    assert_eq!(
        e["bizLocation"]["id"],
        "https://b.example/epcis/location/hq"
    );
}

#[test]
fn shipping_and_receiving_name_the_order_and_both_ends() {
    let ids = Ids::new("https://b.example");
    let order = OrderParties {
        id: 12,
        shipper: Some(PartyRef::Hq),
        buyer: PartyRef::Agent(3),
    };
    let ship = custody_event(
        &ids,
        &fact("ship", Holder::Hq, Holder::Transit(Some(12)), Some(order)),
    )
    .expect("mapped");
    assert_eq!(ship["bizStep"], "shipping");
    assert_eq!(ship["disposition"], "in_transit");
    assert_eq!(
        ship["bizTransactionList"],
        json!([{"type": "po", "bizTransaction": "https://b.example/epcis/order/12"}])
    );
    assert_eq!(
        ship["sourceList"][0]["source"],
        "https://b.example/epcis/party/hq"
    );
    assert_eq!(ship["destinationList"][1]["type"], "possessing_party");
    assert_eq!(
        ship["destinationList"][1]["destination"],
        "https://b.example/epcis/party/agent/3"
    );
    let receive = custody_event(
        &ids,
        &fact(
            "receive",
            Holder::Transit(Some(12)),
            Holder::Agent(3),
            Some(order),
        ),
    )
    .expect("mapped");
    assert_eq!(receive["bizStep"], "receiving");
    assert_eq!(
        receive["sourceList"][0]["source"],
        "https://b.example/epcis/party/hq"
    );
    assert_eq!(
        receive["destinationList"][0]["destination"],
        "https://b.example/epcis/party/agent/3"
    );
}

#[test]
fn voids_delete_and_recalls_hold() {
    let ids = Ids::new("https://b.example");
    let void = custody_event(&ids, &fact("void", Holder::Hq, Holder::Hq, None)).expect("mapped");
    assert_eq!(
        (&void["action"], &void["bizStep"], &void["disposition"]),
        (
            &json!("DELETE"),
            &json!("decommissioning"),
            &json!("inactive")
        )
    );
    let recall =
        custody_event(&ids, &fact("recall", Holder::Hq, Holder::Hq, None)).expect("mapped");
    assert_eq!(recall["disposition"], "recalled");
    // Packing moves no custody: it is a scan event, not a custody event.
    assert!(custody_event(&ids, &fact("pack", Holder::Hq, Holder::Hq, None)).is_none());
}

#[test]
fn packing_and_unpacking_are_aggregations_of_the_case() {
    let ids = Ids::new("https://b.example");
    let pack = scan_event(
        &ids,
        &ScanFact::Pack {
            case: "C".into(),
            item: "I".into(),
        },
        "hh-1",
        when(),
    );
    assert_eq!(pack["type"], "AggregationEvent");
    assert_eq!(
        (&pack["parentID"], &pack["childEPCs"]),
        (&json!("C"), &json!(["I"]))
    );
    assert_eq!(
        pack["readPoint"]["id"],
        "https://b.example/epcis/device/hh-1"
    );
    let unpack = scan_event(
        &ids,
        &ScanFact::Unpack {
            case: "C".into(),
            items: vec![],
        },
        "hh-1",
        when(),
    );
    assert_eq!(unpack["action"], "DELETE");
    assert!(
        unpack.get("childEPCs").is_none(),
        "empty means all: omitted"
    );
    let pre = pre_aggregation_event(
        &ids,
        &PreAggregation {
            case: "C".into(),
            items: vec!["I".into(), "J".into()],
            when: when(),
        },
    );
    assert_eq!(pre["bizStep"], "packing");
    assert_eq!(pre["childEPCs"], json!(["I", "J"]));
}

#[test]
fn event_ids_depend_on_content_not_on_key_order_or_record_time() {
    let a = json!({"type": "ObjectEvent", "action": "ADD", "recordTime": "1"});
    let b = json!({"recordTime": "2", "action": "ADD", "type": "ObjectEvent"});
    let c = json!({"type": "ObjectEvent", "action": "DELETE"});
    let id = |v: Value, source: &str| {
        with_event_id(v, source)["eventID"]
            .as_str()
            .expect("id")
            .to_string()
    };
    assert_eq!(id(a.clone(), "scan:h:1"), id(b, "scan:h:1"));
    assert_ne!(id(a.clone(), "scan:h:1"), id(c, "scan:h:1"));
    assert_ne!(id(a.clone(), "scan:h:1"), id(a.clone(), "scan:h:2"));
    assert!(id(a, "x").starts_with("ni:///sha-256;"));
}

#[test]
fn the_document_frame_is_valid_json_around_events() {
    let created = DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let text = format!("{}{{\"a\":1}}{}", document::open(created), document::CLOSE);
    let doc: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(doc["type"], "EPCISDocument");
    assert_eq!(doc["schemaVersion"], "2.0");
    assert_eq!(doc["epcisBody"]["eventList"], json!([{"a": 1}]));
}
