//! The device session as a pure state machine (the rumqtt way: no I/O here). The I/O loop
//! (`crate::agent`) feeds it [`Input`]s — the broker's ConnAck, a lost connection, a message on
//! the acks topic, a scanned line, the journal's answer, a clock tick — and carries out the
//! [`Action`]s it returns, in order.
//!
//! The rules it keeps (docs/protocol.md § Delivery semantics): resend everything pending, oldest
//! first, on every (re)connect; subscribe again on every ConnAck; drop a scan from the journal only
//! on a correctly signed *final* ack; keep scans answered with a protocol failure and alert; never
//! more than `window` scans in flight.

mod debounce;
mod outbox;
mod tally;

pub use debounce::Debounce;
pub use outbox::Outbox;
pub use tally::{Counts, Tally};

use crate::note::Note;
use crate::offline::{self, Precheck};
use crate::operator::{self, Entry, Mode, Target};
use crate::wire::{self, AckResult, Scan, ScanKind};

/// How a session behaves.
#[derive(Clone)]
pub struct Settings {
    /// This device (acks for any other are refused).
    pub device_id: String,
    /// The device secret that signs acks.
    pub secret: Vec<u8>,
    /// Most scans published and not yet answered.
    pub window: usize,
    /// Publish an unanswered scan again after this long on the same connection.
    pub resend_after_ms: u64,
    /// Duplicate-read window (`debounce_ms` of the config).
    pub debounce_ms: u64,
}

// By hand, so the secret is never printed.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("device_id", &self.device_id)
            .field("window", &self.window)
            .field("resend_after_ms", &self.resend_after_ms)
            .field("debounce_ms", &self.debounce_ms)
            .finish_non_exhaustive()
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The broker accepted the connection (ConnAck).
    Connected,
    /// The connection failed or dropped.
    Disconnected { reason: String },
    /// A message on this device's acks topic.
    AckMessage(Vec<u8>),
    /// A line from the scanner (prefix and suffix stripped), read at wall-clock `scanned_at`.
    Line { text: String, scanned_at: String },
    /// The journal took (and fsynced) the scan asked for by [`Action::Append`].
    Journaled {
        seq: u64,
        kind: ScanKind,
        code: String,
    },
    /// The journal refused the scan: full (`full`), or an I/O error.
    AppendFailed { code: String, full: bool },
    /// The client could not queue [`Action::Publish`] for `seq`.
    PublishFailed { seq: u64 },
    /// Time passed.
    Tick,
    /// The scanner input ended (EOF): finish what is pending, then stop.
    InputClosed,
}

/// Something to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Subscribe to this device's acks topic, QoS 1.
    Subscribe,
    /// Publish the retained `online` state.
    AnnounceOnline,
    /// Append the scan to the journal (fsync), then answer with [`Input::Journaled`] or
    /// [`Input::AppendFailed`] before anything else.
    Append(Scan),
    /// Read event `seq` from the journal and publish it, QoS 1.
    Publish(u64),
    /// A signed final answer: drop `seq` from the journal, then show the answer.
    Finish {
        seq: u64,
        result: AckResult,
        /// The order's progress after this scan, when the server sent it.
        order: Option<wire::OrderProgress>,
    },
    /// Tell the operator.
    Show(Note),
}

/// How a session whose input has ended finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every scan got its final answer; the journal is empty.
    AllAnswered,
    /// These many scans are kept in the journal: the server refused them as protocol failures
    /// (wrong secret, version, …) and they wait for a fixed device or server.
    Kept(usize),
}

/// The state of one device's session.
#[derive(Debug)]
pub struct Session {
    settings: Settings,
    outbox: Outbox,
    debounce: Debounce,
    mode: Mode,
    counts: Counts,
    next_seq: u64,
    online: bool,
    /// Whether `offline` was shown since the last `online` (or since the start), so a broker
    /// that stays away is reported once, not at every retry.
    offline_shown: bool,
    input_closed: bool,
}

impl Session {
    /// A session over the journal's `pending` seqs; `next_seq` is the journal's next seq.
    pub fn new(settings: Settings, pending: impl IntoIterator<Item = u64>, next_seq: u64) -> Self {
        let mut counts = Counts::default();
        counts.new_mode(next_seq);
        Session {
            outbox: Outbox::new(pending, settings.window),
            debounce: Debounce::new(settings.debounce_ms),
            settings,
            mode: Mode::Idle,
            counts,
            next_seq,
            online: false,
            offline_shown: false,
            input_closed: false,
        }
    }

    /// Handles `input` at monotonic time `now_ms`, appending what to do to `out`.
    pub fn handle(&mut self, now_ms: u64, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::Connected => {
                self.online = true;
                self.offline_shown = false;
                self.outbox.connected();
                out.push(Action::Subscribe);
                out.push(Action::AnnounceOnline);
                out.push(Action::Show(Note::Online));
                self.fill(now_ms, out);
            }
            Input::Disconnected { reason } => {
                self.outbox.disconnected();
                self.online = false;
                if !std::mem::replace(&mut self.offline_shown, true) {
                    out.push(Action::Show(Note::Offline { reason }));
                }
            }
            Input::AckMessage(bytes) => self.ack(now_ms, &bytes, out),
            Input::Line { text, scanned_at } => self.line(text.trim(), now_ms, scanned_at, out),
            Input::Journaled { seq, kind, code } => {
                self.next_seq = self.next_seq.max(seq + 1);
                self.outbox.add(seq);
                out.push(Action::Show(Note::Queued { seq, kind, code }));
                self.fill(now_ms, out);
            }
            Input::AppendFailed { code, full } => {
                let reason = if full {
                    "journal_full"
                } else {
                    "journal_error"
                };
                self.refuse(reason, code, out);
            }
            Input::PublishFailed { seq } => self.outbox.unsend(seq),
            Input::Tick => {
                if self.online {
                    let mut seqs = Vec::new();
                    self.outbox
                        .due(now_ms, self.settings.resend_after_ms, &mut seqs);
                    out.extend(seqs.into_iter().map(Action::Publish));
                }
            }
            Input::InputClosed => self.input_closed = true,
        }
    }

    /// `Some` once the input has ended and nothing more will come of the pending scans without
    /// an operator: all answered, or only kept ones left and none in flight.
    pub fn outcome(&self) -> Option<Outcome> {
        if !self.input_closed || self.outbox.in_flight_len() > 0 {
            return None;
        }
        match (self.outbox.pending_len(), self.outbox.held_len()) {
            (0, _) => Some(Outcome::AllAnswered),
            (pending, held) if pending == held => Some(Outcome::Kept(held)),
            _ => None,
        }
    }

    /// The running counts.
    pub fn counts(&self) -> Counts {
        Counts {
            pending: self.outbox.pending_len(),
            ..self.counts
        }
    }

    /// The current mode.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Whether the broker connection is up.
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Scans published on this connection and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.outbox.in_flight_len()
    }

    fn fill(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        if !self.online {
            return;
        }
        let mut seqs = Vec::new();
        self.outbox.fill(now_ms, &mut seqs);
        out.extend(seqs.into_iter().map(Action::Publish));
    }

    fn ack(&mut self, now_ms: u64, bytes: &[u8], out: &mut Vec<Action>) {
        let ack = match wire::decode_ack(bytes, &self.settings.device_id, &self.settings.secret) {
            Ok(ack) => ack,
            Err(err) => {
                // Anyone on the broker can publish here; only a signed ack may move anything.
                out.push(Action::Show(Note::ForgedAck {
                    detail: err.to_string(),
                }));
                return;
            }
        };
        if !self.outbox.is_pending(ack.seq) {
            // The answer to a resend of a scan already finished: nothing to do.
            tracing::debug!(seq = ack.seq, "ack for a scan no longer pending");
            return;
        }
        if ack.result.is_final() {
            self.outbox.finish(ack.seq);
            self.counts.answer(ack.seq, ack.result);
            out.push(Action::Finish {
                seq: ack.seq,
                result: ack.result,
                order: ack.order,
            });
            self.fill(now_ms, out);
        } else if let wire::AckResult::Rejected { reason } = ack.result {
            self.outbox.hold(ack.seq);
            self.counts.answer(ack.seq, ack.result);
            out.push(Action::Show(Note::Kept {
                seq: ack.seq,
                reason,
            }));
            self.fill(now_ms, out);
        }
    }

    fn line(&mut self, text: &str, now_ms: u64, scanned_at: String, out: &mut Vec<Action>) {
        if text.is_empty() {
            return;
        }
        match operator::parse(text) {
            Err(error) => out.push(Action::Show(Note::BadCommand {
                error,
                line: text.to_owned(),
            })),
            Ok(Entry::Order(order)) => self.open(self.mode.with_order(order), out),
            Ok(Entry::Open(mode)) => self.open(mode, out),
            Ok(Entry::Close) => {
                let closed = std::mem::replace(&mut self.mode, Mode::Idle);
                out.push(Action::Show(Note::Closed {
                    mode: closed,
                    counts: self.counts(),
                }));
                self.counts.new_mode(self.next_seq);
                self.debounce.reset();
            }
            Ok(Entry::Status) => out.push(Action::Show(Note::Status {
                mode: self.mode.clone(),
                counts: self.counts(),
            })),
            Ok(Entry::Code(code)) => self.code(code, now_ms, scanned_at, out),
        }
    }

    fn open(&mut self, mode: Mode, out: &mut Vec<Action>) {
        self.mode = mode;
        self.counts.new_mode(self.next_seq);
        self.debounce.reset();
        out.push(Action::Show(Note::Mode {
            mode: self.mode.clone(),
        }));
    }

    fn code(&mut self, code: String, now_ms: u64, scanned_at: String, out: &mut Vec<Action>) {
        if self.debounce.is_repeat(&code, now_ms) {
            out.push(Action::Show(Note::Debounced { code }));
            return;
        }
        let (check, is_case) = offline::precheck_case(&code);
        if let Precheck::Rejected { reason, .. } = check {
            return self.refuse(reason, code, out);
        }
        match self.mode.target(is_case) {
            Target::NoMode => self.refuse("no_mode", code, out),
            Target::NeedCase => self.refuse("not_a_case", code, out),
            Target::SetCase => self.open(Mode::Pack { case: Some(code) }, out),
            Target::Send { kind, context } => out.push(Action::Append(Scan {
                kind,
                code,
                context,
                scanned_at,
            })),
        }
    }

    fn refuse(&mut self, reason: &'static str, code: String, out: &mut Vec<Action>) {
        self.counts.refused();
        out.push(Action::Show(Note::Refused { reason, code }));
    }
}
