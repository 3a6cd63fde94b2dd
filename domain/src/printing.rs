//! The print queue's rules (issue 20: 配备打印终端实现货单、快递单自动打印): what becomes of a
//! job after each try to send it to its label printer.
//!
//! A label printer on raw TCP (port 9100) answers nothing: the only facts a sender has are
//! whether it connected, and how many bytes the connection took before it closed. So:
//! - not connected: nothing reached the printer, the job waits and is tried again (the printer
//!   is off, out of paper with its network down, being moved);
//! - every byte written: the job is printed;
//! - the connection broke after bytes went out: the printer may have printed the label, half
//!   of it, or nothing. Sending again could print it twice, so the job is **uncertain**: a
//!   person looks at the printer and reprints if the label is not there. The same holds for a
//!   job an instance claimed and never finished (it died while sending).
//!
//! So no job is ever printed twice by the queue itself; a reprint is a person's decision and a
//! new job.

use chrono::{Duration, NaiveDateTime};

use crate::Refusal;

/// Where a job stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum JobState {
    /// Waiting for its turn, or for its printer to come back.
    Queued,
    /// An instance is sending it.
    Sending,
    /// Every byte reached the printer.
    Printed,
    /// Bytes went out but the connection broke, or the sender died: look at the printer.
    Uncertain,
    /// A person took it off the queue before it was sent.
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Sending,
        JobState::Printed,
        JobState::Uncertain,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<JobState> {
        s.parse().ok()
    }
}

/// What a job prints.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum JobKind {
    /// A 100 × 150 mm courier label (快递面单) of an order's shipment.
    WaybillLabel,
    /// A label to check that a printer works.
    TestLabel,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        s.parse().ok()
    }
}

/// How one try to send went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// No connection was made: nothing reached the printer.
    NotConnected(String),
    /// Connected, and every byte was written.
    Whole,
    /// Connected, and the connection broke after some bytes (maybe none) were written.
    Broken(String),
}

/// A job's state after a try, and when it is tried next (for a job that waits again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: JobState,
    pub next_try_at: Option<NaiveDateTime>,
    pub error: Option<String>,
}

/// The first wait after a failed connection; it doubles with each try up to [`MAX_WAIT`].
pub const FIRST_WAIT: Duration = Duration::seconds(5);
/// The longest wait between tries: a printer back on is printing within this.
pub const MAX_WAIT: Duration = Duration::minutes(2);
/// A job claimed longer ago than this and still sending: its sender died.
pub const STALE_CLAIM: Duration = Duration::minutes(2);

/// The wait before try `attempts + 1`, `attempts` tries having failed to connect.
pub fn wait_after(attempts: u32) -> Duration {
    let doubled = FIRST_WAIT * 2i32.saturating_pow(attempts.saturating_sub(1).min(10));
    doubled.min(MAX_WAIT)
}

/// The job's state after try number `attempts` (counting this one) at `now`.
pub fn after_try(sent: Sent, attempts: u32, now: NaiveDateTime) -> Outcome {
    match sent {
        Sent::NotConnected(e) => Outcome {
            state: JobState::Queued,
            next_try_at: Some(now + wait_after(attempts)),
            error: Some(e),
        },
        Sent::Whole => Outcome {
            state: JobState::Printed,
            next_try_at: None,
            error: None,
        },
        Sent::Broken(e) => Outcome {
            state: JobState::Uncertain,
            next_try_at: None,
            error: Some(e),
        },
    }
}

/// Is a job claimed at `claimed_at` and still sending at `now` abandoned by its sender?
pub fn is_stale(claimed_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - claimed_at > STALE_CLAIM
}

/// Why a person's request about a job is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    #[error("only a job still waiting in the queue can be cancelled")]
    NotQueued,
    #[error("the printer is switched off in chainmark: switch it on first")]
    PrinterDisabled,
}

impl Refusal for PrintError {
    fn code(&self) -> &'static str {
        match self {
            PrintError::NotQueued => "print_job_not_queued",
            PrintError::PrinterDisabled => "printer_disabled",
        }
    }
}

/// May a job in `state` be cancelled?
pub fn may_cancel(state: JobState) -> Result<(), PrintError> {
    match state {
        JobState::Queued => Ok(()),
        _ => Err(PrintError::NotQueued),
    }
}

/// A printer's address as typed: `host:port`, or a host alone for the usual raw port 9100.
/// Answers the normalised `host:port`, or `None` for anything else (spaces, a scheme, a path, a
/// port out of range).
pub fn printer_address(typed: &str) -> Option<String> {
    let t = typed.trim();
    if t.is_empty() || t.len() > 100 || t.contains(['/', ' ', '@']) {
        return None;
    }
    let (host, port) = match t.rsplit_once(':') {
        // An IPv6 address without a port has colons but no brackets: refuse, ask for brackets.
        Some((h, p)) if !h.contains(':') || (h.starts_with('[') && h.ends_with(']')) => {
            (h, p.parse::<u16>().ok().filter(|p| *p > 0)?)
        }
        Some(_) => return None,
        None => (t, 9100),
    };
    let ok_host = !host.is_empty()
        && host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    ok_host.then(|| format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|d| d.and_hms_opt(10, 0, s))
            .expect("time")
    }

    #[test]
    fn names_are_pinned() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::Uncertain.as_str(), "uncertain");
        assert_eq!(JobKind::parse("waybill_label"), Some(JobKind::WaybillLabel));
        assert_eq!(JobKind::TestLabel.as_str(), "test_label");
        assert_eq!(JobState::parse("done"), None);
    }

    #[test]
    fn a_printer_away_is_tried_again_later_and_later() {
        assert_eq!(wait_after(1), Duration::seconds(5));
        assert_eq!(wait_after(2), Duration::seconds(10));
        assert_eq!(wait_after(4), Duration::seconds(40));
        assert_eq!(wait_after(6), MAX_WAIT);
        assert_eq!(wait_after(1000), MAX_WAIT);
        let o = after_try(Sent::NotConnected("refused".into()), 2, t(0));
        assert_eq!(o.state, JobState::Queued);
        assert_eq!(o.next_try_at, Some(t(10)));
    }

    #[test]
    fn bytes_out_and_a_broken_line_is_never_sent_again() {
        assert_eq!(after_try(Sent::Whole, 1, t(0)).state, JobState::Printed);
        let broken = after_try(Sent::Broken("reset".into()), 1, t(0));
        assert_eq!(
            (broken.state, broken.next_try_at),
            (JobState::Uncertain, None)
        );
        assert!(!is_stale(t(0), t(59)));
        assert!(is_stale(t(0), t(0) + Duration::seconds(121)));
        assert_eq!(may_cancel(JobState::Queued), Ok(()));
        for s in [
            JobState::Sending,
            JobState::Printed,
            JobState::Uncertain,
            JobState::Cancelled,
        ] {
            assert_eq!(may_cancel(s), Err(PrintError::NotQueued));
        }
    }

    #[test]
    fn printer_addresses() {
        assert_eq!(
            printer_address(" 192.168.1.50 ").as_deref(),
            Some("192.168.1.50:9100")
        );
        assert_eq!(
            printer_address("zebra-1.lan:6101").as_deref(),
            Some("zebra-1.lan:6101")
        );
        assert_eq!(printer_address("[::1]:9100").as_deref(), Some("[::1]:9100"));
        for bad in [
            "",
            "http://p:9100",
            "p:0",
            "p:70000",
            "a b",
            "::1",
            "p:/x",
            "p:",
        ] {
            assert_eq!(printer_address(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_job_state() {
        crate::pin_stored_names(
            &[
                (JobState::Queued, "queued"),
                (JobState::Sending, "sending"),
                (JobState::Printed, "printed"),
                (JobState::Uncertain, "uncertain"),
                (JobState::Cancelled, "cancelled"),
            ],
            JobState::as_str,
            JobState::parse,
        );
    }

    #[test]
    fn stored_names_of_job_kind() {
        crate::pin_stored_names(
            &[
                (JobKind::WaybillLabel, "waybill_label"),
                (JobKind::TestLabel, "test_label"),
            ],
            JobKind::as_str,
            JobKind::parse,
        );
    }
}
