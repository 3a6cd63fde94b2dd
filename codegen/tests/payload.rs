//! Parsing scanned strings: every URL kind round-trips; `inspect` gives the specific reason.

use codegen::alphabet::ALPHABET;
use codegen::gs1::{CompanyPrefix, Gtin14, Sscc, check_digit};
use codegen::inspect::{Reason, inspect};
use codegen::keys::MasterKey;
use codegen::payload::{CaseId, Payload, parse};
use codegen::serial::{BatchId, CaseCode, MAX_CASES, MAX_ITEMS, Serial};
use proptest::prelude::*;

fn batch_id() -> impl Strategy<Value = BatchId> {
    proptest::collection::vec(0..31usize, 8).prop_map(|v| {
        let s: String = v.iter().map(|&i| char::from(ALPHABET[i])).collect();
        BatchId::parse(&s).expect("alphabet symbols")
    })
}

fn base_url() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("https"), Just("http"), Just("HTTPS")],
        "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5}){1,2}(:[0-9]{2,5})?",
        proptest::collection::vec("[A-Za-z0-9_.~-]{1,8}", 0..3),
    )
        .prop_map(|(scheme, host, path)| {
            let mut s = format!("{scheme}://{host}");
            for p in path {
                s.push('/');
                s.push_str(&p);
            }
            s
        })
}

fn gtin() -> impl Strategy<Value = Gtin14> {
    proptest::collection::vec(0..10u8, 13).prop_map(|body| {
        let mut d: Vec<u8> = body.iter().map(|x| b'0' + x).collect();
        d.push(check_digit(&d));
        Gtin14::parse(std::str::from_utf8(&d).expect("ascii")).expect("valid")
    })
}

fn sscc() -> impl Strategy<Value = Sscc> {
    ("[0-9]{7}", 0..1_000_000_000u64).prop_map(|(p, n)| {
        Sscc::build(&CompanyPrefix::parse(&p).expect("prefix"), n).expect("fits")
    })
}

proptest! {
    #[test]
    fn verify_url_round_trips(base in base_url(), batch in batch_id(), index in 0..MAX_ITEMS, lower in any::<bool>()) {
        let master = MasterKey::from_bytes([9; 32]);
        let serial = Serial::new(&batch, index).expect("serial");
        let tag = master.batch_key(&batch).tag(&serial);
        let mut url = format!("{base}/v/{serial}?t={tag}");
        if lower { url = url.to_lowercase(); }
        let p = parse(&url).expect("parses");
        match &p {
            Payload::VerifyUrl { base: b, serial: s, tag: t } => {
                prop_assert_eq!(b.to_lowercase(), base.to_lowercase());
                prop_assert_eq!(s, &serial);
                prop_assert_eq!(t, &tag);
            }
            other => prop_assert!(false, "{other:?}"),
        }
        let i = inspect(&url, Some(&master));
        prop_assert!(i.valid);
        prop_assert_eq!(i.authentic, Some(true));
        prop_assert_eq!(i.index, Some(index));
    }

    #[test]
    fn logistics_urls_round_trip(base in base_url(), batch in batch_id(), index in 0..MAX_ITEMS, g in gtin()) {
        let serial = Serial::new(&batch, index).expect("serial");
        let dl = format!("{base}/01/{g}/21/{serial}");
        prop_assert_eq!(parse(&dl), Ok(Payload::LogisticsUrl { base: base.clone(), gtin: Some(g), serial }));
        let short = format!("{base}/s/{serial}");
        prop_assert_eq!(parse(&short), Ok(Payload::LogisticsUrl { base: base.clone(), gtin: None, serial }));
        prop_assert_eq!(parse(serial.as_str()), Ok(Payload::Serial { serial }));
    }

    #[test]
    fn case_urls_round_trip(base in base_url(), batch in batch_id(), index in 0..MAX_CASES, s in sscc()) {
        let code = CaseCode::new(&batch, index).expect("case");
        prop_assert_eq!(parse(&format!("{base}/c/{code}")), Ok(Payload::CaseUrl { base: base.clone(), case: CaseId::Code(code) }));
        prop_assert_eq!(parse(&format!("{base}/00/{s}")), Ok(Payload::CaseUrl { base: base.clone(), case: CaseId::Sscc(s) }));
        prop_assert_eq!(parse(code.as_str()), Ok(Payload::Case { case: CaseId::Code(code) }));
        prop_assert_eq!(parse(s.as_str()), Ok(Payload::Case { case: CaseId::Sscc(s) }));
    }

    #[test]
    fn parse_and_inspect_never_panic(s in "\\PC{0,80}") {
        let _ = parse(&s);
        let _ = inspect(&s, Some(&MasterKey::from_bytes([1; 32])));
    }
}

#[test]
fn inspect_names_the_reason() {
    let master = MasterKey::from_bytes([3; 32]);
    let batch = BatchId::parse("ABCDEFGH").expect("id");
    let serial = Serial::new(&batch, 10).expect("serial");
    let tag = master.batch_key(&batch).tag(&serial).to_string();
    let base = "https://chainmark.example";

    let ok = inspect(&format!("{base}/v/{serial}?t={tag}"), Some(&master));
    assert!(ok.valid && ok.reason.is_none());

    let mut forged = tag.clone().into_bytes();
    forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    let r = inspect(&format!("{base}/v/{serial}?t={forged}"), Some(&master));
    assert_eq!((r.valid, r.reason), (false, Some(Reason::ForgedTag)));

    let other_key = MasterKey::from_bytes([4; 32]);
    let r = inspect(&format!("{base}/v/{serial}?t={tag}"), Some(&other_key));
    assert_eq!(r.reason, Some(Reason::ForgedTag));

    let r = inspect(&format!("{base}/v/{serial}?t={tag}"), None);
    assert!(r.valid);
    assert_eq!(r.authentic, None);

    let mut typo = serial.to_string().into_bytes();
    typo[10] = if typo[10] == b'5' { b'6' } else { b'5' };
    let typo = String::from_utf8(typo).expect("ascii");
    let r = inspect(&format!("{base}/v/{typo}?t={tag}"), Some(&master));
    assert_eq!(r.reason, Some(Reason::BadCheckCharacter));
    assert_eq!(inspect(&typo, None).reason, Some(Reason::BadCheckCharacter));

    let r = inspect(&format!("{base}/v/{serial}"), Some(&master));
    assert_eq!(r.reason, Some(Reason::MissingTag));
    assert_eq!(
        inspect("4006381333932", None).reason,
        Some(Reason::BadGs1CheckDigit)
    );
    assert_eq!(
        inspect("https://x.example/01/04006381333932/21/ABC", None).reason,
        Some(Reason::BadGs1CheckDigit)
    );
    assert_eq!(
        inspect("106141411234567898", None).reason,
        Some(Reason::BadGs1CheckDigit)
    );
    assert_eq!(
        inspect("https://x.example/q/ABC", None).reason,
        Some(Reason::UnknownFormat)
    );
    assert_eq!(
        inspect("hello world", None).reason,
        Some(Reason::UnknownFormat)
    );
    assert_eq!(
        inspect("ftp://x/v/ABC", None).reason,
        Some(Reason::UnknownFormat)
    );
    assert_eq!(
        inspect(&format!("{base}/v/ABCDEFGHI0000000?t={tag}"), None).reason,
        Some(Reason::Malformed)
    );
    assert_eq!(
        inspect(&format!("{base}/v/{serial}?t=short"), None).reason,
        Some(Reason::Malformed)
    );
}

#[test]
fn json_form_is_stable() {
    let r = inspect("4006381333932", None);
    let json = serde_json::to_value(&r).expect("serialises");
    assert_eq!(json["valid"], false);
    assert_eq!(json["reason"], "bad_gs1_check_digit");
    let r = inspect("https://x.example/00/106141411234567897", None);
    let json = serde_json::to_value(&r).expect("serialises");
    assert_eq!(json["payload"]["kind"], "case_url");
    assert_eq!(json["payload"]["case"]["sscc"], "106141411234567897");
}
