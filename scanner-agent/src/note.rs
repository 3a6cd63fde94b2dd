//! What the operator is told: one [`Note`] per thing that happened, rendered as a stable line
//! (`display::line`) or on the terminal screen (`display::screen`).

use crate::operator::{CommandError, Mode};
use crate::session::{Counts, Outcome};
use crate::wire::{AckResult, OrderProgress, RejectReason, ScanKind};

/// One thing worth showing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The agent is up: its journal is open and scans are taken.
    Ready {
        device_id: String,
        pending: usize,
        next_seq: u64,
    },
    /// The journal was repaired when opened: `cut` bytes of a torn tail (never promised to
    /// anyone), `skipped` damaged bytes mid-file (scans lost to disk damage: alert).
    JournalRepaired { cut: u64, skipped: u64 },
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
        /// A shipment's running count of its product against the order.
        order: Option<OrderProgress>,
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
    /// `--provision`: the scanned line is not a usable provisioning code; scan it again.
    ProvisionRefused {
        reason: &'static str,
        detail: String,
    },
    /// `--provision`: the config file was written from the scanned code.
    Provisioned { device_id: String, path: String },
    /// The input ended and the session is over.
    Done { outcome: Outcome, counts: Counts },
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
            Note::JournalRepaired { skipped, .. } => *skipped > 0,
            Note::Done { outcome, .. } => *outcome != Outcome::AllAnswered,
            Note::Kept { .. }
            | Note::Refused { .. }
            | Note::BadCommand { .. }
            | Note::ProvisionRefused { .. }
            | Note::ForgedAck { .. } => true,
            _ => false,
        }
    }
}
