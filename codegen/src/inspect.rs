//! Inspecting a scanned string: what it is, and whether it is valid — with a specific reason
//! when it is not (bad check character, forged tag, unknown format, bad GS1 check digit, ...).
//!
//! This is what `chainmark-codegen inspect` prints, and what the server can use to explain a
//! rejected scan. Without a key, tags cannot be checked: `authentic` is then `None`.

use serde::Serialize;

use crate::error::CodeError;
use crate::keys::MasterKey;
use crate::payload::{self, Payload};
use crate::serial::BatchId;

/// Why a scanned string is not valid. Serialised as a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// None of the known formats.
    UnknownFormat,
    /// A known format with wrong length or characters.
    Malformed,
    /// A serial or case code whose mod-31 check character is wrong (typo, misread).
    BadCheckCharacter,
    /// A GTIN or SSCC whose GS1 check digit is wrong.
    BadGs1CheckDigit,
    /// An anti-counterfeit URL without its `t=` tag.
    MissingTag,
    /// The tag was not issued with this serial under this key: a forgery or a copy error.
    ForgedTag,
}

impl Reason {
    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::UnknownFormat => "unknown_format",
            Reason::Malformed => "malformed",
            Reason::BadCheckCharacter => "bad_check_character",
            Reason::BadGs1CheckDigit => "bad_gs1_check_digit",
            Reason::MissingTag => "missing_tag",
            Reason::ForgedTag => "forged_tag",
        }
    }
}

impl From<&CodeError> for Reason {
    fn from(e: &CodeError) -> Self {
        match e {
            CodeError::BadCheckCharacter { .. } => Reason::BadCheckCharacter,
            CodeError::BadCheckDigit { .. } => Reason::BadGs1CheckDigit,
            CodeError::Missing { .. } => Reason::MissingTag,
            CodeError::UnknownFormat => Reason::UnknownFormat,
            _ => Reason::Malformed,
        }
    }
}

/// The result of [`inspect`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The input, trimmed.
    pub input: String,
    /// Well-formed, check characters right, and not shown to be forged.
    pub valid: bool,
    /// Why not valid.
    pub reason: Option<Reason>,
    /// A human explanation of `reason`.
    pub message: Option<String>,
    /// `Some(true)` tag verified, `Some(false)` tag forged, `None` nothing to check or no key.
    pub authentic: Option<bool>,
    /// What the input is, when it parsed.
    pub payload: Option<Payload>,
    /// The batch named by the serial or internal case code, if any.
    pub batch_id: Option<BatchId>,
    /// The 0-based item or case index within that batch.
    pub index: Option<u64>,
}

/// Parses `scanned` and checks it; with `key`, also checks the tag of anti-counterfeit URLs.
pub fn inspect(scanned: &str, key: Option<&MasterKey>) -> Inspection {
    match payload::parse(scanned) {
        Ok(p) => inspect_payload(scanned, p, key),
        Err(e) => Inspection {
            input: scanned.trim().to_owned(),
            valid: false,
            reason: Some(Reason::from(&e)),
            message: Some(e.to_string()),
            authentic: None,
            payload: None,
            batch_id: None,
            index: None,
        },
    }
}

/// Checks an already parsed payload (`scanned` is only echoed back).
pub fn inspect_payload(scanned: &str, payload: Payload, key: Option<&MasterKey>) -> Inspection {
    let authentic = match (&payload, key) {
        (Payload::VerifyUrl { serial, tag, .. }, Some(master)) => Some(
            master
                .batch_key(&serial.batch_id())
                .verify_tag(serial, tag.as_str()),
        ),
        _ => None,
    };
    let (batch_id, index) = match (&payload, payload.serial(), payload.case()) {
        (_, Some(serial), _) => (Some(serial.batch_id()), Some(serial.index())),
        (_, None, Some(payload::CaseId::Code(code))) => (Some(code.batch_id()), Some(code.index())),
        _ => (None, None),
    };
    let forged = authentic == Some(false);
    Inspection {
        input: scanned.trim().to_owned(),
        valid: !forged,
        reason: forged.then_some(Reason::ForgedTag),
        message: forged.then(|| {
            "the tag does not match the serial under this key: not issued by us (or a copy error)"
                .to_owned()
        }),
        authentic,
        payload: Some(payload),
        batch_id,
        index,
    }
}
