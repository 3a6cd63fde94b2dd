//! The EPCIS document around the events, written piece by piece so an export of a million items
//! never has to be one JSON value: [`open`], then each event (comma-separated), then [`CLOSE`].
//! Each event gets a deterministic `eventID` from its content ([`with_event_id`]).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The JSON-LD context of EPCIS 2.0 documents.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// The document's closing brackets, after the last event.
pub const CLOSE: &str = "]}}\n";

/// The document up to the opening bracket of `eventList`.
pub fn open(created: DateTime<Utc>) -> String {
    let head = json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    // `head` is an object: drop its closing brace and continue it with the body.
    let mut text = head.to_string();
    text.pop();
    text.push_str(",\"epcisBody\":{\"eventList\":[");
    text
}

/// Puts `eventID` first in `event`: `ni:///sha-256;{base64url}` (RFC 6920) over `source` (the
/// record the event comes from, e.g. `scan:hh-01:17`: two identical scans are two events), a
/// newline, and the canonical JSON of the event without `eventID` and `recordTime` (keys sorted,
/// no spaces). The same event exported twice gets the same id. This is not CBV 2.0's event hash
/// (its pre-hash string has rules of its own), so no `?ver=CBV2.0` is claimed.
pub fn with_event_id(event: Value, source: &str) -> Value {
    let Value::Object(fields) = event else {
        return event;
    };
    let mut hashed = fields.clone();
    hashed.remove("eventID");
    hashed.remove("recordTime");
    let mut canonical = format!("{source}\n");
    write_canonical(&Value::Object(hashed), &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    let id = format!(
        "ni:///sha-256;{}",
        data_encoding::BASE64URL_NOPAD.encode(&digest)
    );
    let mut out = serde_json::Map::new();
    out.insert("eventID".into(), Value::String(id));
    for (k, v) in fields {
        if k != "eventID" {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// JSON with object keys sorted at every level, whatever order the map keeps.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
