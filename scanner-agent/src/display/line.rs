//! The plain line output: one line per [`Note`], `word key=value …`, English keys, stable for
//! scripts and tests (grammar in docs/protocol.md § Agent output). A scanned code or a free-form
//! text is always the last field, so it may contain spaces and `=`.

use std::fmt::Write;

use crate::note::Note;
use crate::operator::Mode;
use crate::session::{Counts, Outcome, Tally};
use crate::wire::AckResult;

/// The line for `note` (no newline).
pub fn render(note: &Note) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_note(&mut s, note);
    s
}

fn write_note(s: &mut String, note: &Note) -> std::fmt::Result {
    match note {
        Note::Ready {
            device_id,
            pending,
            next_seq,
        } => write!(
            s,
            "ready device={device_id} pending={pending} next_seq={next_seq}"
        ),
        Note::JournalRepaired { cut, skipped } => {
            write!(
                s,
                "journal_repaired cut_bytes={cut} skipped_bytes={skipped}"
            )
        }
        Note::Online => write!(s, "online"),
        Note::Offline { reason } => write!(s, "offline reason={}", one_line(reason)),
        Note::Mode { mode } => {
            write!(s, "mode {}", mode.name())?;
            context(s, mode)
        }
        Note::Closed { mode, counts } => {
            write!(s, "closed {}", mode.name())?;
            context(s, mode)?;
            tally(s, &counts.mode, counts.pending)
        }
        Note::Queued { seq, kind, code } => {
            write!(s, "queued seq={seq} kind={} code={code}", kind.as_str())
        }
        Note::Answer {
            seq,
            result,
            code,
            order,
        } => {
            match result {
                AckResult::Accepted => write!(s, "accepted seq={seq}")?,
                AckResult::Rejected { reason } => {
                    write!(s, "rejected seq={seq} reason={}", reason.as_str())?;
                }
            }
            write!(s, " code={}", code.as_deref().unwrap_or("?"))?;
            if let Some(o) = order {
                write!(
                    s,
                    " order={} sku={} shipped={}/{}",
                    o.id, o.sku, o.done, o.ordered
                )?;
            }
            Ok(())
        }
        Note::Kept { seq, reason } => write!(s, "kept seq={seq} reason={}", reason.as_str()),
        Note::Refused { reason, code } => write!(s, "refused reason={reason} code={code}"),
        Note::Debounced { code } => write!(s, "debounced code={code}"),
        Note::BadCommand { error, line } => {
            write!(s, "bad_command reason={} line={line}", error.code())
        }
        Note::ForgedAck { detail } => write!(s, "forged_ack detail={}", one_line(detail)),
        Note::Status { mode, counts } => {
            write!(s, "status mode={}", mode.name())?;
            context(s, mode)?;
            tally(s, &counts.mode, counts.pending)?;
            write!(
                s,
                " total_accepted={} total_rejected={}",
                counts.total.accepted, counts.total.rejected
            )
        }
        Note::ProvisionRefused { reason, detail } => {
            write!(
                s,
                "provision_refused reason={reason} detail={}",
                one_line(detail)
            )
        }
        Note::Provisioned { device_id, path } => {
            write!(s, "provisioned device={device_id} config={path}")
        }
        Note::Done { outcome, counts } => {
            match outcome {
                Outcome::AllAnswered => write!(s, "done kept=0")?,
                Outcome::Kept(n) => write!(s, "done kept={n}")?,
            }
            total(s, counts)
        }
    }
}

fn context(s: &mut String, mode: &Mode) -> std::fmt::Result {
    match mode.context() {
        Some(c) => write!(s, " context={c}"),
        None => Ok(()),
    }
}

fn tally(s: &mut String, t: &Tally, pending: usize) -> std::fmt::Result {
    write!(
        s,
        " accepted={} rejected={} duplicate={} refused={} kept={} pending={pending}",
        t.accepted, t.rejected, t.duplicate, t.refused, t.kept
    )
}

fn total(s: &mut String, counts: &Counts) -> std::fmt::Result {
    let t = &counts.total;
    write!(
        s,
        " accepted={} rejected={} duplicate={} refused={}",
        t.accepted, t.rejected, t.duplicate, t.refused
    )
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::note::Note;
    use crate::operator::Mode;
    use crate::wire::{AckResult, RejectReason, ScanKind};

    #[test]
    fn lines_are_stable() {
        let code = Some("https://x.example/s/ABC?t=1".to_owned());
        assert_eq!(
            render(&Note::Answer {
                seq: 12,
                result: AckResult::Accepted,
                code: code.clone(),
                order: None,
            }),
            "accepted seq=12 code=https://x.example/s/ABC?t=1"
        );
        assert_eq!(
            render(&Note::Answer {
                seq: 13,
                result: AckResult::Rejected {
                    reason: RejectReason::NotOnOrder
                },
                code,
                order: None,
            }),
            "rejected seq=13 reason=not_on_order code=https://x.example/s/ABC?t=1"
        );
        assert_eq!(
            render(&Note::Answer {
                seq: 14,
                result: AckResult::Accepted,
                code: Some("CASE-7".into()),
                order: Some(crate::wire::OrderProgress {
                    id: 42,
                    sku: "TEA-1".into(),
                    done: 12,
                    ordered: 24,
                }),
            }),
            "accepted seq=14 code=CASE-7 order=42 sku=TEA-1 shipped=12/24"
        );
        assert_eq!(
            render(&Note::Refused {
                reason: "bad_check_character",
                code: "AB CD".into()
            }),
            "refused reason=bad_check_character code=AB CD"
        );
        assert_eq!(
            render(&Note::Queued {
                seq: 3,
                kind: ScanKind::Pack,
                code: "X".into()
            }),
            "queued seq=3 kind=pack code=X"
        );
        assert_eq!(
            render(&Note::Mode {
                mode: Mode::Ship {
                    order: "ORD-1".into()
                }
            }),
            "mode ship context=ORD-1"
        );
    }
}
