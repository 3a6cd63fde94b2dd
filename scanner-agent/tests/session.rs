//! The session state machine without I/O: the operator flow, acks (signed, forged, final or not),
//! reconnects, the in-flight window; and a property test that drives it with random event
//! sequences against a model of the journal.

use std::collections::BTreeSet;

use codegen::serial::{BatchId, CaseCode, Serial};
use proptest::prelude::*;
use scanner_agent::note::Note;
use scanner_agent::operator::Mode;
use scanner_agent::session::{Action, Input, Outcome, Session, Settings};
use scanner_agent::wire::{Ack, AckResult, RejectReason, Scan, ScanKind};

const DEVICE: &str = "hh-1";
const SECRET: &[u8] = b"device secret";

fn settings(window: usize) -> Settings {
    Settings {
        device_id: DEVICE.to_owned(),
        secret: SECRET.to_vec(),
        window,
        resend_after_ms: 10_000,
        debounce_ms: 800,
    }
}

fn serial(batch: &BatchId, i: u64) -> String {
    Serial::new(batch, i).expect("serial").as_str().to_owned()
}

fn ack(seq: u64, result: AckResult) -> Input {
    Input::AckMessage(Ack::signed(DEVICE, seq, result, SECRET).to_json())
}

fn rejected(reason: RejectReason) -> AckResult {
    AckResult::Rejected { reason }
}

/// A session with a journal model: `Append` actions are answered at once, as the I/O loop does.
struct Harness {
    session: Session,
    journal: BTreeSet<u64>,
    next_seq: u64,
    now: u64,
}

impl Harness {
    fn new(window: usize, pending: &[u64]) -> Self {
        let next_seq = pending.iter().max().map_or(1, |m| m + 1);
        Harness {
            session: Session::new(settings(window), pending.iter().copied(), next_seq),
            journal: pending.iter().copied().collect(),
            next_seq,
            now: 0,
        }
    }

    /// Feeds `input` and everything it leads to; returns every action, in order.
    fn feed(&mut self, input: Input) -> Vec<Action> {
        let mut all = Vec::new();
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let mut out = Vec::new();
            self.session.handle(self.now, input, &mut out);
            for action in &out {
                match action {
                    Action::Append(scan) => {
                        let seq = self.next_seq;
                        self.next_seq += 1;
                        self.journal.insert(seq);
                        queue.push(Input::Journaled {
                            seq,
                            kind: scan.kind,
                            code: scan.code.clone(),
                        });
                    }
                    Action::Finish { seq, .. } => {
                        assert!(self.journal.remove(seq), "finished {seq} twice");
                    }
                    _ => {}
                }
            }
            all.extend(out);
        }
        all
    }

    fn line(&mut self, text: &str) -> Vec<Action> {
        self.now += 1000; // past the debounce window
        self.feed(Input::Line {
            text: text.to_owned(),
            scanned_at: "2026-11-23T10:00:00+08:00".to_owned(),
        })
    }
}

fn publishes(actions: &[Action]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Publish(seq) => Some(*seq),
            _ => None,
        })
        .collect()
}

fn notes(actions: &[Action]) -> Vec<&Note> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Show(note) => Some(note),
            _ => None,
        })
        .collect()
}

fn appended(actions: &[Action]) -> Vec<&Scan> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Append(scan) => Some(scan),
            _ => None,
        })
        .collect()
}

#[test]
fn codes_need_a_mode_and_carry_its_context() {
    let batch = BatchId::random();
    let mut h = Harness::new(8, &[]);
    let out = h.line(&serial(&batch, 1));
    assert!(matches!(
        notes(&out)[..],
        [Note::Refused {
            reason: "no_mode",
            ..
        }]
    ));
    assert!(h.journal.is_empty(), "refused scans are not journaled");

    h.line("CMORDER:ORD-7");
    assert_eq!(
        h.session.mode(),
        &Mode::Ship {
            order: "ORD-7".into()
        }
    );
    let out = h.line(&serial(&batch, 2));
    let scan = appended(&out)[0];
    assert_eq!(
        (scan.kind, scan.context.as_deref()),
        (ScanKind::Ship, Some("ORD-7"))
    );
    assert!(matches!(
        notes(&out)[..],
        [Note::Queued {
            seq: 1,
            kind: ScanKind::Ship,
            ..
        }]
    ));

    // Pack: the case first, then its items, which carry the case code.
    let case = CaseCode::new(&batch, 0).expect("case").as_str().to_owned();
    h.line("@pack");
    let out = h.line(&serial(&batch, 3));
    assert!(matches!(
        notes(&out)[..],
        [Note::Refused {
            reason: "not_a_case",
            ..
        }]
    ));
    let out = h.line(&case);
    assert!(appended(&out).is_empty(), "the case itself is not sent");
    let out = h.line(&serial(&batch, 4));
    let scan = appended(&out)[0];
    assert_eq!(
        (scan.kind, scan.context.as_deref()),
        (ScanKind::Pack, Some(case.as_str()))
    );

    h.line("@receive");
    h.line("CMORDER:ORD-9");
    assert_eq!(
        h.session.mode(),
        &Mode::Receive {
            order: Some("ORD-9".into())
        }
    );
    h.line("@sell");
    let scan = appended(&h.line(&serial(&batch, 5)))[0].clone();
    assert_eq!((scan.kind, scan.context), (ScanKind::Sell, None));

    let out = h.line("@close");
    assert!(matches!(notes(&out)[..], [Note::Closed { .. }]));
    assert_eq!(h.session.mode(), &Mode::Idle);
    let out = h.line("@fly");
    assert!(matches!(notes(&out)[..], [Note::BadCommand { .. }]));
}

#[test]
fn bad_codes_refused_and_repeats_debounced() {
    let batch = BatchId::random();
    let mut h = Harness::new(8, &[]);
    h.line("@inspect");
    let code = serial(&batch, 1);
    let mut typo = code.clone();
    let last = typo.pop().expect("non-empty");
    typo.push(if last == '2' { '3' } else { '2' });
    let out = h.line(&typo);
    assert!(matches!(
        notes(&out)[..],
        [Note::Refused {
            reason: "bad_check_character",
            ..
        }]
    ));

    h.line(&code);
    // The scanner reads the same label again 300 ms later: the same scan.
    h.now -= 700; // line() adds 1000
    let out = h.line(&code);
    assert!(matches!(notes(&out)[..], [Note::Debounced { .. }]));
    assert_eq!(h.journal.len(), 1);
    assert_eq!(h.session.counts().total.refused, 1);
}

#[test]
fn only_signed_final_acks_drop_scans() {
    let batch = BatchId::random();
    let mut h = Harness::new(8, &[]);
    h.feed(Input::Connected);
    h.line("@inspect");
    for i in 0..4 {
        let out = h.line(&serial(&batch, i));
        assert_eq!(publishes(&out), [i + 1], "published as soon as journaled");
    }

    // Forged: right shape, wrong secret; and an ack for another device; and garbage.
    let forged = Ack::signed(DEVICE, 1, AckResult::Accepted, b"not the secret").to_json();
    let other = Ack::signed("hh-2", 1, AckResult::Accepted, SECRET).to_json();
    for bytes in [forged, other, b"{nonsense".to_vec()] {
        let out = h.feed(Input::AckMessage(bytes));
        assert!(matches!(notes(&out)[..], [Note::ForgedAck { .. }]));
        assert_eq!(h.journal.len(), 4);
    }

    // A protocol failure keeps the scan (and alerts) ...
    let out = h.feed(ack(2, rejected(RejectReason::BadMac)));
    assert!(matches!(
        notes(&out)[..],
        [Note::Kept {
            seq: 2,
            reason: RejectReason::BadMac
        }]
    ));
    assert!(h.journal.contains(&2));
    // ... final answers drop it.
    h.feed(ack(1, AckResult::Accepted));
    h.feed(ack(3, rejected(RejectReason::NotOnOrder)));
    h.feed(ack(4, rejected(RejectReason::Duplicate)));
    assert_eq!(h.journal, BTreeSet::from([2]));
    // A second answer for a finished scan changes nothing.
    assert!(h.feed(ack(1, AckResult::Accepted)).is_empty());

    let counts = h.session.counts();
    assert_eq!(
        (
            counts.total.accepted,
            counts.total.rejected,
            counts.total.duplicate,
            counts.total.kept
        ),
        (1, 1, 1, 1)
    );

    // Input ends: only the kept scan is left, so the session is done with it kept.
    h.feed(Input::InputClosed);
    assert_eq!(h.session.outcome(), Some(Outcome::Kept(1)));
    // On the next connection it is sent again.
    h.feed(Input::Disconnected {
        reason: "test".into(),
    });
    let out = h.feed(Input::Connected);
    assert_eq!(publishes(&out), [2]);
    assert_eq!(h.session.outcome(), None);
    h.feed(ack(2, AckResult::Accepted));
    assert_eq!(h.session.outcome(), Some(Outcome::AllAnswered));
}

#[test]
fn reconnect_resubscribes_and_resends_oldest_first() {
    let mut h = Harness::new(3, &[4, 7, 9, 12]);
    let out = h.feed(Input::Connected);
    assert_eq!(out[..2], [Action::Subscribe, Action::AnnounceOnline]);
    assert_eq!(publishes(&out), [4, 7, 9], "window of 3");
    h.feed(ack(7, AckResult::Accepted));
    assert_eq!(h.session.in_flight(), 3);

    let out = h.feed(Input::Disconnected {
        reason: "broker gone".into(),
    });
    assert!(matches!(notes(&out)[..], [Note::Offline { .. }]));
    // Offline: scans are journaled, nothing is published.
    h.line("@inspect");
    let out = h.line(&serial(&BatchId::random(), 1));
    assert!(publishes(&out).is_empty());
    assert!(h.feed(Input::Tick).is_empty());

    let out = h.feed(Input::Disconnected {
        reason: "retry failed".into(),
    });
    assert!(notes(&out).is_empty(), "offline is shown once per outage");
    let out = h.feed(Input::Connected);
    assert_eq!(out[..2], [Action::Subscribe, Action::AnnounceOnline]);
    assert_eq!(publishes(&out), [4, 9, 12]);
}

#[test]
fn a_broker_missing_at_start_is_reported_once() {
    let mut h = Harness::new(3, &[]);
    let mut shown = Vec::new();
    for _ in 0..3 {
        shown.extend(h.feed(Input::Disconnected {
            reason: "refused".into(),
        }));
    }
    assert!(
        matches!(notes(&shown)[..], [Note::Offline { .. }]),
        "{shown:?}"
    );
    assert!(!h.session.is_online());
}

#[test]
fn unanswered_scans_are_resent_after_a_while() {
    let mut h = Harness::new(8, &[1, 2]);
    h.feed(Input::Connected);
    h.now += 9_999;
    assert!(publishes(&h.feed(Input::Tick)).is_empty());
    h.now += 1;
    assert_eq!(publishes(&h.feed(Input::Tick)), [1, 2]);
}

#[derive(Debug, Clone)]
enum Op {
    Connect,
    Disconnect,
    Scan,
    /// Answer the n-th (mod len) in-flight-or-pending seq.
    Answer(usize, u8),
    Forged(usize),
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Connect),
        1 => Just(Op::Disconnect),
        4 => Just(Op::Scan),
        4 => (any::<usize>(), 0u8..4).prop_map(|(i, r)| Op::Answer(i, r)),
        1 => any::<usize>().prop_map(Op::Forged),
        1 => (0u64..20_000).prop_map(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever happens: nothing is published offline, the window holds, a scan leaves the
    /// journal only on a signed final ack for it, every ConnAck resubscribes and resends the
    /// oldest pending first; and once the connection stays up and the server answers, every
    /// scan is answered and the journal is empty.
    #[test]
    fn no_scan_lost_or_dropped_early(
        window in 1usize..6,
        initial in proptest::collection::btree_set(1u64..40, 0..8),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let initial: Vec<u64> = initial.into_iter().collect();
        let mut h = Harness::new(window, &initial);
        let batch = BatchId::random();
        let mut online = false;
        let mut published: BTreeSet<u64> = BTreeSet::new();
        let mut code = 0u64;
        h.line("@inspect");
        for op in ops {
            let before = h.journal.clone();
            let mut finals = BTreeSet::new();
            let out = match op {
                Op::Connect => {
                    online = true;
                    published.clear();
                    let out = h.feed(Input::Connected);
                    prop_assert_eq!(&out[..2], &[Action::Subscribe, Action::AnnounceOnline][..]);
                    let oldest: Vec<u64> = h.journal.iter().copied().take(window).collect();
                    prop_assert_eq!(publishes(&out), oldest);
                    out
                }
                Op::Disconnect => {
                    online = false;
                    h.feed(Input::Disconnected { reason: "x".into() })
                }
                Op::Scan => {
                    code += 1;
                    h.line(&serial(&batch, code))
                }
                Op::Answer(i, r) => {
                    let seqs: Vec<u64> = published.iter().copied().collect();
                    if seqs.is_empty() { continue; }
                    let seq = seqs[i % seqs.len()];
                    let result = match r {
                        0 => AckResult::Accepted,
                        1 => rejected(RejectReason::NotInCustody),
                        2 => rejected(RejectReason::Duplicate),
                        _ => rejected(RejectReason::UnknownVersion),
                    };
                    if result.is_final() { finals.insert(seq); }
                    h.feed(ack(seq, result))
                }
                Op::Forged(i) => {
                    let seqs: Vec<u64> = h.journal.iter().copied().collect();
                    if seqs.is_empty() { continue; }
                    let seq = seqs[i % seqs.len()];
                    h.feed(Input::AckMessage(
                        Ack::signed(DEVICE, seq, AckResult::Accepted, b"forger").to_json(),
                    ))
                }
                Op::Tick(ms) => {
                    h.now += ms;
                    h.feed(Input::Tick)
                }
            };
            let sent = publishes(&out);
            prop_assert!(online || sent.is_empty(), "published while offline");
            published.extend(sent);
            prop_assert!(h.session.in_flight() <= window);
            let dropped: BTreeSet<u64> = before.difference(&h.journal).copied().collect();
            prop_assert!(dropped.is_subset(&finals), "dropped {:?} without a final ack", dropped);
            prop_assert_eq!(h.session.counts().pending, h.journal.len());
        }

        // The server comes back for good and answers everything it is sent.
        h.feed(Input::InputClosed);
        h.feed(Input::Disconnected { reason: "x".into() });
        let mut todo = publishes(&h.feed(Input::Connected));
        let mut rounds = 0;
        while let Some(seq) = todo.pop() {
            todo.extend(publishes(&h.feed(ack(seq, AckResult::Accepted))));
            rounds += 1;
            prop_assert!(rounds < 1000);
        }
        prop_assert!(h.journal.is_empty(), "left in the journal: {:?}", h.journal);
        prop_assert_eq!(h.session.outcome(), Some(Outcome::AllAnswered));
    }
}
