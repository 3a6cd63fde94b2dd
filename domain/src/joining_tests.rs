use super::*;

fn defs() -> Vec<FieldDef> {
    vec![
        FieldDef::check("shop", "店铺", "Shop", true, "text", "").expect("shop"),
        FieldDef::check("staff", "员工数", "Staff", false, "number", "").expect("staff"),
        FieldDef::check(
            "channel",
            "渠道",
            "Channel",
            true,
            "choice",
            "online\noffline\n",
        )
        .expect("channel"),
    ]
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn profile_is_normalised_and_each_field_named() {
    let p = Profile::check(" 张三 ", "138-0013 8000", "330106", "33010619900101123x").expect("ok");
    assert_eq!(p.phone, "13800138000");
    assert_eq!(p.id_number, "33010619900101123X");
    let field_of = |r: Result<Profile, JoinError>| match r {
        Err(JoinError::Field { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(
        field_of(Profile::check("", "13800138000", "x", "123456")),
        "name"
    );
    assert_eq!(
        field_of(Profile::check("a", "12ab", "x", "123456")),
        "phone"
    );
    assert_eq!(
        field_of(Profile::check("a", "13800138000", " ", "123456")),
        "region"
    );
    assert_eq!(
        field_of(Profile::check("a", "13800138000", "x", "12-34")),
        "id_number"
    );
}

#[test]
fn id_numbers_are_masked() {
    assert_eq!(mask_id("33010619900101123X"), "330***********123X");
    assert_eq!(mask_id("1234567"), "*******");
}

#[test]
fn answers_are_checked_by_kind() {
    let d = defs();
    let ok = check_answers(
        &d,
        &answers(&[("shop", "西湖店"), ("channel", "online"), ("staff", "")]),
    )
    .expect("ok");
    assert_eq!(ok.len(), 2, "blank optional answers are dropped");
    let err = |a: &[(&str, &str)]| {
        check_answers(&d, &answers(a))
            .expect_err("refused")
            .to_string()
    };
    assert!(err(&[("channel", "online")]).starts_with("fields.shop: is required"));
    assert!(err(&[("shop", "x"), ("channel", "fax")]).contains("must be one of: online, offline"));
    assert!(
        err(&[("shop", "x"), ("channel", "online"), ("staff", "many")]).contains("not a number")
    );
    assert!(err(&[("shop", "x"), ("channel", "online"), ("age", "3")]).starts_with("fields.age"));
}

#[test]
fn field_definitions_are_checked() {
    assert!(FieldDef::check("Shop", "a", "b", false, "text", "").is_err());
    assert!(FieldDef::check("phone", "a", "b", false, "text", "").is_err());
    assert!(FieldDef::check("c", "a", "b", false, "choice", " \n").is_err());
    assert!(FieldDef::check("c", "a", "b", false, "date", "").is_err());
    assert!(FieldDef::check("c", "", "b", false, "text", "").is_err());
}

#[test]
fn an_offered_tier_binds() {
    assert_eq!(applied_tier(Some("city"), None).expect("offered"), "city");
    assert_eq!(
        applied_tier(Some("city"), Some("city")).expect("same"),
        "city"
    );
    assert!(applied_tier(Some("city"), Some("national")).is_err());
    assert_eq!(
        applied_tier(None, Some("district")).expect("chosen"),
        "district"
    );
    assert!(applied_tier(None, Some(" ")).is_err());
}

#[test]
fn approval_modes_walk_their_stages() {
    use ApprovalMode::*;
    assert_eq!(initial_status(Automatic, false), Status::Approved);
    assert_eq!(initial_status(Hq, false), Status::AwaitingHq);
    assert_eq!(
        initial_status(SupplierThenHq, false),
        Status::AwaitingSupplier
    );
    assert_eq!(initial_status(SupplierThenHq, true), Status::AwaitingHq);

    let s = decide(Status::AwaitingSupplier, Decider::Supplier, true).expect("stage 1");
    assert_eq!(s, Status::AwaitingHq);
    assert_eq!(
        decide(s, Decider::Hq, true).expect("stage 2"),
        Status::Approved
    );
    assert_eq!(
        decide(Status::AwaitingSupplier, Decider::Supplier, false).expect("reject"),
        Status::Rejected
    );
    assert!(decide(Status::AwaitingSupplier, Decider::Hq, true).is_err());
    assert!(decide(Status::AwaitingHq, Decider::Supplier, true).is_err());
    assert!(decide(Status::Approved, Decider::Hq, false).is_err());
    assert!(decide(Status::Rejected, Decider::Hq, true).is_err());
}

#[test]
fn would_be_supplier_is_the_nearest_active_higher_tier() {
    // inviter 区代(4), its referrer 市代(3) suspended, then 省代(2).
    let chain = [(10, 4, true), (11, 3, false), (12, 2, true)];
    assert_eq!(would_be_supplier(&chain, 4), Some(12));
    assert_eq!(would_be_supplier(&chain, 5), Some(10));
    assert_eq!(would_be_supplier(&chain, 2), None);
}

#[test]
fn standing_at_a_moment() {
    let at = |d: &str| {
        NaiveDateTime::parse_from_str(&format!("{d} 00:00:00"), "%Y-%m-%d %H:%M:%S").expect("date")
    };
    let (from, until) = (at("2026-01-01"), at("2027-01-01"));
    let s = |status, superseded, now| standing(status, from, until, superseded, now);
    assert_eq!(
        s(AgentStatus::Active, false, at("2026-06-01")),
        Standing::Authorised
    );
    assert_eq!(
        s(AgentStatus::Suspended, false, at("2026-06-01")),
        Standing::Suspended
    );
    assert_eq!(
        s(AgentStatus::Active, false, at("2027-01-01")),
        Standing::Expired
    );
    assert_eq!(
        s(AgentStatus::Active, false, at("2025-12-31")),
        Standing::NotYetValid
    );
    assert_eq!(
        s(AgentStatus::Active, true, at("2026-06-01")),
        Standing::Superseded
    );
    assert_eq!(
        s(AgentStatus::Suspended, false, at("2028-01-01")),
        Standing::Suspended
    );
}

#[test]
fn approval_modes_keep_their_stored_names() {
    crate::pin_stored_names(
        &[
            (ApprovalMode::Automatic, "automatic"),
            (ApprovalMode::Hq, "hq"),
            (ApprovalMode::SupplierThenHq, "supplier_then_hq"),
        ],
        ApprovalMode::as_str,
        ApprovalMode::parse,
    );
}

#[test]
fn field_types_keep_their_stored_names() {
    use crate::joining::FieldType;
    crate::pin_stored_names(
        &[
            (FieldType::Text, "text"),
            (FieldType::Number, "number"),
            (FieldType::Choice, "choice"),
        ],
        FieldType::as_str,
        FieldType::parse,
    );
}
