//! The versioned device protocol, shared by the agent and the server (`docs/protocol.md`).
//!
//! A [`ScanEvent`] goes device → server on `{prefix}/devices/{device_id}/scans`; an [`Ack`] comes
//! back on `…/acks` once the server's transaction commits. The topic is not trusted (the embedded
//! broker has no per-topic ACLs): every event carries its device id and an HMAC-SHA256 under that
//! device's own secret, checked by [`decode_event`] before anything is applied.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::Error;

/// The protocol version this build speaks.
pub const VERSION: u64 = 1;
/// Largest message accepted; a scan is a few hundred bytes, so anything bigger is not ours.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Domain separators at the start of the MAC inputs, so a MAC can never be replayed as another
/// message type or version.
const MAC_DOMAIN: &[u8] = b"chainmark-scan-v1";
const ACK_MAC_DOMAIN: &[u8] = b"chainmark-ack-v1";

type HmacSha256 = Hmac<Sha256>;

/// What a scan does (DOMAIN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanKind {
    /// Put an item into a case (context: the case code).
    Pack,
    /// Open a case; it no longer stands for its items.
    Unpack,
    /// Ship against an order (context: shipment/order id).
    Ship,
    /// Receive a shipment.
    Receive,
    /// Return to the shipper.
    Return,
    /// Retail sale.
    Sell,
    /// Audit look; changes nothing.
    Inspect,
}

impl ScanKind {
    /// The wire name (also used in the MAC input).
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::Pack => "pack",
            ScanKind::Unpack => "unpack",
            ScanKind::Ship => "ship",
            ScanKind::Receive => "receive",
            ScanKind::Return => "return",
            ScanKind::Sell => "sell",
            ScanKind::Inspect => "inspect",
        }
    }
}

/// A scan as read, before the journal gives it a sequence number and it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// What the scan does.
    pub kind: ScanKind,
    /// The scanned string.
    pub code: String,
    /// Shipment/order id, or the case code for `pack`.
    pub context: Option<String>,
    /// When it was scanned, RFC 3339.
    pub scanned_at: String,
}

/// One scan event, device → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Unknown fields are refused: the MAC would not cover them, so they could be injected in transit.
#[serde(deny_unknown_fields)]
pub struct ScanEvent {
    /// Protocol version, [`VERSION`].
    pub v: u64,
    /// The sending device.
    pub device_id: String,
    /// Per-device sequence number from the journal; (device_id, seq) is unique on the server.
    pub seq: u64,
    /// What the scan does.
    pub kind: ScanKind,
    /// The scanned string.
    pub code: String,
    /// Shipment/order id, or the case code for `pack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// When it was scanned, RFC 3339 (device clock; informative only).
    pub scanned_at: String,
    /// Lower-case hex HMAC-SHA256 of [`ScanEvent::canonical_bytes`] under the device secret.
    pub mac: String,
}

impl ScanEvent {
    /// Builds and signs the event for `scan` as number `seq` of `device_id`.
    pub fn signed(device_id: &str, seq: u64, scan: &Scan, secret: &[u8]) -> ScanEvent {
        let mut event = ScanEvent {
            v: VERSION,
            device_id: device_id.to_owned(),
            seq,
            kind: scan.kind,
            code: scan.code.clone(),
            context: scan.context.clone(),
            scanned_at: scan.scanned_at.clone(),
            mac: String::new(),
        };
        event.mac = data_encoding::HEXLOWER.encode(&event.mac_tag(secret));
        event
    }

    /// The MAC input: the domain separator, then every field but `mac` in declaration order,
    /// each as an 8-byte big-endian length followed by its bytes (numbers in decimal ASCII; an
    /// absent `context` as the single byte `0`, a present one as `1` then length and bytes).
    /// Length prefixes make the encoding injective: no two events share a MAC input.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.code.len());
        put(&mut out, MAC_DOMAIN);
        put(&mut out, self.v.to_string().as_bytes());
        put(&mut out, self.device_id.as_bytes());
        put(&mut out, self.seq.to_string().as_bytes());
        put(&mut out, self.kind.as_str().as_bytes());
        put(&mut out, self.code.as_bytes());
        match &self.context {
            None => out.push(0),
            Some(c) => {
                out.push(1);
                put(&mut out, c.as_bytes());
            }
        }
        put(&mut out, self.scanned_at.as_bytes());
        out
    }

    /// Whether `mac` is right under `secret` (constant-time comparison).
    pub fn verify(&self, secret: &[u8]) -> bool {
        verify_hex(secret, &self.canonical_bytes(), &self.mac)
    }

    fn mac_tag(&self, secret: &[u8]) -> Vec<u8> {
        mac_for(secret, &self.canonical_bytes())
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// The JSON message.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn put(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u64).to_be_bytes());
    out.extend_from_slice(field);
}

fn verify_hex(secret: &[u8], msg: &[u8], mac_hex: &str) -> bool {
    let Ok(given) = data_encoding::HEXLOWER_PERMISSIVE.decode(mac_hex.as_bytes()) else {
        return false;
    };
    mac_for(secret, msg).verify_slice(&given).is_ok()
}

fn mac_for(secret: &[u8], msg: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this constructor never fails.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(msg);
    mac
}

/// Why the server refused a scan: DOMAIN §6 reasons plus protocol-level ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The code is none of ours.
    UnknownCode,
    /// The anti-counterfeit tag does not match the serial.
    ForgedTag,
    /// The item is not in the shipper's custody.
    NotInCustody,
    /// The item is not on this order.
    NotOnOrder,
    /// More than the order asks for.
    QuantityExceeded,
    /// Already shipped.
    AlreadyShipped,
    /// The case was opened and no longer stands for its items.
    CaseOpened,
    /// Unknown or revoked device.
    DeviceNotAuthorised,
    /// Not a well-formed message (or too large).
    Malformed,
    /// A protocol version the server does not speak.
    UnknownVersion,
    /// The MAC does not verify.
    BadMac,
    /// (device_id, seq) was already applied; the first result stands. The agent treats this as
    /// done, like `accepted`.
    Duplicate,
}

impl RejectReason {
    /// The wire name (also used in the ack MAC input).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::UnknownCode => "unknown_code",
            RejectReason::ForgedTag => "forged_tag",
            RejectReason::NotInCustody => "not_in_custody",
            RejectReason::NotOnOrder => "not_on_order",
            RejectReason::QuantityExceeded => "quantity_exceeded",
            RejectReason::AlreadyShipped => "already_shipped",
            RejectReason::CaseOpened => "case_opened",
            RejectReason::DeviceNotAuthorised => "device_not_authorised",
            RejectReason::Malformed => "malformed",
            RejectReason::UnknownVersion => "unknown_version",
            RejectReason::BadMac => "bad_mac",
            RejectReason::Duplicate => "duplicate",
        }
    }

    /// Whether the agent may drop the scan from its journal on this answer. Domain verdicts and
    /// `duplicate` are final. Protocol failures are not: they say the message, the device's
    /// secret or its version is wrong, not the scan — so the scan is kept (and an operator
    /// alerted) until a fixed device or server accepts it.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            RejectReason::DeviceNotAuthorised
                | RejectReason::Malformed
                | RejectReason::UnknownVersion
                | RejectReason::BadMac
        )
    }
}

/// The server's verdict on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AckResult {
    /// Applied.
    Accepted,
    /// Refused; nothing changed.
    Rejected {
        /// Why.
        reason: RejectReason,
    },
}

impl AckResult {
    /// Whether the agent drops the scan from its journal on this answer.
    pub fn is_final(self) -> bool {
        match self {
            AckResult::Accepted => true,
            AckResult::Rejected { reason } => reason.is_final(),
        }
    }
}

/// Server → device, on the acks topic, after the server's transaction commits. Signed under the
/// device's secret too: otherwise anyone able to publish on the broker could forge an ack and
/// make the device drop a scan the server never saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Protocol version.
    pub v: u64,
    /// The device the event came from.
    pub device_id: String,
    /// The event's sequence number.
    pub seq: u64,
    /// The verdict.
    #[serde(flatten)]
    pub result: AckResult,
    /// Lower-case hex HMAC-SHA256 of [`Ack::canonical_bytes`] under the device secret.
    pub mac: String,
}

impl Ack {
    /// Builds and signs the ack for event `seq` of `device_id`.
    pub fn signed(device_id: &str, seq: u64, result: AckResult, secret: &[u8]) -> Ack {
        let mut ack = Ack {
            v: VERSION,
            device_id: device_id.to_owned(),
            seq,
            result,
            mac: String::new(),
        };
        let tag = mac_for(secret, &ack.canonical_bytes())
            .finalize()
            .into_bytes();
        ack.mac = data_encoding::HEXLOWER.encode(&tag);
        ack
    }

    /// The MAC input: like [`ScanEvent::canonical_bytes`], with separator `chainmark-ack-v1`,
    /// then `v`, `device_id`, `seq`, `result` (`accepted`/`rejected`) and, for a rejection, the
    /// byte `1` then the reason (the byte `0` when accepted).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        put(&mut out, ACK_MAC_DOMAIN);
        put(&mut out, self.v.to_string().as_bytes());
        put(&mut out, self.device_id.as_bytes());
        put(&mut out, self.seq.to_string().as_bytes());
        match self.result {
            AckResult::Accepted => {
                put(&mut out, b"accepted");
                out.push(0);
            }
            AckResult::Rejected { reason } => {
                put(&mut out, b"rejected");
                out.push(1);
                put(&mut out, reason.as_str().as_bytes());
            }
        }
        out
    }

    /// Whether `mac` is right under `secret` (constant-time comparison).
    pub fn verify(&self, secret: &[u8]) -> bool {
        verify_hex(secret, &self.canonical_bytes(), &self.mac)
    }

    /// The JSON message.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Decodes and authenticates a scan event. `secret_for` returns the device's secret, or `None`
/// for an unknown or revoked device. Checks, in order (each with its own error): size, JSON,
/// version, shape, device, MAC.
pub fn decode_event<F, S>(bytes: &[u8], secret_for: F) -> Result<ScanEvent, Error>
where
    F: FnOnce(&str) -> Option<S>,
    S: AsRef<[u8]>,
{
    let value = decode_versioned(bytes)?;
    let event: ScanEvent =
        serde_json::from_value(value).map_err(|e| Error::Malformed(e.to_string()))?;
    if !valid_device_id(&event.device_id) {
        return Err(Error::Malformed(format!(
            "bad device id {:?}",
            event.device_id
        )));
    }
    let secret = secret_for(&event.device_id)
        .ok_or_else(|| Error::UnknownDevice(event.device_id.clone()))?;
    if !event.verify(secret.as_ref()) {
        return Err(Error::BadMac {
            device_id: event.device_id,
            seq: event.seq,
        });
    }
    Ok(event)
}

/// Decodes an ack for this device and authenticates it under the device's own `secret`
/// (size, JSON, version, shape, MAC; an ack for another device id is malformed here).
pub fn decode_ack(bytes: &[u8], device_id: &str, secret: &[u8]) -> Result<Ack, Error> {
    let value = decode_versioned(bytes)?;
    let ack: Ack = serde_json::from_value(value).map_err(|e| Error::Malformed(e.to_string()))?;
    if ack.device_id != device_id {
        return Err(Error::Malformed(format!(
            "ack for device {:?}, not {device_id:?}",
            ack.device_id
        )));
    }
    if !ack.verify(secret) {
        return Err(Error::BadMac {
            device_id: ack.device_id,
            seq: ack.seq,
        });
    }
    Ok(ack)
}

/// Size, JSON and version checks shared by every message type. The version is read before the
/// shape, so a v2 message is reported as such, not as malformed.
fn decode_versioned(bytes: &[u8]) -> Result<serde_json::Value, Error> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::Oversize {
            size: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
    if !value.is_object() {
        return Err(Error::Malformed("not a JSON object".into()));
    }
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(VERSION) => Ok(value),
        other => Err(Error::UnknownVersion(other)),
    }
}

/// Device ids are non-empty, at most 64 characters of `[A-Za-z0-9_.-]`, so they are safe inside
/// a topic level (no `/`, `+`, `#`) and in file names.
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `{prefix}/devices/{device_id}/scans`: device → server events.
pub fn scans_topic(prefix: &str, device_id: &str) -> String {
    format!("{prefix}/devices/{device_id}/scans")
}

/// `{prefix}/devices/{device_id}/acks`: server → device acks.
pub fn acks_topic(prefix: &str, device_id: &str) -> String {
    format!("{prefix}/devices/{device_id}/acks")
}

/// `{prefix}/devices/{device_id}/state`: retained `online`/`offline`, the latter as last will.
pub fn state_topic(prefix: &str, device_id: &str) -> String {
    format!("{prefix}/devices/{device_id}/state")
}

/// The shared subscription servers use to split every device's events between instances.
pub fn shared_scans_filter(group: &str, prefix: &str) -> String {
    format!("$share/{group}/{prefix}/devices/+/scans")
}

/// The device id named by a scans topic, so the server can check it equals the signed one.
pub fn device_of_scans_topic<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix("/devices/")?;
    let id = rest.strip_suffix("/scans")?;
    valid_device_id(id).then_some(id)
}
