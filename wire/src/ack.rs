//! Acks, server → device: the verdict on one scan event, signed under the device's secret.

use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::{ACK_MAC_DOMAIN, Error, VERSION, decode_versioned, mac_for, put, verify_hex};

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
    /// Packing an item that is still in another sealed case: unpack that case first.
    AlreadyPacked,
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
            RejectReason::AlreadyPacked => "already_packed",
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
    /// For a scan against an order (ship): how far the order is now, so the operator sees the
    /// running count of its product against what was ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderProgress>,
    /// Lower-case hex HMAC-SHA256 of [`Ack::canonical_bytes`] under the device secret.
    pub mac: String,
}

/// An order's progress as of an answered scan: `done` items of product `sku` shipped of the
/// `ordered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderProgress {
    pub id: u64,
    pub sku: String,
    pub done: u64,
    pub ordered: u64,
}

impl Ack {
    /// Builds and signs the ack for event `seq` of `device_id`.
    pub fn signed(device_id: &str, seq: u64, result: AckResult, secret: &[u8]) -> Ack {
        Ack::signed_with_order(device_id, seq, result, None, secret)
    }

    /// Like [`Ack::signed`], with the order's progress after the scan.
    pub fn signed_with_order(
        device_id: &str,
        seq: u64,
        result: AckResult,
        order: Option<OrderProgress>,
        secret: &[u8],
    ) -> Ack {
        let mut ack = Ack {
            v: VERSION,
            device_id: device_id.to_owned(),
            seq,
            result,
            order,
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
    /// byte `1` then the reason (the byte `0` when accepted); then, only when the ack carries an
    /// order's progress, `order`, its id, sku, done and ordered (so an ack without one signs as
    /// before).
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
        if let Some(order) = &self.order {
            put(&mut out, b"order");
            put(&mut out, order.id.to_string().as_bytes());
            put(&mut out, order.sku.as_bytes());
            put(&mut out, order.done.to_string().as_bytes());
            put(&mut out, order.ordered.to_string().as_bytes());
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
