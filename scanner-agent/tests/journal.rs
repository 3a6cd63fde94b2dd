//! The durable journal: order, restarts, torn tails, compaction, the size cap, and scale.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Instant;

use scanner_agent::Error;
use scanner_agent::journal::Journal;
use scanner_agent::wire::{Scan, ScanEvent, ScanKind};

const MB: u64 = 1024 * 1024;

fn scan(i: u64) -> Scan {
    Scan {
        kind: ScanKind::Ship,
        code: format!("ITEM{i:012}"),
        context: Some("SHP-1".into()),
        scanned_at: "2026-11-23T10:00:00Z".into(),
    }
}

fn append(j: &mut Journal, i: u64) -> u64 {
    j.append(|seq| ScanEvent::signed("hh-01", seq, &scan(i), b"k"))
        .expect("append")
}

fn pending_codes(j: &Journal) -> Vec<String> {
    j.pending().map(|e| e.expect("read").code).collect()
}

#[test]
fn append_ack_pending_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut j = Journal::open(dir.path().join("j"), MB).expect("open");
    let seqs: Vec<u64> = (0..5).map(|i| append(&mut j, i)).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(j.ack(2).expect("ack"));
    assert!(!j.ack(2).expect("repeated ack is harmless"));
    assert!(!j.ack(99).expect("unknown ack is harmless"));
    assert!(j.ack(4).expect("ack"));
    let events: Vec<ScanEvent> = j.pending().map(|e| e.expect("read")).collect();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3, 5]);
    assert!(
        events.iter().all(|e| e.verify(b"k")),
        "stored exactly as signed"
    );
}

#[test]
fn reopen_keeps_pending_and_next_seq() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    {
        let mut j = Journal::open(&path, MB).expect("open");
        for i in 0..4 {
            append(&mut j, i);
        }
        j.ack(1).expect("ack");
        j.ack(4).expect("ack");
    }
    let mut j = Journal::open(&path, MB).expect("reopen");
    assert_eq!(j.pending_seqs().collect::<Vec<_>>(), [2, 3]);
    assert_eq!(j.next_seq(), 5);
    assert_eq!(append(&mut j, 9), 5);
    // Even when everything is acked and compacted away, seqs are never reused.
    for s in [2, 3, 5] {
        j.ack(s).expect("ack");
    }
    j.compact().expect("compact");
    drop(j);
    let j = Journal::open(&path, MB).expect("reopen");
    assert_eq!(j.pending_len(), 0);
    assert_eq!(j.next_seq(), 6);
}

#[test]
fn torn_tail_recovers_to_last_whole_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    let mut j = Journal::open(&path, MB).expect("open");
    for i in 0..3 {
        append(&mut j, i);
    }
    let whole = j.len_bytes();
    drop(j);

    // A power cut in the middle of the third record.
    let f = OpenOptions::new().write(true).open(&path).expect("file");
    f.set_len(whole - 5).expect("truncate");
    drop(f);
    let mut j = Journal::open(&path, MB).expect("recover");
    assert_eq!(j.pending_seqs().collect::<Vec<_>>(), [1, 2]);
    assert!(j.recovered_bytes() > 0);
    assert_eq!(append(&mut j, 7), 3, "the torn seq was never handed out");
    let whole = j.len_bytes();
    drop(j);

    // Garbage after the last record (a half-written block of junk).
    let mut f = OpenOptions::new().append(true).open(&path).expect("file");
    f.write_all(&[0x01, 0x10, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9, 0xde, 0xad])
        .expect("junk");
    drop(f);
    let j = Journal::open(&path, MB).expect("recover");
    assert_eq!(j.recovered_bytes(), 15);
    assert_eq!(j.len_bytes(), whole);
    assert_eq!(j.pending_seqs().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(pending_codes(&j)[2], "ITEM000000000007");
}

#[test]
fn damage_in_the_middle_costs_only_the_damaged_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    let mut j = Journal::open(&path, MB).expect("open");
    let mut ends = vec![j.len_bytes()];
    for i in 0..4 {
        append(&mut j, i);
        ends.push(j.len_bytes());
    }
    j.ack(4).expect("ack");
    drop(j);

    // Flip a byte inside record 2 (disk rot): records 1, 3 and the ack of 4 were fsynced and stay.
    let mut bytes = std::fs::read(&path).expect("read");
    let inside = usize::try_from(ends[1] + 20).expect("small");
    bytes[inside] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write");

    let mut j = Journal::open(&path, MB).expect("recover");
    assert_eq!(j.skipped_bytes(), ends[2] - ends[1]);
    assert_eq!(j.recovered_bytes(), 0);
    assert_eq!(j.pending_seqs().collect::<Vec<_>>(), [1, 3]);
    assert_eq!(j.next_seq(), 5);
    assert_eq!(append(&mut j, 9), 5);
    drop(j);
    let j = Journal::open(&path, MB).expect("reopen");
    assert_eq!(j.skipped_bytes(), 0, "compacted at the first recovery");
    assert_eq!(j.pending_seqs().collect::<Vec<_>>(), [1, 3, 5]);
}

#[test]
fn not_a_journal_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    std::fs::write(&path, b"important other data").expect("write");
    assert!(matches!(
        Journal::open(&path, MB),
        Err(Error::NotAJournal(_))
    ));
    assert_eq!(std::fs::read(&path).expect("read"), b"important other data");
}

#[test]
fn compaction_keeps_exactly_the_pending_set() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    let mut j = Journal::open(&path, MB).expect("open");
    for i in 0..50 {
        append(&mut j, i);
    }
    for s in (1..=50).filter(|s| s % 3 != 0) {
        j.ack(s).expect("ack");
    }
    let before = pending_codes(&j);
    let size = j.len_bytes();
    j.compact().expect("compact");
    assert!(j.len_bytes() < size / 2);
    assert_eq!(pending_codes(&j), before);
    assert_eq!(append(&mut j, 99), 51);
    drop(j);
    let j = Journal::open(&path, MB).expect("reopen");
    let seqs: Vec<u64> = j.pending_seqs().collect();
    let want: Vec<u64> = (1..=51).filter(|s| s % 3 == 0 || *s == 51).collect();
    assert_eq!(seqs, want);
    assert_eq!(j.recovered_bytes(), 0);
    assert!(!dir.path().join("j.tmp").exists());
}

#[test]
fn size_cap_refuses_instead_of_losing() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    let mut j = Journal::open(&path, 4096).expect("open");
    let mut n = 0;
    let err = loop {
        match j.append(|seq| ScanEvent::signed("hh-01", seq, &scan(n), b"k")) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::JournalFull { pending, .. } if pending == n as usize));
    assert!(j.len_bytes() <= 4096);
    assert_eq!(j.pending_len() as u64, n, "nothing accepted was dropped");
    // Acks free room (by compaction) and scans are accepted again.
    j.ack(1).expect("ack");
    j.ack(2).expect("ack");
    append(&mut j, 1000);
    assert!(j.len_bytes() <= 4096);
    drop(j);
    let j = Journal::open(&path, 4096).expect("reopen");
    assert_eq!(j.pending_len() as u64, n - 1);
}

#[test]
fn hundred_thousand_scans() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("j");
    let mut j = Journal::open(&path, 256 * MB).expect("open");
    let n = 100_000u64;
    let t = Instant::now();
    for i in 0..n {
        append(&mut j, i);
    }
    let appended = t.elapsed();
    let size = j.len_bytes();
    let t = Instant::now();
    for s in (1..=n).step_by(2) {
        j.ack(s).expect("ack");
    }
    let acked = t.elapsed();
    let after_acks = j.len_bytes();
    drop(j);
    let t = Instant::now();
    let j = Journal::open(&path, 256 * MB).expect("reopen");
    let reopened = t.elapsed();
    assert_eq!(j.pending_len() as u64, n / 2);
    assert_eq!(j.next_seq(), n + 1);
    let t = Instant::now();
    let mut count = 0u64;
    let mut expect = 2;
    for e in j.pending() {
        assert_eq!(e.expect("read").seq, expect);
        expect += 2;
        count += 1;
    }
    let replayed = t.elapsed();
    assert_eq!(count, n / 2);
    println!(
        "100k appends (fsync each): {appended:?} ({:.0} µs/append), file {size} B; \
         50k acks: {acked:?}, file then {after_acks} B; reopen: {reopened:?}; \
         replay 50k pending: {replayed:?}",
        appended.as_micros() as f64 / n as f64
    );
}

#[derive(Debug, Clone)]
enum Op {
    Append,
    Ack(usize),
    Reopen,
    Compact,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        4 => Just(Op::Append),
        3 => any::<usize>().prop_map(Op::Ack),
        1 => Just(Op::Reopen),
        1 => Just(Op::Compact),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(48))]
    /// Any mix of appends, acks, restarts and compactions leaves exactly the unacked events, in
    /// order, and never hands out a seq twice.
    #[test]
    fn behaves_like_an_ordered_set(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("j");
        let mut j = Journal::open(&path, MB).expect("open");
        let mut model = std::collections::BTreeSet::new();
        let mut last_seq = 0;
        for op in ops {
            match op {
                Op::Append => {
                    let seq = append(&mut j, last_seq);
                    proptest::prop_assert!(seq > last_seq);
                    last_seq = seq;
                    model.insert(seq);
                }
                Op::Ack(i) => {
                    if !model.is_empty() {
                        let seq = *model.iter().nth(i % model.len()).expect("in range");
                        model.remove(&seq);
                        proptest::prop_assert!(j.ack(seq).expect("ack"));
                    }
                }
                Op::Reopen => {
                    drop(j);
                    j = Journal::open(&path, MB).expect("reopen");
                    proptest::prop_assert_eq!(j.recovered_bytes(), 0);
                }
                Op::Compact => j.compact().expect("compact"),
            }
            let seqs: Vec<u64> = j.pending().map(|e| e.expect("read").seq).collect();
            proptest::prop_assert_eq!(seqs, model.iter().copied().collect::<Vec<_>>());
            proptest::prop_assert_eq!(j.next_seq(), last_seq + 1);
        }
    }
}
