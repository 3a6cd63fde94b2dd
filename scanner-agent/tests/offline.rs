//! Offline pre-check with codegen.

use codegen::serial::{BatchId, CaseCode, Serial};
use scanner_agent::offline::{NOT_ITEM_OR_CASE, Precheck, precheck};

fn reason(s: &str) -> &'static str {
    match precheck(s) {
        Precheck::Rejected { reason, .. } => reason,
        Precheck::Accepted { describe } => panic!("{s:?} accepted as {describe}"),
    }
}

#[test]
fn accepts_items_and_cases() {
    let batch = BatchId::random();
    let serial = Serial::new(&batch, 3).expect("serial");
    let case = CaseCode::new(&batch, 0).expect("case");
    for s in [
        serial.as_str().to_owned(),
        format!("  {}  ", serial.as_str().to_lowercase()),
        case.as_str().to_owned(),
        format!("https://x.example/s/{}", serial.as_str()),
        "106141411234567897".to_owned(),
    ] {
        assert!(matches!(precheck(&s), Precheck::Accepted { .. }), "{s:?}");
    }
}

#[test]
fn refuses_typos_and_foreign_codes() {
    let serial = Serial::new(&BatchId::random(), 3).expect("serial");
    let mut typo = serial.as_str().to_owned();
    let last = typo.pop().expect("non-empty");
    // Another symbol of the alphabet in the check position.
    typo.push(if last == '2' { '3' } else { '2' });
    assert_eq!(reason(&typo), "bad_check_character");
    assert_eq!(reason("hello world"), "unknown_format");
    assert_eq!(reason("106141411234567898"), "bad_gs1_check_digit");
    assert_eq!(reason("4006381333931"), NOT_ITEM_OR_CASE);
}
