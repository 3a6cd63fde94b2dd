//! The wire protocol: round trips, every decoding rejection, acks and topics.

use chainmark_wire::Error;
use chainmark_wire::{
    self as wire, Ack, AckResult, RejectReason, Scan, ScanEvent, ScanKind, decode_ack, decode_event,
};
use proptest::prelude::*;

const SECRET: &[u8] = b"device-secret-0123456789";

fn lookup(id: &str) -> Option<&'static [u8]> {
    (id == "hh-01").then_some(SECRET)
}

fn event(seq: u64) -> ScanEvent {
    let scan = Scan {
        kind: ScanKind::Ship,
        code: "ABCDEFGH12345678".into(),
        context: Some("SHP-2026-0001".into()),
        scanned_at: "2026-11-23T10:00:00+08:00".into(),
    };
    ScanEvent::signed("hh-01", seq, &scan, SECRET)
}

fn kind() -> impl Strategy<Value = ScanKind> {
    prop_oneof![
        Just(ScanKind::Pack),
        Just(ScanKind::Unpack),
        Just(ScanKind::Ship),
        Just(ScanKind::Receive),
        Just(ScanKind::Return),
        Just(ScanKind::Sell),
        Just(ScanKind::Inspect),
    ]
}

proptest! {
    #[test]
    fn round_trip(
        seq in any::<u64>(),
        kind in kind(),
        code in ".{0,200}",
        context in proptest::option::of(".{0,60}"),
        at in "[0-9T:+-]{0,30}",
    ) {
        let scan = Scan { kind, code, context, scanned_at: at };
        let e = ScanEvent::signed("hh-01", seq, &scan, SECRET);
        let back = decode_event(&e.to_json(), lookup).expect("decodes");
        prop_assert_eq!(back, e);
    }

    #[test]
    fn any_field_change_breaks_the_mac(seq in 1u64..1000, extra in "[a-z]{1,5}") {
        let e = event(seq);
        let mut variants = vec![e.clone(), e.clone(), e.clone(), e.clone()];
        variants[0].seq += 1;
        variants[1].code.push_str(&extra);
        variants[2].context = None;
        variants[3].kind = ScanKind::Receive;
        for v in variants {
            let r = decode_event(&v.to_json(), lookup);
            prop_assert!(matches!(r, Err(Error::BadMac { .. })), "{:?}", r);
        }
    }
}

#[test]
fn context_absent_differs_from_empty() {
    let mut a = event(1);
    a.context = None;
    let mut b = a.clone();
    b.context = Some(String::new());
    assert_ne!(a.canonical_bytes(), b.canonical_bytes());
}

fn reason(bytes: &[u8]) -> RejectReason {
    decode_event(bytes, lookup)
        .expect_err("must reject")
        .reject_reason()
}

#[test]
fn every_rejection_has_its_own_error() {
    let good = event(5);

    let big = vec![b' '; wire::MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        decode_event(&big, lookup),
        Err(Error::Oversize { .. })
    ));
    assert_eq!(reason(&big), RejectReason::Malformed);

    assert!(matches!(
        decode_event(b"{not json", lookup),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        decode_event(b"[1]", lookup),
        Err(Error::Malformed(_))
    ));

    let mut v2 = serde_json::to_value(&good).expect("json");
    v2["v"] = 2.into();
    let v2 = serde_json::to_vec(&v2).expect("json");
    assert!(matches!(
        decode_event(&v2, lookup),
        Err(Error::UnknownVersion(Some(2)))
    ));
    assert_eq!(reason(&v2), RejectReason::UnknownVersion);
    assert!(matches!(
        decode_event(br#"{"seq":1}"#, lookup),
        Err(Error::UnknownVersion(None))
    ));

    // Right version, wrong shape: missing field, unknown kind, extra field not under the MAC.
    let mut missing = serde_json::to_value(&good).expect("json");
    missing.as_object_mut().expect("object").remove("seq");
    let mut bad_kind = serde_json::to_value(&good).expect("json");
    bad_kind["kind"] = "steal".into();
    let mut extra = serde_json::to_value(&good).expect("json");
    extra["qty"] = 100.into();
    let mut bad_id = serde_json::to_value(&good).expect("json");
    bad_id["device_id"] = "hh/01/#".into();
    for v in [missing, bad_kind, extra, bad_id] {
        let b = serde_json::to_vec(&v).expect("json");
        assert!(
            matches!(decode_event(&b, lookup), Err(Error::Malformed(_))),
            "{v}"
        );
    }

    let stranger = ScanEvent::signed(
        "hh-99",
        1,
        &Scan {
            kind: ScanKind::Sell,
            code: "X".into(),
            context: None,
            scanned_at: String::new(),
        },
        SECRET,
    );
    assert!(matches!(
        decode_event(&stranger.to_json(), lookup),
        Err(Error::UnknownDevice(_))
    ));
    assert_eq!(
        reason(&stranger.to_json()),
        RejectReason::DeviceNotAuthorised
    );

    let mut forged = good.clone();
    forged.mac = "00".repeat(32);
    assert_eq!(reason(&forged.to_json()), RejectReason::BadMac);
    forged.mac = "not hex".into();
    assert_eq!(reason(&forged.to_json()), RejectReason::BadMac);
    let other_key = ScanEvent::signed(
        "hh-01",
        5,
        &Scan {
            kind: good.kind,
            code: good.code.clone(),
            context: good.context.clone(),
            scanned_at: good.scanned_at.clone(),
        },
        b"another device's secret",
    );
    assert_eq!(reason(&other_key.to_json()), RejectReason::BadMac);
}

#[test]
fn acks_are_signed_and_round_trip() {
    let accepted = Ack::signed("hh-01", 7, AckResult::Accepted, SECRET);
    let json = String::from_utf8(accepted.to_json()).expect("utf8");
    assert!(
        json.starts_with(r#"{"v":1,"device_id":"hh-01","seq":7,"result":"accepted","mac":""#),
        "{json}"
    );
    assert_eq!(
        decode_ack(json.as_bytes(), "hh-01", SECRET).expect("decodes"),
        accepted
    );
    assert!(AckResult::Accepted.is_final());

    let all = [
        (RejectReason::UnknownCode, "unknown_code", true),
        (RejectReason::ForgedTag, "forged_tag", true),
        (RejectReason::NotInCustody, "not_in_custody", true),
        (RejectReason::NotOnOrder, "not_on_order", true),
        (RejectReason::QuantityExceeded, "quantity_exceeded", true),
        (RejectReason::AlreadyShipped, "already_shipped", true),
        (RejectReason::CaseOpened, "case_opened", true),
        (
            RejectReason::DeviceNotAuthorised,
            "device_not_authorised",
            false,
        ),
        (RejectReason::Malformed, "malformed", false),
        (RejectReason::UnknownVersion, "unknown_version", false),
        (RejectReason::BadMac, "bad_mac", false),
        (RejectReason::Duplicate, "duplicate", true),
    ];
    for (reason, code, is_final) in all {
        assert_eq!(reason.as_str(), code);
        assert_eq!(reason.is_final(), is_final, "{code}");
        let ack = Ack::signed("hh-01", 7, AckResult::Rejected { reason }, SECRET);
        let json = String::from_utf8(ack.to_json()).expect("utf8");
        assert!(
            json.contains(&format!(r#""result":"rejected","reason":"{code}""#)),
            "{json}"
        );
        assert_eq!(
            decode_ack(json.as_bytes(), "hh-01", SECRET).expect("decodes"),
            ack
        );
    }
}

#[test]
fn forged_or_foreign_acks_are_refused() {
    // Anyone on the broker could publish this: it must not make the device drop scan 7.
    let mut forged = Ack::signed("hh-01", 7, AckResult::Accepted, b"guessed secret");
    assert!(matches!(
        decode_ack(&forged.to_json(), "hh-01", SECRET),
        Err(Error::BadMac { seq: 7, .. })
    ));
    // A real ack for seq 6 replayed as seq 7.
    let mut replayed = Ack::signed("hh-01", 6, AckResult::Accepted, SECRET);
    replayed.seq = 7;
    assert!(matches!(
        decode_ack(&replayed.to_json(), "hh-01", SECRET),
        Err(Error::BadMac { .. })
    ));
    // A rejection turned into an acceptance.
    forged = Ack::signed(
        "hh-01",
        7,
        AckResult::Rejected {
            reason: RejectReason::NotOnOrder,
        },
        SECRET,
    );
    forged.result = AckResult::Accepted;
    assert!(matches!(
        decode_ack(&forged.to_json(), "hh-01", SECRET),
        Err(Error::BadMac { .. })
    ));
    let other = Ack::signed("hh-02", 7, AckResult::Accepted, SECRET);
    assert!(matches!(
        decode_ack(&other.to_json(), "hh-01", SECRET),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        decode_ack(
            br#"{"v":9,"device_id":"hh-01","seq":1,"result":"accepted","mac":""}"#,
            "hh-01",
            SECRET
        ),
        Err(Error::UnknownVersion(Some(9)))
    ));
    assert!(matches!(
        decode_ack(
            br#"{"v":1,"device_id":"hh-01","seq":1,"result":"rejected","reason":"nope","mac":""}"#,
            "hh-01",
            SECRET
        ),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn topics() {
    assert_eq!(wire::scans_topic("cm", "hh-01"), "cm/devices/hh-01/scans");
    assert_eq!(wire::acks_topic("cm", "hh-01"), "cm/devices/hh-01/acks");
    assert_eq!(wire::state_topic("cm", "hh-01"), "cm/devices/hh-01/state");
    assert_eq!(
        wire::shared_scans_filter("srv", "cm"),
        "$share/srv/cm/devices/+/scans"
    );
    assert_eq!(
        wire::device_of_scans_topic("cm", "cm/devices/hh-01/scans"),
        Some("hh-01")
    );
    assert_eq!(
        wire::device_of_scans_topic("cm", "cm/devices/a/b/scans"),
        None
    );
    assert_eq!(
        wire::device_of_scans_topic("cm", "xx/devices/hh-01/scans"),
        None
    );
    assert!(!wire::valid_device_id(""));
    assert!(!wire::valid_device_id("a+b"));
}

#[test]
fn an_acks_order_progress_is_signed_and_optional() {
    let progress = chainmark_wire::OrderProgress {
        id: 42,
        sku: "TEA-1".into(),
        done: 12,
        ordered: 24,
    };
    let ack = Ack::signed_with_order("hh-01", 8, AckResult::Accepted, Some(progress), SECRET);
    let json = String::from_utf8(ack.to_json()).expect("utf8");
    assert!(
        json.contains(r#""order":{"id":42,"sku":"TEA-1","done":12,"ordered":24}"#),
        "{json}"
    );
    assert_eq!(
        decode_ack(json.as_bytes(), "hh-01", SECRET).expect("decodes"),
        ack
    );
    // The progress is under the MAC: a broker-side forger cannot change the count shown.
    let forged = json.replace(r#""done":12"#, r#""done":24"#);
    assert!(matches!(
        decode_ack(forged.as_bytes(), "hh-01", SECRET),
        Err(Error::BadMac { .. })
    ));
    // Nor strip it.
    let stripped = json.replace(
        r#""order":{"id":42,"sku":"TEA-1","done":12,"ordered":24},"#,
        "",
    );
    assert_ne!(stripped, json);
    assert!(matches!(
        decode_ack(stripped.as_bytes(), "hh-01", SECRET),
        Err(Error::BadMac { .. })
    ));
    // An ack without progress signs exactly as before the field existed.
    let plain = Ack::signed("hh-01", 8, AckResult::Accepted, SECRET);
    let without = Ack::signed_with_order("hh-01", 8, AckResult::Accepted, None, SECRET);
    assert_eq!(plain, without);
    assert!(
        !String::from_utf8(plain.to_json())
            .expect("utf8")
            .contains("order")
    );
}
