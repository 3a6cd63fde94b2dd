//! Running counts shown to the operator: for the whole run and for the mode opened last.

use crate::wire::{AckResult, RejectReason};

/// Results counted over some span of scans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Final `accepted` answers.
    pub accepted: u64,
    /// `duplicate`: a resend of a scan the server had already applied (its first answer was lost
    /// with a connection); the first result stands.
    pub duplicate: u64,
    /// Final rejections by the server.
    pub rejected: u64,
    /// Refused on the device (pre-check, no mode, journal full); never sent.
    pub refused: u64,
    /// Refused by the server as a protocol failure; still in the journal.
    pub kept: u64,
}

impl Tally {
    fn count(&mut self, result: AckResult) {
        match result {
            AckResult::Accepted => self.accepted += 1,
            AckResult::Rejected { reason } if !reason.is_final() => self.kept += 1,
            AckResult::Rejected {
                reason: RejectReason::Duplicate,
            } => self.duplicate += 1,
            AckResult::Rejected { .. } => self.rejected += 1,
        }
    }
}

/// The counts of a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Since the agent started.
    pub total: Tally,
    /// Since the current mode was opened. An answer counts here when its scan was taken after
    /// the mode opened, however late the answer comes.
    pub mode: Tally,
    /// The first seq that belongs to the current mode.
    pub mode_from_seq: u64,
    /// Scans in the journal waiting for the server's final answer.
    pub pending: usize,
}

impl Counts {
    pub(crate) fn answer(&mut self, seq: u64, result: AckResult) {
        self.total.count(result);
        if seq >= self.mode_from_seq {
            self.mode.count(result);
        }
    }

    pub(crate) fn refused(&mut self) {
        self.total.refused += 1;
        self.mode.refused += 1;
    }

    /// Starts counting a new mode whose first scan will get `next_seq`.
    pub(crate) fn new_mode(&mut self, next_seq: u64) {
        self.mode = Tally::default();
        self.mode_from_seq = next_seq;
    }
}
