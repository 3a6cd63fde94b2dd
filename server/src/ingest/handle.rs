//! One MQTT message from a device, start to answer: authenticate, apply, sign the ack. No MQTT
//! here — the consumer hands in (topic, payload) and publishes what comes back — so the whole
//! path is testable against a real database without a broker. The steps are apart so that only
//! applying runs on the database's single writer; checking and signing run beside it.

use chainmark_wire::{self as wire, Ack, AckResult, OrderProgress, RejectReason, ScanEvent};

use crate::error::{Error, Result};
use crate::ingest::apply::{Applied, ScanBatch, apply_event};
use crate::ingest::directory::{DeviceDirectory, DeviceEntry};
use crate::keys::KeyRing;
use crate::store::DbConnection;

/// What to send back: the device's ack topic and the signed ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub topic: String,
    pub payload: Vec<u8>,
    pub result: AckResult,
}

/// A message made ready for the writer: its device known and its signature checked. Preparing
/// needs no database write, so the consumer does it beside the writer, which then only applies.
#[derive(Debug)]
pub enum Prepared {
    /// Answered without applying anything (a refusal), or `None`: nothing can be answered (an
    /// unknown device, a message without a readable seq); the reason is logged and counted.
    Answer(Option<Reply>),
    /// A verified event from an authorised device.
    Apply {
        device: DeviceEntry,
        event: ScanEvent,
    },
}

/// The device a scans topic names, or `None` (logged and counted) for any other topic.
pub fn device_of_topic<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    let found = wire::device_of_scans_topic(prefix, topic);
    if found.is_none() {
        refused(
            "not_a_scans_topic",
            topic,
            "message on a topic that is not a device's scans",
        );
    }
    found
}

/// Checks a message from `device` (as the directory knows it; `None`: unregistered) published
/// on `topic`.
pub fn prepare(device: Option<DeviceEntry>, prefix: &str, topic: &str, payload: &[u8]) -> Prepared {
    let Some(device) = device else {
        refused(
            "device_not_authorised",
            topic,
            "scan from an unregistered device",
        );
        return Prepared::Answer(None);
    };
    let decoded = wire::decode_event(payload, |claimed: &str| {
        // A device may only publish as itself: the signed id must be the topic's.
        (claimed == device.id).then(|| device.secret.clone())
    });
    let event = match decoded {
        Ok(event) => event,
        Err(e) => {
            let reason = e.reject_reason();
            refused(reason.as_str(), topic, &e.to_string());
            // A courtesy answer the device can match to its scan (never final, see
            // docs/protocol.md); without a readable seq there is nothing to answer.
            return Prepared::Answer(
                raw_seq(payload).map(|seq| reply(&device, prefix, seq, reason)),
            );
        }
    };
    if device.revoked {
        refused("device_not_authorised", topic, "scan from a revoked device");
        return Prepared::Answer(Some(reply(
            &device,
            prefix,
            event.seq,
            RejectReason::DeviceNotAuthorised,
        )));
    }
    Prepared::Apply { device, event }
}

/// Applies a prepared event (the writer's part) and counts its outcome.
pub fn apply_prepared<'a>(
    conn: &mut DbConnection,
    keys: &KeyRing,
    batch: &mut ScanBatch<'a>,
    device: &'a DeviceEntry,
    event: &'a ScanEvent,
) -> Result<Applied> {
    let applied = apply_event(conn, keys, batch, device, event)?;
    let name = match applied.result {
        AckResult::Accepted => "accepted",
        AckResult::Rejected { reason } => reason.as_str(),
    };
    metrics::counter!("chainmark_scans_total", "kind" => event.kind.as_str(), "result" => name)
        .increment(1);
    Ok(applied)
}

/// Applies checked scan events together, in order, in the caller's transaction (one batch, as
/// the consumer writes them); one answer per event. An `Err` means nothing may commit.
pub fn apply_together(
    conn: &mut DbConnection,
    keys: &KeyRing,
    events: &[(DeviceEntry, ScanEvent)],
) -> Result<Vec<Applied>> {
    let mut batch = ScanBatch::start(conn, events.iter().map(|(d, e)| (d, e)))?;
    let results = events
        .iter()
        .map(|(device, event)| apply_prepared(conn, keys, &mut batch, device, event))
        .collect::<Result<Vec<_>>>()?;
    batch.finish(conn)?;
    Ok(results)
}

/// Handles a message published on `topic` start to answer, in the caller's transaction: what
/// the consumer does in three steps (prepare, apply in a batch, sign after the commit).
pub fn handle_scan_message(
    conn: &mut DbConnection,
    directory: &DeviceDirectory,
    keys: &KeyRing,
    prefix: &str,
    topic: &str,
    payload: &[u8],
) -> Result<Option<Reply>> {
    let Some(topic_device) = device_of_topic(prefix, topic) else {
        return Ok(None);
    };
    let device = directory.lookup(conn, topic_device)?;
    match prepare(device, prefix, topic, payload) {
        Prepared::Answer(reply) => Ok(reply),
        Prepared::Apply { device, event } => {
            let one = [(device, event)];
            let applied = apply_together(conn, keys, &one)?
                .pop()
                .ok_or_else(|| Error::Internal("the scan went unanswered".into()))?;
            let [(device, event)] = one;
            Ok(Some(answer(
                &device,
                prefix,
                event.seq,
                applied.result,
                applied.order,
            )))
        }
    }
}

fn reply(device: &DeviceEntry, prefix: &str, seq: u64, reason: RejectReason) -> Reply {
    answer(device, prefix, seq, AckResult::Rejected { reason }, None)
}

/// The signed answer to `device`'s scan `seq`, for its ack topic, with the order's progress
/// after a scan against an order.
pub fn answer(
    device: &DeviceEntry,
    prefix: &str,
    seq: u64,
    result: AckResult,
    order: Option<OrderProgress>,
) -> Reply {
    let ack = Ack::signed_with_order(&device.id, seq, result, order, device.secret.as_bytes());
    Reply {
        topic: wire::acks_topic(prefix, &device.id),
        payload: ack.to_json(),
        result,
    }
}

fn raw_seq(payload: &[u8]) -> Option<u64> {
    if payload.len() > wire::MAX_MESSAGE_BYTES {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()?
        .get("seq")?
        .as_u64()
}

fn refused(reason: &str, topic: &str, detail: &str) {
    tracing::warn!(%topic, reason, detail, "device message refused");
    metrics::counter!("chainmark_scan_messages_refused_total", "reason" => reason.to_owned())
        .increment(1);
}
