//! What the operator is told: one [`Note`] per thing that happened, rendered as a stable line
//! (`display::line`) or on the terminal screen (`display::screen`).

use crate::operator::{CommandError, Mode};
use crate::session::Counts;
use crate::wire::{AckResult, RejectReason, ScanKind};

/// One thing worth showing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Connected to the broker (ConnAck).
    Online,
    /// The connection is gone; scans are still taken and journaled.
    Offline { reason: String },
    /// A mode was opened or its context changed.
    Mode { mode: Mode },
    /// A mode was closed; its counts.
    Closed { mode: Mode, counts: Counts },
    /// A scan was journaled (fsynced) under `seq` and will be sent.
    Queued {
        seq: u64,
        kind: ScanKind,
        code: String,
    },
    /// The server's final answer on a scan; `code` as read back from the journal.
    Answer {
        seq: u64,
        result: AckResult,
        code: Option<String>,
    },
    /// The server answered a protocol failure: the scan stays in the journal (alert).
    Kept { seq: u64, reason: RejectReason },
    /// Refused on the device, never journaled: pre-check reasons (`bad_check_character`, …),
    /// `no_mode`, `not_a_case`, `journal_full`, `journal_error`.
    Refused { reason: &'static str, code: String },
    /// The same code again within the debounce window: one scan, not two.
    Debounced { code: String },
    /// A command line that could not be read; nothing changed.
    BadCommand { error: CommandError, line: String },
    /// A message on the acks topic that is not a valid ack for this device (ignored; alert).
    ForgedAck { detail: String },
    /// Asked for with `@status`.
    Status { mode: Mode, counts: Counts },
}

impl Note {
    /// Whether the operator must look up (bell): a rejection, a refusal or trouble.
    pub fn is_alert(&self) -> bool {
        match self {
            Note::Answer { result, .. } => !matches!(
                result,
                AckResult::Accepted
                    | AckResult::Rejected {
                        reason: RejectReason::Duplicate
                    }
            ),
            Note::Kept { .. }
            | Note::Refused { .. }
            | Note::BadCommand { .. }
            | Note::ForgedAck { .. } => true,
            _ => false,
        }
    }
}
