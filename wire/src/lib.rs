//! The versioned device protocol, shared by the agent and the server (`docs/protocol.md`).
//!
//! A [`ScanEvent`] goes device → server on `{prefix}/devices/{device_id}/scans`; an [`Ack`] comes
//! back on `…/acks` once the server's transaction commits. The topic is not trusted (the embedded
//! broker has no per-topic ACLs): every event carries its device id and an HMAC-SHA256 under that
//! device's own secret, checked by [`decode_event`] before anything is applied.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

mod ack;
mod error;
mod topic;

pub use ack::{Ack, AckResult, OrderProgress, RejectReason, decode_ack};
pub use error::Error;
pub use topic::{
    acks_topic, device_of_scans_topic, scans_topic, shared_scans_filter, state_topic,
    valid_device_id,
};

/// The protocol version this build speaks.
pub const VERSION: u64 = 1;
/// Largest message accepted; a scan is a few hundred bytes, so anything bigger is not ours.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Largest MQTT packet a broker carrying chainmark traffic lets in: mosquitto's
/// `max_packet_size` in docs/operations.md, and the embedded broker's limit. Room for a
/// [`MAX_MESSAGE_BYTES`] message and its topic. The server's consumer reads packets somewhat
/// larger than this, so nothing a broker passes on can make it drop its connection; without a
/// limit at the broker, one device publishing a megabyte on its own topic would.
pub const BROKER_MAX_PACKET_BYTES: usize = 16 * 1024;
/// Domain separators at the start of the MAC inputs, so a MAC can never be replayed as another
/// message type or version.
const MAC_DOMAIN: &[u8] = b"chainmark-scan-v1";
pub(crate) const ACK_MAC_DOMAIN: &[u8] = b"chainmark-ack-v1";

type HmacSha256 = Hmac<Sha256>;

/// What a scan does (DOMAIN §6).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// The wire name (also used in the MAC input, and stored in `device_scans.kind`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<ScanKind> {
        s.parse().ok()
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

pub(crate) fn put(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u64).to_be_bytes());
    out.extend_from_slice(field);
}

pub(crate) fn verify_hex(secret: &[u8], msg: &[u8], mac_hex: &str) -> bool {
    let Ok(given) = data_encoding::HEXLOWER_PERMISSIVE.decode(mac_hex.as_bytes()) else {
        return false;
    };
    mac_for(secret, msg).verify_slice(&given).is_ok()
}

pub(crate) fn mac_for(secret: &[u8], msg: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this constructor never fails.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(msg);
    mac
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

/// Size, JSON and version checks shared by every message type. The version is read before the
/// shape, so a v2 message is reported as such, not as malformed.
pub(crate) fn decode_versioned(bytes: &[u8]) -> Result<serde_json::Value, Error> {
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

#[cfg(test)]
mod scan_kind_names {
    use super::ScanKind;
    use strum::IntoEnumIterator;

    /// The wire names are in every signed event and in `device_scans.kind`: they never change.
    #[test]
    fn scan_kinds_keep_their_names() {
        let pinned = [
            (ScanKind::Pack, "pack"),
            (ScanKind::Unpack, "unpack"),
            (ScanKind::Ship, "ship"),
            (ScanKind::Receive, "receive"),
            (ScanKind::Return, "return"),
            (ScanKind::Sell, "sell"),
            (ScanKind::Inspect, "inspect"),
        ];
        assert_eq!(ScanKind::iter().count(), pinned.len());
        for (kind, name) in pinned {
            assert_eq!(kind.as_str(), name);
            assert_eq!(ScanKind::parse(name), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(name.into()));
        }
        assert_eq!(ScanKind::parse("Pack"), None);
    }
}
