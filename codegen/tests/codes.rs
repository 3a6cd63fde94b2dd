//! Identifiers: round trips, error detection of the check character, GS1 check digits against
//! GS1's published examples, uniqueness of serials.

use codegen::CodeError;
use codegen::alphabet::ALPHABET;
use codegen::gs1::{CompanyPrefix, Gtin14, Sscc, check_digit};
use codegen::keys::MasterKey;
use codegen::security::SecurityCode;
use codegen::serial::{BatchId, CaseCode, MAX_CASES, MAX_ITEMS, Serial};
use proptest::prelude::*;

fn batch_id() -> impl Strategy<Value = BatchId> {
    proptest::collection::vec(0..31usize, 8).prop_map(|v| {
        let s: String = v.iter().map(|&i| char::from(ALPHABET[i])).collect();
        BatchId::parse(&s).expect("alphabet symbols")
    })
}

proptest! {
    #[test]
    fn serial_round_trips(batch in batch_id(), index in 0..MAX_ITEMS) {
        let serial = Serial::new(&batch, index).expect("in range");
        let parsed = Serial::parse(&serial.as_str().to_lowercase()).expect("parses");
        prop_assert_eq!(parsed, serial);
        prop_assert_eq!(parsed.batch_id(), batch);
        prop_assert_eq!(parsed.index(), index);
        prop_assert_eq!(serial.as_str().len(), 16);
    }

    #[test]
    fn case_code_round_trips(batch in batch_id(), index in 0..MAX_CASES) {
        let case = CaseCode::new(&batch, index).expect("in range");
        let parsed = CaseCode::parse(case.as_str()).expect("parses");
        prop_assert_eq!(parsed, case);
        prop_assert_eq!(parsed.batch_id(), batch);
        prop_assert_eq!(parsed.index(), index);
        prop_assert_eq!(case.as_str().len(), 15);
    }

    #[test]
    fn security_code_round_trips(seed in any::<u64>(), dashes in any::<bool>()) {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let code = SecurityCode::generate(&mut rng);
        let printed = code.to_string();
        prop_assert!(printed.len() == 24 && printed.split(' ').all(|g| g.len() == 4));
        let typed = if dashes { printed.replace(' ', "-") } else { printed.clone() };
        prop_assert_eq!(SecurityCode::parse(&typed).expect("parses"), code);
    }

    #[test]
    fn gtin_padding_keeps_the_check_digit(body in proptest::collection::vec(0..10u8, 11..=13)) {
        let mut digits: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
        digits.push(check_digit(&digits));
        let s = String::from_utf8(digits).expect("ascii");
        let gtin = Gtin14::parse(&s).expect("valid");
        prop_assert!(gtin.as_str().ends_with(&s));
        prop_assert!(Gtin14::parse(gtin.as_str()).is_ok());
    }
}

/// Every code with one character replaced by any other alphabet symbol.
fn substitutions(code: &str) -> impl Iterator<Item = String> + '_ {
    (0..code.len()).flat_map(move |pos| {
        ALPHABET
            .iter()
            .filter(move |&&c| c != code.as_bytes()[pos])
            .map(move |&c| {
                let mut b = code.as_bytes().to_vec();
                b[pos] = c;
                String::from_utf8(b).expect("ascii")
            })
    })
}

/// Every code with two distinct neighbours swapped.
fn transpositions(code: &str) -> impl Iterator<Item = String> + '_ {
    (0..code.len() - 1)
        .filter(move |&i| code.as_bytes()[i] != code.as_bytes()[i + 1])
        .map(move |i| {
            let mut b = code.as_bytes().to_vec();
            b.swap(i, i + 1);
            String::from_utf8(b).expect("ascii")
        })
}

fn sample_batches() -> Vec<BatchId> {
    let mut v: Vec<BatchId> = (0..20).map(|_| BatchId::random()).collect();
    v.push(BatchId::parse("00000000").expect("id"));
    v.push(BatchId::parse("YYYYYYYY").expect("id"));
    v
}

#[test]
fn every_single_substitution_of_a_serial_or_case_code_is_caught() {
    let mut checked = 0;
    for batch in sample_batches() {
        for index in [0, 1, 30, 31, 72, 999_999, MAX_ITEMS - 1] {
            let serial = Serial::new(&batch, index).expect("serial");
            for changed in substitutions(serial.as_str()) {
                assert_eq!(
                    Serial::parse(&changed),
                    Err(CodeError::BadCheckCharacter { what: "serial" }),
                    "{serial} -> {changed}"
                );
                checked += 1;
            }
            let case = CaseCode::new(&batch, index % MAX_CASES).expect("case");
            for changed in substitutions(case.as_str()) {
                assert_eq!(
                    CaseCode::parse(&changed),
                    Err(CodeError::BadCheckCharacter { what: "case code" })
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 60_000, "{checked}");
}

#[test]
fn every_adjacent_transposition_is_caught() {
    for batch in sample_batches() {
        for index in [0, 1, 12_345, 27_000_000_000] {
            let serial = Serial::new(&batch, index).expect("serial");
            for changed in transpositions(serial.as_str()) {
                assert!(Serial::parse(&changed).is_err(), "{serial} -> {changed}");
            }
            let case = CaseCode::new(&batch, index % MAX_CASES).expect("case");
            for changed in transpositions(case.as_str()) {
                assert!(CaseCode::parse(&changed).is_err(), "{case} -> {changed}");
            }
        }
    }
}

#[test]
fn every_single_change_of_a_tag_is_caught() {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let master = MasterKey::from_bytes([42; 32]);
    for batch in sample_batches().into_iter().take(5) {
        let key = master.batch_key(&batch);
        for index in [0, 7, 100_000] {
            let serial = Serial::new(&batch, index).expect("serial");
            let tag = key.tag(&serial).to_string();
            assert!(key.verify_tag(&serial, &tag));
            for pos in 0..tag.len() {
                for &c in BASE32.iter().filter(|&&c| c != tag.as_bytes()[pos]) {
                    let mut b = tag.clone().into_bytes();
                    b[pos] = c;
                    let changed = String::from_utf8(b).expect("ascii");
                    assert!(!key.verify_tag(&serial, &changed), "{tag} -> {changed}");
                }
            }
            for changed in transpositions(&tag) {
                assert!(!key.verify_tag(&serial, &changed));
            }
        }
    }
}

#[test]
fn gs1_published_examples() {
    // GS1 General Specifications / GS1 check digit calculator examples.
    for gtin in [
        "4006381333931",
        "036000291452",
        "96385074",
        "10614141000415",
    ] {
        assert!(Gtin14::parse(gtin).is_ok(), "{gtin}");
    }
    assert_eq!(
        Gtin14::parse("4006381333931").expect("gtin").as_str(),
        "04006381333931"
    );
    assert_eq!(check_digit(b"400638133393"), b'1');
    assert_eq!(check_digit(b"03600029145"), b'2');
    assert_eq!(
        Gtin14::parse("4006381333932"),
        Err(CodeError::BadCheckDigit { what: "GTIN" })
    );
    assert!(matches!(
        Gtin14::parse("40063813339"),
        Err(CodeError::WrongLength { .. })
    ));
    assert!(matches!(
        Gtin14::parse("40063813339x1"),
        Err(CodeError::BadCharacter { position: 12, .. })
    ));

    for sscc in ["106141411234567897", "006141411234567890"] {
        assert!(Sscc::parse(sscc).is_ok(), "{sscc}");
    }
    assert_eq!(
        Sscc::parse("106141411234567898"),
        Err(CodeError::BadCheckDigit { what: "SSCC" })
    );
    let prefix = CompanyPrefix::parse("0614141").expect("prefix");
    assert_eq!(
        Sscc::build(&prefix, 123_456_789).expect("sscc").as_str(),
        "006141411234567890"
    );
    assert!(CompanyPrefix::parse("12a4567").is_err());
    assert!(CompanyPrefix::parse("123").is_err());
    assert!(CompanyPrefix::parse("1234567890123").is_err());
}

#[test]
fn a_million_serials_are_unique_across_two_batches() {
    let (a, b) = (BatchId::random(), BatchId::random());
    assert_ne!(a, b, "8 random symbols collided (p ≈ 1e-12)");
    let mut all: Vec<[u8; 16]> = Vec::with_capacity(2_000_000);
    for batch in [a, b] {
        for index in 0..1_000_000 {
            all.push(*Serial::new(&batch, index).expect("serial").as_bytes());
        }
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 2_000_000);
}
