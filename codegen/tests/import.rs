//! The import reader refuses a tampered line, a truncated file, a wrong key, a forged tag and a
//! `batch.json` that does not describe the file; it streams a good one.

use std::fs;
use std::path::{Path, PathBuf};

use codegen::batch::{BatchSpec, Record, write_batch};
use codegen::import::{VerifiedImport, peek_key_id};
use codegen::keys::MasterKey;
use codegen::{Error, ImportProblem};

fn batch(items: u64) -> (tempfile::TempDir, MasterKey, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = MasterKey::from_bytes([5; 32]);
    let out = tmp.path().join("b");
    let mut spec = BatchSpec::new("SKU", items, "https://c.example", &out);
    spec.case_size = 10;
    write_batch(&spec, &key, &mut |_| {}).expect("written");
    (tmp, key, out)
}

fn problem(dir: &Path, key: &MasterKey) -> ImportProblem {
    match VerifiedImport::open(dir, key) {
        Err(Error::Import { problem, .. }) => problem,
        other => panic!("expected an import error, got {other:?}"),
    }
}

fn edit_import(dir: &Path, f: impl FnOnce(String) -> String) {
    let path = dir.join("import.jsonl");
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, f(text)).expect("write");
}

#[test]
fn streams_a_good_batch() {
    let (_tmp, key, dir) = batch(95);
    assert_eq!(peek_key_id(&dir).expect("key id"), key.key_id());
    let import = VerifiedImport::open(&dir, &key).expect("verifies");
    assert_eq!(import.header().cases, 10);
    let records: Vec<Record> = import
        .records()
        .expect("records")
        .collect::<Result<_, _>>()
        .expect("all good");
    assert_eq!(records.len(), 105);
    let last_case = records
        .iter()
        .filter(|r| matches!(r, Record::Item(i) if i.case_index == 9))
        .count();
    assert_eq!(last_case, 5);
}

#[test]
fn refuses_a_wrong_key() {
    let (_tmp, _key, dir) = batch(20);
    let other = MasterKey::from_bytes([6; 32]);
    assert!(matches!(
        problem(&dir, &other),
        ImportProblem::WrongKey { .. }
    ));
}

#[test]
fn refuses_a_tampered_line() {
    let (_tmp, key, dir) = batch(20);
    // Change one hex digit of a code hash: only the seal can tell.
    edit_import(&dir, |t| {
        let at = t.find("\"code_hash\":\"").expect("an item") + 13;
        let mut b = t.into_bytes();
        b[at] = if b[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).expect("utf8")
    });
    assert_eq!(problem(&dir, &key), ImportProblem::Tampered);
}

#[test]
fn refuses_a_removed_item_or_a_forged_tag() {
    let (_tmp, key, dir) = batch(20);
    let original = fs::read_to_string(dir.join("import.jsonl")).expect("read");
    edit_import(&dir, |t| {
        let lines: Vec<&str> = t.lines().collect();
        let mut kept: Vec<&str> = lines[..3].to_vec();
        kept.extend(&lines[4..]);
        kept.join("\n") + "\n"
    });
    assert!(matches!(
        problem(&dir, &key),
        ImportProblem::Inconsistent(_)
    ));

    fs::write(dir.join("import.jsonl"), &original).expect("restore");
    edit_import(&dir, |t| {
        let at = t.find("\"tag\":\"").expect("an item") + 7;
        let mut b = t.into_bytes();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).expect("utf8")
    });
    assert!(matches!(
        problem(&dir, &key),
        ImportProblem::ForgedTag { .. }
    ));
}

#[test]
fn refuses_a_truncated_file() {
    let (_tmp, key, dir) = batch(20);
    let original = fs::read_to_string(dir.join("import.jsonl")).expect("read");
    // Cut before the seal line.
    edit_import(&dir, |t| {
        let lines: Vec<&str> = t.lines().collect();
        lines[..lines.len() - 1].join("\n") + "\n"
    });
    assert_eq!(problem(&dir, &key), ImportProblem::Truncated);
    // Cut in the middle of a line.
    fs::write(dir.join("import.jsonl"), &original[..original.len() / 2]).expect("cut");
    assert_eq!(problem(&dir, &key), ImportProblem::Truncated);
    // Content after the seal.
    fs::write(dir.join("import.jsonl"), original.clone() + "{}\n").expect("append");
    assert!(matches!(problem(&dir, &key), ImportProblem::Malformed(_)));
}

#[test]
fn refuses_a_batch_json_that_does_not_match() {
    let (_tmp, key, dir) = batch(20);
    let path = dir.join("batch.json");
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replace("\"items\": 20", "\"items\": 21")).expect("write");
    assert!(matches!(
        problem(&dir, &key),
        ImportProblem::Inconsistent(_)
    ));
}

#[test]
fn reports_a_file_changed_between_the_passes() {
    let (_tmp, key, dir) = batch(20);
    let import = VerifiedImport::open(&dir, &key).expect("verifies");
    // A change after verification (one extra space: same JSON, other bytes) must not pass.
    edit_import(&dir, |t| t.replacen("\"index\":0}", "\"index\":0} ", 1));
    let results: Vec<_> = import.records().expect("records").collect();
    assert!(results.iter().any(Result::is_err));
}

#[test]
fn a_tag_forged_between_the_passes_ends_the_records_in_an_error() {
    let (_tmp, key, dir) = batch(20);
    let import = VerifiedImport::open(&dir, &key).expect("verifies");
    // Item 3's tag swapped for item 4's after verification: well-formed, wrong, and the later
    // pass does not work tags out again; the digest at the end must refuse it.
    let text = fs::read_to_string(dir.join("import.jsonl")).expect("read");
    let tag = |i: usize| {
        let line = text
            .lines()
            .filter(|l| l.contains("\"type\":\"item\""))
            .nth(i)
            .expect("item line");
        let from = line.find("\"tag\":\"").expect("tag") + 7;
        line[from..from + line[from..].find('"').expect("end")].to_owned()
    };
    let (third, fourth) = (tag(3), tag(4));
    assert_ne!(third, fourth);
    edit_import(&dir, |t| t.replacen(&third, &fourth, 1));
    let results: Vec<_> = import.records().expect("records").collect();
    let last = results.last().expect("records").as_ref();
    assert!(
        matches!(
            last,
            Err(Error::Import {
                problem: ImportProblem::Changed,
                ..
            })
        ),
        "{last:?}"
    );
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    // And a fresh verification names the forged tag.
    assert!(matches!(
        problem(&dir, &key),
        ImportProblem::ForgedTag { .. }
    ));
}
