//! The protocol's one error type: why a message was not accepted. Each maps to the stable
//! rejection reason the server sends back in an ack ([`Error::reject_reason`]).

use crate::RejectReason;

/// A message that does not decode or does not authenticate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A message larger than [`crate::MAX_MESSAGE_BYTES`]; not even parsed.
    #[error("message of {size} bytes exceeds the {max}-byte limit")]
    Oversize {
        /// Bytes received.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON, or JSON that is not a message of the version it claims.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A protocol version this build does not speak (`None`: no `v` field).
    #[error("unknown protocol version {0:?}")]
    UnknownVersion(Option<u64>),
    /// The device id names no known device (or has no secret).
    #[error("device {0:?} is not authorised")]
    UnknownDevice(String),
    /// The MAC does not match the fields under the device's secret.
    #[error("bad MAC on event {seq} from device {device_id:?}")]
    BadMac {
        /// Claimed device.
        device_id: String,
        /// Claimed sequence number.
        seq: u64,
    },
}

impl Error {
    /// The rejection reason a server acks with for this error.
    pub fn reject_reason(&self) -> RejectReason {
        match self {
            Error::Oversize { .. } | Error::Malformed(_) => RejectReason::Malformed,
            Error::UnknownVersion(_) => RejectReason::UnknownVersion,
            Error::UnknownDevice(_) => RejectReason::DeviceNotAuthorised,
            Error::BadMac { .. } => RejectReason::BadMac,
        }
    }
}
